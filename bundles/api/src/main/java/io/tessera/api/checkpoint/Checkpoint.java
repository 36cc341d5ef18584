package io.tessera.api.checkpoint;

import io.tessera.api.Tensor;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * An opened checkpoint: its typed configuration and its tensors, memory-mapped in place.
 *
 * <p>Reference counted: the mappings live in one arena per opened checkpoint, unmapped when the last holder
 * calls {@link #close()}. A loaded model {@link #retain() retains} the checkpoint it reads, so stopping the
 * checkpoint bundle never unmaps weights still in use. Thread-safe; tensor views are read-only.
 */
@ProviderType
public interface Checkpoint extends AutoCloseable {

    /** The directory this checkpoint was opened from. */
    Path directory();

    /** The typed model configuration. */
    ModelConfig config();

    /** How the weights are named and stacked; tensor names are kept as stored. */
    TensorLayout layout();

    /**
     * Every tensor, shard by shard in header order ({@code *_scale_inv} tensors are attached to their weights, not
     * listed).
     */
    Collection<Tensor> tensors();

    /** The tensor of that exact name, if present. */
    Optional<Tensor> find(String name);

    /**
     * The tensor of that exact name.
     *
     * @throws CheckpointException naming the missing tensor and this checkpoint's directory
     */
    Tensor tensor(String name) throws CheckpointException;

    /**
     * Adds a holder; each call must be matched by one {@link #close()}. Returns this.
     *
     * @throws IllegalStateException if the last holder has already released it
     */
    Checkpoint retain();

    /**
     * Releases one reference; the last release unmaps the shards, after which reading any tensor view throws
     * {@link IllegalStateException}. Each holder must call it exactly once; calls after the last release do nothing.
     */
    @Override
    void close();
}
