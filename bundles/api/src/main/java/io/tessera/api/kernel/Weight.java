package io.tessera.api.kernel;

import io.tessera.api.DType;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A checkpoint tensor made usable by one backend (read in place or uploaded). 1-D weights have
 * {@code rows() == 1}; a linear weight is {@code [out, in]} = {@code [rows, cols]}. Closing frees device memory.
 */
@ProviderType
public interface Weight extends AutoCloseable {
    /** The checkpoint name, for error messages and traces. */
    String name();

    /** The dtype as stored in the checkpoint. */
    DType dtype();

    int rows();

    int cols();

    @Override
    void close();
}
