package io.tessera.itest;

import static io.tessera.itest.Await.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * Stopping a component bundle under load leaves the node consistent: a model whose component left turns WAITING,
 * naming the missing service; generations in flight, and new ones submitted meanwhile, wait (bounded) and end with
 * the tokens they would have produced once it returns (the KV cache is the engine's and survives, or is
 * recomputed); an optional component (MTP) or one only used at load (tokenizer, checkpoint: the model keeps its
 * reference-counted mappings) changes nothing for requests. A hundred stop/start cycles of every component bundle
 * and of the CPU backend leak no threads, heap, direct memory or checkpoint mappings.
 */
public class ComponentDynamicsTest {
    private static final int[] PROMPT = {5, 17, 42, 99, 7, 3};
    private static final List<String> COMPONENTS = List.of("io.tessera.attention-global",
            "io.tessera.attention-sliding", "io.tessera.moe", "io.tessera.mtp", "io.tessera.tokenizer",
            "io.tessera.checkpoint");

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    @InjectService
    ConfigurationAdmin configurations;

    @Test
    void eachComponentBundleStopsAndStartsUnderLoad() throws Exception {
        registry.load(checkpoint(), "dynamics", "cpu", null);
        try {
            int[] expected = generate(PROMPT);
            for (String component : COMPONENTS) {
                Bundle bundle = bundle(component);
                try {
                    CountDownLatch started = new CountDownLatch(4);
                    Generation inFlight = generator.submit(request(PROMPT), ids -> started.countDown());
                    assertTrue(started.await(60, TimeUnit.SECONDS), "generation did not start");
                    bundle.stop();
                    ModelInfo info = registry.info("dynamics").orElseThrow();
                    String missing = switch (component) {
                        case "io.tessera.attention-global" -> "(attention.kind=global)";
                        case "io.tessera.attention-sliding" -> "(attention.kind=sliding-window)";
                        case "io.tessera.moe" -> "(objectClass=io.tessera.api.model.FeedForwardFactory)";
                        default -> null;   // optional, or only used when a model loads
                    };
                    Generation submittedMeanwhile = generator.submit(request(PROMPT), ids -> { });
                    if (missing != null) {
                        assertEquals(ModelInfo.State.WAITING, info.state(), component);
                        assertTrue(info.waitingFor().contains(missing), component + ": " + info.waitingFor());
                    } else {   // the MTP heads leaving: the model reassembles without them on the assembly thread
                        assertTrue(info.waitingFor().stream().noneMatch(w -> w.startsWith("(")),
                                component + ": " + info.waitingFor());
                        awaitTrue(() -> registry.info("dynamics").orElseThrow().state() == ModelInfo.State.READY);
                    }
                    if (component.equals("io.tessera.checkpoint")) {
                        IllegalStateException e = assertThrows(IllegalStateException.class,
                                () -> registry.load(checkpoint(), "no-loader", null, null));
                        assertTrue(e.getMessage().contains("io.tessera.checkpoint"), e.getMessage());
                    }
                    bundle.start();
                    awaitTrue(() -> registry.info("dynamics").orElseThrow().state() == ModelInfo.State.READY);
                    assertArrayEquals(expected, tokens(inFlight), component + ": tokens changed across its stop "
                            + "and start");
                    assertArrayEquals(expected, tokens(submittedMeanwhile), component + ": a request submitted "
                            + "while it was stopped");
                } finally {
                    if (bundle.getState() != Bundle.ACTIVE) {
                        bundle.start();
                    }
                }
            }
        } finally {
            registry.unload("dynamics");
        }
    }

    /** While a component stays away longer than {@code waitSeconds}, waiting requests fail instead of hanging. */
    @Test
    void requestsWaitBoundedForAMissingComponent() throws Exception {
        Configuration engine = configurations.getConfiguration("io.tessera.engine", "?");
        Bundle moe = bundle("io.tessera.moe");
        registry.load(checkpoint(), "bounded", "cpu", null);
        try {
            engine.update(new Hashtable<>(Map.of("waitSeconds", "1")));
            Thread.sleep(200);   // Configuration Admin delivers asynchronously
            moe.stop();
            long start = System.nanoTime();
            var result = generator.submit(new GenerationRequest("bounded", PROMPT, 8, SamplingParams.GREEDY, Set.of(),
                    0, false, null), ids -> { }).result().toCompletableFuture();
            java.util.concurrent.ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> result.get(30, TimeUnit.SECONDS));
            double waited = (System.nanoTime() - start) / 1e9;
            assertTrue(failed.getCause().getMessage().contains("waiting"), failed.getCause().toString());
            assertTrue(waited >= 0.9 && waited < 10, "waited " + waited + " s");
            moe.start();
            awaitTrue(() -> registry.info("bounded").orElseThrow().state() == ModelInfo.State.READY);
            assertEquals(8, generate("bounded", PROMPT, 8).length);
        } finally {
            if (moe.getState() != Bundle.ACTIVE) {
                moe.start();
            }
            engine.delete();
            registry.unload("bounded");
        }
    }

    /**
     * 100 cycles, each stopping and starting every component bundle and the CPU backend (the model moves to the
     * reference backend and back), with a reload and a generation every tenth; then threads, heap after GC, direct
     * and mapped buffer pools and the checkpoint's memory mappings must be back where they were after warm-up.
     */
    @Test
    void hundredStopStartCyclesLeakNothing() throws Exception {
        List<Bundle> bundles = new ArrayList<>(COMPONENTS.stream().map(this::bundle).toList());
        bundles.add(bundle("io.tessera.kernels-cpu"));
        registry.load(checkpoint(), "cycles", null, null);
        try {
            int[] expected = generate("cycles", PROMPT);
            for (int c = 0; c < 5; c++) {
                cycle(bundles, c, expected);
            }
            Figures before = Figures.now(checkpoint());
            long start = System.nanoTime();
            for (int c = 0; c < 100; c++) {
                cycle(bundles, c, expected);
            }
            double perCycle = (System.nanoTime() - start) / 1e6 / 100;
            Figures after = Figures.now(checkpoint());
            System.out.printf("100 stop/start cycles of %d bundles (%.1f ms per cycle): threads %d -> %d, heap after "
                            + "GC %.1f -> %.1f MiB, direct %d -> %d bytes (%d -> %d buffers), mapped %d -> %d bytes, "
                            + "checkpoint mappings %d -> %d%n", bundles.size(), perCycle, before.threads,
                    after.threads, before.heap / 1048576.0, after.heap / 1048576.0, before.direct, after.direct,
                    before.directCount, after.directCount, before.mapped, after.mapped, before.mappings,
                    after.mappings);
            assertTrue(after.threads <= before.threads + 2, "threads leaked: " + before.threads + " -> "
                    + after.threads);
            assertTrue(after.heap <= before.heap + (16L << 20), "heap grew: " + before.heap + " -> " + after.heap);
            assertTrue(after.direct <= before.direct + (1L << 20), "direct memory grew: " + before.direct + " -> "
                    + after.direct);
            assertTrue(after.mappings <= before.mappings, "checkpoint mappings leaked: " + before.mappings + " -> "
                    + after.mappings);
        } finally {
            for (Bundle b : bundles) {
                if (b.getState() != Bundle.ACTIVE) {
                    b.start();
                }
            }
            registry.unload("cycles");
        }
    }

    private void cycle(List<Bundle> bundles, int c, int[] expected) throws Exception {
        for (Bundle b : bundles) {
            b.stop();
            b.start();
        }
        if (c % 10 == 9) {
            registry.unload("cycles");
            registry.load(checkpoint(), "cycles", null, null);
            assertArrayEquals(expected, generate("cycles", PROMPT), "cycle " + c);
        }
    }

    /** Process figures a leak would move. */
    private record Figures(int threads, long heap, long direct, long directCount, long mapped, long mappings) {
        static Figures now(Path checkpoint) throws IOException, InterruptedException {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(50);
            }
            long direct = 0;
            long count = 0;
            long mapped = 0;
            for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (pool.getName().equals("direct")) {
                    direct = pool.getMemoryUsed();
                    count = pool.getCount();
                } else if (pool.getName().equals("mapped")) {
                    mapped = pool.getMemoryUsed();
                }
            }
            Path maps = Path.of("/proc/self/maps");   // Linux: the checkpoint's shards mapped into the process
            long mappings = Files.isReadable(maps) ? Files.readAllLines(maps).stream()
                    .filter(l -> l.contains(checkpoint.toAbsolutePath().normalize().toString())).count() : 0;
            return new Figures(ManagementFactory.getThreadMXBean().getThreadCount(),
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), direct, count, mapped,
                    mappings);
        }
    }

    private int[] generate(int[] prompt) throws Exception {
        return generate("dynamics", prompt);
    }

    private int[] generate(String model, int[] prompt) throws Exception {
        return generate(model, prompt, 200);
    }

    private int[] generate(String model, int[] prompt, int maxTokens) throws Exception {
        return tokens(generator.submit(new GenerationRequest(model, prompt, maxTokens, SamplingParams.GREEDY,
                Set.of(), 3, false, null), ids -> { }));
    }

    private static int[] tokens(Generation generation) throws Exception {
        GenerationResult result = generation.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        assertEquals(GenerationResult.Finish.LENGTH, result.finish());
        return result.tokens();
    }

    /** Drafts 3: the MTP heads take part, so stopping the mtp bundle changes the assembly under load. */
    private static GenerationRequest request(int[] prompt) {
        return new GenerationRequest("dynamics", prompt, 200, SamplingParams.GREEDY, Set.of(), 3, false, null);
    }

    private Path checkpoint() throws IOException {
        return Goldens.withDraftHeads(Path.of(context.getProperty("tessera.repo"))).get(0).checkpoint();
    }

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("no bundle " + symbolicName));
    }
}
