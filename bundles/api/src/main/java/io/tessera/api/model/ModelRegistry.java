package io.tessera.api.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The models a node has loaded. Thread-safe.
 */
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
}
