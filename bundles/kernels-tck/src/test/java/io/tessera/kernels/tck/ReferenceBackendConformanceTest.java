package io.tessera.kernels.tck;

import io.tessera.api.kernel.KernelBackend;
import io.tessera.kernels.reference.ReferenceBackend;

/**
 * The reference backend against the kit. It lives here, not in kernels-reference, because the kit depends on the
 * reference (its oracle); the known-answer tests are what this run checks beyond self-consistency.
 */
class ReferenceBackendConformanceTest extends KernelBackendTck {
    private final KernelBackend backend = new ReferenceBackend();

    @Override
    protected KernelBackend backend() {
        return backend;
    }
}
