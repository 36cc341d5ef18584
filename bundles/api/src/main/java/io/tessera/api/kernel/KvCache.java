package io.tessera.api.kernel;

import org.osgi.annotation.versioning.ProviderType;

/**
 * KV storage of one layer, allocated by the engine from a backend: {@link #slots()} positions. Which slot holds
 * which position is the engine's business ({@link Rows}); the storage layout is the backend's. Attention
 * components never own one. Closing frees it.
 */
@ProviderType
public interface KvCache extends AutoCloseable {
    int slots();

    int kvHeads();

    int keyDim();

    int valueDim();

    @Override
    void close();
}
