/**
 * Opening Hugging Face checkpoints: tensors memory-mapped in place and the typed model configuration.
 *
 * <h2>Who implements what</h2>
 * The interfaces are {@code @ProviderType}s, implemented by the checkpoint bundle and only called by others:
 * {@link io.tessera.api.checkpoint.CheckpointLoader} (the service) and
 * {@link io.tessera.api.checkpoint.Checkpoint} (an open checkpoint it returns) and
 * {@link io.tessera.api.checkpoint.ConfigFields} (what it hands a model architecture to read a config).
 *
 * <h2>How versions move</h2>
 * As described for {@link io.tessera.api.kernel}: a method added to a provider type is a minor step; a changed
 * or removed member is a major step (a new record component, e.g. of
 * {@link io.tessera.api.checkpoint.ModelConfig}, is minor only while the previous constructor stays);
 * checked by bnd baselining against {@code cnf/baseline}.
 *
 * <h2>Changes</h2>
 * <ul>
 * <li>0.2.0: {@link io.tessera.api.checkpoint.ConfigFields} (the config's fields, handed to the model
 *     architecture that maps them), {@link io.tessera.api.checkpoint.RopeScaling}, and
 *     {@link io.tessera.api.checkpoint.LayerSpec} gains {@code ropeScaling} and {@code qkNorm} (the previous
 *     constructor stays, for layers with neither).</li>
 * </ul>
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.tessera.api.checkpoint;
