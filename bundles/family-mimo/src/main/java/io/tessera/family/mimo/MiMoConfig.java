package io.tessera.family.mimo;

import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.ConfigFields;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.checkpoint.RopeScaling;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Maps a MiMo-V2-Flash {@code config.json} to the typed configuration: the hub spelling (remote-code keys, spec
 * §1) or the transformers-native one ({@code layer_types}, {@code mlp_layer_types}, {@code rope_parameters},
 * {@code rms_norm_eps}). A key that is absent takes the default of transformers' {@code mimo_v2_flash}
 * (spec §11).
 */
final class MiMoConfig {
    private MiMoConfig() {
    }

    static ModelConfig map(ConfigFields f) {
        int hidden = f.positive("hidden_size", 4096, Integer.MAX_VALUE);
        int vocab = f.positive("vocab_size", 152576, Integer.MAX_VALUE);
        int layerCount = f.positive("num_hidden_layers", 48, ConfigFields.MAX_LAYERS);
        int intermediate = f.positive("intermediate_size", 16384, Integer.MAX_VALUE);
        int moeIntermediate = f.positive("moe_intermediate_size", 2048, Integer.MAX_VALUE);
        String expertsKey = f.has("n_routed_experts") ? "n_routed_experts" : "num_local_experts";
        int experts = f.positive(expertsKey, 256, ConfigFields.MAX_EXPERTS);
        int topk = f.positive("num_experts_per_tok", 8, Integer.MAX_VALUE);
        int nGroup = f.positive("n_group", 1, Integer.MAX_VALUE);
        int topkGroup = f.positive("topk_group", 1, Integer.MAX_VALUE);
        if (topk > experts) {
            f.problem("field 'num_experts_per_tok': " + topk + " exceeds " + expertsKey + " " + experts);
        }
        if (experts % nGroup != 0) {
            f.problem("field 'n_group': " + nGroup + " does not divide " + expertsKey + " " + experts);
        }
        if (topkGroup > nGroup) {
            f.problem("field 'topk_group': " + topkGroup + " exceeds n_group " + nGroup);
        }
        double scaling = f.positiveNumber("routed_scaling_factor", 1.0, 1.0);
        String epsKey = f.has("layernorm_epsilon") ? "layernorm_epsilon" : "rms_norm_eps";
        double eps = f.positiveNumber(epsKey, 1e-5, 1e-5);
        f.expect("hidden_act", "silu", "only silu is supported");
        f.expect("attention_bias", false, "attention biases are not supported");
        f.expect("n_shared_experts", 0, "shared experts are not supported");

        int heads = f.positive("num_attention_heads", 64, Integer.MAX_VALUE);
        int kvHeads = f.positive("num_key_value_heads", 4, Integer.MAX_VALUE);
        int headDim = f.positive("head_dim", 192, Integer.MAX_VALUE);
        int valueHeadDim = f.positive("v_head_dim", 128, Integer.MAX_VALUE);
        // transformers: SWA layers have twice the GA kv heads, and the GA head counts and dims otherwise
        int swaHeads = f.positive("swa_num_attention_heads", heads, Integer.MAX_VALUE);
        int swaKvHeads = f.positive("swa_num_key_value_heads", 2 * kvHeads, Integer.MAX_VALUE);
        int swaHeadDim = f.positive("swa_head_dim", headDim, Integer.MAX_VALUE);
        int swaValueHeadDim = f.positive("swa_v_head_dim", valueHeadDim, Integer.MAX_VALUE);
        divisible(f, "num_attention_heads", heads, "num_key_value_heads", kvHeads);
        divisible(f, "swa_num_attention_heads", swaHeads, "swa_num_key_value_heads", swaKvHeads);

        double gaTheta = f.ropeTheta("full_attention", "rope_theta", 5_000_000);
        double swaTheta = f.ropeTheta("sliding_attention", "swa_rope_theta", 10_000);
        if (!f.ropeScaling("full_attention").equals(RopeScaling.NONE)
                || !f.ropeScaling("sliding_attention").equals(RopeScaling.NONE)) {
            f.problem("field 'rope_scaling': MiMo-V2-Flash has no RoPE scaling (expected null)");
        }
        Double hubFactor = f.has("partial_rotary_factor")
                ? f.positiveNumber("partial_rotary_factor", 0.334, null) : null;
        int gaRotary = rotaryDim(f, hubFactor, "full_attention", headDim);
        int swaRotary = rotaryDim(f, hubFactor, "sliding_attention", swaHeadDim);
        String windowKey = f.has("sliding_window") ? "sliding_window" : "sliding_window_size";
        int window = f.positive(windowKey, 128, Integer.MAX_VALUE);
        boolean swaSink = f.bool("add_swa_attention_sink_bias", true);
        boolean gaSink = f.bool("add_full_attention_sink_bias", false);
        // transformers: absent means the 0.707 default, an explicit null means no scaling
        float valueScale = (float) f.positiveNumber("attention_value_scale", 0.707, 1.0);

        boolean[] sliding = f.layerFlags(layerCount, "hybrid_layer_pattern", "layer_types",
                "full_attention", "sliding_attention", i -> i != 0 && (i + 1) % 6 != 0);
        boolean[] moe = f.layerFlags(layerCount, "moe_layer_freq", "mlp_layer_types", "dense", "sparse",
                i -> i != 0);

        Optional<ModelConfig.Quantization> quantization = f.quantization();
        Optional<Integer> bos = f.bosTokenId(Optional.of(1)); // transformers' default
        List<Integer> eos = f.eosTokenIds();
        boolean tie = f.bool("tie_word_embeddings", false);
        int maxPositions = f.positive("max_position_embeddings", 131072, Integer.MAX_VALUE);
        boolean normTopkProb = f.bool("norm_topk_prob", true);
        String scoringFunc = f.string("scoring_func", "sigmoid");
        String topkMethod = f.string("topk_method", "noaux_tc");
        List<LayerSpec> layers = new ArrayList<>(layerCount);
        for (int i = 0; i < layerCount; i++) {
            layers.add(sliding[i]
                    ? new LayerSpec(i, AttentionKind.SLIDING_WINDOW, swaHeads, swaKvHeads, swaHeadDim,
                            swaValueHeadDim, swaRotary, swaTheta, window, swaSink, valueScale, moe[i])
                    : new LayerSpec(i, AttentionKind.GLOBAL, heads, kvHeads, headDim, valueHeadDim, gaRotary,
                            gaTheta, 0, gaSink, valueScale, moe[i]));
        }
        // MTP blocks: sliding-window attention shaped like the SWA layers, dense MLP
        List<LayerSpec> mtp = new ArrayList<>(f.mtpLayers());
        for (int k = 0; k < f.mtpLayers(); k++) {
            mtp.add(new LayerSpec(layerCount + k, AttentionKind.SLIDING_WINDOW, swaHeads, swaKvHeads, swaHeadDim,
                    swaValueHeadDim, swaRotary, swaTheta, window, swaSink, valueScale, false));
        }
        return new ModelConfig(f.architecture(), hidden, vocab, layerCount, intermediate, moeIntermediate, experts,
                topk, scoringFunc, topkMethod, nGroup, topkGroup, normTopkProb, scaling, eps, maxPositions, tie,
                List.copyOf(layers), List.copyOf(mtp), quantization, bos, eos);
    }

    /** {@code int(headDim * factor)}; the hub's one {@code partial_rotary_factor} or the native per-type one. */
    private static int rotaryDim(ConfigFields f, Double hubFactor, String layerType, int headDim) {
        String key = hubFactor != null ? "partial_rotary_factor"
                : "rope_parameters." + layerType + ".partial_rotary_factor";
        double factor = hubFactor != null ? hubFactor : f.ropeParameter(layerType, "partial_rotary_factor", 0.334);
        int dim = (int) (headDim * factor); // Python's int(): truncation
        if (!(factor > 0 && factor <= 1) || dim < 2 || dim % 2 != 0) {
            f.problem("field '" + key + "': " + factor + " gives rotary dim " + dim
                    + " of head dim " + headDim + ", which must be even, at least 2 and at most the head dim");
        }
        return dim;
    }

    static void divisible(ConfigFields f, String headsKey, int heads, String kvKey, int kv) {
        if (kv > 0 && heads % kv != 0) {
            f.problem("field '" + kvKey + "': " + kv + " does not divide " + headsKey + " " + heads);
        }
    }
}
