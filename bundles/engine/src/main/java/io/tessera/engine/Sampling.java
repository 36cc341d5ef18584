package io.tessera.engine;

import io.tessera.api.model.TokenLogprob;
import java.util.Arrays;
import java.util.Map;

/**
 * Host-side token distributions for speculative decoding: the filtering {@code KernelBackend.sample} applies
 * (softmax of logits / temperature, then the top-k most likely ids, then the smallest prefix of probability
 * ≥ top-p of what is left, renormalised), so speculative and plain sampling draw from the same distribution.
 * One instance per scheduler thread: it keeps its sort workspace.
 */
final class Sampling {
    private long[] keys = new long[0];

    /** The first index of the largest value (the first NaN if any, as the backends' argmax). */
    static int argmax(float[] logits, int length) {
        int best = 0;
        for (int i = 0; i < length; i++) {
            if (Float.isNaN(logits[i])) {
                return i;
            }
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Writes the filtered distribution into {@code probs} (zero outside the kept ids). Temperature 0 gives the
     * argmax with probability 1.
     */
    void distribution(float[] logits, int length, float temperature, int topK, float topP, float[] probs) {
        Arrays.fill(probs, 0, length, 0f);
        if (temperature == 0) {
            probs[argmax(logits, length)] = 1f;
            return;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < length; i++) {
            max = Math.max(max, logits[i]);
        }
        if (keys.length < length) {
            keys = new long[length];
        }
        for (int i = 0; i < length; i++) {
            float p = (float) Math.exp((logits[i] - max) / temperature);
            // non-negative floats sort like their bits; the low half makes ties prefer the lower id
            keys[i] = ((long) Float.floatToIntBits(p) << 32) | (length - 1 - i);
        }
        Arrays.sort(keys, 0, length);
        int kept = topK > 0 ? Math.min(topK, length) : length;
        double keptMass = 0;
        for (int j = 0; j < kept; j++) {
            keptMass += Float.intBitsToFloat((int) (keys[length - 1 - j] >>> 32));
        }
        double mass = 0;
        int n = 0;
        while (n < kept) {
            mass += Float.intBitsToFloat((int) (keys[length - 1 - n] >>> 32));
            n++;
            if (mass >= topP * keptMass) {
                break;
            }
        }
        for (int j = 0; j < n; j++) {
            long key = keys[length - 1 - j];
            probs[length - 1 - (int) (key & 0xffffffffL)] = (float) (Float.intBitsToFloat((int) (key >>> 32)) / mass);
        }
    }

    /**
     * Standard speculative sampling for one draft token {@code draft} drawn from {@code q}: accepted with
     * probability min(1, p/q) (using {@code accept} in [0, 1)); if rejected, a replacement is drawn from
     * norm(max(p − q, 0)) with {@code resample}, overwriting {@code p}. Returns −1 when accepted, else the
     * replacement. The output is distributed exactly as {@code p}.
     */
    static int speculate(float[] p, float[] q, int length, int draft, double accept, double resample) {
        if (accept * q[draft] < p[draft]) {
            return -1;
        }
        double total = 0;
        for (int v = 0; v < length; v++) {
            p[v] = Math.max(0f, p[v] - q[v]);
            total += p[v];
        }
        for (int v = 0; v < length; v++) {
            p[v] = (float) (p[v] / total);
        }
        return draw(p, length, resample);
    }

    /** The id where the cumulative probability first exceeds {@code u} (in [0, 1)). */
    static int draw(float[] probs, int length, double u) {
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < length; i++) {
            if (probs[i] > 0) {
                cumulative += probs[i];
                last = i;
                if (u < cumulative) {
                    return i;
                }
            }
        }
        return last;   // rounding left the sum a hair under u
    }

    /**
     * Applies OpenAI's penalties in place: {@code logit[t] −= count[t]·frequency + (count[t] > 0 ? presence : 0)},
     * where {@code count[t]} is how often {@code t} was generated so far.
     */
    static void penalize(float[] logits, int[] counts, float frequency, float presence) {
        for (int t = 0; t < counts.length; t++) {
            if (counts[t] > 0) {
                logits[t] -= counts[t] * frequency + presence;
            }
        }
    }

    /** Adds OpenAI's logit_bias to the given ids in place; whether there was any. */
    static boolean bias(float[] logits, Map<Integer, Float> bias) {
        for (Map.Entry<Integer, Float> e : bias.entrySet()) {
            logits[e.getKey()] += e.getValue();
        }
        return !bias.isEmpty();
    }

    /** The log-softmax of {@code logits} at {@code id}, and the {@code top} most likely ids (lower id on ties). */
    static TokenLogprob logprob(float[] logits, int length, int id, int top) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < length; i++) {
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (int i = 0; i < length; i++) {
            sum += Math.exp(logits[i] - max);
        }
        float logZ = (float) (max + Math.log(sum));
        int[] ids = new int[Math.min(top, length)];
        int n = 0;
        for (int i = 0; i < length && ids.length > 0; i++) {   // insertion into a short sorted list (top <= 20)
            if (n == ids.length && !(logits[i] > logits[ids[n - 1]])) {
                continue;
            }
            int j = n < ids.length ? n++ : n - 1;
            while (j > 0 && logits[i] > logits[ids[j - 1]]) {
                ids[j] = ids[j - 1];
                j--;
            }
            ids[j] = i;
        }
        float[] values = new float[ids.length];
        for (int j = 0; j < ids.length; j++) {
            values[j] = logits[ids[j]] - logZ;
        }
        return new TokenLogprob(id, logits[id] - logZ, ids, values);
    }
}
