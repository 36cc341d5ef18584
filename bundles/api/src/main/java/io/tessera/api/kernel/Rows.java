package io.tessera.api.kernel;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The rows of one step, made by {@link KernelBackend#rows} once per step and uploaded once.
 * Row {@code r} is one token at absolute position {@code positions[r]}; its sequence's KV slots in a layer's
 * {@link KvCache} are {@code [kvBase[r], kvBase[r] + kvCapacity[r])}, the key of position {@code p} in slot
 * {@code kvBase[r] + p mod kvCapacity[r]}. Rows of one sequence share base and capacity and appear in position
 * order. A global layer's capacity covers the whole context; a sliding layer's ring needs
 * {@code window − 1 + (rows of that sequence in one step)} slots. A paged layer's rows
 * ({@link KernelBackend#pagedRows}) find their slots through a {@link BlockTable} instead.
 */
@ProviderType
public interface Rows extends AutoCloseable {
    int count();

    @Override
    void close();
}
