package io.tessera.api.model;

import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The rows of one engine step with the engine's KV pool: row {@code r} is token {@code tokens()[r]} of the
 * sequence in KV slot {@code slots()[r]}, at position {@code positions()[r]}. Rows of one sequence are contiguous
 * and in position order; only the first {@link #count()} entries of the arrays are valid.
 */
@ProviderType
public interface ModelStep {
    int count();

    int[] tokens();

    int[] positions();

    int[] slots();

    /** The backend's row descriptor of this step for layer {@code layer} (main layers first, then MTP blocks). */
    Rows rows(int layer);

    /** The KV cache of layer {@code layer}, as the engine allocated it from each layer's {@link Attention}. */
    KvCache cache(int layer);
}
