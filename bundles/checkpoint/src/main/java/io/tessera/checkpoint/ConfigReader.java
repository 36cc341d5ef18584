package io.tessera.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.tessera.api.checkpoint.ConfigFields;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.checkpoint.RopeScaling;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.IntPredicate;

/**
 * The fields of one {@code config.json} for the model architecture that maps them ({@link ConfigFields}): typed
 * getters that record every problem (each naming its field) instead of failing at the first, and the spellings
 * the families share parsed once: RoPE from {@code rope_parameters} (transformers 5, flat or per layer type) or
 * {@code rope_theta} + {@code rope_scaling} ({@code rope_type} or the older {@code type}), FP8 block
 * {@code quantization_config}, token ids.
 */
final class ConfigReader implements ConfigFields {
    private final Path file;
    private final JsonNode root;
    private final int mtpLayers;
    private final List<String> problems = new ArrayList<>();

    ConfigReader(Path file, JsonNode root, int mtpLayers) {
        this.file = file;
        this.root = root;
        this.mtpLayers = mtpLayers;
    }

    /** The problems recorded so far. */
    List<String> problems() {
        return problems;
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public String architecture() {
        JsonNode first = root.path("architectures").path(0);
        return first.isTextual() ? first.asText() : modelType();
    }

    /** {@code model_type}, or null. */
    String modelType() {
        JsonNode type = root.path("model_type");
        return type.isTextual() ? type.asText() : null;
    }

    @Override
    public int mtpLayers() {
        return mtpLayers;
    }

    @Override
    public boolean has(String key) {
        return root.has(key);
    }

    @Override
    public int positive(String key, int fallback, int max) {
        int value = positive(key, fallback);
        if (value > max) {
            problems.add("field '" + key + "': " + value + " is more than the supported " + max);
            return max;
        }
        return value;
    }

    @Override
    public List<Integer> integers(String key) {
        JsonNode list = root.path(key);
        List<Integer> values = new ArrayList<>();
        if (list.isMissingNode() || list.isNull()) {
            return values;
        }
        if (!list.isArray()) {
            problems.add("field '" + key + "': expected a list of integers, got " + kind(list));
            return values;
        }
        for (JsonNode v : list) {
            if (v.canConvertToExactIntegral() && v.canConvertToInt() && v.asInt() >= 0) {
                values.add(v.asInt());
            } else {
                problems.add("field '" + key + "': expected non-negative integers, got " + kind(v));
            }
        }
        return values;
    }

    @Override
    public void expect(String key, Object expected, String why) {
        JsonNode v = root.path(key);
        if (v.isMissingNode() || v.isNull()) {
            return;
        }
        boolean same = expected instanceof Boolean b ? v.isBoolean() && v.asBoolean() == b
                : expected instanceof Number n ? v.isNumber() && v.asDouble() == n.doubleValue()
                : v.isTextual() && v.asText().equals(String.valueOf(expected));
        if (!same) {
            problems.add("field '" + key + "': " + why + " (expected " + expected + ", got " + kind(v) + ")");
        }
    }

    @Override
    public void problem(String message) {
        problems.add(message);
    }

    @Override
    public double ropeTheta(String layerType, String hubKey, double fallback) {
        return positiveNumber(hubKey, ropeParameter(layerType, "rope_theta", fallback), null);
    }

    @Override
    public RopeScaling ropeScaling(String layerType) {
        JsonNode parameters = root.path("rope_parameters");
        JsonNode perType = parameters.path(layerType);
        String key = perType.isObject() ? "rope_parameters." + layerType : "rope_parameters";
        JsonNode rope = perType.isObject() ? perType : parameters;
        if (rope.isMissingNode() || rope.isNull()) {
            key = "rope_scaling";
            rope = root.path(key);
        }
        if (rope.isMissingNode() || rope.isNull()) {
            return RopeScaling.NONE;
        }
        if (!rope.isObject()) {
            problems.add("field '" + key + "': expected an object, got " + kind(rope));
            return RopeScaling.NONE;
        }
        JsonNode typeNode = rope.has("rope_type") ? rope.path("rope_type") : rope.path("type");
        String type = typeNode.isTextual() ? typeNode.asText() : "default";
        Map<String, Double> numbers = new TreeMap<>();
        rope.properties().forEach(e -> {
            if (e.getValue().isNumber() && !e.getKey().equals("rope_theta")
                    && !e.getKey().equals("partial_rotary_factor")) {
                numbers.put(e.getKey(), e.getValue().asDouble());
            }
        });
        RopeScaling scaling = new RopeScaling(type, numbers);
        try {
            scaling.inverseFrequencies(10_000, 2);   // refuses unknown types and missing parameters now
        } catch (IllegalArgumentException e) {
            problems.add("field '" + key + "': " + e.getMessage());
            return RopeScaling.NONE;
        }
        return scaling;
    }

    @Override
    public double ropeParameter(String layerType, String key, double fallback) {
        JsonNode rope = root.path("rope_parameters");
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
    @Override
    public boolean[] layerFlags(int layers, String hubKey, String nativeKey, String falseName, String trueName,
                                IntPredicate rule) {
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

    @Override
    public Optional<ModelConfig.Quantization> quantization() {
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
        if (method.equals("compressed-tensors")) {
            problems.add("field 'quantization_config': compressed-tensors checkpoints (per-channel FP8 or INT) are "
                    + "not supported; use the FP8 block format (quant_method fp8, weight_block_size)");
            return Optional.empty();
        }
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

    @Override
    public Optional<Integer> bosTokenId(Optional<Integer> fallback) {
        JsonNode bos = root.path("bos_token_id");
        return bos.isMissingNode() ? fallback : bos.isNull() ? Optional.empty() : Optional.of(tokenId("bos_token_id", bos));
    }

    @Override
    public List<Integer> eosTokenIds() {
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

    private static boolean isPositiveInt(JsonNode v) {
        return v.canConvertToExactIntegral() && v.canConvertToInt() && v.asInt() > 0;
    }

    @Override
    public double positiveNumber(String key, double fallback, Double ifNull) {
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

    @Override
    public boolean bool(String key, boolean fallback) {
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

    @Override
    public String string(String key, String fallback) {
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
