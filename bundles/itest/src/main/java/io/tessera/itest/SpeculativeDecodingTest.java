package io.tessera.itest;

import java.util.Arrays;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.model.DraftOracle;
import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.RoutingRecord;
import io.tessera.api.model.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * Speculative decoding gives exactly the tokens of plain decoding, greedy or seeded sampling, for many prompts and
 * lengths that cross the sliding window several times, with 1, 2 and 3 drafts and with the adaptive policy's choice, while
 * several sequences share each step.
 */
public class SpeculativeDecodingTest {
    private static final int PROMPTS = 10;
    private static final int TOKENS = 64;

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    /**
     * Greedy, and seeded sampling, give the same tokens with and without drafts: a sampled token is drawn with its
     * position's uniform number, whatever draft lengths (here fixed, or the adaptive policy's timed choice) led there.
     */
    @Test
    void tokensAreIdenticalWithAndWithoutDrafts() throws Exception {
        for (Goldens g : Goldens.withDraftHeads(Path.of(context.getProperty("tessera.repo")))) {
            String name = "spec-" + g.fixture();
            registry.load(g.checkpoint(), name, "cpu", null);
            try {
                Random random = new Random(7);
                List<int[]> prompts = new ArrayList<>();
                for (int i = 0; i < PROMPTS; i++) {
                    int[] prompt = new int[1 + random.nextInt(48)];
                    for (int t = 0; t < prompt.length; t++) {
                        prompt[t] = random.nextInt(g.json().get("tokenizer_size").asInt());
                    }
                    prompts.add(prompt);
                }
                for (float temperature : new float[] {0f, 0.8f}) {
                    List<int[]> plain = runAll(name, prompts, 0, temperature);
                    for (int drafts : new int[] {1, 2, 3, -1}) {   // -1: the node's default, the adaptive policy
                        List<int[]> speculative = runAll(name, prompts, drafts, temperature);
                        for (int i = 0; i < PROMPTS; i++) {
                            assertArrayEquals(plain.get(i), speculative.get(i), g.fixture() + " prompt " + i
                                    + " (length " + prompts.get(i).length + ") at temperature " + temperature
                                    + " with " + drafts + " drafts");
                        }
                    }
                    assertTrue(plain.stream().allMatch(t -> t.length == TOKENS));
                }
            } finally {
                registry.unload(name);
            }
        }
    }

    /**
     * Accepted drafts and their rollback, end to end, under seeded sampling: a draft oracle proposes the tokens of
     * the same request's run without drafts (a seed's tokens do not depend on them) seven times in ten, so most
     * drafts stand and the rest roll back. The output must be that run's, and the routing record of the run with
     * drafts — taken at verification, kept for accepted tokens only — must equal a teacher-forced pass over the same
     * tokens: a KV slot left wrong by a rollback would change the hidden states, and with them the experts chosen.
     */
    @Test
    void acceptedDraftsLeaveTheCacheAsAPlainPassWould() throws Exception {
        for (Goldens g : Goldens.withDraftHeads(Path.of(context.getProperty("tessera.repo")))) {
            String name = "accept-" + g.fixture();
            registry.load(g.checkpoint(), name, "cpu", null);
            try {
                int[] prompt = {3, 14, 15, 92, 65, 35, 89, 79};
                SamplingParams sampling = new SamplingParams(0.8f, 0, 0.95f, 11);
                int[] withoutDrafts = generator.submit(new GenerationRequest(name, prompt, 48, sampling, Set.of(), 0,
                        false, null), ids -> { }).result().toCompletableFuture().get(300, TimeUnit.SECONDS).tokens();
                GenerationResult speculative = generator.submit(new GenerationRequest(name, prompt, 48, sampling,
                        Set.of(), 3, true, null, -1, new DraftOracle(withoutDrafts, 0.7)), ids -> { })
                        .result().toCompletableFuture().get(300, TimeUnit.SECONDS);
                assertArrayEquals(withoutDrafts, speculative.tokens(), g.fixture() + ": the oracle's drafts changed "
                        + "the sampled tokens");
                long accepted = Arrays.stream(speculative.stats().acceptedPerHead()).sum();
                assertTrue(accepted > 10, g.fixture() + ": only " + accepted + " drafts accepted");
                int[] forced = Arrays.copyOf(prompt, prompt.length + speculative.tokens().length - 1);
                System.arraycopy(speculative.tokens(), 0, forced, prompt.length, speculative.tokens().length - 1);
                GenerationResult plain = generator.submit(new GenerationRequest(name, forced, 1,
                        SamplingParams.GREEDY, Set.of(), 0, true, null), ids -> { })
                        .result().toCompletableFuture().get(300, TimeUnit.SECONDS);
                RoutingRecord a = speculative.routing();
                RoutingRecord b = plain.routing();
                assertEquals(forced.length, a.experts().length);
                assertEquals(forced.length, b.experts().length);
                for (int pos = 0; pos < forced.length; pos++) {
                    for (int layer = 0; layer < a.experts()[pos].length; layer++) {
                        assertArrayEquals(b.experts()[pos][layer], a.experts()[pos][layer], g.fixture()
                                + ": experts differ at position " + pos + ", layer " + layer);
                    }
                }
            } finally {
                registry.unload(name);
            }
        }
    }

    /**
     * Submits every prompt at once, so steps batch several sequences, and collects the tokens in order; sampled
     * prompts are seeded by their index (top-p 0.95, so the draws also cross the top-p cut).
     */
    private List<int[]> runAll(String model, List<int[]> prompts, int drafts, float temperature) throws Exception {
        List<Generation> running = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            SamplingParams sampling = temperature == 0 ? SamplingParams.GREEDY
                    : new SamplingParams(temperature, 0, 0.95f, 100 + i);
            running.add(generator.submit(new GenerationRequest(model, prompts.get(i), TOKENS, sampling, Set.of(),
                    drafts, false, null), ids -> { }));
        }
        List<int[]> tokens = new ArrayList<>();
        for (Generation g : running) {
            tokens.add(g.result().toCompletableFuture().get(300, TimeUnit.SECONDS).tokens());
        }
        return tokens;
    }
}
