package io.tessera.api.checkpoint;

/**
 * Everything one decoder layer (or MTP block) needs, derived from the config.
 *
 * @param index         layer index (MTP block k has index {@code numHiddenLayers + k})
 * @param attention     global or sliding-window
 * @param heads         query heads
 * @param kvHeads       key/value heads (GQA: query head h reads kv head {@code h / (heads / kvHeads)})
 * @param headDim       query and key head dim (192 on the real model)
 * @param valueHeadDim  value head dim (128 on the real model)
 * @param rotaryDim     leading dims of each q/k head rotated by NeoX RoPE ({@code int(headDim * partial_rotary_factor)})
 * @param ropeTheta     RoPE base of this layer
 * @param window        keys attended, the current one included (0 for global layers)
 * @param sink          whether the layer has a per-head {@code attention_sink_bias}
 * @param valueScale    multiplies V before it is cached ({@code attention_value_scale}, 1 when absent)
 * @param moe           true for a routed-expert MLP, false for a dense SwiGLU MLP
 * @param ropeScaling   how the RoPE frequencies derive from {@code ropeTheta} ({@link RopeScaling#NONE}: plain)
 * @param qkNorm        whether q and k get a per-head RMSNorm ({@code q_norm}, {@code k_norm}) before RoPE
 */
public record LayerSpec(int index, AttentionKind attention, int heads, int kvHeads, int headDim, int valueHeadDim,
                        int rotaryDim, double ropeTheta, int window, boolean sink, float valueScale, boolean moe,
                        RopeScaling ropeScaling, boolean qkNorm) {

    /** A layer without RoPE scaling and q/k norm (MiMo-V2-Flash's layers). */
    public LayerSpec(int index, AttentionKind attention, int heads, int kvHeads, int headDim, int valueHeadDim,
                     int rotaryDim, double ropeTheta, int window, boolean sink, float valueScale, boolean moe) {
        this(index, attention, heads, kvHeads, headDim, valueHeadDim, rotaryDim, ropeTheta, window, sink, valueScale,
                moe, RopeScaling.NONE, false);
    }

    /** The {@code rotaryDim / 2} inverse frequencies of this layer's RoPE. */
    public double[] inverseFrequencies() {
        return ropeScaling.inverseFrequencies(ropeTheta, rotaryDim);
    }
}
