package io.tessera.api.model;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.ConfigFields;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.KernelBackend;
import java.util.function.Consumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One model family: how its {@code config.json} maps to a {@link ModelConfig}, and its forward pass assembled
 * from the component services. Registered with {@value #ARCHITECTURE} = the {@code architectures[0]} names it
 * serves (e.g. {@code Qwen3ForCausalLM}) and {@value #MODEL_TYPE} = the matching {@code model_type}s. The
 * checkpoint loader and the engine pick the service by the checkpoint's {@code architectures[0]}; neither names a
 * family.
 */
@ProviderType
public interface ModelArchitecture {
    /** Service property: the {@code architectures[0]} values served (String or String[]). */
    String ARCHITECTURE = "model.architecture";
    /** Service property: the {@code model_type} values of those architectures (String or String[]). */
    String MODEL_TYPE = "model.type";

    /**
     * Maps a config to the typed configuration: the family's defaults for absent keys, its layer rules, and a
     * problem in {@code fields} for every value it does not support.
     *
     * @return the configuration, or null when {@code fields} recorded problems
     */
    ModelConfig config(ConfigFields fields);

    /**
     * Uploads the model's weights to {@code backend} and builds its forward pass.
     *
     * @param maxRows   the most rows one step passes
     * @param sequences KV slots (sequences that run at once)
     * @param progress  receives human-readable progress lines
     * @throws CheckpointException naming a missing or misshapen tensor
     */
    CausalLm assemble(KernelBackend backend, Checkpoint checkpoint, ModelComponents components, int maxRows,
                      int sequences, Consumer<String> progress) throws CheckpointException;
}
