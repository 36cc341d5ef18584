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
 */
public record LayerSpec(int index, AttentionKind attention, int heads, int kvHeads, int headDim, int valueHeadDim,
                        int rotaryDim, double ropeTheta, int window, boolean sink, float valueScale, boolean moe) {
}
