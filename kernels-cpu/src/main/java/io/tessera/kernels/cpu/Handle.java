package io.tessera.kernels.cpu;

import java.util.concurrent.atomic.AtomicLong;

/** Owner and use-after-close checks shared by every handle. */
abstract class Handle implements AutoCloseable {
    final Object owner;
    final AtomicLong counter;
    final long bytes;
    private volatile boolean closed;

    Handle(Object owner, AtomicLong counter, long bytes) {
        this.owner = owner;
        this.counter = counter;
        this.bytes = bytes;
        counter.addAndGet(bytes);
    }

    final void check(Object backend, String param) {
        if (owner != backend) {
            throw new IllegalArgumentException(param + ": a handle of another backend: " + this);
        }
        if (closed) {
            throw new IllegalStateException(param + ": used after close");
        }
    }

    @Override
    public final synchronized void close() {
        if (!closed) {
            closed = true;
            counter.addAndGet(-bytes);
            poison();
        }
    }

    /**
     * Overwrites the contents of a closed handle with garbage (NaN, id -1), so that a read through a stale
     * reference, e.g. of a model that moved to another backend, shows instead of passing silently.
     */
    void poison() {
    }
}
