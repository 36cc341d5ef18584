package io.tessera.kernels.cpu;

import static io.tessera.kernels.cpu.Fp8Kernels.TILE;

import io.tessera.api.DType;
import io.tessera.api.kernel.WeightData;

/**
 * {@code y[r][j] = x[r] · W[ids[j]]}: a matmul over listed rows of W (a draft head's shortlist lm_head), the ids in
 * groups of four across the pool, each group applied to every x row while its rows are in cache. Dense rows go
 * through {@link DenseKernels#dot4} (the same sums as {@link Matmul}); FP8 (no lm_head is) takes the exact scalar
 * decode. Per-worker scratch is preallocated.
 */
final class ShortlistMatmul implements WorkerPool.Task {
    private final float[][] out;
    // the call in progress
    private float[] x, y;
    private int[] ids;
    private WeightData w;
    private int n, count, idsCols;

    ShortlistMatmul(int threads) {
        out = new float[threads][TILE];
    }

    void run(WorkerPool pool, float[] x, WeightData w, int[] ids, int idsCols, int count, int n, float[] y) {
        this.x = x;
        this.w = w;
        this.ids = ids;
        this.idsCols = idsCols;
        this.count = count;
        this.n = n;
        this.y = y;
        pool.run(this, (count + TILE - 1) / TILE);
    }

    /** Ids {@code 4g .. 4g + 3} against the n rows of x (the last group repeats its last id). */
    @Override
    public void run(int g, int worker) {
        float[] o = out[worker];
        int cols = w.cols();
        int j = g * TILE;
        int valid = Math.min(TILE, count - j);
        int o0 = id(j), o1 = id(j + 1), o2 = id(j + 2), o3 = id(j + 3);
        for (int r = 0; r < n; r++) {
            if (w.dtype() == DType.F8_E4M3) {
                for (int t = 0; t < valid; t++) {
                    int row = t == 0 ? o0 : t == 1 ? o1 : t == 2 ? o2 : o3;
                    float s = 0;
                    for (int c = 0; c < cols; c++) {
                        s += x[r * cols + c] * w.get(row, c);
                    }
                    o[t] = s;
                }
            } else {
                DenseKernels.dot4(w, o0, o1, o2, o3, x, r * cols, o);
            }
            System.arraycopy(o, 0, y, r * count + j, valid);
        }
    }

    private int id(int j) {
        return ids[Math.min(j, count - 1) * idsCols];
    }
}
