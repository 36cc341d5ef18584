package io.tessera.shell;

import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code prefixbench}: what the prefix cache saves. Time to first token of a request whose long prefix an earlier
 * request left in the cache, against the first one's (same prefix, another question); then a chat replayed turn by
 * turn (each turn appends a user message and the answer to the history), with the cache and with the cache
 * cleared before every turn, and whether both replays produced the same tokens. Greedy, seeded random ids.
 */
final class PrefixBench {
    private final SpeculationBench.Runner runner;
    private final ModelRegistry registry;
    private final PrintStream out;

    PrefixBench(SpeculationBench.Runner runner, ModelRegistry registry, PrintStream out) {
        this.runner = runner;
        this.registry = registry;
        this.out = out;
    }

    void run(String model, int vocab, int prefixTokens, int genTokens, int turns, int turnTokens, long seed)
            throws Exception {
        int[] ids = BenchCommand.randomPrompt(seed, prefixTokens + 2 * 16 + turns * turnTokens, vocab);
        int[] prefix = Arrays.copyOf(ids, prefixTokens);
        registry.clearPrefixCache(model);
        GenerationResult first = generate(model, concat(prefix, Arrays.copyOfRange(ids, prefixTokens,
                prefixTokens + 16)), genTokens);
        GenerationResult second = generate(model, concat(prefix, Arrays.copyOfRange(ids, prefixTokens + 16,
                prefixTokens + 32)), genTokens);
        double ttft1 = first.stats().prefillNanos() / 1e6;
        double ttft2 = second.stats().prefillNanos() / 1e6;
        out.printf(Locale.ROOT, "prefixbench %s: prefix %d tokens + 16 of a question, %d new tokens%n", model,
                prefixTokens, genTokens);
        out.printf(Locale.ROOT, "  first request:  time to first token %.1f ms%n", ttft1);
        out.printf(Locale.ROOT, "  second request: time to first token %.1f ms, %d prompt tokens from the cache: "
                + "%.1fx faster%n", ttft2, second.stats().cachedTokens(), ttft1 / ttft2);
        memory(model);
        long[] nanos = new long[2];
        int[][] answers = new int[2][];
        for (int cached = 1; cached >= 0; cached--) {
            registry.clearPrefixCache(model);
            int[] history = prefix;
            int[] all = new int[0];
            int served = 0;
            for (int t = 0; t < turns; t++) {
                int from = prefixTokens + 32 + t * turnTokens;
                history = concat(history, Arrays.copyOfRange(ids, from, from + turnTokens));
                if (cached == 0) {
                    registry.clearPrefixCache(model);
                }
                long start = System.nanoTime();
                GenerationResult answer = generate(model, history, genTokens);
                nanos[cached] += System.nanoTime() - start;
                served += answer.stats().cachedTokens();
                history = concat(history, answer.tokens());
                all = concat(all, answer.tokens());
            }
            answers[cached] = all;
            out.printf(Locale.ROOT, "  chat of %d turns (%d-token turns, %d-token answers) %s the cache: %.2f s, "
                    + "%d prompt tokens from the cache%n", turns, turnTokens, genTokens,
                    cached == 1 ? "with" : "without", nanos[cached] / 1e9, served);
        }
        out.printf(Locale.ROOT, "  chat replay: %.1fx faster with the cache; same tokens: %s%n",
                nanos[0] / (double) nanos[1], Arrays.equals(answers[0], answers[1]));
        memory(model);
    }

    private void memory(String model) {
        Map<String, Long> memory = registry.info(model).orElseThrow().memory();
        out.printf(Locale.ROOT, "  KV: pool %.1f MiB, in use %.2f MiB, cached blocks %.2f MiB, window snapshots "
                + "%.2f MiB (host)%n", mib(memory.get("kv")), mib(memory.get("kv-used")), mib(memory.get("kv-cache")),
                mib(memory.get("kv-snap")));
    }

    private static double mib(Long bytes) {
        return bytes == null ? 0 : bytes / 1048576.0;
    }

    private GenerationResult generate(String model, int[] prompt, int tokens) throws Exception {
        return runner.run(new GenerationRequest(model, prompt, tokens, SamplingParams.GREEDY, Set.of(), 0, false,
                null));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
