package io.tessera.api.checkpoint;

import java.util.Map;

/**
 * How a layer's RoPE frequencies are derived from its base {@code theta}: the {@code rope_type} of
 * {@code rope_parameters} (transformers 5) or of {@code rope_scaling} (older configs, also spelled {@code type}),
 * with its numeric parameters. The kernels only see the resulting inverse-frequency table
 * ({@link #inverseFrequencies}), so a scaling rule is a table, not an op.
 *
 * @param type       {@code default}, {@code linear} or {@code llama3}
 * @param parameters the rule's numbers: {@code factor}; for llama3 also {@code low_freq_factor},
 *                   {@code high_freq_factor}, {@code original_max_position_embeddings}
 */
public record RopeScaling(String type, Map<String, Double> parameters) {
    /** No scaling: {@code theta^(−2d/rotaryDim)}. */
    public static final RopeScaling NONE = new RopeScaling("default", Map.of());

    public RopeScaling {
        parameters = Map.copyOf(parameters);
    }

    /**
     * The {@code rotaryDim / 2} inverse frequencies, in double, as transformers' {@code ROPE_INIT_FUNCTIONS}
     * define them for this type.
     *
     * @throws IllegalArgumentException for a type other than those above or a missing parameter
     */
    public double[] inverseFrequencies(double theta, int rotaryDim) {
        double[] inv = new double[rotaryDim / 2];
        for (int d = 0; d < inv.length; d++) {
            inv[d] = Math.pow(theta, -2.0 * d / rotaryDim);
        }
        switch (type) {
            case "default" -> { }
            case "linear" -> {
                double factor = parameter("factor");
                for (int d = 0; d < inv.length; d++) {
                    inv[d] /= factor;
                }
            }
            case "llama3" -> llama3(inv);
            default -> throw new IllegalArgumentException("rope_type '" + type
                    + "' is not supported (supported: default, linear, llama3)");
        }
        return inv;
    }

    /** transformers' {@code _compute_llama3_parameters}: long wavelengths slowed by factor, a smooth band between. */
    private void llama3(double[] inv) {
        double factor = parameter("factor");
        double low = parameter("low_freq_factor");
        double high = parameter("high_freq_factor");
        double context = parameter("original_max_position_embeddings");
        double lowWavelen = context / low;
        double highWavelen = context / high;
        for (int d = 0; d < inv.length; d++) {
            double wavelen = 2 * Math.PI / inv[d];
            if (wavelen > lowWavelen) {
                inv[d] /= factor;
            } else if (wavelen >= highWavelen) {
                double smooth = (context / wavelen - low) / (high - low);
                inv[d] = (1 - smooth) * inv[d] / factor + smooth * inv[d];
            }
        }
    }

    private double parameter(String key) {
        Double value = parameters.get(key);
        if (value == null) {
            throw new IllegalArgumentException("rope_type '" + type + "' needs '" + key + "'");
        }
        return value;
    }
}
