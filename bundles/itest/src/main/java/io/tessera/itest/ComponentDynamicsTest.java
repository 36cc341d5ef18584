package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * A component bundle that stops turns a loaded model to WAITING, naming the missing service; its return makes the
 * model usable again without a reload, and a generation in flight across the gap ends with the tokens it would
 * have produced anyway (the KV cache is the engine's and survives).
 */
public class ComponentDynamicsTest {
    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    @Test
    void missingAttentionIsNamedAndItsReturnResumesGeneration() throws Exception {
        Path checkpoint = Goldens.all(Path.of(context.getProperty("tessera.repo"))).get(0).checkpoint();
        registry.load(checkpoint, "dynamics", "cpu", null);
        Bundle sliding = bundle("io.tessera.attention-sliding");
        try {
            int[] prompt = {5, 17, 42, 99, 7, 3};
            int[] expected = generate(prompt);

            CountDownLatch started = new CountDownLatch(4);
            Generation inFlight = generator.submit(request(prompt), ids -> started.countDown());
            assertTrue(started.await(60, TimeUnit.SECONDS), "generation did not start");
            sliding.stop();
            ModelInfo waiting = registry.info("dynamics").orElseThrow();
            assertEquals(ModelInfo.State.WAITING, waiting.state());
            assertTrue(waiting.waitingFor().contains("(attention.kind=sliding-window)"), waiting.waitingFor()
                    .toString());
            sliding.start();
            awaitTrue(() -> registry.info("dynamics").orElseThrow().state() == ModelInfo.State.READY);
            GenerationResult resumed = inFlight.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
            assertArrayEquals(expected, resumed.tokens(), "tokens changed across the stop and start: "
                    + Arrays.toString(resumed.tokens()));
        } finally {
            if (sliding.getState() != Bundle.ACTIVE) {
                sliding.start();
            }
            registry.unload("dynamics");
        }
    }

    private int[] generate(int[] prompt) throws Exception {
        return generator.submit(request(prompt), ids -> { }).result().toCompletableFuture()
                .get(120, TimeUnit.SECONDS).tokens();
    }

    private static GenerationRequest request(int[] prompt) {
        return new GenerationRequest("dynamics", prompt, 200, SamplingParams.GREEDY, Set.of(), 0, false, null);
    }

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("no bundle " + symbolicName));
    }

    private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(20);
        }
    }
}
