package io.tessera.kernels.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed team of daemon threads that run the parts of one task at a time, the calling thread joining in as
 * worker 0. Parts are claimed dynamically, so uneven parts balance. Between tasks a worker spins for
 * {@link #SPIN_NANOS} before it parks (as ggml's thread pool does): the ops of a decoded token follow each other
 * within microseconds, and a park/unpark hand-off per op costs a futex wake and a scheduler round trip each.
 * Nothing is allocated per task: callers pass a reusable {@link Task}. Callers must hold the backend's op lock.
 */
final class WorkerPool {
    /**
     * How long an idle worker (or the waiting caller) spins before it parks: system property
     * {@code tessera.cpu.spinMicros}, default 100 µs (0: park at once, for hosts with more runnable threads than
     * cores, where a spinning thread takes the core from the one it waits for).
     */
    private static final long SPIN_NANOS = Long.getLong("tessera.cpu.spinMicros", 100) * 1000;

    /** A parallel loop body: runs part {@code part} on worker {@code worker} ({@code 0} is the caller). */
    interface Task {
        void run(int part, int worker);
    }

    private final Thread[] workers;
    private final AtomicInteger nextPart = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Task task;
    private volatile int parts;
    private volatile int generation;
    private volatile boolean shutdown;
    private volatile Thread caller;
    private volatile Throwable failure;

    WorkerPool(int threads) {
        workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int worker = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("tessera-cpu-" + worker).unstarted(() -> loop(worker));
            workers[i].start();
        }
    }

    int threads() {
        return workers.length + 1;
    }

    /** Runs parts {@code [0, count)} of {@code t} on all threads and returns when all have finished. */
    void run(Task t, int count) {
        if (count <= 1 || workers.length == 0) {
            for (int p = 0; p < count; p++) {
                t.run(p, 0);
            }
            return;
        }
        task = t;
        parts = count;
        failure = null;
        caller = Thread.currentThread();
        nextPart.set(0);
        pending.set(workers.length + 1);
        generation++;
        for (Thread w : workers) {
            LockSupport.unpark(w); // a spinning worker needs none, but the permit is harmless
        }
        work(0);
        long start = System.nanoTime();
        while (pending.get() > 0) {
            if (System.nanoTime() - start < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
        task = null;
        Throwable f = failure;
        if (f instanceof RuntimeException e) {
            throw e;
        } else if (f instanceof Error e) {
            throw e;
        } else if (f != null) {
            throw new IllegalStateException(f);
        }
    }

    private void work(int worker) {
        try {
            Task t = task;
            int count = parts;
            for (int p = nextPart.getAndIncrement(); p < count; p = nextPart.getAndIncrement()) {
                t.run(p, worker);
            }
        } catch (Throwable e) {
            failure = e;
            nextPart.set(Integer.MAX_VALUE / 2);
        } finally {
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    private void loop(int worker) {
        int seen = 0;
        while (true) {
            long start = System.nanoTime();
            while (generation == seen && !shutdown) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (shutdown) {
                return;
            }
            seen = generation;
            work(worker);
        }
    }

    void shutdown() {
        shutdown = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
