package io.tessera.api.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The models a node has loaded. Thread-safe.
 */
@ProviderType
public interface ModelRegistry {

    /**
     * Opens a checkpoint and assembles the model from the component services installed now. Missing components
     * do not fail the load: the model stays {@link ModelInfo.State#WAITING} and {@link ModelInfo#waitingFor()}
     * names them until they arrive.
     *
     * @param name     the model's name (null: the directory's name)
     * @param backend  the backend to use (null: the highest-ranked)
     * @param progress receives human-readable progress lines (may be null)
     * @throws Exception naming the file, tensor or field at fault; nothing stays loaded
     */
    ModelInfo load(Path directory, String name, String backend, Consumer<String> progress) throws Exception;

    List<ModelInfo> models();

    Optional<ModelInfo> info(String name);

    /** Unloads a model; in-flight generations of it end with an error. Returns false if no such model. */
    boolean unload(String name);

    /**
     * Moves a loaded model to another backend while it serves (hot swap): the backend assembles the model while
     * the current one keeps serving; at a step boundary the live KV state moves; in-flight generations continue
     * with the tokens they would have produced. The model then prefers this backend.
     *
     * @param progress receives human-readable progress lines, the swap's pause among them (may be null)
     * @throws IllegalArgumentException naming the model or backend when there is no such one
     * @throws IllegalStateException    with the reason when the swap is refused (e.g. it does not fit); the model
     *                                  keeps serving where it was
     */
    default ModelInfo useBackend(String model, String backend, Consumer<String> progress) {
        throw new UnsupportedOperationException("this registry cannot move models between backends");
    }

    /**
     * What an operator should see: configuration values that were not applied, backends that failed to assemble
     * a model (and why), the last backend swap of each model with its pause. One line each.
     */
    default List<String> notices() {
        return List.of();
    }

    /**
     * Empties a model's prefix cache: the KV blocks no generation holds are freed (generations keep theirs).
     * Returns the blocks the cache held.
     *
     * @throws IllegalArgumentException naming the model when there is no such one
     */
    default int clearPrefixCache(String model) {
        throw new UnsupportedOperationException("this registry has no prefix cache");
    }
}
