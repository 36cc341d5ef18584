package io.tessera.itest;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * A step that throws fails only its own requests and the scheduler keeps serving; an {@link Error} of the JVM marks
 * the model failed (with its reason) and refuses new requests instead of hanging them; a cancelled request that
 * still waits for a KV slot leaves the queue at once; model info answers while a step runs. The faults come from a
 * gated backend (serving through the reference one) whose gate throws at a chosen step.
 */
public class FaultIsolationTest {
    private static final String MODEL = "faults";

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    @InjectService(filter = "(backend=reference)")
    KernelBackend reference;

    /** What the gate does at the step it is armed for: throw, or block. */
    private final AtomicReference<Predicate<int[]>> armed = new AtomicReference<>();

    @Test
    void aFailingStepFailsOnlyItsRequestsAndTheNodeServesOn() throws Exception {
        withModel(() -> {
            armed.set(p -> {
                throw new IllegalStateException("injected step failure");
            });
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> result(generator.submit(request(8), ids -> { })));
            assertTrue(failed.getCause().getMessage().contains("injected step failure"), failed.getCause().toString());
            assertEquals(ModelInfo.State.READY, registry.info(MODEL).orElseThrow().state());
            assertEquals(8, result(generator.submit(request(8), ids -> { })).tokens().length,
                    "the next request after a failed step");
        });
    }

    @Test
    void anUnrecoverableErrorMarksTheModelFailedAndRefusesRequests() throws Exception {
        withModel(() -> {
            Hold step = new Hold(p -> {
                throw new InternalError("injected: a truncated mapping");
            });
            List<Generation> all = new ArrayList<>();
            for (int i = 0; i < 6; i++) {   // 4 KV slots: 4 run into the failing step, 2 wait in the queue
                all.add(generator.submit(request(8), ids -> { }));
            }
            step.entered();
            step.release();
            for (Generation g : all) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> result(g));
                assertTrue(e.getCause().getMessage().contains("truncated mapping"), e.getCause().toString());
            }
            ModelInfo info = registry.info(MODEL).orElseThrow();
            assertEquals(ModelInfo.State.FAILED, info.state());
            assertTrue(info.waitingFor().getFirst().contains("truncated mapping"), info.waitingFor().toString());
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> generator.submit(request(8), ids -> { }));
            assertTrue(refused.getMessage().contains("failed"), refused.getMessage());
        });
    }

    @Test
    void aCancelledQueuedRequestLeavesTheQueueAtOnceAndInfoNeverWaitsForAStep() throws Exception {
        withModel(() -> {
            Hold step = new Hold(p -> true);
            List<Generation> running = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                running.add(generator.submit(request(8), ids -> { }));
            }
            Generation queued = generator.submit(request(8), ids -> { });
            step.entered();
            // the step is held: info and a queued cancel must not wait for it
            CompletableFuture<ModelInfo> info = CompletableFuture.supplyAsync(() -> registry.info(MODEL).orElseThrow());
            assertEquals(ModelInfo.State.READY, info.get(30, TimeUnit.SECONDS).state());
            queued.cancel();
            assertEquals(GenerationResult.Finish.CANCELLED, queued.result().toCompletableFuture()
                    .get(30, TimeUnit.SECONDS).finish());
            assertTrue(running.stream().noneMatch(g -> g.result().toCompletableFuture().isDone()),
                    "the running requests were still held in their step");
            step.release();
            for (Generation g : running) {
                assertEquals(8, result(g).tokens().length);
            }
        });
    }

    /** Arms the gate to hold the next step until released, then to go on as {@code then} says (or throws). */
    private final class Hold {
        private final CountDownLatch inStep = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        Hold(Predicate<int[]> then) {
            armed.set(p -> {
                inStep.countDown();
                GatedBackend.await(released);
                return then.test(p);
            });
        }

        void entered() {
            GatedBackend.await(inStep);
        }

        void release() {
            released.countDown();
        }
    }

    private interface Body {
        void run() throws Exception;
    }

    /** Loads the fixture on a backend whose gate runs the armed action once, at the next step after arming. */
    private void withModel(Body body) throws Exception {
        GatedBackend faulty = new GatedBackend("faulty", reference, positions -> {
            Predicate<int[]> action = armed.getAndSet(null);
            return action == null || action.test(positions);
        }, null);
        ServiceRegistration<KernelBackend> registration = faulty.register(context, -10);
        try {
            registry.load(checkpoint(), MODEL, "faulty", null);
            armed.set(null);
            body.run();
        } finally {
            armed.set(null);
            registry.unload(MODEL);
            registration.unregister();
        }
    }

    private Path checkpoint() throws Exception {
        return Goldens.all(Path.of(context.getProperty("tessera.repo"))).get(0).checkpoint();
    }

    private static GenerationRequest request(int maxTokens) {
        return new GenerationRequest(MODEL, new int[] {1, 2, 3, 4}, maxTokens, SamplingParams.GREEDY, Set.of(), 0,
                false, null);
    }

    private static GenerationResult result(Generation g) throws Exception {
        return g.result().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
