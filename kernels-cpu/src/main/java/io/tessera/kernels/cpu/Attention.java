package io.tessera.kernels.cpu;

import io.tessera.api.kernel.AttentionParams;
import java.util.Arrays;

/**
 * Attention of one step's rows over their sequences' KV (already written), one part per (row, query head):
 * scores, a softmax with the optional per-head sink as an extra logit, the weighted sum of values.
 */
final class Attention implements WorkerPool.Task {
    private final float[][] scores;
    // the call in progress
    CpuRows rows;
    CpuKv cache;
    AttentionParams p;
    float[] sinks;
    float[] q, out;

    Attention(int threads) {
        scores = new float[threads][0];
    }

    /** Grows each worker's score scratch to {@code keys}; before the parallel region. */
    void reserve(int keys) {
        for (int w = 0; w < scores.length; w++) {
            if (scores[w].length < keys) {
                scores[w] = new float[keys];
            }
        }
    }

    @Override
    public void run(int part, int worker) {
        int heads = p.heads();
        int r = part / heads;
        int h = part % heads;
        int kh = h / (heads / p.kvHeads());
        int kd = p.keyDim();
        int vd = p.valueDim();
        int pos = rows.positions[r];
        int first = p.window() == 0 ? 0 : Math.max(0, pos - p.window() + 1);
        float[] s = scores[worker];
        int qo = (r * heads + h) * kd;
        float sink = sinks == null ? Float.NEGATIVE_INFINITY : sinks[h];
        float max = sink;
        for (int j = first; j <= pos; j++) {
            int slot = rows.slot(r, j);
            float a = VectorMath.dot(q, qo, cache.keys, (slot * p.kvHeads() + kh) * kd, kd) * p.scale();
            s[j - first] = a;
            max = Math.max(max, a);
        }
        float sum = sinks == null ? 0 : (float) Math.exp(sink - max);
        for (int j = 0; j <= pos - first; j++) {
            s[j] = (float) Math.exp(s[j] - max);
            sum += s[j];
        }
        int oo = (r * heads + h) * vd;
        Arrays.fill(out, oo, oo + vd, 0f);
        for (int j = first; j <= pos; j++) {
            VectorMath.axpy(s[j - first], cache.values, (rows.slot(r, j) * p.kvHeads() + kh) * vd, out, oo, vd);
        }
        VectorMath.scale(out, oo, vd, 1 / sum);
    }
}
