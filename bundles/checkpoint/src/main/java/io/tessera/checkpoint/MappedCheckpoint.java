package io.tessera.checkpoint;

import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.checkpoint.TensorLayout;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An opened checkpoint whose shards are mapped in one shared arena. The arena is closed (the shards unmapped)
 * when the reference count drops to zero; from then on every tensor view throws {@link IllegalStateException}.
 */
final class MappedCheckpoint implements Checkpoint {
    private final Path directory;
    private final ModelConfig config;
    private final TensorLayout layout;
    private final Map<String, Tensor> tensors;
    private final Arena arena;
    private final AtomicInteger references = new AtomicInteger(1);

    MappedCheckpoint(Path directory, ModelConfig config, TensorLayout layout, Map<String, Tensor> tensors, Arena arena) {
        this.directory = directory;
        this.config = config;
        this.layout = layout;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.arena = arena;
    }

    @Override
    public Path directory() {
        return directory;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public TensorLayout layout() {
        return layout;
    }

    @Override
    public Collection<Tensor> tensors() {
        return tensors.values();
    }

    @Override
    public Optional<Tensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public Tensor tensor(String name) throws CheckpointException {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException(directory, "tensor '" + name + "' is not in this checkpoint");
        }
        return t;
    }

    @Override
    public Checkpoint retain() {
        int n;
        do {
            n = references.get();
            if (n == 0) {
                throw new IllegalStateException(directory + ": checkpoint already released by its last holder");
            }
        } while (!references.compareAndSet(n, n + 1));
        return this;
    }

    @Override
    public void close() {
        int n;
        do {
            n = references.get();
            if (n == 0) {
                return;
            }
        } while (!references.compareAndSet(n, n - 1));
        if (n == 1) {
            arena.close();
        }
    }

    /** Holders still referencing this checkpoint (0 once unmapped). */
    int references() {
        return references.get();
    }

    @Override
    public String toString() {
        return "Checkpoint[" + directory + ", " + tensors.size() + " tensors, " + layout + "]";
    }
}
