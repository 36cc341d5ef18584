package io.tessera.shell;

import java.util.Arrays;

/** Small helpers the commands share: parsing ids, log-probabilities. */
final class Models {
    private Models() {
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
