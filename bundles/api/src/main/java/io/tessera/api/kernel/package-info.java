/**
 * The kernel backend contract: device memory, weights and the ops of the forward pass. Third-party backends
 * implement {@link io.tessera.api.kernel.KernelBackend}.
 *
 * <h2>Who implements what</h2>
 * Every interface here is a {@code @ProviderType}: a backend bundle implements it, the engine and the model
 * components only call it.
 * <ul>
 * <li>{@link io.tessera.api.kernel.KernelBackend}: the backend service itself.</li>
 * <li>{@link io.tessera.api.kernel.Buffer}, {@link io.tessera.api.kernel.Weight},
 *     {@link io.tessera.api.kernel.KvCache}, {@link io.tessera.api.kernel.Rows}: handles a backend makes for its
 *     own memory; callers hold and close them, never implement them.</li>
 * <li>{@link io.tessera.api.kernel.BackendProbe}: registered by a backend bundle to say why its backend is
 *     (un)available.</li>
 * </ul>
 *
 * <h2>How versions move</h2>
 * Semantic versioning, checked by bnd baselining in the build against the released 0.1.0 artifact
 * ({@code cnf/baseline}): a change without the step below fails the build with bnd's report.
 * <ul>
 * <li>A method added to a {@code @ProviderType} interface (a new op in {@code KernelBackend}), a new type, a new
 *     constant: <b>minor</b> step (0.1.0 → 0.2.0). Bundles that implement a provider type import
 *     {@code [0.1,0.2)} (bnd's provider policy), so a backend built against 0.1 is not wired to a 0.2 api whose
 *     new op it lacks; code that only calls the api imports {@code [0.1,1)} and keeps working.</li>
 * <li>A method added to a {@code @ConsumerType} interface (none in this package; see
 *     {@link io.tessera.api.model}), or any change or removal of an existing member (a record's previous constructor among them):
 *     <b>major</b> step (0.x → 1.0), since every implementer or caller may break.</li>
 * <li>Javadoc-only changes and changes to a method's body (a default method's) need no step.</li>
 * </ul>
 * A package steps at most once per release, however many additions it gathers. A backend author builds against
 * the api version it implements and runs the conformance kit ({@code kernels-tck}) of the same version.
 *
 * <h2>Changes</h2>
 * <ul>
 * <li>0.2.0: {@code rope} from a table of inverse frequencies (the theta form is a deprecated default method that
 *     builds the plain table), {@code route} with a {@link io.tessera.api.kernel.ScoreFunction} (sigmoid or
 *     softmax; the old form is a deprecated default for sigmoid), {@code rmsNormHeads} (RMSNorm over per-head
 *     views); {@link io.tessera.api.kernel.KernelBackend#maskLogits} (constrained decoding) and
 *     {@link io.tessera.api.kernel.KernelBackend#matmulRows}, a matmul over a subset of a weight's rows (the draft
 *     heads' shortlist lm_head). Backends implement the five new methods.</li>
 * <li>0.2.0: paged KV: {@link io.tessera.api.kernel.KernelBackend#pagedRows} with a
 *     {@link io.tessera.api.kernel.BlockTable} (fixed-size, shareable blocks per sequence, in any order), taken by
 *     {@code attention} like the contiguous rows. Backends implement the new method.</li>
 * </ul>
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.tessera.api.kernel;
