package io.tessera.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.checkpoint.AttentionKind;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Parses a MiMo-V2-Flash {@code config.json}: the hub spelling (remote-code keys, spec §1) or the
 * transformers-native one ({@code layer_types}, {@code mlp_layer_types}, {@code rope_parameters},
 * {@code rms_norm_eps}). A key that is absent takes the default of transformers' {@code mimo_v2_flash}
 * (spec §11). Every problem found is reported at once, each naming its field.
 */
final class ConfigParser {
    /** Far above any real model; caps what a hostile config can make the loader allocate or enumerate. */
    static final int MAX_LAYERS = 1024;
    static final int MAX_EXPERTS = 4096;
    private final Path file;
    private final JsonNode root;
    private final List<String> problems = new ArrayList<>();

    private ConfigParser(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    /**
     * @param mtpLayers MTP blocks found in the tensor index (0 for a config-only read)
     */
    static ModelConfig parse(Path file, JsonNode root, int mtpLayers) throws CheckpointException {
        return new ConfigParser(file, root).parse(mtpLayers);
    }

    private ModelConfig parse(int mtpLayers) throws CheckpointException {
        String architecture = root.path("architectures").path(0).asText(string("model_type", "MiMoV2FlashForCausalLM"));
        int hidden = positive("hidden_size", 4096);
        int vocab = positive("vocab_size", 152576);
        int layerCount = atMost("num_hidden_layers", positive("num_hidden_layers", 48), MAX_LAYERS);
        int intermediate = positive("intermediate_size", 16384);
        int moeIntermediate = positive("moe_intermediate_size", 2048);
        String expertsKey = root.has("n_routed_experts") ? "n_routed_experts" : "num_local_experts";
        int experts = atMost(expertsKey, positive(expertsKey, 256), MAX_EXPERTS);
        int topk = positive("num_experts_per_tok", 8);
        int nGroup = positive("n_group", 1);
        int topkGroup = positive("topk_group", 1);
        if (topk > experts) {
            problems.add("field 'num_experts_per_tok': " + topk + " exceeds " + expertsKey + " " + experts);
        }
        if (experts % nGroup != 0) {
            problems.add("field 'n_group': " + nGroup + " does not divide " + expertsKey + " " + experts);
        }
        if (topkGroup > nGroup) {
            problems.add("field 'topk_group': " + topkGroup + " exceeds n_group " + nGroup);
        }
        double scaling = positiveNumber("routed_scaling_factor", 1.0, 1.0);
        String epsKey = root.has("layernorm_epsilon") ? "layernorm_epsilon" : "rms_norm_eps";
        double eps = positiveNumber(epsKey, 1e-5, 1e-5);
        unsupported();

        int heads = positive("num_attention_heads", 64);
        int kvHeads = positive("num_key_value_heads", 4);
        int headDim = positive("head_dim", 192);
        int valueHeadDim = positive("v_head_dim", 128);
        // transformers: SWA layers have twice the GA kv heads, and the GA head counts and dims otherwise
        int swaHeads = positive("swa_num_attention_heads", heads);
        int swaKvHeads = positive("swa_num_key_value_heads", 2 * kvHeads);
        int swaHeadDim = positive("swa_head_dim", headDim);
        int swaValueHeadDim = positive("swa_v_head_dim", valueHeadDim);
        divisible("num_attention_heads", heads, "num_key_value_heads", kvHeads);
        divisible("swa_num_attention_heads", swaHeads, "swa_num_key_value_heads", swaKvHeads);

        JsonNode rope = root.path("rope_parameters");
        double gaTheta = positiveNumber("rope_theta", ropeParameter(rope, "full_attention", "rope_theta", 5_000_000), null);
        double swaTheta = positiveNumber("swa_rope_theta", ropeParameter(rope, "sliding_attention", "rope_theta", 10_000), null);
        Double hubFactor = root.has("partial_rotary_factor") ? number("partial_rotary_factor", 0.334, null) : null;
        int gaRotary = rotaryDim(hubFactor, "full_attention", headDim);
        int swaRotary = rotaryDim(hubFactor, "sliding_attention", swaHeadDim);
        String windowKey = root.has("sliding_window") ? "sliding_window" : "sliding_window_size";
        int window = positive(windowKey, 128);
        boolean swaSink = bool("add_swa_attention_sink_bias", true);
        boolean gaSink = bool("add_full_attention_sink_bias", false);
        // transformers: absent means the 0.707 default, an explicit null means no scaling
        float valueScale = (float) positiveNumber("attention_value_scale", 0.707, 1.0);

        boolean[] sliding = layerFlags(layerCount, "hybrid_layer_pattern", "layer_types",
                "full_attention", "sliding_attention", i -> i != 0 && (i + 1) % 6 != 0);
        boolean[] moe = layerFlags(layerCount, "moe_layer_freq", "mlp_layer_types", "dense", "sparse", i -> i != 0);

        Optional<ModelConfig.Quantization> quantization = quantization();
        JsonNode bosNode = root.path("bos_token_id");
        Optional<Integer> bos = bosNode.isMissingNode() ? Optional.of(1) // transformers' default
                : bosNode.isNull() ? Optional.empty() : Optional.of(tokenId("bos_token_id", bosNode));
        List<Integer> eos = eosTokenIds();
        boolean tie = bool("tie_word_embeddings", false);
        int maxPositions = positive("max_position_embeddings", 131072);
        boolean normTopkProb = bool("norm_topk_prob", true);
        String scoringFunc = string("scoring_func", "sigmoid");
        String topkMethod = string("topk_method", "noaux_tc");
        ModelConfig config = null;
        if (problems.isEmpty()) {
            List<LayerSpec> layers = new ArrayList<>(layerCount);
            for (int i = 0; i < layerCount; i++) {
                layers.add(sliding[i]
                        ? new LayerSpec(i, AttentionKind.SLIDING_WINDOW, swaHeads, swaKvHeads, swaHeadDim,
                                swaValueHeadDim, swaRotary, swaTheta, window, swaSink, valueScale, moe[i])
                        : new LayerSpec(i, AttentionKind.GLOBAL, heads, kvHeads, headDim, valueHeadDim, gaRotary,
                                gaTheta, 0, gaSink, valueScale, moe[i]));
            }
            // MTP blocks: sliding-window attention shaped like the SWA layers, dense MLP
            List<LayerSpec> mtp = new ArrayList<>(mtpLayers);
            for (int k = 0; k < mtpLayers; k++) {
                mtp.add(new LayerSpec(layerCount + k, AttentionKind.SLIDING_WINDOW, swaHeads, swaKvHeads, swaHeadDim,
                        swaValueHeadDim, swaRotary, swaTheta, window, swaSink, valueScale, false));
            }
            config = new ModelConfig(architecture, hidden, vocab, layerCount, intermediate, moeIntermediate, experts,
                    topk, scoringFunc, topkMethod, nGroup, topkGroup, normTopkProb, scaling, eps, maxPositions, tie, List.copyOf(layers),
                    List.copyOf(mtp), quantization, bos, eos);
        }
        if (!problems.isEmpty()) {
            throw new CheckpointException(file, problems, null);
        }
        return config;
    }

    /** Keys of spec §1 whose non-default values this runtime does not implement. */
    private void unsupported() {
        if (!string("hidden_act", "silu").equals("silu")) {
            problems.add("field 'hidden_act': only silu is supported");
        }
        if (bool("attention_bias", false)) {
            problems.add("field 'attention_bias': attention biases are not supported");
        }
        JsonNode shared = root.path("n_shared_experts");
        if (!shared.isMissingNode() && !shared.isNull() && !(shared.canConvertToExactIntegral() && shared.asInt() == 0)) {
            problems.add("field 'n_shared_experts': shared experts are not supported (expected null)");
        }
        JsonNode scaling = root.path("rope_scaling");
        if (!scaling.isMissingNode() && !scaling.isNull()) {
            problems.add("field 'rope_scaling': RoPE scaling is not supported (expected null)");
        }
    }

    /** {@code int(headDim * factor)}; the hub's one {@code partial_rotary_factor} or the native per-type one. */
    private int rotaryDim(Double hubFactor, String layerType, int headDim) {
        double factor;
        String key;
        if (hubFactor != null) {
            key = "partial_rotary_factor";
            factor = hubFactor;
        } else {
            key = "rope_parameters." + layerType + ".partial_rotary_factor";
            factor = ropeParameter(root.path("rope_parameters"), layerType, "partial_rotary_factor", 0.334);
        }
        int dim = (int) (headDim * factor); // Python's int(): truncation
        if (!(factor > 0 && factor <= 1) || dim < 2 || dim % 2 != 0) {
            problems.add("field '" + key + "': " + factor + " gives rotary dim " + dim
                    + " of head dim " + headDim + ", which must be even, at least 2 and at most the head dim");
        }
        return dim;
    }

    /** A value of {@code rope_parameters}: per layer type ({@code {"full_attention": {...}}}) or flat. */
    private double ropeParameter(JsonNode rope, String layerType, String key, double fallback) {
        JsonNode perType = rope.path(layerType);
        JsonNode value = perType.isObject() ? perType.path(key) : rope.path(key);
        if (value.isMissingNode() || value.isNull()) {
            return fallback;
        }
        if (!value.isNumber()) {
            problems.add("field 'rope_parameters." + layerType + "." + key + "': expected a number, got " + kind(value));
            return fallback;
        }
        return value.asDouble();
    }

    /**
     * A per-layer flag from the hub list of 0/1 ints or the native list of names; absent: the transformers rule.
     */
    private boolean[] layerFlags(int layers, String hubKey, String nativeKey, String falseName, String trueName,
                                 java.util.function.IntPredicate rule) {
        boolean[] flags = new boolean[layers];
        String key = root.has(hubKey) ? hubKey : nativeKey;
        JsonNode list = root.path(key);
        if (list.isMissingNode() || list.isNull()) {
            for (int i = 0; i < layers; i++) {
                flags[i] = rule.test(i);
            }
            return flags;
        }
        if (!list.isArray() || list.size() != layers) {
            problems.add("field '" + key + "': expected a list of num_hidden_layers (" + layers + ") entries, got "
                    + (list.isArray() ? list.size() + " entries" : kind(list)));
            return flags;
        }
        for (int i = 0; i < layers; i++) {
            JsonNode v = list.get(i);
            if (key.equals(hubKey) && v.canConvertToExactIntegral() && (v.asInt() == 0 || v.asInt() == 1)) {
                flags[i] = v.asInt() == 1;
            } else if (key.equals(nativeKey) && v.isTextual() && (v.asText().equals(falseName) || v.asText().equals(trueName))) {
                flags[i] = v.asText().equals(trueName);
            } else {
                problems.add("field '" + key + "[" + i + "]': expected " + (key.equals(hubKey) ? "0 or 1"
                        : "\"" + falseName + "\" or \"" + trueName + "\"") + ", got " + kind(v));
            }
        }
        return flags;
    }

    private Optional<ModelConfig.Quantization> quantization() {
        JsonNode q = root.path("quantization_config");
        if (q.isMissingNode() || q.isNull()) {
            return Optional.empty();
        }
        if (!q.isObject()) {
            problems.add("field 'quantization_config': expected an object, got " + kind(q));
            return Optional.empty();
        }
        String method = q.path("quant_method").asText("fp8");
        String format = q.path("fmt").asText("e4m3");
        if (!method.equals("fp8") || !format.equals("e4m3")) {
            problems.add("field 'quantization_config': only quant_method fp8 with fmt e4m3 is supported, got "
                    + method + "/" + format);
        }
        int rows = 128;
        int cols = 128;
        JsonNode block = q.path("weight_block_size");
        if (!block.isMissingNode()) {
            if (block.isArray() && block.size() == 2 && isPositiveInt(block.get(0)) && isPositiveInt(block.get(1))) {
                rows = block.get(0).asInt();
                cols = block.get(1).asInt();
            } else {
                problems.add("field 'quantization_config.weight_block_size': expected two positive integers, got " + kind(block));
            }
        }
        List<String> ignored = new ArrayList<>();
        JsonNode list = q.path("ignored_layers");
        if (!list.isMissingNode() && !list.isNull()) {
            if (list.isArray()) {
                list.forEach(n -> ignored.add(n.asText()));
            } else {
                problems.add("field 'quantization_config.ignored_layers': expected a list, got " + kind(list));
            }
        }
        return Optional.of(new ModelConfig.Quantization(method, format, rows, cols, List.copyOf(ignored)));
    }

    private List<Integer> eosTokenIds() {
        JsonNode eos = root.path("eos_token_id");
        List<Integer> ids = new ArrayList<>();
        if (eos.isArray()) {
            eos.forEach(n -> ids.add(tokenId("eos_token_id", n)));
        } else if (!eos.isMissingNode() && !eos.isNull()) {
            ids.add(tokenId("eos_token_id", eos));
        }
        return List.copyOf(ids);
    }

    private int tokenId(String key, JsonNode v) {
        if (!v.canConvertToExactIntegral() || !v.canConvertToInt() || v.asInt() < 0) {
            problems.add("field '" + key + "': expected a non-negative integer token id, got " + kind(v));
            return 0;
        }
        return v.asInt();
    }

    private void divisible(String headsKey, int heads, String kvKey, int kv) {
        if (kv > 0 && heads % kv != 0) {
            problems.add("field '" + kvKey + "': " + kv + " does not divide " + headsKey + " " + heads);
        }
    }

    private int positive(String key, int fallback) {
        JsonNode v = root.path(key);
        if (v.isMissingNode() || v.isNull()) {
            return fallback;
        }
        if (!isPositiveInt(v)) {
            problems.add("field '" + key + "': expected a positive integer, got " + kind(v));
            return fallback;
        }
        return v.asInt();
    }

    private int atMost(String key, int value, int max) {
        if (value > max) {
            problems.add("field '" + key + "': " + value + " is more than the supported " + max);
            return max;
        }
        return value;
    }

    private static boolean isPositiveInt(JsonNode v) {
        return v.canConvertToExactIntegral() && v.canConvertToInt() && v.asInt() > 0;
    }

    /** A finite positive number; absent: {@code fallback}; JSON null: {@code ifNull} (null: same as absent). */
    private double positiveNumber(String key, double fallback, Double ifNull) {
        double value = number(key, fallback, ifNull);
        if (!(value > 0) || Double.isInfinite(value)) {
            problems.add("field '" + key + "': expected a positive number, got " + value);
            return fallback;
        }
        return value;
    }

    private double number(String key, double fallback, Double ifNull) {
        JsonNode v = root.path(key);
        if (v.isMissingNode()) {
            return fallback;
        }
        if (v.isNull()) {
            return ifNull != null ? ifNull : fallback;
        }
        if (!v.isNumber()) {
            problems.add("field '" + key + "': expected a number, got " + kind(v));
            return fallback;
        }
        return v.asDouble();
    }

    private boolean bool(String key, boolean fallback) {
        JsonNode v = root.path(key);
        if (v.isMissingNode() || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            problems.add("field '" + key + "': expected true or false, got " + kind(v));
            return fallback;
        }
        return v.asBoolean();
    }

    private String string(String key, String fallback) {
        JsonNode v = root.path(key);
        if (v.isMissingNode() || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            problems.add("field '" + key + "': expected a string, got " + kind(v));
            return fallback;
        }
        return v.asText();
    }

    /** The JSON type of a value, for messages (values themselves may be huge). */
    private static String kind(JsonNode v) {
        String text = v.isContainerNode() ? v.getNodeType().name().toLowerCase() : v.toString();
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
