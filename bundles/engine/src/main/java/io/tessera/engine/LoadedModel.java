package io.tessera.engine;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.model.ModelInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A loaded model: its retained checkpoint, the assembly built from the current component services (or what it
 * waits for), the engine-owned KV pool and its scheduler. The scheduler's steps and reassembly exclude each other
 * through one lock.
 */
final class LoadedModel {
    private final String name;
    private final Checkpoint checkpoint;
    private final String requestedBackend;
    private final EngineSettings settings;
    private final int vocab;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition assembled = lock.newCondition();
    private final Scheduler scheduler;
    private Components components;
    private MiMoV2Flash net;
    private KvPool kv;
    private int kvEpoch;
    private List<String> waitingFor = List.of("assembly");

    LoadedModel(String name, Checkpoint checkpoint, String requestedBackend, EngineSettings settings, int vocab) {
        this.name = name;
        this.vocab = vocab;
        this.checkpoint = checkpoint;
        this.requestedBackend = requestedBackend;
        this.settings = settings;
        ModelConfig config = checkpoint.config();
        this.scheduler = new Scheduler(this, settings.sequences(), settings.maxRows(), settings.queueLimit(),
                config.vocabSize());
    }

    String name() {
        return name;
    }

    ModelConfig config() {
        return checkpoint.config();
    }

    String requestedBackend() {
        return requestedBackend;
    }

    /** Ids that may be sampled: {@code [0, vocab)}. */
    int vocab() {
        return vocab;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    int contextLength() {
        return Math.min(settings.contextLength(), config().maxPositionEmbeddings());
    }

    /**
     * Brings the assembly in line with the services present: tears it down when a component it uses left
     * (the KV pool survives unless the backend changed), builds it when everything is there.
     */
    void refresh(Components now, Consumer<String> progress) {
        lock.lock();
        try {
            if (now.equals(components) && net != null) {
                return;
            }
            if (net != null) {
                net.close();
                net = null;
            }
            if (kv != null && (now.backend() == null || components == null || now.backend() != components.backend())) {
                kv.close();
                kv = null;
            }
            components = now;
            waitingFor = now.missing(config(), requestedBackend);
            if (!waitingFor.isEmpty()) {
                return;
            }
            try {
                net = new MiMoV2Flash(now.backend(), checkpoint, now, settings.maxRows(), settings.sequences(),
                        progress);
                if (kv == null || kv.layers() != net.attentions().length) {
                    if (kv != null) {
                        kv.close();
                    }
                    kv = new KvPool(now.backend(), net.attentions(), settings.sequences(), contextLength(),
                            settings.maxRows());
                    kvEpoch++;
                }
                assembled.signalAll();
            } catch (Exception | OutOfMemoryError e) {
                if (net != null) {
                    net.close();
                    net = null;
                }
                waitingFor = List.of("assembly failed: " + e.getMessage());
            }
        } finally {
            lock.unlock();
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
    MiMoV2Flash net() {
        return net;
    }

    KvPool kv() {
        return kv;
    }

    /** Changes whenever the KV pool is replaced: sequences admitted under an older epoch lost their cache. */
    int kvEpoch() {
        return kvEpoch;
    }

    ModelInfo info() {
        lock.lock();
        try {
            List<String> perLayer = new ArrayList<>();
            for (var spec : config().layers()) {
                perLayer.add(spec.index() + ": attention " + spec.attention().property() + " (" + spec.heads() + "/"
                        + spec.kvHeads() + " heads" + (spec.window() > 0 ? ", window " + spec.window() : "")
                        + (spec.sink() ? ", sink" : "") + "), " + (spec.moe()
                        ? "moe " + config().expertsPerToken() + "/" + config().routedExperts()
                        : "dense mlp"));
            }
            Map<String, Long> memory = new LinkedHashMap<>();
            memory.put("weights", checkpoint.tensors().stream().mapToLong(t -> t.data().byteSize()
                    + t.scaleInv().map(scale -> scale.data().byteSize()).orElse(0L)).sum());
            memory.put("kv", kv == null ? 0L : kv.bytes());
            if (components != null && components.backend() != null) {
                memory.put("backend", components.backend().info().bytesInUse());
            }
            String backend = components == null || components.backend() == null ? null
                    : components.backend().name();
            return new ModelInfo(name, checkpoint.directory(),
                    net != null ? ModelInfo.State.READY : ModelInfo.State.WAITING, backend, perLayer, waitingFor,
                    memory);
        } finally {
            lock.unlock();
        }
    }

    /** Stops the scheduler, frees the assembly and KV, releases the checkpoint. */
    void close() {
        scheduler.stop();
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
        checkpoint.close();
    }
}
