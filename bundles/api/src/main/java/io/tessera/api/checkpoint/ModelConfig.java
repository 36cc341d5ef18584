package io.tessera.api.checkpoint;

import java.util.List;
import java.util.Optional;

/**
 * The typed configuration of a MiMo-V2-Flash-class checkpoint, from the hub {@code config.json} or its
 * transformers-native spelling. Field meanings follow the model spec §1.
 *
 * @param architecture         {@code architectures[0]}, e.g. {@code MiMoV2FlashForCausalLM}
 * @param hiddenSize           model width
 * @param vocabSize            rows of the embedding and lm_head
 * @param numHiddenLayers      decoder layers of the main model
 * @param intermediateSize     dense MLP width (layer 0 and the MTP blocks)
 * @param moeIntermediateSize  width of each routed expert
 * @param routedExperts        experts per MoE layer
 * @param expertsPerToken      top-k
 * @param scoringFunc          {@code sigmoid}
 * @param topkMethod           {@code noaux_tc}
 * @param nGroup               expert groups (1: no group filter)
 * @param topkGroup            groups kept (1: no group filter)
 * @param normTopkProb         renormalise the top-k weights
 * @param routedScalingFactor  multiplies the routed weights ({@code null} in the config means 1.0)
 * @param rmsNormEps           RMSNorm epsilon
 * @param maxPositionEmbeddings context length the model supports
 * @param tieWordEmbeddings    whether lm_head shares the embedding
 * @param layers               one spec per main-model layer
 * @param mtpLayers            the MTP blocks' specs (counted from the tensor index; empty for config-only reads)
 * @param quantization         FP8 block quantization, if the checkpoint has it
 * @param bosTokenId           begin-of-sequence id, if configured
 * @param eosTokenIds          end-of-sequence ids (may be empty)
 */
public record ModelConfig(String architecture, int hiddenSize, int vocabSize, int numHiddenLayers,
                          int intermediateSize, int moeIntermediateSize, int routedExperts, int expertsPerToken,
                          String scoringFunc, String topkMethod, int nGroup, int topkGroup, boolean normTopkProb,
                          double routedScalingFactor, double rmsNormEps, int maxPositionEmbeddings,
                          boolean tieWordEmbeddings, List<LayerSpec> layers, List<LayerSpec> mtpLayers,
                          Optional<Quantization> quantization, Optional<Integer> bosTokenId, List<Integer> eosTokenIds) {

    /**
     * FP8 block quantization ({@code quantization_config}).
     *
     * @param method         {@code fp8}
     * @param format         {@code e4m3}
     * @param blockRows      weight block rows (128)
     * @param blockCols      weight block columns (128)
     * @param ignoredLayers  module names kept in BF16
     */
    public record Quantization(String method, String format, int blockRows, int blockCols, List<String> ignoredLayers) {
    }
}
