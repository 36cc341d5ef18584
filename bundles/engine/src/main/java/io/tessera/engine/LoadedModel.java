package io.tessera.engine;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.ModelInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded model: its retained checkpoint, the assembly built from the current component services (or what it
 * waits for), the engine-owned KV pool and its scheduler. The scheduler's steps and reassembly exclude each other
 * through one lock.
 *
 * <p>Reassembly is prepare-then-commit (hot swap): the new assembly (and, on another backend, a new KV pool) is
 * built while the old one keeps serving; at the next step boundary the live KV moves in the backend-neutral form of
 * {@link io.tessera.api.kernel.KernelBackend#readKv} and the old assembly is freed only after the switch. An
 * assembly that fails (no memory, a backend that fails) is refused with its reason and the next backend tried.
 */
final class LoadedModel {
    private static final Logger LOG = LoggerFactory.getLogger(LoadedModel.class);

    private final String name;
    private final Checkpoint checkpoint;
    private final EngineConfig settings;
    private final int vocab;
    private final ReentrantLock lock = new ReentrantLock(true);   // fair: a waiting commit goes at the next step end
    private final Condition assembled = lock.newCondition();
    private final Object refreshing = new Object();               // one reassembly at a time
    private final Scheduler scheduler;
    private final List<String> perLayer;   // what info() lists for each layer
    private final long weightBytes;
    /**
     * Backends whose assembly of this model failed, with the components it was tried with and the reason; not
     * retried with the same components until asked ({@link #forget}) or re-registered.
     */
    private final Map<KernelBackend, Failure> failed = new ConcurrentHashMap<>();
    private volatile String preferredBackend;
    private volatile String lastSwap;
    // written under the lock; volatile so that info() (probes, /health) never waits for a step
    private volatile Components components;
    private volatile Assembly net;
    private volatile KvPool kv;
    private int kvEpoch;
    private int hiddenEpoch;
    private volatile List<String> waitingFor = List.of("assembly");
    private volatile String failure;   // why the model failed for good, or null
    private volatile long backendBytes;
    private final KvLayout layout;

    LoadedModel(String name, Checkpoint checkpoint, String preferredBackend, EngineConfig settings, int vocab) {
        this.name = name;
        this.vocab = vocab;
        this.checkpoint = checkpoint;
        this.preferredBackend = preferredBackend;
        this.settings = settings;
        ModelConfig config = checkpoint.config();
        this.layout = KvLayout.of(config, settings);
        this.scheduler = new Scheduler(this, layout, settings.sequences(), settings.maxRows(), settings.queueLimit(),
                settings.waitSeconds(), config.vocabSize(), settings.prefixCache());
        // fixed for the model's life: worked out once, not by every probe
        List<String> layers = new ArrayList<>();
        for (var spec : config.layers()) {
            layers.add(spec.index() + ": attention " + spec.attention().property() + " (" + spec.heads() + "/"
                    + spec.kvHeads() + " heads" + (spec.window() > 0 ? ", window " + spec.window() : "")
                    + (spec.sink() ? ", sink" : "") + (spec.qkNorm() ? ", q/k norm" : "")
                    + (spec.ropeScaling().type().equals("default") ? "" : ", rope " + spec.ropeScaling().type())
                    + "), " + (spec.moe() ? "moe " + config.expertsPerToken() + "/" + config.routedExperts()
                    : "dense mlp"));
        }
        perLayer = List.copyOf(layers);
        weightBytes = checkpoint.tensors().stream().mapToLong(t -> t.data().byteSize()
                + t.scaleInv().map(scale -> scale.data().byteSize()).orElse(0L)).sum();
    }

    String name() {
        return name;
    }

    ModelConfig config() {
        return checkpoint.config();
    }

    /** The backend this model was loaded with or moved to ({@code backend:use}); null: the engine's choice. */
    String preferredBackend() {
        return preferredBackend;
    }

    void prefer(String backend) {
        preferredBackend = backend;
    }

    /** Ids that may be sampled: {@code [0, vocab)}. */
    int vocab() {
        return vocab;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    /** The model's own context length or the configured one, capped by the KV budget's blocks. */
    int contextLength() {
        return layout.contextLength();
    }

    /** Empties the model's prefix cache at a step boundary; returns the blocks it held. */
    int clearPrefixCache() {
        lock.lock();
        try {
            int held = scheduler.blocks().cachedBlocks();
            scheduler.clearPrefixCache();
            return held;
        } finally {
            lock.unlock();
        }
    }

    /** The last hot swap, e.g. {@code "cpu -> reference: pause 2.41 ms, 412 KV positions moved"}, or null. */
    String lastSwap() {
        return lastSwap;
    }

    private record Failure(Components option, String reason) {
    }

    /** Why assembling this model failed on each backend that failed. */
    Map<KernelBackend, String> failures() {
        Map<KernelBackend, String> reasons = new LinkedHashMap<>();
        failed.forEach((backend, failure) -> reasons.put(backend, failure.reason()));
        return reasons;
    }

    /** Forgets a backend's failure (it re-registered, or an operator asks for it again). */
    void forget(KernelBackend backend) {
        failed.remove(backend);
    }

    /**
     * Brings the assembly in line with the services present. {@code options} hold the same components on each
     * registered backend, preferred first (one option with a null backend when there is none). Takes the first
     * option that assembles, skipping backends that failed before; keeps the current assembly when that option is
     * the one in use. Returns why a preferred option was refused, or null.
     */
    String refresh(List<Components> options, Consumer<String> progress) {
        synchronized (refreshing) {
            Components first = options.getFirst();
            List<String> missing = first.missing(config());
            if (!missing.isEmpty()) {
                tearDown(first, missing, options);
                return null;
            }
            String refused = null;
            for (Components option : options) {
                if (current(option)) {
                    return refused;
                }
                Failure failure = failed.get(option.backend());
                if (failure != null && failure.option().equals(option)) {
                    refused = refused == null ? failure.reason() : refused;
                    continue;
                }
                try {
                    Prepared next = prepare(option, progress);
                    progress.accept("prepared on backend " + option.backend().name()
                            + "; switching at the next step boundary");
                    commit(option, next, progress);
                    failed.remove(option.backend());
                    return refused;
                } catch (Exception | OutOfMemoryError e) {
                    String reason = option.backend().name() + ": " + (e.getMessage() != null ? e.getMessage() : e);
                    failed.put(option.backend(), new Failure(option, reason));
                    refused = refused == null ? reason : refused;
                    progress.accept("assembly on " + reason + ": refused");
                    LOG.warn("model {}: assembly on backend {} refused: {}", name, option.backend().name(),
                            e.toString());
                }
            }
            tearDown(first, List.of("assembly failed: " + refused), options);
            return refused;
        }
    }

    /** Whether {@code option} is the assembly in use; under {@code refreshing}, the only writer of both fields. */
    private boolean current(Components option) {
        return net != null && option.sameServices(config(), components);
    }

    /**
     * A component service left: when the assembly uses it, frees the assembly now, as its bundle is stopping (the
     * KV pool stays while its backend is registered, so in-flight generations resume on the next assembly, which
     * {@link #refresh} builds on the engine's assembly thread).
     */
    void letGo(List<Components> options) {
        synchronized (refreshing) {
            Components first = options.getFirst();
            if (net == null || options.stream().noneMatch(this::current)) {   // used it, or names what it waits for
                List<String> missing = first.missing(config());
                tearDown(first, missing.isEmpty() ? List.of("assembly with the next components") : missing, options);
            }
        }
    }

    /** A new assembly and, unless the current pool is on the same backend and fits it, a new KV pool. */
    private record Prepared(Assembly net, KvPool kv) {
    }

    /** Builds the assembly of {@code option} while the current one keeps serving. */
    private Prepared prepare(Components option, Consumer<String> progress) throws Exception {
        progress.accept("assembling on backend " + option.backend().name());
        Assembly next = new Assembly(option.architecture(config()).assemble(option.backend(), checkpoint, option,
                settings.maxRows(), settings.sequences(), progress));
        try {
            KvPool pool = kv;   // only refresh() and close() replace it, both under `refreshing`
            // an assembly without the MTP heads (their bundle stopped) keeps a pool with their caches for their return
            boolean reuse = pool != null && pool.backend() == option.backend()
                    && pool.layers() >= next.attentions().length;
            return new Prepared(next, reuse ? null : new KvPool(option.backend(), next.attentions(), layout,
                    scheduler.blocks(), settings.sequences()));
        } catch (RuntimeException | Error e) {
            next.close();
            throw e;
        }
    }

    /**
     * Switches to a prepared assembly at a step boundary: moves the live KV (and the draft heads' hN ring) to it,
     * then frees what the old assembly held, after the switch. Sequences whose state could not move recompute it
     * (the scheduler compares epochs).
     */
    private void commit(Components option, Prepared next, Consumer<String> progress) {
        Assembly oldNet;
        KvPool oldKv;
        String from;
        long pause;
        long moved = 0;
        lock.lock();
        try {
            long start = System.nanoTime();
            oldNet = net;
            oldKv = kv;
            from = components == null || components.backend() == null ? null : components.backend().name();
            if (next.kv() != null) {
                if (oldKv != null && oldKv.sameShape(next.kv())) {
                    moved = oldKv.copyTo(next.kv(), scheduler.extents());
                } else {
                    kvEpoch++;
                }
                // cached blocks no sequence holds are dropped: another backend would not reproduce their KV bit
                // for bit, so a prefix served from them could differ from a prefill there
                scheduler.clearPrefixCache();
                kv = next.kv();
            }
            if (oldNet != null) {
                oldNet.copyStateTo(next.net());
            } else {
                hiddenEpoch++;
            }
            net = next.net();
            components = option;
            waitingFor = List.of();
            pause = System.nanoTime() - start;
            assembled.signalAll();
        } finally {
            lock.unlock();
        }
        if (oldNet != null) {
            oldNet.close();
        }
        if (next.kv() != null && oldKv != null) {
            oldKv.close();
        }
        String to = option.backend().name();
        if (from != null && !from.equals(to)) {
            lastSwap = String.format("%s -> %s: pause %.2f ms, %d KV positions moved", from, to, pause / 1e6,
                    moved);
            LOG.info("model {} swapped {}", name, lastSwap);
            progress.accept("swapped " + lastSwap);
        }
    }

    /**
     * A component the assembly uses left: frees the assembly now (the component's bundle is stopping). The KV pool
     * stays while its backend is still registered.
     */
    private void tearDown(Components now, List<String> missing, List<Components> options) {
        KvPool lost = null;
        Assembly old;
        lock.lock();
        try {
            old = net;
            net = null;
            components = now;
            waitingFor = missing;
            Set<KernelBackend> registered = new HashSet<>();
            options.forEach(o -> registered.add(o.backend()));
            if (kv != null && !registered.contains(kv.backend())) {
                lost = kv;
                kv = null;
            }
        } finally {
            lock.unlock();
        }
        if (old != null) {
            old.close();
        }
        if (lost != null) {
            lost.close();
        }
    }

    /** Waits up to {@code millis} for an assembly and takes the lock; false (lock not held) if none came. */
    boolean awaitReady(long millis) throws InterruptedException {
        lock.lock();
        long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
        while (net == null) {
            if (nanos <= 0) {
                lock.unlock();
                return false;
            }
            nanos = assembled.awaitNanos(nanos);
        }
        return true;
    }

    void release() {
        lock.unlock();
    }

    /** The assembly; only while the lock is held. */
    Assembly net() {
        return net;
    }

    KvPool kv() {
        return kv;
    }

    /** Changes whenever the KV pool is replaced without its content: sequences cached under an older one recompute. */
    int kvEpoch() {
        return kvEpoch;
    }

    /** Changes whenever an assembly starts without the draft heads' hN ring: drafting sequences recompute. */
    int hiddenEpoch() {
        return hiddenEpoch;
    }

    /** What the model waits for (empty when ready). */
    List<String> waitingFor() {
        return waitingFor;
    }

    /**
     * Marks the model failed for good (a step hit an error it cannot recover from): it takes no more requests and
     * reports the reason until it is unloaded.
     */
    void fail(String reason) {
        failure = reason;
    }

    /** Why the model failed, or null. */
    String failure() {
        return failure;
    }

    /** What the model is now, from the fields each change publishes: never waits for a step. */
    ModelInfo info() {
        Assembly net = this.net;
        KvPool kv = this.kv;
        Components components = this.components;
        String failed = failure;
        Map<String, Long> memory = new LinkedHashMap<>();
        memory.put("weights", weightBytes);
        memory.put("kv", kv == null ? 0L : kv.bytes());
        KvBlocks blocks = scheduler.blocks();
        memory.put("kv-used", (long) (blocks.blocks() - blocks.available()) * layout.blockBytes());
        memory.put("kv-cache", (long) blocks.cachedBlocks() * layout.blockBytes());
        memory.put("kv-snap", blocks.snapshotBytes());
        if (components != null && components.backend() != null) {
            memory.put("backend", backendBytes(components.backend()));
        }
        String backend = components == null || components.backend() == null ? null
                : components.backend().name();
        ModelInfo.State state = failed != null ? ModelInfo.State.FAILED
                : net != null ? ModelInfo.State.READY : ModelInfo.State.WAITING;
        return new ModelInfo(name, checkpoint.directory(), state, backend, perLayer,
                failed != null ? List.of(failed) : waitingFor, memory);
    }

    /**
     * What the backend holds: asked live when no step runs (a backend may serialise its calls), else the figure
     * last seen, so a probe never waits for a step.
     */
    private long backendBytes(KernelBackend backend) {
        if (lock.tryLock()) {
            try {
                backendBytes = backend.info().bytesInUse();
            } finally {
                lock.unlock();
            }
        }
        return backendBytes;
    }

    /** Stops the scheduler, frees the assembly and KV, releases the checkpoint. */
    void close() {
        scheduler.stop();
        synchronized (refreshing) {
            lock.lock();
            try {
                if (net != null) {
                    net.close();
                    net = null;
                }
                if (kv != null) {
                    kv.close();
                    kv = null;
                }
            } finally {
                lock.unlock();
            }
        }
        checkpoint.close();
    }
}
