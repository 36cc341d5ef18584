package io.tessera.shell;

import io.tessera.api.model.DraftOracle;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.GenerationStats;
import io.tessera.api.model.SamplingParams;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;

/**
 * {@code bench --modes}: greedy decode speed of several speculation settings (adaptive, off, fixed k) on a set of
 * prompts, the settings' runs interleaved (run r of every setting, then run r + 1, the order rotating), so that
 * a machine whose speed drifts affects all alike; medians, the ratio of each median to the median without drafts,
 * acceptance and the chosen-k histogram. With oracle accuracies, each setting is measured again with drafts that
 * are right with that probability (known from a greedy pre-run), which shows the policy on heads of any quality.
 * Every run's tokens must equal the greedy tokens without drafts.
 */
final class SpeculationBench {
    /** Runs one generation to its end. */
    interface Runner {
        GenerationResult run(GenerationRequest request) throws Exception;
    }

    private final Runner runner;
    private final PrintStream out;

    SpeculationBench(Runner runner, PrintStream out) {
        this.runner = runner;
        this.out = out;
    }

    /** {@code adaptive,off,0,1,2,3} as draft settings: −1 adaptive, else the draft count (off is 0). */
    static List<Integer> parseModes(String modes) {
        List<Integer> parsed = new ArrayList<>();
        for (String mode : modes.split(",")) {
            String m = mode.trim();
            int drafts = switch (m) {
                case "adaptive" -> -1;
                case "off" -> 0;
                default -> m.matches("[0-3]") ? Integer.parseInt(m) : -2;
            };
            if (drafts == -2 || parsed.contains(drafts)) {
                throw new IllegalArgumentException("--modes: adaptive, off or 0-3, each once, comma-separated; got '"
                        + modes + "'");
            }
            parsed.add(drafts);
        }
        return parsed;
    }

    /** Oracle accuracies in [0, 1], comma-separated; empty: none. */
    static double[] parseOracle(String accuracies) {
        if (accuracies.isBlank()) {
            return new double[0];
        }
        double[] parsed = Arrays.stream(accuracies.split(",")).mapToDouble(a -> Double.parseDouble(a.trim()))
                .toArray();
        for (double p : parsed) {
            if (!(p >= 0 && p <= 1)) {
                throw new IllegalArgumentException("--oracle: probabilities in [0, 1], got " + accuracies);
            }
        }
        return parsed;
    }

    void run(String model, List<int[]> prompts, int genTokens, List<Integer> modes, double[] oracle, int runs,
             int warmup) throws Exception {
        out.printf(Locale.ROOT, "load average %.2f; %d prompts, %d new tokens each, greedy; settings %s interleaved,"
                + " %d warm-up + %d runs each%n", load(), prompts.size(), genTokens, labels(modes), warmup, runs);
        List<int[]> greedy = new ArrayList<>();
        for (int[] prompt : prompts) {
            greedy.add(runner.run(request(model, prompt, genTokens, 0, null)).tokens());
        }
        measure(model, prompts, greedy, genTokens, modes, Double.NaN, runs, warmup);
        for (double p : oracle) {
            measure(model, prompts, greedy, genTokens, modes, p, runs, warmup);
        }
        out.printf(Locale.ROOT, "load average %.2f%n", load());
    }

    private void measure(String model, List<int[]> prompts, List<int[]> greedy, int genTokens, List<Integer> modes,
                         double oracle, int runs, int warmup) throws Exception {
        int count = modes.size();
        double[][] rates = new double[count][runs];
        Totals[] totals = new Totals[count];
        for (int r = -warmup; r < runs; r++) {
            for (int i = 0; i < count; i++) {
                int mode = Math.floorMod(i + r, count);   // rotate the order so no setting always runs first
                Totals run = new Totals();
                for (int p = 0; p < prompts.size(); p++) {
                    DraftOracle drafts = Double.isNaN(oracle) ? null : new DraftOracle(greedy.get(p), oracle);
                    GenerationResult result = runner.run(request(model, prompts.get(p), genTokens, modes.get(mode),
                            drafts));
                    if (!Arrays.equals(result.tokens(), greedy.get(p))) {
                        throw new IllegalStateException("setting " + label(modes.get(mode)) + ", prompt " + p
                                + ": the tokens differ from greedy decoding without drafts");
                    }
                    run.add(result);
                }
                if (r >= 0) {
                    rates[mode][r] = run.rate();
                    totals[mode] = totals[mode] == null ? run : totals[mode].plus(run);
                }
            }
        }
        int off = modes.indexOf(0);
        double base = off < 0 ? Double.NaN : median(rates[off]);
        String title = Double.isNaN(oracle) ? "the model's draft heads"
                : String.format(Locale.ROOT, "oracle drafts right with p = %.2f", oracle);
        out.printf(Locale.ROOT, "%s (load average %.2f):%n", title, load());
        for (int i = 0; i < count; i++) {
            double[] sorted = rates[i].clone();
            Arrays.sort(sorted);
            out.printf(Locale.ROOT, "  %-8s decode median %.2f tok/s (min %.2f, max %.2f)%s; acceptance length %.2f"
                            + " (%s); %s%n", label(modes.get(i)), median(sorted), sorted[0], sorted[sorted.length - 1],
                    Double.isNaN(base) ? "" : String.format(Locale.ROOT, ", %.3fx of no drafts", median(sorted) / base),
                    totals[i].acceptance(), totals[i].perHead(), DraftHistogram.line(totals[i].draftSteps));
        }
        out.flush();
    }

    private static GenerationRequest request(String model, int[] prompt, int genTokens, int drafts,
                                             DraftOracle oracle) {
        return new GenerationRequest(model, prompt, genTokens, SamplingParams.GREEDY, Set.of(), drafts, false, null,
                -1, oracle);
    }

    /** Decode tokens and time, steps and the chosen-k histogram of one or more runs over the prompts. */
    private static final class Totals {
        long tokens;
        long nanos;
        long steps;
        long[] draftSteps = new long[0];
        long[] accepted = new long[0];
        long[] proposed = new long[0];

        void add(GenerationResult result) {
            GenerationStats stats = result.stats();
            tokens += Math.max(0, result.tokens().length - 1);   // the first token comes with the prefill
            nanos += stats.decodeNanos();
            steps += stats.verifySteps();
            draftSteps = sum(draftSteps, stats.draftSteps());
            accepted = sum(accepted, stats.acceptedPerHead());
            proposed = sum(proposed, stats.proposedPerHead());
        }

        Totals plus(Totals other) {
            Totals sum = new Totals();
            sum.tokens = tokens + other.tokens;
            sum.nanos = nanos + other.nanos;
            sum.steps = steps + other.steps;
            sum.draftSteps = sum(draftSteps, other.draftSteps);
            sum.accepted = sum(accepted, other.accepted);
            sum.proposed = sum(proposed, other.proposed);
            return sum;
        }

        /** Each head's drafts accepted over its drafts proposed, e.g. {@code "heads 81%/60%/41%"}. */
        String perHead() {
            StringJoiner heads = new StringJoiner("/", "heads ", "");
            for (int k = 0; k < proposed.length; k++) {
                heads.add(proposed[k] == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100.0 * accepted[k]
                        / proposed[k]));
            }
            return heads.toString();
        }

        double rate() {
            return tokens / Math.max(nanos / 1e9, 1e-9);
        }

        double acceptance() {
            return steps == 0 ? 0 : tokens / (double) steps;
        }

        private static long[] sum(long[] a, long[] b) {
            long[] s = Arrays.copyOf(a, Math.max(a.length, b.length));
            for (int k = 0; k < b.length; k++) {
                s[k] += b[k];
            }
            return s;
        }
    }

    static String label(int drafts) {
        return drafts < 0 ? "adaptive" : drafts == 0 ? "off" : "k=" + drafts;
    }

    private static String labels(List<Integer> modes) {
        return String.join(", ", modes.stream().map(SpeculationBench::label).toList());
    }

    private static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return BenchCommand.median(sorted);
    }
}
