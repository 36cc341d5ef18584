package io.tessera.http;

import io.tessera.api.model.ModelMetrics;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/** The {@code /metrics} page in Prometheus' text format (version 0.0.4). */
final class Prometheus {
    private Prometheus() {
    }

    static String text(List<ModelMetrics> models, Map<Integer, LongAdder> responses, int active,
                       Map<String, Long> endedEarly) {
        StringBuilder out = new StringBuilder();
        out.append("# HELP tessera_requests_ended_early_total Completion requests ended before their generations: "
                        + "the client left, the request timed out, the server shut down\n")
                .append("# TYPE tessera_requests_ended_early_total counter\n");
        endedEarly.forEach((why, n) -> out.append("tessera_requests_ended_early_total{reason=\"").append(why)
                .append("\"} ").append(n).append('\n'));
        gauge(out, models, "tessera_tokens_per_second", "Generated tokens per second (last 10 s)",
                ModelMetrics::tokensPerSecond);
        gauge(out, models, "tessera_queue_depth", "Requests waiting for a KV slot", ModelMetrics::queued);
        gauge(out, models, "tessera_running_sequences", "Sequences holding a KV slot", ModelMetrics::running);
        gauge(out, models, "tessera_kv_slots", "KV slots (sequences that can run at once)", ModelMetrics::kvSlots);
        gauge(out, models, "tessera_kv_tokens", "Tokens held in KV by running sequences", ModelMetrics::kvTokens);
        gauge(out, models, "tessera_kv_capacity_tokens", "Tokens the KV pool can hold", ModelMetrics::kvCapacity);
        gauge(out, models, "tessera_kv_usage_ratio", "KV tokens used / capacity",
                m -> m.kvCapacity() == 0 ? 0 : m.kvTokens() / (double) m.kvCapacity());
        gauge(out, models, "tessera_acceptance_length", "Mean tokens per decode step (speculative decoding)",
                ModelMetrics::acceptanceLength);
        counter(out, models, "tessera_prompt_tokens_total", "Prompt tokens admitted", ModelMetrics::promptTokens);
        counter(out, models, "tessera_prefix_cached_tokens_total", "Prompt tokens served from the prefix cache",
                ModelMetrics::cachedTokens);
        counter(out, models, "tessera_prefix_lookups_total", "Sequences that looked up the prefix cache",
                ModelMetrics::prefixLookups);
        counter(out, models, "tessera_prefix_hits_total", "Prefix cache lookups that reused a cached prefix",
                ModelMetrics::prefixHits);
        gauge(out, models, "tessera_prefix_hit_ratio", "Prefix cache hits / lookups",
                m -> m.prefixLookups() == 0 ? 0 : m.prefixHits() / (double) m.prefixLookups());
        counter(out, models, "tessera_preempted_total", "Running sequences preempted (KV freed, re-queued, "
                + "recomputed) when the KV blocks ran out", ModelMetrics::preempted);
        counter(out, models, "tessera_generated_tokens_total", "Tokens generated", ModelMetrics::generatedTokens);
        counter(out, models, "tessera_steps_total", "Main-model passes (one ragged batch each)", ModelMetrics::steps);
        counter(out, models, "tessera_decode_steps_total", "Decode steps of sequences past their prefill, summed over "
                + "sequences", ModelMetrics::decodeSteps);
        labelled(out, models, "tessera_draft_steps_total", "Decode steps by the speculative drafts they verified "
                + "(the chosen-k histogram)", "drafts", ModelMetrics::draftSteps);
        labelled(out, models, "tessera_draft_proposed_total", "Drafts proposed by each MTP head", "head",
                ModelMetrics::proposedPerHead);
        labelled(out, models, "tessera_draft_accepted_total", "Drafts of each MTP head accepted", "head",
                ModelMetrics::acceptedPerHead);
        out.append("# HELP tessera_expert_tokens_total Tokens routed to each expert (one step in "
                        + "tessera_expert_load_sample_every is counted)\n")
                .append("# TYPE tessera_expert_tokens_total counter\n");
        for (ModelMetrics m : models) {
            for (int layer = 0; layer < m.expertLoad().length; layer++) {
                long[] load = m.expertLoad()[layer];
                for (int e = 0; e < load.length; e++) {
                    out.append("tessera_expert_tokens_total{model=\"").append(label(m.model())).append("\",layer=\"")
                            .append(layer).append("\",expert=\"").append(e).append("\"} ").append(load[e])
                            .append('\n');
                }
            }
        }
        gauge(out, models, "tessera_expert_load_sample_every", "Expert load is counted on one step in this many",
                ModelMetrics::expertLoadEvery);
        out.append("# HELP tessera_http_responses_total HTTP responses by status\n")
                .append("# TYPE tessera_http_responses_total counter\n");
        for (var e : new TreeMap<>(responses).entrySet()) {
            out.append("tessera_http_responses_total{code=\"").append(e.getKey()).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        }
        out.append("# HELP tessera_http_active_requests Requests being served\n")
                .append("# TYPE tessera_http_active_requests gauge\n")
                .append("tessera_http_active_requests ").append(active).append('\n');
        return out.toString();
    }

    /** A counter family with one series per index of {@code values}, labelled {@code label="index"}. */
    private static void labelled(StringBuilder out, List<ModelMetrics> models, String name, String help,
                                 String label, Function<ModelMetrics, long[]> values) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        for (ModelMetrics m : models) {
            long[] counts = values.apply(m);
            for (int i = 0; i < counts.length; i++) {
                out.append(name).append("{model=\"").append(label(m.model())).append("\",").append(label)
                        .append("=\"").append(i).append("\"} ").append(counts[i]).append('\n');
            }
        }
    }

    private static void gauge(StringBuilder out, List<ModelMetrics> models, String name, String help,
                              ToDoubleFunction<ModelMetrics> value) {
        family(out, models, name, help, "gauge", value);
    }

    private static void counter(StringBuilder out, List<ModelMetrics> models, String name, String help,
                                ToDoubleFunction<ModelMetrics> value) {
        family(out, models, name, help, "counter", value);
    }

    private static void family(StringBuilder out, List<ModelMetrics> models, String name, String help, String type,
                               ToDoubleFunction<ModelMetrics> value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        for (ModelMetrics m : models) {
            double v = value.applyAsDouble(m);
            out.append(name).append("{model=\"").append(label(m.model())).append("\"} ")
                    .append(v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v))
                    .append('\n');
        }
    }

    private static String label(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
