package io.tessera.api.kernel;

import io.tessera.api.DType;

/** A backend-owned {@code [rows, cols]} buffer of F32 or I32. Closing frees it; it must not be used after. */
public interface Buffer extends AutoCloseable {
    DType dtype();

    int rows();

    int cols();

    @Override
    void close();
}
