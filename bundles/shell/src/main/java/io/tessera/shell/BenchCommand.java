package io.tessera.shell;

import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.GenerationStats;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code bench}: prefill and decode speed of the loaded model on a seeded random prompt, greedy, the median (and
 * range) of several runs, with speculation and without when the model has MTP heads. Uses only the public API.
 */
@Component(service = BenchCommand.class, property = {"osgi.command.scope=tessera", "osgi.command.function=bench",
        "osgi.command.function=prefixbench"})
public class BenchCommand {
    private static final int PROGRESS_SECONDS = 5;
    private final ModelRegistry registry;
    private final ModelChoice choice;
    private final Generator generator;

    @Activate
    public BenchCommand(@Reference ModelRegistry registry, @Reference ModelChoice choice,
                        @Reference Generator generator) {
        this.registry = registry;
        this.choice = choice;
        this.generator = generator;
    }

    @Descriptor("measure prefill and decode tokens/s on a random prompt (greedy; median, min and max of the runs)")
    public void bench(CommandSession session,
                      @Descriptor("model (default: the only loaded one)") @Parameter(names = {"-m", "--model"},
                              absentValue = "") String model,
                      @Descriptor("prompt length in tokens") @Parameter(names = {"-p", "--prompt-tokens"},
                              absentValue = "128") int promptTokens,
                      @Descriptor("tokens to generate per run") @Parameter(names = {"-n", "--gen-tokens"},
                              absentValue = "64") int genTokens,
                      @Descriptor("speculative draft tokens per step, 0-3 (default: every MTP head the model has); "
                              + "a speculative setting is also measured with 0")
                      @Parameter(names = {"-d", "--drafts"}, absentValue = "-1") int drafts,
                      @Descriptor("measured runs per setting") @Parameter(names = {"-r", "--runs"},
                              absentValue = "3") int runs,
                      @Descriptor("unmeasured warm-up runs first (JIT, page cache)")
                      @Parameter(names = {"-w", "--warmup"}, absentValue = "1") int warmup,
                      @Descriptor("seed of the random prompt") @Parameter(names = {"-s", "--seed"},
                              absentValue = "0") long seed,
                      @Descriptor("compare speculation settings, e.g. adaptive,0,1,2,3: runs interleaved, medians, "
                              + "ratios to 0, acceptance, chosen-k histogram")
                      @Parameter(names = {"--modes"}, absentValue = "") String modes,
                      @Descriptor("with --modes: prompts as token ids, one comma-separated prompt per line (instead "
                              + "of the random prompt)")
                      @Parameter(names = {"--prompts"}, absentValue = "") String prompts,
                      @Descriptor("with --modes: also with oracle drafts right with these probabilities, e.g. "
                              + "0,0.3,0.6,0.9 (from a greedy pre-run)")
                      @Parameter(names = {"--oracle"}, absentValue = "") String oracle) throws Exception {
        validate(promptTokens, genTokens, drafts, runs, warmup);
        PrintStream out = session.getConsole();
        String name = choice.pick(model);
        int vocab = vocabulary(name);
        int[] prompt = randomPrompt(seed, promptTokens, vocab);
        if (!modes.isEmpty()) {
            List<int[]> set = prompts.isEmpty() ? List.of(prompt) : Files.readAllLines(Path.of(prompts)).stream()
                    .filter(line -> !line.isBlank()).map(Models::parseIds).toList();
            new SpeculationBench(request -> run(out, request), out).run(name, set, genTokens,
                    SpeculationBench.parseModes(modes), SpeculationBench.parseOracle(oracle), runs, warmup);
            return;
        }
        out.printf(Locale.ROOT, "bench %s: prompt %d random ids (seed %d, vocab %d), %d new tokens, greedy, %d warm-up + %d runs%n",
                name, promptTokens, seed, vocab, genTokens, warmup, runs);
        List<Integer> settings = new ArrayList<>(List.of(drafts));
        for (int s = 0; s < settings.size(); s++) {
            int d = settings.get(s);
            Summary summary = measure(out, name, prompt, genTokens, d, runs, warmup);
            out.println(summary.line(d));
            if (d != 0 && summary.speculative && !settings.contains(0)) {
                settings.add(0);   // the model has MTP heads: compare with plain decoding
            }
        }
    }

    /** Checks the arguments; the message names the bad one. */
    @Descriptor("measure what the prefix cache saves: time to first token of a second request with the same long "
            + "prefix, and a chat replayed turn by turn with and without the cache (greedy, random ids)")
    public void prefixbench(CommandSession session,
                            @Descriptor("model (default: the only loaded one)") @Parameter(names = {"-m", "--model"},
                                    absentValue = "") String model,
                            @Descriptor("shared prefix in tokens") @Parameter(names = {"-p", "--prefix-tokens"},
                                    absentValue = "4096") int prefixTokens,
                            @Descriptor("tokens to generate per request") @Parameter(names = {"-n", "--gen-tokens"},
                                    absentValue = "16") int genTokens,
                            @Descriptor("chat turns") @Parameter(names = {"-t", "--turns"}, absentValue = "10")
                            int turns,
                            @Descriptor("tokens of each user turn") @Parameter(names = {"-u", "--turn-tokens"},
                                    absentValue = "64") int turnTokens,
                            @Descriptor("seed of the random ids") @Parameter(names = {"-s", "--seed"},
                                    absentValue = "0") long seed) throws Exception {
        validate(prefixTokens, genTokens, 0, Math.max(1, turns), 0);
        if (turnTokens < 1) {
            throw new IllegalArgumentException("--turn-tokens must be at least 1, got " + turnTokens);
        }
        PrintStream out = session.getConsole();
        String name = choice.pick(model);
        new PrefixBench(request -> run(out, request), registry, out).run(name, vocabulary(name), prefixTokens,
                genTokens, turns, turnTokens, seed);
    }

    static void validate(int promptTokens, int genTokens, int drafts, int runs, int warmup) {
        if (promptTokens < 1) {
            throw new IllegalArgumentException("--prompt-tokens must be >= 1, got " + promptTokens);
        }
        if (genTokens < 2) {
            throw new IllegalArgumentException("--gen-tokens must be >= 2 (decode speed needs a second token), got "
                    + genTokens);
        }
        if (drafts < -1 || drafts > 3) {
            throw new IllegalArgumentException("--drafts must be -1 (model default) or 0-3, got " + drafts);
        }
        if (runs < 1) {
            throw new IllegalArgumentException("--runs must be >= 1, got " + runs);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        }
    }

    /** {@code length} ids drawn uniformly from {@code [0, vocab)} by a seeded generator. */
    static int[] randomPrompt(long seed, int length, int vocab) {
        return new SplittableRandom(seed).ints(length, 0, vocab).toArray();
    }

    /** The vocabulary size: the width of the logits row of a one-token evaluation. */
    private int vocabulary(String model) throws Exception {
        AtomicInteger width = new AtomicInteger();
        generator.evaluate(model, new int[] {0}, (position, logits) -> width.set(logits.length))
                .toCompletableFuture().get();
        return width.get();
    }

    private Summary measure(PrintStream out, String model, int[] prompt, int genTokens, int drafts, int runs,
                            int warmup) throws Exception {
        double[] prefill = new double[runs];
        double[] decode = new double[runs];
        boolean speculative = false;
        double acceptance = 0;
        for (int r = -warmup; r < runs; r++) {
            GenerationResult result = run(out, new GenerationRequest(model, prompt, genTokens, SamplingParams.GREEDY,
                    Set.of(), drafts, false, null));
            if (result.finish() == GenerationResult.Finish.ERROR || result.finish() == GenerationResult.Finish.CANCELLED) {
                throw new IllegalStateException("generation ended with " + result.finish());
            }
            GenerationStats stats = result.stats();
            int generated = result.tokens().length;
            double p = prompt.length / (stats.prefillNanos() / 1e9);
            double d = (generated - 1) / (stats.decodeNanos() / 1e9);
            speculative = stats.proposedPerHead().length > 0;
            String label = r < 0 ? "warm-up " + (r + warmup + 1) + "/" + warmup : "run " + (r + 1) + "/" + runs;
            out.printf(Locale.ROOT, "  drafts %s %s: prefill %.2f tok/s, decode %.2f tok/s (%d tokens, %s)%s%n", drafts(drafts),
                    label, p, d, generated, result.finish().name().toLowerCase(),
                    speculative ? String.format(Locale.ROOT, ", acceptance length %.2f", stats.acceptanceLength(generated)) : "");
            out.flush();
            if (r >= 0) {
                prefill[r] = p;
                decode[r] = d;
                acceptance += speculative ? stats.acceptanceLength(generated) / runs : 0;
            }
        }
        return new Summary(prefill, decode, speculative, acceptance);
    }

    /** Runs one generation, printing how far it got every few seconds (a run on a big model takes a while). */
    private GenerationResult run(PrintStream out, GenerationRequest request) throws Exception {
        AtomicInteger generated = new AtomicInteger();
        CompletableFuture<GenerationResult> done = generator.submit(request, ids -> generated.addAndGet(ids.length))
                .result().toCompletableFuture();
        long start = System.nanoTime();
        while (true) {
            try {
                return done.get(PROGRESS_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                int n = generated.get();
                out.printf(Locale.ROOT, "    ... %.0f s: %s%n", (System.nanoTime() - start) / 1e9,
                        n == 0 ? "prefilling " + request.prompt().length + " tokens"
                                : n + "/" + request.maxTokens() + " tokens");
                out.flush();
            }
        }
    }

    private static String drafts(int drafts) {
        return drafts < 0 ? "default" : String.valueOf(drafts);
    }

    /** Median, min and max of the runs' speeds. */
    record Summary(double[] prefill, double[] decode, boolean speculative, double acceptance) {
        String line(int drafts) {
            return String.format(Locale.ROOT, "drafts %s%s: prefill %s tok/s; decode %s tok/s%s", drafts(drafts),
                    speculative ? " (speculative)" : "", stats(prefill), stats(decode),
                    speculative ? String.format(Locale.ROOT, "; acceptance length %.2f", acceptance) : "");
        }

        static String stats(double[] values) {
            double[] sorted = values.clone();
            Arrays.sort(sorted);
            return String.format(Locale.ROOT, "median %.2f (min %.2f, max %.2f)", median(sorted), sorted[0],
                    sorted[sorted.length - 1]);
        }
    }

    /** Median of sorted values (the mean of the middle two for an even count). */
    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
