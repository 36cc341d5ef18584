package io.tessera.itest;

import java.util.Arrays;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.RoutingRecord;
import io.tessera.api.model.SamplingParams;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * Routing record and replay (R3): a generation returns the experts of every kept position and MoE layer; with
 * speculation only accepted tokens are recorded; replaying a record routes identically, and replaying an altered
 * record forces the altered experts.
 */
public class RoutingReplayTest {
    private static final int[] PROMPT = {12, 40, 7, 99, 3, 61, 18, 5};

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    @Test
    void recordsAndReplaysRouting() throws Exception {
        Path checkpoint = Goldens.withDraftHeads(Path.of(context.getProperty("tessera.repo"))).get(0).checkpoint();
        registry.load(checkpoint, "r3", "cpu", null);
        try {
            GenerationResult plain = run(0, null);
            RoutingRecord record = plain.routing();
            assertNotNull(record, "no routing record returned");
            assertEquals(PROMPT.length + plain.tokens().length - 1, record.experts().length,
                    "every position the model ran and kept: the prompt and all but the last generated token");
            GenerationResult speculative = run(3, null);
            assertArrayEquals(plain.tokens(), speculative.tokens());
            assertDeepEquals(record, speculative.routing(), "speculation records accepted tokens only");

            GenerationResult replayed = run(0, record);
            assertArrayEquals(plain.tokens(), replayed.tokens(), "replay changed the tokens");
            assertDeepEquals(record, replayed.routing(), "replay routed differently");

            int[][][] forced = record.experts().clone();
            for (int p = 0; p < PROMPT.length; p++) {   // every MoE layer of the prompt uses experts 0..k-1
                forced[p] = forced[p].clone();
                for (int l = 0; l < forced[p].length; l++) {
                    if (forced[p][l].length > 0) {
                        forced[p][l] = new int[forced[p][l].length];
                        for (int j = 0; j < forced[p][l].length; j++) {
                            forced[p][l][j] = j;
                        }
                    }
                }
            }
            RoutingRecord altered = new RoutingRecord(0, Arrays.copyOf(forced, PROMPT.length));
            GenerationResult alteredRun = run(0, altered);
            for (int p = 0; p < PROMPT.length; p++) {
                for (int l = 0; l < forced[p].length; l++) {
                    assertArrayEquals(forced[p][l], alteredRun.routing().experts()[p][l],
                            "position " + p + ", layer " + l + " did not take the replayed experts");
                }
            }
        } finally {
            registry.unload("r3");
        }
    }

    private GenerationResult run(int drafts, RoutingRecord replay) throws Exception {
        return generator.submit(new GenerationRequest("r3", PROMPT, 24, SamplingParams.GREEDY, Set.of(), drafts, true,
                replay), ids -> { }).result().toCompletableFuture().get(120, TimeUnit.SECONDS);
    }

    private static void assertDeepEquals(RoutingRecord expected, RoutingRecord actual, String message) {
        assertEquals(expected.experts().length, actual.experts().length, message);
        for (int p = 0; p < expected.experts().length; p++) {
            for (int l = 0; l < expected.experts()[p].length; l++) {
                assertArrayEquals(expected.experts()[p][l], actual.experts()[p][l], message + " at position " + p
                        + ", layer " + l);
            }
        }
    }
}
