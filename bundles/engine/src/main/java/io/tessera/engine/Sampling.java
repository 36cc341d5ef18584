package io.tessera.engine;

import io.tessera.api.model.TokenLogprob;
import java.util.Arrays;
import java.util.Map;

/**
 * Host-side sampling, as {@code KernelBackend.sample} draws (softmax of logits / temperature; the ids by descending
 * probability, lower id first on ties; the top-k of them, then the shortest prefix reaching top-p of their mass;
 * the first id whose cumulative mass exceeds u × that prefix's), and the uniform number u of each position. u
 * depends only on the request's seed and the position, never on the steps or drafts that led there: a draft drawn
 * with the position's u is accepted exactly when the model draws the same id with it, so every token is the one
 * plain sampling would draw, whatever the draft length the policy chose (see {@code SpeculativeDecoding#verify}).
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
     * The uniform number in [0, 1) of the token at {@code position} of a request seeded {@code seed}: 24 bits of
     * SplitMix64's finaliser over the pair, exactly representable as a float (the backends take floats).
     */
    static float uniform(long seed, int position) {
        long z = seed + (position + 1L) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 40) / (float) (1 << 24);
    }

    /** The id drawn from {@code logits} with {@code u}, as the backends' sample draws it; temperature 0: argmax. */
    int sample(float[] logits, int length, float temperature, int topK, float topP, float u) {
        int best = argmax(logits, length);
        if (temperature == 0 || Float.isNaN(logits[best])) {
            return best;
        }
        float max = logits[best];
        if (keys.length < length) {
            keys = new long[length];
        }
        double all = 0;
        for (int i = 0; i < length; i++) {
            float p = (float) Math.exp((logits[i] - max) / temperature);
            all += p;
            // non-negative floats sort like their bits; the low half makes ties prefer the lower id
            keys[i] = ((long) Float.floatToIntBits(p) << 32) | (length - 1 - i);
        }
        Arrays.sort(keys, 0, length);
        int kept = topK > 0 ? Math.min(topK, length) : length;
        double total = all;
        if (kept < length) {
            total = 0;
            for (int j = 0; j < kept; j++) {
                total += probability(length, j);
            }
        }
        double prefix = total;
        if (topP < 1) {
            prefix = 0;
            int n = 0;
            while (n < kept && (n == 0 || prefix < topP * total)) {
                prefix += probability(length, n++);
            }
            kept = n;
        }
        double target = u * prefix;
        double cumulative = 0;
        for (int j = 0; j < kept; j++) {
            cumulative += probability(length, j);
            if (target < cumulative) {
                return id(length, j);
            }
        }
        return id(length, kept - 1);   // rounding left the sum a hair under the target
    }

    /** The unnormalised probability of the j-th most likely id of the last {@link #sample}. */
    private float probability(int length, int j) {
        return Float.intBitsToFloat((int) (keys[length - 1 - j] >>> 32));
    }

    private int id(int length, int j) {
        return length - 1 - (int) (keys[length - 1 - j] & 0xffffffffL);
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
