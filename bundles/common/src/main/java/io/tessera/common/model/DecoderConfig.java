package io.tessera.common.model;

import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.ConfigFields;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.checkpoint.RopeScaling;
import java.util.List;

/**
 * The config keys the Llama-style families (Llama, Qwen3, Qwen3-MoE) share, read with the family's defaults:
 * sizes, GQA heads, {@code head_dim}, RoPE ({@code rope_parameters} or {@code rope_theta}/{@code rope_scaling}),
 * and the keys whose other values these families never need (refused by name).
 *
 * @param defaultHeadDim head dim when {@code head_dim} is absent (0: {@code hidden_size / num_attention_heads})
 */
public record DecoderConfig(int hidden, int vocab, int layers, int intermediate, int heads, int kvHeads, int headDim,
                            double eps, double theta, RopeScaling rope, boolean tie, int maxPositions) {

    /** The family's defaults for absent keys, as its transformers config class has them. */
    public record Defaults(int vocab, int hidden, int intermediate, int layers, int heads, int defaultHeadDim,
                           double eps, int maxPositions) {
    }

    public static DecoderConfig read(ConfigFields f, Defaults d) {
        int hidden = f.positive("hidden_size", d.hidden(), Integer.MAX_VALUE);
        int heads = f.positive("num_attention_heads", d.heads(), Integer.MAX_VALUE);
        int kvHeads = f.positive("num_key_value_heads", heads, Integer.MAX_VALUE);
        if (heads % kvHeads != 0) {
            f.problem("field 'num_key_value_heads': " + kvHeads + " does not divide num_attention_heads " + heads);
        }
        int headDim = f.positive("head_dim", d.defaultHeadDim() > 0 ? d.defaultHeadDim() : hidden / heads,
                Integer.MAX_VALUE);
        if (headDim % 2 != 0) {
            f.problem("field 'head_dim': " + headDim + " must be even (RoPE rotates pairs)");
        }
        f.expect("hidden_act", "silu", "only silu is supported");
        f.expect("attention_bias", false, "attention biases are not supported");
        f.expect("mlp_bias", false, "MLP biases are not supported");
        f.expect("use_sliding_window", false, "sliding-window layers of this family are not supported");
        return new DecoderConfig(hidden, f.positive("vocab_size", d.vocab(), Integer.MAX_VALUE),
                f.positive("num_hidden_layers", d.layers(), ConfigFields.MAX_LAYERS),
                f.positive("intermediate_size", d.intermediate(), Integer.MAX_VALUE), heads, kvHeads, headDim,
                f.positiveNumber("rms_norm_eps", d.eps(), null), f.ropeTheta("full_attention", "rope_theta", 10_000),
                f.ropeScaling("full_attention"), f.bool("tie_word_embeddings", false),
                f.positive("max_position_embeddings", d.maxPositions(), Integer.MAX_VALUE));
    }

    /** Layer {@code i}: global causal attention, full-head-dim RoPE, no sink, no value scale. */
    public LayerSpec layer(int i, boolean moe, boolean qkNorm) {
        return new LayerSpec(i, AttentionKind.GLOBAL, heads, kvHeads, headDim, headDim, headDim, theta, 0, false, 1f,
                moe, rope, qkNorm);
    }

    /**
     * The typed configuration; {@code experts}, {@code topk}, {@code moeIntermediate} are 0 for dense models,
     * which route with softmax over all experts then top-k ({@code softmax/greedy}).
     */
    public ModelConfig config(ConfigFields f, List<LayerSpec> layerSpecs, int moeIntermediate, int experts, int topk,
                              boolean normTopkProb) {
        return new ModelConfig(f.architecture(), hidden, vocab, layers, intermediate, moeIntermediate, experts, topk,
                "softmax", "greedy", 1, 1, normTopkProb, 1.0, eps, maxPositions, tie, List.copyOf(layerSpecs),
                List.of(), f.quantization(), f.bosTokenId(java.util.Optional.empty()), f.eosTokenIds());
    }
}
