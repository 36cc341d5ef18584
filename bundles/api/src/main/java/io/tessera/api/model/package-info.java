/**
 * Model components (attention, feed-forward, router, draft head) and the engine's services (model registry, generator).
 * <p>0.2.0: {@link io.tessera.api.model.GenerationRequest#grammar} and
 * {@link io.tessera.api.model.GenerationRequest#logitBias} (structured outputs).
 * <p>At 0.x while the first wave of implementations reshapes it: minor versions may break.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.tessera.api.model;
