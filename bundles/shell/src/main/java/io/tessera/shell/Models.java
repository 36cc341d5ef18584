package io.tessera.shell;

import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import java.util.Arrays;
import java.util.List;

/** Small helpers the commands share: choosing a model, parsing ids, log-probabilities. */
final class Models {
    private Models() {
    }

    /** The model named, or the only loaded one when none is named. */
    static String pick(ModelRegistry registry, String name) {
        if (!name.isEmpty()) {
            return name;
        }
        List<ModelInfo> models = registry.models();
        if (models.size() != 1) {
            throw new IllegalArgumentException(models.isEmpty() ? "no model loaded (model:load <dir>)"
                    : "several models loaded: name one with --model");
        }
        return models.get(0).name();
    }

    /** Ids separated by commas and/or whitespace. */
    static int[] parseIds(String text) {
        String[] parts = text.trim().split("[,\\s]+");
        try {
            return Arrays.stream(parts).filter(p -> !p.isEmpty()).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ids: expected integers separated by commas or spaces, got '"
                    + e.getMessage().replace("For input string: ", "") + "'");
        }
    }

    /** {@code log softmax(logits)[target]}, in double. */
    static double logSoftmax(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        return logits[target] - max - Math.log(sum);
    }
}
