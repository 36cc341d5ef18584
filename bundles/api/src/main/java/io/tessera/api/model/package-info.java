/**
 * Model components (attention, feed-forward, router, draft head) and the engine's services (model registry,
 * generator).
 *
 * <h2>Who implements what</h2>
 * <ul>
 * <li>{@code @ProviderType} — implemented by the bundle that provides the service, only called by others:
 *     {@link io.tessera.api.model.AttentionFactory} and {@link io.tessera.api.model.Attention} (attention
 *     bundles), {@link io.tessera.api.model.FeedForwardFactory}, {@link io.tessera.api.model.FeedForward} and
 *     {@link io.tessera.api.model.ExpertRouter} (moe), {@link io.tessera.api.model.DraftHead} and
 *     {@link io.tessera.api.model.DraftBlock} (mtp), {@link io.tessera.api.model.ModelArchitecture} and
 *     {@link io.tessera.api.model.CausalLm} (family bundles), {@link io.tessera.api.model.ModelComponents} and
 *     {@link io.tessera.api.model.ModelStep} (engine), {@link io.tessera.api.model.ModelRegistry},
 *     {@link io.tessera.api.model.Generator} and {@link io.tessera.api.model.Generation} (engine).</li>
 * <li>{@code @ConsumerType} — implemented by the callers of a service, called back by its provider:
 *     {@link io.tessera.api.model.GenerationListener} (HTTP, shell and embedding programs receive tokens from
 *     the engine) and {@link io.tessera.api.model.RoutingControl} (the engine implements it; the MoE component
 *     calls it to record or replay routing).</li>
 * </ul>
 *
 * <h2>How versions move</h2>
 * As described for {@link io.tessera.api.kernel}: a method added to a provider type is a minor step (providers
 * import {@code [0.1,0.2)}, callers {@code [0.1,1)}); a method added to a consumer type is a major step, because
 * every client's listener would lack it (add a default method instead, which needs only a minor step); a changed
 * or removed member is a major step (a new record component is minor only while the previous constructor
 * stays). Baselining against {@code cnf/baseline} enforces it.
 *
 * <h2>Changes</h2>
 * <ul>
 * <li>0.2.0: the architecture extension point: {@link io.tessera.api.model.ModelArchitecture} (one service per
 *     model family, keyed by {@code architectures[0]}), the forward pass it builds
 *     ({@link io.tessera.api.model.CausalLm}), and what the engine hands it
 *     ({@link io.tessera.api.model.ModelComponents}, {@link io.tessera.api.model.ModelStep}).</li>
 * <li>0.2.0: {@link io.tessera.api.model.OutputConstraint} and
 *     {@link io.tessera.api.model.Generator#submit(GenerationRequest, OutputConstraint, GenerationListener)}
 *     (structured outputs: a grammar and logit_bias per request); {@link io.tessera.api.model.ModelInfo.State#FAILED}
 *     (a model whose step hit an unrecoverable error); {@link io.tessera.api.model.Generator#submit} documents which
 *     refusal means what, and {@link io.tessera.api.model.Generation#result} that a failed generation completes
 *     exceptionally with its reason.</li>
 * <li>0.2.0 (speculative decoding): {@link io.tessera.api.model.DraftBlock#vocabulary} (a draft head's
 *     shortlist vocabulary, a default method); {@link io.tessera.api.model.DraftOracle} and
 *     {@link io.tessera.api.model.GenerationRequest#draftOracle} (drafts of known quality, for benchmarks); the
 *     chosen-k histogram {@code draftSteps} in {@link io.tessera.api.model.GenerationStats} and
 *     {@link io.tessera.api.model.ModelMetrics}, with the model's per-head acceptance counts (the records keep their
 *     previous constructors; bnd rates the added components minor); a request's draft count of −1 now means the
 *     node's {@code speculation} setting (adaptive by default).</li>
 * <li>0.2.0 (prefix cache): {@link io.tessera.api.model.GenerationRequest#cacheSalt},
 *     {@link io.tessera.api.model.GenerationStats#cachedTokens}, and in {@link io.tessera.api.model.ModelMetrics}
 *     the context length, cached tokens, prefix lookups and hits, and preempted sequences; {@code kvCapacity} is
 *     the pool's blocks, no longer slots × context (the records keep their previous constructors);
 *     {@link io.tessera.api.model.ModelRegistry#clearPrefixCache} (a default method).</li>
 * </ul>
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.tessera.api.model;
