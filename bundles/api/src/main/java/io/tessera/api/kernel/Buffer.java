package io.tessera.api.kernel;

import io.tessera.api.DType;
import org.osgi.annotation.versioning.ProviderType;

/** A backend-owned {@code [rows, cols]} buffer of F32 or I32. Closing frees it; it must not be used after. */
@ProviderType
public interface Buffer extends AutoCloseable {
    DType dtype();

    int rows();

    int cols();

    @Override
    void close();
}
