package io.tessera.kernels.cpu;

/**
 * The cosines and sines of one step's rows, computed once per (rows, inverse-frequency table) instead of in every
 * layer for q and k: two entries, as a model has at most two RoPE settings (global and sliding layers).
 */
final class RopeTable {
    private final Entry[] entries = {new Entry(), new Entry()};
    private int next;

    private static final class Entry {
        CpuRows rows;
        double[] inverseFrequencies;
        float[] cs = new float[0];
    }

    /**
     * Per row of {@code rows}: {@code half} cosines, then as many sines, of {@code position · inverseFrequencies[d]}
     * ({@code half = inverseFrequencies.length}).
     */
    float[] angles(CpuRows rows, double[] inverseFrequencies) {
        for (Entry e : entries) {
            if (e.rows == rows && java.util.Arrays.equals(e.inverseFrequencies, inverseFrequencies)) {
                return e.cs;
            }
        }
        Entry e = entries[next];
        next = 1 - next;
        int half = inverseFrequencies.length;
        int rotaryDim = 2 * half;
        if (e.cs.length < rows.count() * rotaryDim) {
            e.cs = new float[rows.count() * rotaryDim];
        }
        for (int r = 0; r < rows.count(); r++) {
            for (int d = 0; d < half; d++) {
                // in double: pos · freq loses whole radians in F32 at long positions
                double angle = rows.positions[r] * inverseFrequencies[d];
                e.cs[r * rotaryDim + d] = (float) Math.cos(angle);
                e.cs[r * rotaryDim + half + d] = (float) Math.sin(angle);
            }
        }
        e.rows = rows;
        e.inverseFrequencies = inverseFrequencies.clone();
        return e.cs;
    }
}
