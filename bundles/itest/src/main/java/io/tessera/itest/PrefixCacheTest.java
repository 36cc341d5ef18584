package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelMetrics;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * The prefix cache changes no token: on every fixture and the embedded model, a request whose prompt repeats a
 * cached prefix (shorter than the sliding window, as long as it, several times as long) or a chat history gives
 * exactly the tokens it gives on an empty cache — greedy and seeded sampling, drafts off and on — and reports the
 * prompt tokens it did not prefill; the same prompt submitted several times at once ({@code n > 1}) is prefilled
 * once. When the KV blocks run out mid-generation, sequences are preempted and still
 * finish with the tokens they produce alone.
 */
public class PrefixCacheTest {
    private static final int BLOCK = 32;   // the default kvBlockTokens
    private static final int TOKENS = 24;

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    @InjectService
    ConfigurationAdmin configurations;

    @Test
    void aCachedPrefixGivesTheTokensOfAFullPrefill() throws Exception {
        Path repo = Path.of(context.getProperty("tessera.repo"));
        for (Goldens g : Goldens.all(repo)) {
            JsonNode config = new ObjectMapper().readTree(g.checkpoint().resolve("config.json").toFile());
            int window = config.path("sliding_window").asInt(0);
            boolean heads = !Goldens.withDraftHeads(repo).stream().filter(d -> d.fixture().equals(g.fixture()))
                    .toList().isEmpty();
            int vocab = g.json().get("tokenizer_size").asInt();
            String name = "prefix-" + g.fixture();
            registry.load(g.checkpoint(), name, "cpu", null);
            try {
                Random random = new Random(11);
                int[] lengths = window == 0 ? new int[] {10, BLOCK, 3 * BLOCK + 5}
                        : new int[] {window / 2, window, 3 * window + BLOCK + 3, 6 * window + 1};
                for (int length : lengths) {
                    int[] prefix = tokens(random, length, vocab);
                    int[] first = concat(prefix, tokens(random, 7, vocab));
                    int[] second = concat(prefix, tokens(random, 5, vocab));
                    for (SamplingParams sampling : List.of(SamplingParams.GREEDY,
                            new SamplingParams(0.9f, 0, 1f, 1234L))) {
                        for (int drafts : heads ? new int[] {0, 3} : new int[] {0}) {
                            String what = g.fixture() + ", prefix " + length + ", window " + window + ", "
                                    + (sampling.temperature() == 0 ? "greedy" : "sampled") + ", " + drafts + " drafts";
                            registry.clearPrefixCache(name);
                            GenerationResult alone = run(name, second, sampling, drafts);
                            assertEquals(0, alone.stats().cachedTokens(), what + ": nothing cached yet");
                            registry.clearPrefixCache(name);
                            run(name, first, sampling, drafts);
                            GenerationResult cached = run(name, second, sampling, drafts);
                            assertArrayEquals(alone.tokens(), cached.tokens(), what);
                            assertEquals(reusable(length, second.length, window), cached.stats().cachedTokens(),
                                    what + ": prompt tokens served from the cache");
                        }
                    }
                }
                // a chat: the next turn repeats the history, generated tokens included
                int[] turn = tokens(random, 3 * Math.max(window, BLOCK) + 9, vocab);
                for (int t = 0; t < 3; t++) {
                    registry.clearPrefixCache(name);
                    GenerationResult alone = run(name, turn, SamplingParams.GREEDY, 0);
                    registry.clearPrefixCache(name);
                    GenerationResult cached = null;
                    for (int i = 0; i < 2; i++) {   // the second run finds the first one's blocks
                        cached = run(name, turn, SamplingParams.GREEDY, 0);
                    }
                    assertArrayEquals(alone.tokens(), cached.tokens(), g.fixture() + " chat turn " + t);
                    assertEquals(reusable(turn.length, turn.length, window), cached.stats().cachedTokens(),
                            g.fixture() + " chat turn " + t);
                    turn = concat(concat(turn, alone.tokens()), tokens(random, 6, vocab));
                }
                // n > 1: the same prompt submitted three times at once is prefilled once, by the first
                int[] shared = tokens(random, 3 * Math.max(window, BLOCK) + 11, vocab);
                List<int[]> each = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    registry.clearPrefixCache(name);
                    each.add(run(name, shared, new SamplingParams(0.9f, 0, 1f, i), 0).tokens());
                }
                registry.clearPrefixCache(name);
                List<Generation> forks = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    forks.add(generator.submit(new GenerationRequest(name, shared, TOKENS,
                            new SamplingParams(0.9f, 0, 1f, i), Set.of(), 0, false, null), ids -> { }));
                }
                for (int i = 0; i < 3; i++) {
                    GenerationResult r = forks.get(i).result().toCompletableFuture().get(300, TimeUnit.SECONDS);
                    assertArrayEquals(each.get(i), r.tokens(), g.fixture() + " choice " + i);
                    assertEquals(i == 0 ? 0 : reusable(shared.length, shared.length, window),
                            r.stats().cachedTokens(), g.fixture() + " choice " + i);
                }
                ModelMetrics m = metrics(name);
                assertTrue(m.prefixHits() > 0 && m.cachedTokens() > 0 && m.prefixLookups() >= m.prefixHits(),
                        m.toString());
            } finally {
                registry.unload(name);
            }
        }
    }

    /**
     * A KV budget (3 MiB, most of it the sliding-window rings) too small for four long generations at once: the
     * youngest running ones are preempted and recomputed, with and without the prefix cache, and every request
     * still gets the tokens it gets alone.
     */
    @Test
    void preemptedSequencesFinishWithTheTokensTheyProduceAlone() throws Exception {
        Goldens g = Goldens.all(Path.of(context.getProperty("tessera.repo"))).stream()
                .filter(x -> x.fixture().equals("tessera-java-mini")).findFirst().orElseThrow();
        Random random = new Random(5);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            prompts.add(tokens(random, 90 + 7 * i, 2048));
        }
        registry.load(g.checkpoint(), "preempt-alone", "cpu", null);
        List<int[]> alone = new ArrayList<>();
        try {
            for (int[] p : prompts) {
                alone.add(run("preempt-alone", p, SamplingParams.GREEDY, 0, 300).tokens());
            }
        } finally {
            registry.unload("preempt-alone");
        }
        Configuration engine = configurations.getConfiguration("io.tessera.engine", "?");
        try {
            for (boolean cache : new boolean[] {false, true}) {
                int sequences = cache ? 5 : 4;   // tells the two configurations apart
                engine.update(new Hashtable<>(Map.of("kvBudgetMiB", 3, "sequences", sequences, "prefixCache",
                        cache)));
                String name = "preempt-" + cache;
                awaitConfiguration(g.checkpoint(), name, sequences);
                try {
                    List<Generation> running = new ArrayList<>();
                    for (int[] p : prompts) {
                        running.add(generator.submit(new GenerationRequest(name, p, 300, SamplingParams.GREEDY,
                                Set.of(), 0, false, null), ids -> { }));
                    }
                    for (int i = 0; i < prompts.size(); i++) {
                        GenerationResult r = running.get(i).result().toCompletableFuture().get(300, TimeUnit.SECONDS);
                        assertEquals(GenerationResult.Finish.LENGTH, r.finish(), "request " + i);
                        assertArrayEquals(alone.get(i), r.tokens(), "request " + i + " with prefix cache " + cache);
                    }
                    ModelMetrics m = metrics(name);
                    assertTrue(m.preempted() > 0, "no sequence was preempted: " + m);
                    assertEquals(cache, m.prefixLookups() > 0, m.toString());
                } finally {
                    registry.unload(name);
                }
            }
        } finally {
            engine.delete();
        }
    }

    /** Loads the model until it has the small KV pool and the sequences configured: the engine took them. */
    private void awaitConfiguration(Path checkpoint, String name, int sequences) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            registry.load(checkpoint, name, "cpu", null);
            if (registry.info(name).orElseThrow().memory().get("kv") <= 3L << 20
                    && metrics(name).kvSlots() == sequences) {
                return;
            }
            registry.unload(name);
            assertTrue(System.nanoTime() < deadline, "the engine did not take its new configuration");
            Thread.sleep(50);
        }
    }

    /**
     * Prompt tokens a prompt of {@code length} can take from a cached {@code prefix}: up to the last block end
     * inside both (one prompt token at least is computed), less the window the sliding layers recompute.
     */
    private static int reusable(int prefix, int length, int window) {
        int end = Math.min(prefix, length - 1) / BLOCK * BLOCK;
        return end > window ? end - window : 0;
    }

    private GenerationResult run(String model, int[] prompt, SamplingParams sampling, int drafts) throws Exception {
        return run(model, prompt, sampling, drafts, TOKENS);
    }

    private GenerationResult run(String model, int[] prompt, SamplingParams sampling, int drafts, int tokens)
            throws Exception {
        return generator.submit(new GenerationRequest(model, prompt, tokens, sampling, Set.of(), drafts, false, null),
                ids -> { }).result().toCompletableFuture().get(300, TimeUnit.SECONDS);
    }

    private ModelMetrics metrics(String model) {
        return generator.metrics().stream().filter(m -> m.model().equals(model)).findFirst().orElseThrow();
    }

    private static int[] tokens(Random random, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = random.nextInt(vocab);
        }
        return t;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
