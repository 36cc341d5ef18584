package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.model.Generator;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * The assembled bundles against Hugging Face transformers: logits at every position (short prompts and prompts
 * several windows long), MTP logits per block, and 32-token greedy continuations with and without speculation,
 * for every committed fixture and on both the CPU and the reference backend. Tolerance: max |ours − golden| ≤
 * 1e-3 × max |golden| per array.
 */
public class GoldenTest {
    private static final double TOLERANCE = 1e-3;
    private static final String[] BACKENDS = {"cpu", "reference"};

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    private Path repo() {
        return Path.of(context.getProperty("tessera.repo"));
    }

    @TestFactory
    List<DynamicTest> matchesTransformers() throws Exception {
        List<Goldens> fixtures = Goldens.all(repo());
        assertFalse(fixtures.isEmpty(), "no goldens under tools/reference/goldens");
        List<DynamicTest> tests = new ArrayList<>();
        for (Goldens g : fixtures) {
            for (String backend : BACKENDS) {
                tests.add(DynamicTest.dynamicTest(g.fixture() + " on " + backend, () -> check(g, backend)));
            }
        }
        return tests;
    }

    private void check(Goldens g, String backend) throws Exception {
        String name = g.fixture() + "-" + backend;
        ModelInfo info = registry.load(g.checkpoint(), name, backend, null);
        try {
            assertEquals(ModelInfo.State.READY, info.state(), "waiting for " + info.waitingFor());
            for (JsonNode array : g.json().get("arrays")) {
                String file = array.get("file").asText();
                if (!file.contains("logits")) {
                    continue;
                }
                int head = array.has("mtp_block") ? array.get("mtp_block").asInt() : -1;
                float[][] golden = g.array(file);
                float[][] ours = new float[golden.length][];
                generator.evaluate(name, g.prompt(array.get("prompt").asText()), head,
                        (position, logits) -> ours[position] = logits.clone()).toCompletableFuture()
                        .get(120, TimeUnit.SECONDS);
                assertClose(g.fixture() + "/" + file + " on " + backend, golden, ours);
            }
            for (JsonNode greedy : g.json().get("greedy")) {
                int[] prompt = g.prompt(greedy.get("prompt").asText());
                int[] expected = Goldens.ints(greedy.get("continuation"));
                for (int drafts : new int[] {0, 1, 3}) {
                    GenerationResult result = generator.submit(new GenerationRequest(name, prompt, expected.length,
                            SamplingParams.GREEDY, Set.of(), drafts, false, null), ids -> { })
                            .result().toCompletableFuture().get(120, TimeUnit.SECONDS);
                    assertArrayEquals(expected, result.tokens(), g.fixture() + " " + greedy.get("prompt").asText()
                            + " greedy on " + backend + " with " + drafts + " drafts");
                }
            }
        } finally {
            registry.unload(name);
        }
    }

    private static void assertClose(String what, float[][] golden, float[][] ours) {
        double maxGolden = 0;
        double maxDiff = 0;
        for (int i = 0; i < golden.length; i++) {
            assertTrue(ours[i] != null && ours[i].length == golden[i].length, what + ": no logits at position " + i);
            for (int v = 0; v < golden[i].length; v++) {
                maxGolden = Math.max(maxGolden, Math.abs(golden[i][v]));
                maxDiff = Math.max(maxDiff, Math.abs(golden[i][v] - ours[i][v]));
            }
        }
        assertTrue(maxDiff <= TOLERANCE * maxGolden, what + ": max |diff| " + maxDiff + " > " + TOLERANCE + " × "
                + maxGolden);
    }

    /** The operator path: model:load and generate in a Gogo session print the golden continuation. */
    @Test
    void generatesThroughTheShell(@InjectService CommandProcessor processor) throws Exception {
        Goldens g = Goldens.withDraftHeads(repo()).get(0);
        JsonNode greedy = g.json().get("greedy").get(0);
        StringBuilder ids = new StringBuilder();
        for (int id : g.prompt(greedy.get("prompt").asText())) {
            ids.append(ids.isEmpty() ? "" : ",").append(id);
        }
        int[] expected = Goldens.ints(greedy.get("continuation"));
        StringBuilder want = new StringBuilder("ids: ");
        for (int i = 0; i < expected.length; i++) {
            want.append(i == 0 ? "" : ",").append(expected[i]);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
             CommandSession session = processor.createSession(InputStream.nullInputStream(), out, out)) {
            session.execute("model:load --name shell-test " + g.checkpoint());
            session.execute("generate --model shell-test --max-tokens " + expected.length + " --print-ids --ids "
                    + ids);
            session.execute("model:unload shell-test");
        }
        String output = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(output.contains(want), "expected '" + want + "' in:\n" + output);
        assertTrue(output.contains("tok/s"), output);
    }
}
