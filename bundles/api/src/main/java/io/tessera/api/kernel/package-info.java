/**
 * The kernel backend contract: device memory, weights and the ops of the MiMo forward pass. Third-party backends implement {@link io.tessera.api.kernel.KernelBackend}.
 * <p>At 0.x while the first wave of implementations reshapes it: minor versions may break.
 * <p>0.2.0: {@link io.tessera.api.kernel.KernelBackend#matmulRows}, a matmul over a subset of a weight's rows (the
 * draft heads' shortlist lm_head).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.tessera.api.kernel;
