package io.tessera.kernels.cpu;

import static io.tessera.kernels.cpu.Fp8Kernels.TILE;

import io.tessera.api.DType;
import io.tessera.api.kernel.WeightData;

/**
 * {@code y = x · Wᵀ} for {@code n} rows on the pool: W's rows in tiles of {@link Fp8Kernels#TILE}, each tile
 * read from memory once and applied to every x row while it is in L1/L2. FP8 x rows must be permuted
 * ({@link #input}); with fewer than {@link #DECODE_ROWS} rows each weight vector is decoded in registers once
 * per four x rows, from that many each tile is decoded once into the worker's scratch. Per-worker scratch is
 * preallocated and grown on first need, so the per-token path allocates nothing.
 */
final class Matmul implements WorkerPool.Task {
    /** FP8 GEMM from this many x rows decodes each weight tile once. */
    static final int DECODE_ROWS = 8;

    private final float[][] tileOut;
    private final float[][] decoded;
    private float[] permuted = new float[0];
    // the call in progress
    private float[] x, y;
    private CpuWeight w;
    private int n, xOff, yOff, tiles, perPart;

    Matmul(int threads) {
        tileOut = new float[threads][2 * TILE];
        decoded = new float[threads][0];
    }

    /** The x rows in the layout W's kernels read: F32 as is; FP8 permuted ({@link Fp8Kernels#permute}). */
    float[] input(float[] x, int xOff, CpuWeight w, int n) {
        if (w.data.dtype() != DType.F8_E4M3) {
            return x;
        }
        int cols = w.data.cols();
        if (permuted.length < n * cols) {
            permuted = new float[n * cols];
        }
        for (int r = 0; r < n; r++) {
            Fp8Kernels.permute(x, xOff + r * cols, permuted, r * cols, cols);
        }
        return permuted;
    }

    /** Runs the matmul of rows of {@code x} (already {@link #input}) from {@code xOff} into y from {@code yOff}. */
    void run(WorkerPool pool, float[] x, int xOff, CpuWeight w, int n, float[] y, int yOff) {
        prepare(w, n);
        this.x = x;
        this.xOff = xOff;
        this.w = w;
        this.n = n;
        this.y = y;
        this.yOff = yOff;
        tiles = (w.data.rows() + TILE - 1) / TILE;
        perPart = Math.max(1, tiles / (pool.threads() * 4));
        pool.run(this, (tiles + perPart - 1) / perPart);
    }

    /** Grows the scratch that {@link #tile} needs for {@code n} rows of {@code w}; before the parallel region. */
    void prepare(CpuWeight w, int n) {
        int size = TILE * w.data.cols();
        if (w.data.dtype() == DType.F8_E4M3 && n >= DECODE_ROWS && decoded[0].length < size) {
            for (int i = 0; i < decoded.length; i++) {
                decoded[i] = new float[size];
            }
        }
    }

    @Override
    public void run(int part, int worker) {
        for (int t = part * perPart, end = Math.min(tiles, t + perPart); t < end; t++) {
            tile(worker, x, xOff, w, n, y, yOff, t);
        }
    }

    /** Tile {@code t} (rows {@code 4t .. 4t+3}) of {@code x · wᵀ} for {@code n} rows, on worker {@code worker}. */
    void tile(int worker, float[] x, int xOff, CpuWeight handle, int n, float[] y, int yOff, int t) {
        WeightData w = handle.data;
        float[] out = tileOut[worker];
        int rows = w.rows();
        int cols = w.cols();
        int o = t * TILE;
        int valid = Math.min(TILE, rows - o);
        if (w.dtype() != DType.F8_E4M3) {
            for (int r = 0; r < n; r++) {
                DenseKernels.dot4(w, o, x, xOff + r * cols, out);
                System.arraycopy(out, 0, y, yOff + r * rows + o, valid);
            }
        } else if (n < DECODE_ROWS) {
            if (!handle.scanned[t]) { // only this worker touches tile t's words; the pool orders it before later calls
                Fp8Kernels.scanTile(w, handle.plain, o);
                handle.scanned[t] = true;
            }
            for (int j = o; j < o + valid; j++) {
                int r = 0;
                for (; r + 4 <= n; r += 4) {
                    Fp8Kernels.dot4(w, handle.plain, j, x, xOff + r * cols, out);
                    for (int i = 0; i < 4; i++) {
                        y[yOff + (r + i) * rows + j] = out[i];
                    }
                }
                for (; r < n; r++) {
                    y[yOff + r * rows + j] = Fp8Kernels.dot(w, handle.plain, j, x, xOff + r * cols);
                }
            }
        } else {
            float[] dec = decoded[worker];
            Fp8Kernels.decodeTile(w, o, dec);
            for (int r = 0; r < n; r += 2) {
                int x0 = xOff + r * cols, x1 = xOff + Math.min(r + 1, n - 1) * cols;
                for (int i = 0; i < valid; i += 2) {
                    Fp8Kernels.decodedDot(w, dec, o, i, x, x0, x1, out);
                    for (int j = 0; j < Math.min(2, n - r); j++) {
                        y[yOff + (r + j) * rows + o + i] = out[2 * j];
                        if (i + 1 < valid) {
                            y[yOff + (r + j) * rows + o + i + 1] = out[2 * j + 1];
                        }
                    }
                }
            }
        }
    }
}
