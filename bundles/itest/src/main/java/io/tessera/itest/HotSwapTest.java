package io.tessera.itest;

import static io.tessera.itest.Await.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * Hot swap between the cpu and reference backends (separate heap allocations, slot-major vs head-major KV) while a
 * greedy generation runs: it must end with exactly the tokens of an unswapped run. The swap is placed at an exact
 * step by a gated backend (serving through the real one) that holds that step until the swap is prepared, so the
 * commit comes at that step's end: mid-prefill (between two chunks), mid-verify (drafts proposed on the old backend
 * are verified on the new one, with the hN ring moved) and after the sliding ring wrapped. Both backends overwrite
 * closed buffers and caches with NaN, so anything still read from the old backend after the swap shows.
 */
public class HotSwapTest {
    private static final int MAX_ROWS = 64;       // the engine's default prefill chunk
    private static final int RING = 15 + MAX_ROWS; // tiny-a: window 16

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    @InjectService(filter = "(backend=cpu)")
    KernelBackend cpu;

    @InjectService(filter = "(backend=reference)")
    KernelBackend reference;

    @Test
    void swapMidPrefillChunk() throws Exception {
        // positions 0..63 run on the old backend, the second chunk 64..99 on the new one
        Predicate<int[]> firstChunk = p -> p.length == MAX_ROWS && p[0] == 0;
        for (boolean fromCpu : new boolean[] {true, false}) {
            Swap swap = swapDuring(fromCpu, 100, 24, 0, SamplingParams.GREEDY, firstChunk);
            assertEquals(MAX_ROWS - 1, swap.last(), "the old backend ran past the first chunk");
        }
    }

    /**
     * Greedy, and seeded sampling: the swap must leave the tokens and the accepted drafts as they are, which needs
     * the drafts, the MTP KV and the hN ring to have moved exactly.
     */
    @Test
    void swapMidVerify() throws Exception {
        Predicate<int[]> decoding = p -> p[0] >= 30;
        for (SamplingParams sampling : new SamplingParams[] {SamplingParams.GREEDY, new SamplingParams(0.8f, 0, 0.95f,
                11)}) {
            for (boolean fromCpu : new boolean[] {true, false}) {
                swapDuring(fromCpu, 20, 40, 3, sampling, decoding).assertAtTheGatedStep(3);
            }
        }
    }

    @Test
    void swapAfterTheSlidingRingWrapped() throws Exception {
        Predicate<int[]> wrapped = p -> p[0] >= RING + 20;
        for (boolean fromCpu : new boolean[] {true, false}) {
            swapDuring(fromCpu, 30, RING + 40, 3, SamplingParams.GREEDY, wrapped).assertAtTheGatedStep(3);
        }
    }

    /**
     * Generates on a gated backend serving through cpu (or reference) and swaps to the other one at the first
     * step {@code at} accepts. Checks the tokens (and the drafts' acceptance) against unswapped runs on both
     * backends; returns where the swap happened.
     */
    /**
     * Where a swap happened: the first position of the call the gate held, and the last position the old backend
     * ran. The old backend finishes the held step (its rows end at most {@code drafts} positions further), and
     * runs nothing after it.
     */
    record Swap(int gatedStart, int last) {
        void assertAtTheGatedStep(int drafts) {
            assertTrue(last >= gatedStart && last <= gatedStart + drafts, "swap not at the gated step: the gate held"
                    + " position " + gatedStart + ", the old backend ran up to " + last);
        }
    }

    private Swap swapDuring(boolean fromCpu, int promptLength, int maxTokens, int drafts, SamplingParams sampling,
                           Predicate<int[]> at) throws Exception {
        KernelBackend from = fromCpu ? cpu : reference;
        String to = fromCpu ? "reference" : "cpu";
        int[] prompt = prompt(promptLength);
        GenerationRequest request = new GenerationRequest("swap", prompt, maxTokens, sampling, Set.of(), drafts,
                false, null);
        GenerationResult onCpu = generate("cpu", request);
        GenerationResult onReference = generate("reference", request);
        assertArrayEquals(onCpu.tokens(), onReference.tokens(), "cpu and reference disagree without a swap");

        AtomicBoolean triggered = new AtomicBoolean();
        AtomicInteger gatedStart = new AtomicInteger(-1);
        CompletableFuture<ModelInfo> swap = new CompletableFuture<>();
        GatedBackend gate = new GatedBackend("gated", from, positions -> {
            if (at.test(positions) && triggered.compareAndSet(false, true)) {
                gatedStart.set(positions[0]);
                CountDownLatch prepared = new CountDownLatch(1);
                Thread.ofPlatform().start(() -> {
                    try {
                        swap.complete(registry.useBackend("swap", to, line -> {
                            if (line.startsWith("prepared")) {
                                prepared.countDown();
                            }
                        }));
                    } catch (RuntimeException e) {
                        swap.completeExceptionally(e);
                    } finally {
                        prepared.countDown();
                    }
                });
                GatedBackend.await(prepared);   // this step ends, then the swap commits
            }
            return true;
        }, null);
        ServiceRegistration<KernelBackend> registration = register(gate, -100);
        try {
            registry.load(checkpoint(), "swap", "gated", null);
            GenerationResult swapped = generator.submit(request, ids -> { }).result().toCompletableFuture()
                    .get(120, TimeUnit.SECONDS);
            assertEquals(to, swap.get(60, TimeUnit.SECONDS).backend());
            assertTrue(triggered.get(), "the gate never opened");
            String what = (fromCpu ? "cpu" : "reference") + " -> " + to + ", prompt " + promptLength + ", drafts "
                    + drafts + ", temperature " + sampling.temperature();
            assertEquals(GenerationResult.Finish.LENGTH, swapped.finish(), what);
            assertArrayEquals(onCpu.tokens(), swapped.tokens(), what + ": tokens changed across the swap");
            if (drafts > 0 && Arrays.equals(onCpu.stats().acceptedPerHead(), onReference.stats().acceptedPerHead())) {
                assertArrayEquals(onCpu.stats().acceptedPerHead(), swapped.stats().acceptedPerHead(), what
                        + ": drafts accepted differently across the swap (the hN ring or MTP KV did not move)");
            }
            System.out.println("hot swap " + what + ": " + registry.notices().stream()
                    .filter(n -> n.startsWith("model swap: last swap")).findFirst().orElse("?")
                    + "; drafts accepted " + Arrays.toString(swapped.stats().acceptedPerHead()) + " of "
                    + Arrays.toString(swapped.stats().proposedPerHead()));
            return new Swap(gatedStart.get(), gate.maxPosition());
        } finally {
            registry.unload("swap");
            registration.unregister();
        }
    }

    /**
     * A swap that does not fit is refused with its reason and the model keeps serving; a backend that fails to
     * assemble the model, even the highest-ranked one, never keeps it from the next.
     */
    @Test
    void aSwapThatDoesNotFitIsRefusedAndAFailingBackendNeverBlocksFallback() throws Exception {
        int[] prompt = prompt(12);
        int[] expected = generate("cpu", prompt, 60, 0).tokens();
        ServiceRegistration<KernelBackend> full = register(new GatedBackend("full", cpu, p -> true,
                "no room for the KV pool: 1.5 GiB asked, 0.2 GiB free"), 1000);
        try {
            ModelInfo info = registry.load(checkpoint(), "refuse", null, null);
            assertEquals(ModelInfo.State.READY, info.state());
            assertEquals("cpu", info.backend(), "the failing higher-ranked backend blocked the fallback");
            assertTrue(registry.notices().stream().anyMatch(n -> n.contains("refuse") && n.contains("no room")),
                    registry.notices().toString());
            CountDownLatch started = new CountDownLatch(2);
            Generation inFlight = generator.submit(request("refuse", prompt, 60, 0), ids -> started.countDown());
            GatedBackend.await(started);
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> registry.useBackend("refuse", "full", null));
            assertTrue(refused.getMessage().contains("no room for the KV pool"), refused.getMessage());
            assertEquals("cpu", registry.info("refuse").orElseThrow().backend());
            assertArrayEquals(expected, inFlight.result().toCompletableFuture().get(60, TimeUnit.SECONDS).tokens());
            assertThrows(IllegalArgumentException.class, () -> registry.useBackend("refuse", "nosuch", null));
        } finally {
            registry.unload("refuse");
            full.unregister();
        }
    }

    /**
     * Stopping the backend bundle in use moves in-flight generations to the next backend (it still serves while it
     * unregisters); starting it again moves them back, as a higher-ranked backend arriving does.
     */
    @Test
    void stoppingAndStartingTheBackendBundleMovesTheModelAndBack() throws Exception {
        int[] prompt = prompt(40);
        int[] expected = generate("cpu", prompt, 160, 3).tokens();
        Bundle kernels = Arrays.stream(context.getBundles())
                .filter(b -> "io.tessera.kernels-cpu".equals(b.getSymbolicName())).findFirst().orElseThrow();
        registry.load(checkpoint(), "bundle-swap", null, null);
        try {
            CountDownLatch started = new CountDownLatch(8);
            Generation inFlight = generator.submit(request("bundle-swap", prompt, 160, 3),
                    ids -> started.countDown());
            GatedBackend.await(started);
            kernels.stop();
            assertEquals("reference", registry.info("bundle-swap").orElseThrow().backend());
            kernels.start();   // a backend arriving: the model moves back on the engine's assembly thread
            awaitTrue(() -> "cpu".equals(registry.info("bundle-swap").orElseThrow().backend()));
            GenerationResult result = inFlight.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
            assertArrayEquals(expected, result.tokens(), "tokens changed across the backend bundle's stop and start");
            System.out.println("backend bundle stop/start: " + registry.notices().stream()
                    .filter(n -> n.startsWith("model bundle-swap")).toList());
        } finally {
            if (kernels.getState() != Bundle.ACTIVE) {
                kernels.start();
            }
            registry.unload("bundle-swap");
        }
    }

    private GenerationResult generate(String backend, int[] prompt, int maxTokens, int drafts) throws Exception {
        return generate(backend, request("", prompt, maxTokens, drafts));
    }

    /** Runs {@code request} on a model of its own on {@code backend}, without a swap. */
    private GenerationResult generate(String backend, GenerationRequest request) throws Exception {
        String name = "plain-" + backend;
        registry.load(checkpoint(), name, backend, null);
        try {
            GenerationRequest on = new GenerationRequest(name, request.prompt(), request.maxTokens(),
                    request.sampling(), request.stopTokens(), request.draftTokens(), false, null);
            return generator.submit(on, ids -> { }).result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } finally {
            registry.unload(name);
        }
    }

    private ServiceRegistration<KernelBackend> register(KernelBackend backend, int ranking) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(KernelBackend.BACKEND, backend.name());
        properties.put(Constants.SERVICE_RANKING, ranking);
        return context.registerService(KernelBackend.class, backend, properties);
    }

    private Path checkpoint() throws Exception {
        return Goldens.withDraftHeads(Path.of(context.getProperty("tessera.repo"))).get(0).checkpoint();
    }

    private static int[] prompt(int length) {
        Random random = new Random(length);
        return random.ints(length, 0, 300).toArray();
    }

    private static GenerationRequest request(String model, int[] prompt, int maxTokens, int drafts) {
        return new GenerationRequest(model, prompt, maxTokens, SamplingParams.GREEDY, Set.of(), drafts, false, null);
    }
}
