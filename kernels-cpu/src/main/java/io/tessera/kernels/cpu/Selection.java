package io.tessera.kernels.cpu;

import static io.tessera.kernels.cpu.VectorMath.F;
import static io.tessera.kernels.cpu.VectorMath.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Picking ids from scores: expert routing (top-k), argmax and sampling (top-k, top-p); scratch grown on demand. */
final class Selection {
    private static final int BUCKETS = 1024;

    private float[] work = new float[0];
    private long[] order = new long[0];
    private final int[] bucketCount = new int[BUCKETS];
    private final double[] bucketMass = new double[BUCKETS];

    /** Selection order: higher first, NaN above everything (never hidden); callers keep ties to the lower index. */
    private static boolean before(float a, float b) {
        return a > b || (Float.isNaN(a) && !Float.isNaN(b));
    }

    /**
     * Sigmoid or softmax routing of {@code n} rows of {@code experts} logits (see {@code KernelBackend.route}):
     * {@code softmax} scores by a max-subtracted softmax over the row, else by σ.
     */
    void route(float[] logits, float[] bias, int n, int experts, int k, boolean softmax, boolean normalize,
               float scaling, boolean replay, int[] sel, float[] w) {
        float[] s = work(2 * experts);
        for (int r = 0; r < n; r++) {
            if (softmax) {
                softmax(logits, r * experts, experts, s);
            } else {
                for (int e = 0; e < experts; e++) {
                    s[e] = (float) (1 / (1 + Math.exp(-logits[r * experts + e])));
                }
            }
            for (int e = 0; e < experts; e++) {
                s[experts + e] = s[e] + (bias == null ? 0 : bias[e]);
            }
            int row = r * k;
            if (!replay) {
                for (int j = 0; j < k; j++) {
                    int best = -1;
                    for (int e = 0; e < experts; e++) {
                        if ((best < 0 || before(s[experts + e], s[experts + best])) && !taken(sel, row, j, e)) {
                            best = e;
                        }
                    }
                    sel[row + j] = best;
                }
            }
            float total = 0;
            for (int j = 0; j < k; j++) {
                int e = sel[row + j];
                if (e < 0 || e >= experts) {
                    throw new IllegalArgumentException("route: replayed expert id " + e + " in row " + r
                            + " outside [0, " + experts + ")");
                }
                total += s[e];
            }
            for (int j = 0; j < k; j++) {
                float sj = s[sel[row + j]];
                w[row + j] = (normalize ? sj / (total + 1e-20f) : sj) * scaling;
            }
        }
    }

    /** {@code s[0, n) = softmax(l[from, from + n))} in F32, max-subtracted, summed in index order. */
    private static void softmax(float[] l, int from, int n, float[] s) {
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < n; e++) {
            max = Math.max(max, l[from + e]);
        }
        float sum = 0;
        for (int e = 0; e < n; e++) {
            s[e] = (float) Math.exp(l[from + e] - max);
            sum += s[e];
        }
        for (int e = 0; e < n; e++) {
            s[e] /= sum;
        }
    }

    private static boolean taken(int[] sel, int from, int count, int e) {
        for (int j = 0; j < count; j++) {
            if (sel[from + j] == e) {
                return true;
            }
        }
        return false;
    }

    /** First index of the maximum, or of the first NaN: a vector max (NaN-propagating), then a scan for it. */
    static int argmax(float[] l, int from, int len) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += L) {
            mv = mv.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, l, from + i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < len; i++) {
            max = Math.max(max, l[from + i]);
        }
        for (i = 0; i < len; i++) {
            float x = l[from + i];
            if (x == max || (Float.isNaN(max) && Float.isNaN(x))) {
                return i;
            }
        }
        return 0; // all -Inf
    }

    /**
     * One id sampled from row {@code r} of {@code cols}-wide logits over ids below {@code v} (see {@code sample}).
     * The ids are only needed in descending order down to where the draw ends: they are counted into buckets by
     * the high bits of their probability first (a probability's bits order like it), and only the buckets above
     * that point are sorted, so a peaked distribution sorts a handful of ids, not the vocabulary.
     */
    int sample(float[] l, int r, int cols, int v, float temperature, int topK, float topP, float u) {
        int best = argmax(l, r * cols, v);
        float max = l[r * cols + best];
        if (temperature == 0 || Float.isNaN(max)) {
            return best;
        }
        float[] p = work(v);
        Arrays.fill(bucketCount, 0);
        Arrays.fill(bucketMass, 0);
        double all = 0;
        for (int i = 0; i < v; i++) {
            p[i] = (float) Math.exp((l[r * cols + i] - max) / temperature);
            int b = bucket(p[i]);
            bucketCount[b]++;
            bucketMass[b] += p[i];
            all += p[i];
        }
        int keep = topK > 0 ? Math.min(topK, v) : v;
        for (int lowest = firstBucket(keep, v, topP, u, all); ; lowest = below(lowest)) {
            int id = draw(p, collect(p, v, lowest), v, keep, topP, u, all, lowest == 0);
            if (id >= 0) {
                return id;
            }
        }
    }

    /** A probability's bucket: sign-free float bits, exponent and three mantissa bits (p ≤ 1: below 1024). */
    private static int bucket(float p) {
        return Float.floatToRawIntBits(p) >>> 20;
    }

    /**
     * The lowest bucket that by the buckets' counts and masses holds the end of the draw: the top-k boundary, else
     * the top-p boundary, else the point where the mass passes u; rounding may need one more ({@link #draw}).
     */
    private int firstBucket(int keep, int v, float topP, float u, double all) {
        double mass = 0;
        int count = 0;
        double target = topP < 1 ? topP * all : u * all;
        for (int b = BUCKETS - 1; b > 0; b--) {
            count += bucketCount[b];
            mass += bucketMass[b];
            if (keep < v ? count >= keep : mass >= target && count > 0) {
                return b;
            }
        }
        return 0;
    }

    /** Sorts the ids of buckets {@code >= lowest} into {@code order} (descending p, then ascending id); how many. */
    private int collect(float[] p, int v, int lowest) {
        if (order.length < v) {
            order = new long[v];
        }
        int n = 0;
        for (int i = 0; i < v; i++) {
            if (bucket(p[i]) >= lowest) {
                order[n++] = ((long) (Integer.MAX_VALUE - Float.floatToRawIntBits(p[i])) << 32) | i;
            }
        }
        Arrays.sort(order, 0, n);
        return n;
    }

    /**
     * The contract's draw over the first {@code n} ids in order: keep {@code keep}, then the shortest prefix
     * reaching {@code topP} of their mass, then the first id whose cumulative mass exceeds {@code u} × the
     * prefix's. −1 when those ids end before the draw does and there are more ({@code complete} false).
     */
    private int draw(float[] p, int n, int v, int keep, float topP, float u, double all, boolean complete) {
        if (keep < v && n < keep && !complete) {
            return -1;
        }
        double total = all;
        if (keep < v) {
            total = 0;
            for (int i = 0; i < keep; i++) {
                total += p[(int) order[i]];
            }
        }
        int limit = Math.min(keep, n);
        int kept = limit;
        double prefix = total;
        boolean whole = keep < v || complete;     // ids [0, kept) are the whole kept prefix
        if (topP < 1) {
            prefix = 0;
            kept = 0;
            while (kept < limit && (kept == 0 || prefix < topP * total)) {
                prefix += p[(int) order[kept++]];
            }
            whole |= prefix >= topP * total;
            if (!whole) {
                return -1;
            }
        }
        double target = u * prefix;
        double cumulative = 0;
        for (int i = 0; i < kept; i++) {
            cumulative += p[(int) order[i]];
            if (target < cumulative) {
                return (int) order[i];
            }
        }
        return whole ? (int) order[kept - 1] : -1;
    }

    /** The highest non-empty bucket below {@code b}, or 0. */
    private int below(int b) {
        do {
            b--;
        } while (b > 0 && bucketCount[b] == 0);
        return Math.max(b, 0);
    }

    private float[] work(int size) {
        if (work.length < size) {
            work = new float[size];
        }
        return work;
    }
}
