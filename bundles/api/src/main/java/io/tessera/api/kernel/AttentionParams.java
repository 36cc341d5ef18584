package io.tessera.api.kernel;

/**
 * Shape and math of one attention layer.
 *
 * @param heads      query heads
 * @param kvHeads    key/value heads (divides heads)
 * @param keyDim     q/k head dim
 * @param valueDim   v head dim
 * @param window     keys attended including the current one; 0 for global (causal only)
 * @param scale      logit scale, {@code 1/sqrt(keyDim)} for MiMo
 * @param valueScale multiplies V before it is cached
 */
public record AttentionParams(int heads, int kvHeads, int keyDim, int valueDim, int window, float scale,
                              float valueScale) {
    public AttentionParams {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || keyDim <= 0 || valueDim <= 0 || window < 0) {
            throw new IllegalArgumentException("bad attention shape: heads=" + heads + " kvHeads=" + kvHeads
                    + " keyDim=" + keyDim + " valueDim=" + valueDim + " window=" + window);
        }
    }
}
