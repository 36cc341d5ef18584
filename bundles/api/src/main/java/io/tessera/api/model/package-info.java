/**
 * Model components (attention, feed-forward, router, draft head) and the engine's services (model registry, generator).
 * <p>At 0.x while the first wave of implementations reshapes it: minor versions may break.
 * <p>0.2.0 (speculative decoding that never loses): {@link io.tessera.api.model.DraftBlock#vocabulary} (a draft
 * head's shortlist vocabulary); {@link io.tessera.api.model.DraftOracle} and
 * {@link io.tessera.api.model.GenerationRequest#draftOracle} (drafts of known quality, for benchmarks); the chosen-k
 * histogram {@code draftSteps} in {@link io.tessera.api.model.GenerationStats} and
 * {@link io.tessera.api.model.ModelMetrics}, with the model's per-head acceptance counts; a request's draft count
 * of −1 now means the node's {@code speculation} setting (adaptive by default). The records keep their previous
 * constructors.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.tessera.api.model;
