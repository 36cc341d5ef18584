package io.tessera.kernels.cuda;

/** A device allocation owned by one {@link CudaBackend}; closing frees it once (later closes do nothing). */
abstract class CudaMemory implements AutoCloseable {
    final CudaBackend owner;
    private final long[] pointers;
    private final long bytes;
    private boolean closed;

    CudaMemory(CudaBackend owner, long bytes, long... pointers) {
        this.owner = owner;
        this.bytes = bytes;
        this.pointers = pointers;
    }

    /** Device bytes this handle holds. */
    long bytes() {
        return bytes;
    }

    /** Fails unless the handle is open. */
    void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException(what + " was closed");
        }
    }

    @Override
    public void close() {
        synchronized (owner) {
            if (!closed) {
                closed = true;
                owner.free(bytes, pointers);
            }
        }
    }
}
