package io.tessera.api.model;

import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The attention block of one layer: q/k/v projections, partial RoPE, attention over the KV cache (sink and
 * window as the spec says), output projection. Holds only weights and scratch: the KV cache is the engine's and
 * is passed in. One caller at a time.
 */
@ProviderType
public interface Attention extends AutoCloseable {

    /** Slots per sequence this layer's KV ring needs for steps of up to {@code rowsPerSequence} rows each. */
    int kvSlots(int contextLength, int rowsPerSequence);

    /** KV heads, key dim and value dim of the cache this layer reads and writes. */
    int kvHeads();

    int keyDim();

    int valueDim();

    /**
     * {@code out = o_proj(attention(normed))} for every row; stores the rows' keys and values in {@code cache}.
     *
     * @param normed the RMS-normed input {@code [R, hidden]}
     * @param out    {@code [R, hidden]} (overwritten, not accumulated)
     */
    void forward(Rows rows, Buffer normed, KvCache cache, Buffer out);

    /** Frees the weights and scratch. */
    @Override
    void close();
}
