package io.tessera.kernels.cpu;

import io.tessera.api.kernel.KernelBackend;
import io.tessera.kernels.tck.KernelBackendTck;
import org.junit.jupiter.api.AfterAll;

/** The CPU backend against the conformance kit, on 3 threads so parts really run in parallel on small CI hosts. */
class CpuBackendConformanceTest extends KernelBackendTck {
    private static final CpuBackend BACKEND = new CpuBackend(3);

    @Override
    protected KernelBackend backend() {
        return BACKEND;
    }

    @AfterAll
    static void shutdown() {
        BACKEND.close();
    }
}
