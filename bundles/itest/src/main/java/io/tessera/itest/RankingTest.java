package io.tessera.itest;

import static io.tessera.itest.Await.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.model.Attention;
import io.tessera.api.model.AttentionFactory;
import io.tessera.api.model.ExpertRouter;
import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * Two providers of one kind: the higher {@code service.ranking} serves, and removing it falls back to the other
 * while a generation is in flight, with the same tokens; a failed assembly is tried again when the components
 * change. (Backends: {@code HotSwapTest}.)
 */
public class RankingTest {
    private static final int[] PROMPT = {5, 17, 42, 99, 7, 3};
    private static final String MODEL = "ranked";

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    @Test
    void aHigherRankedAttentionFactoryServesAndItsRemovalFallsBackInFlight() throws Exception {
        registry.load(checkpoint(), MODEL, "cpu", null);
        try {
            int[] expected = tokens(generate());
            AttentionFactory original = best(AttentionFactory.class, "(" + AttentionFactory.KIND + "=global)");
            AtomicInteger forwards = new AtomicInteger();
            ServiceRegistration<AttentionFactory> higher = context.registerService(AttentionFactory.class,
                    new CountingAttention(original, forwards), properties(AttentionFactory.KIND, "global", 100));
            try {
                awaitTrue(() -> serves(forwards));   // it assembles on the engine's assembly thread
                assertArrayEquals(expected, tokens(generate()), "the higher-ranked factory changed the tokens");
                CountDownLatch started = new CountDownLatch(4);
                Generation inFlight = generator.submit(request(), ids -> started.countDown());
                assertTrue(started.await(60, TimeUnit.SECONDS), "generation did not start");
                higher.unregister();
                higher = null;
                assertArrayEquals(expected, tokens(inFlight), "tokens changed across the fallback");
            } finally {
                if (higher != null) {
                    higher.unregister();
                }
            }
            awaitTrue(() -> registry.info(MODEL).orElseThrow().state() == ModelInfo.State.READY);
            int removed = forwards.get();
            assertArrayEquals(expected, tokens(generate()), "after the fallback");
            assertEquals(removed, forwards.get(), "the removed attention factory still serves");
        } finally {
            registry.unload(MODEL);
        }
    }

    @Test
    void aHigherRankedRouterServesAndItsRemovalFallsBackInFlight() throws Exception {
        registry.load(checkpoint(), MODEL, "cpu", null);
        List<ServiceRegistration<ExpertRouter>> higher = new ArrayList<>();
        try {
            int[] expected = tokens(generate());
            AtomicInteger routed = new AtomicInteger();
            for (ServiceReference<ExpertRouter> reference : context.getServiceReferences(ExpertRouter.class, null)) {
                ExpertRouter original = context.getService(reference);
                higher.add(context.registerService(ExpertRouter.class, (backend, config, logits, bias, n, replay,
                        ids, weights) -> {
                    routed.incrementAndGet();
                    original.route(backend, config, logits, bias, n, replay, ids, weights);
                }, properties(ExpertRouter.KIND, (String) reference.getProperty(ExpertRouter.KIND), 100)));
            }
            assertFalse(higher.isEmpty(), "no ExpertRouter registered");
            assertArrayEquals(expected, tokens(generate()), "the higher-ranked router changed the tokens");
            assertTrue(routed.get() > 0, "the higher-ranked router does not serve");
            CountDownLatch started = new CountDownLatch(4);
            Generation inFlight = generator.submit(request(), ids -> started.countDown());
            assertTrue(started.await(60, TimeUnit.SECONDS), "generation did not start");
            higher.forEach(ServiceRegistration::unregister);
            higher.clear();
            assertArrayEquals(expected, tokens(inFlight), "tokens changed across the fallback");
            int removed = routed.get();
            assertArrayEquals(expected, tokens(generate()), "after the fallback");
            assertEquals(removed, routed.get(), "the removed router still serves");
            assertEquals(ModelInfo.State.READY, registry.info(MODEL).orElseThrow().state());
        } finally {
            higher.forEach(ServiceRegistration::unregister);
            registry.unload(MODEL);
        }
    }

    /** A component that fails to assemble leaves the model waiting with the reason; its removal brings a retry. */
    @Test
    void aFailedAssemblyIsRetriedWhenTheComponentsChange() throws Exception {
        int[] expected;
        registry.load(checkpoint(), MODEL, "cpu", null);
        try {
            expected = tokens(generate());
        } finally {
            registry.unload(MODEL);
        }
        AttentionFactory failing = (backend, checkpoint, prefix, spec, maxRows) -> {
            throw new CheckpointException(checkpoint.directory(), "refused by the test at " + prefix);
        };
        ServiceRegistration<AttentionFactory> broken = context.registerService(AttentionFactory.class, failing,
                properties(AttentionFactory.KIND, "global", 100));
        try {
            ModelInfo info = registry.load(checkpoint(), MODEL, "cpu", null);
            assertEquals(ModelInfo.State.WAITING, info.state());
            assertTrue(info.waitingFor().toString().contains("refused by the test"), info.waitingFor().toString());
            broken.unregister();
            broken = null;
            awaitTrue(() -> registry.info(MODEL).orElseThrow().state() == ModelInfo.State.READY);
            assertArrayEquals(expected, tokens(generate()), "after the retry");
        } finally {
            if (broken != null) {
                broken.unregister();
            }
            registry.unload(MODEL);
        }
    }

    /** Whether a short generation runs through what {@code counter} counts. */
    private boolean serves(AtomicInteger counter) {
        try {
            generator.submit(new GenerationRequest(MODEL, PROMPT, 2, SamplingParams.GREEDY, Set.of(), 0, false,
                    null), ids -> { }).result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return counter.get() > 0;
    }

    private <T> T best(Class<T> type, String filter) throws Exception {
        ServiceReference<T> best = null;
        for (ServiceReference<T> reference : context.getServiceReferences(type, filter)) {
            best = best == null || reference.compareTo(best) > 0 ? reference : best;
        }
        assertTrue(best != null, "no " + type.getSimpleName() + " " + filter);
        return context.getService(best);
    }

    private static Hashtable<String, Object> properties(String kindProperty, String kind, int ranking) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(kindProperty, kind);
        properties.put(Constants.SERVICE_RANKING, ranking);
        return properties;
    }

    private Generation generate() {
        return generator.submit(request(), ids -> { });
    }

    private static GenerationRequest request() {
        return new GenerationRequest(MODEL, PROMPT, 120, SamplingParams.GREEDY, Set.of(), 0, false, null);
    }

    private static int[] tokens(Generation generation) throws Exception {
        GenerationResult result = generation.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        assertEquals(GenerationResult.Finish.LENGTH, result.finish());
        return result.tokens();
    }

    private Path checkpoint() throws IOException {
        return Goldens.withDraftHeads(Path.of(context.getProperty("tessera.repo"))).get(0).checkpoint();
    }

    /** Delegates to another factory and counts the forward calls of what it creates. */
    private record CountingAttention(AttentionFactory delegate, AtomicInteger forwards) implements AttentionFactory {
        @Override
        public Attention create(KernelBackend backend, Checkpoint checkpoint, String prefix, LayerSpec spec,
                                int maxRows) throws CheckpointException {
            Attention attention = delegate.create(backend, checkpoint, prefix, spec, maxRows);
            return new Attention() {
                @Override
                public int kvSlots(int contextLength, int rowsPerSequence) {
                    return attention.kvSlots(contextLength, rowsPerSequence);
                }

                @Override
                public int kvHeads() {
                    return attention.kvHeads();
                }

                @Override
                public int keyDim() {
                    return attention.keyDim();
                }

                @Override
                public int valueDim() {
                    return attention.valueDim();
                }

                @Override
                public void forward(Rows rows, Buffer normed, KvCache cache, Buffer out) {
                    forwards.incrementAndGet();
                    attention.forward(rows, normed, cache, out);
                }

                @Override
                public void close() {
                    attention.close();
                }
            };
        }
    }
}
