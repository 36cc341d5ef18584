package io.tessera.kernels.cuda;

import java.lang.foreign.MemorySegment;

/** A captured step (see {@link CudaBackend#capture}): replayed with one launch on the backend's stream. */
public final class CudaGraph implements AutoCloseable {
    private final CudaBackend backend;
    private final MemorySegment graph, exec;
    private boolean closed;

    CudaGraph(CudaBackend backend, MemorySegment graph, MemorySegment exec) {
        this.backend = backend;
        this.graph = graph;
        this.exec = exec;
    }

    /** Enqueues the whole captured step; buffers hold the values they hold at replay time. */
    public void launch() {
        if (closed) {
            throw new IllegalStateException("the CUDA graph was closed");
        }
        backend.launchGraph(exec);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            backend.destroyGraph(graph, exec);
        }
    }
}
