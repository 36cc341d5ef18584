package com.example.tessera.backend;

import io.tessera.api.kernel.KernelBackend;
import io.tessera.kernels.reference.ReferenceBackend;
import io.tessera.kernels.tck.KernelBackendTck;

/** Tessera's conformance kit on the template backend (delegating to a reference backend of its own here). */
class TemplateBackendConformanceTest extends KernelBackendTck {
    private static final KernelBackend BACKEND = new TemplateBackend(new ReferenceBackend());

    @Override
    protected KernelBackend backend() {
        return BACKEND;
    }
}
