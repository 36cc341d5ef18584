package io.tessera.api.checkpoint;

import java.nio.file.Path;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Opens Hugging Face checkpoint directories: {@code config.json} plus {@code model.safetensors.index.json}
 * and its shards, or a single {@code model.safetensors}.
 *
 * <p>Opening memory-maps the shards and parses headers and config; it copies no weights, so it costs time and
 * heap proportional to the number of tensors, not their size. Implementations are thread-safe.
 */
@ProviderType
public interface CheckpointLoader {

    /**
     * Opens and validates a checkpoint. The caller holds one reference and must {@link Checkpoint#close()} it.
     *
     * @param directory the checkpoint directory
     * @return the opened checkpoint
     * @throws CheckpointException naming the file and the tensor or config field at fault; every validation
     *                             problem found is listed in one exception
     */
    Checkpoint open(Path directory) throws CheckpointException;

    /**
     * Parses only {@code config.json} (no weights needed), e.g. to plan KV memory for a model not yet downloaded.
     *
     * @throws CheckpointException naming the file and the field at fault
     */
    ModelConfig readConfig(Path configJson) throws CheckpointException;
}
