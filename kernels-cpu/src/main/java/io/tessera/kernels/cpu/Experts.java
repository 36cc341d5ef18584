package io.tessera.kernels.cpu;

import static io.tessera.kernels.cpu.Fp8Kernels.TILE;

import io.tessera.api.DType;
import java.util.Arrays;

/**
 * The routed experts of one MoE layer for {@code n} rows, in three parallel passes over one queue of work items
 * each, so that all experts of the layer share the threads instead of one matmul at a time: (1) gate and up
 * projections, item = (expert, run of row tiles), both weights read for the same x rows; (2) SiLU(gate)·up per
 * (row, expert) pair, permuted for the down projection; (3) down projection, item = (expert, run of row tiles).
 * Then each row adds its experts' outputs, weighted, in expert order (the same for a row whatever the batch).
 */
final class Experts implements WorkerPool.Task {
    private final Matmul matmul;
    // scratch, grown on demand
    private int[] grouping = new int[0];
    private float[] gathered = new float[0], gate = new float[0], up = new float[0], down = new float[0];
    private int[] active = new int[0], pairExpert = new int[0], itemExpert = new int[0], itemTile = new int[0];
    private CpuWeight[] gates = new CpuWeight[0], ups = new CpuWeight[0], downs = new CpuWeight[0];
    // the call in progress
    private int phase, items, perItem, hidden, inter, k, pairBase;

    Experts(Matmul matmul) {
        this.matmul = matmul;
    }

    /** Resolved, checked weights of expert {@code e}, set before {@link #run} for every expert that ids name. */
    void weights(int e, CpuWeight g, CpuWeight u, CpuWeight d) {
        gates[e] = g;
        ups[e] = u;
        downs[e] = d;
    }

    /** Makes room for {@code count} experts' weights; call before {@link #weights}. */
    void experts(int count) {
        if (gates.length < count) {
            gates = new CpuWeight[count];
            ups = new CpuWeight[count];
            downs = new CpuWeight[count];
        }
    }

    /**
     * {@code out[r] = Σ_j weights[r][j] · down(SiLU(gate(x[r])) · up(x[r]))} over the experts {@code ids[r][j]}
     * ({@code k} per row, ids already checked), x {@code [n, hidden]}.
     */
    void run(WorkerPool pool, float[] x, int[] ids, float[] weights, int n, int k, int count, int hidden,
             int inter, float[] out) {
        this.hidden = hidden;
        this.inter = inter;
        this.k = k;
        // counting sort of the (row, j) pairs by expert: pair p of expert e at g[pairBase + start(e) + i]
        int pairs = n * k;
        if (grouping.length < count + 1 + pairs) {
            grouping = new int[count + 1 + pairs];
        }
        int[] g = grouping;
        Arrays.fill(g, 0, count + 1, 0);
        for (int i = 0; i < pairs; i++) {
            g[ids[i] + 1]++;
        }
        for (int e = 0; e < count; e++) {
            g[e + 1] += g[e];
        }
        pairBase = count + 1;
        for (int i = 0; i < pairs; i++) {
            g[pairBase + g[ids[i]]++] = i; // g[e] now ends expert e's pairs (the old g[e + 1])
        }
        gathered = grow(gathered, pairs * hidden);
        gate = grow(gate, pairs * inter);
        up = grow(up, pairs * inter);
        down = grow(down, pairs * hidden);
        if (active.length < count) {
            active = new int[count];
        }
        if (pairExpert.length < pairs) {
            pairExpert = new int[pairs];
        }
        int activeCount = 0;
        for (int e = 0, from = 0; e < count; from = g[e], e++) {
            if (g[e] > from) {
                active[activeCount++] = e;
                matmul.prepare(gates[e], g[e] - from);
                matmul.prepare(downs[e], g[e] - from);
            }
            // each pair's x row, gathered in the layout of its expert's gate/up kernels
            for (int p = from; p < g[e]; p++) {
                pairExpert[p] = e;
                int row = g[pairBase + p] / k;
                if (fp8(gates[e])) {
                    Fp8Kernels.permute(x, row * hidden, gathered, p * hidden, hidden);
                } else {
                    System.arraycopy(x, row * hidden, gathered, p * hidden, hidden);
                }
            }
        }

        int threads = pool.threads();
        phase = 1;
        runTiles(pool, activeCount, inter, threads);
        phase = 2;
        items = pairs;
        pool.run(this, pairs);
        phase = 3;
        runTiles(pool, activeCount, hidden, threads);

        Arrays.fill(out, 0, n * hidden, 0f);
        for (int p = 0; p < pairs; p++) {
            int pair = g[pairBase + p];
            VectorMath.axpy(weights[pair], down, p * hidden, out, (pair / k) * hidden, hidden);
        }
    }

    /** Queues (expert, run of tiles) items over the active experts' {@code rows}-row weights and runs them. */
    private void runTiles(WorkerPool pool, int activeCount, int rows, int threads) {
        int tiles = (rows + TILE - 1) / TILE;
        perItem = Math.max(1, Math.min(tiles, tiles * activeCount / (threads * 8)));
        int perExpert = (tiles + perItem - 1) / perItem;
        items = activeCount * perExpert;
        if (itemExpert.length < items) {
            itemExpert = new int[items];
            itemTile = new int[items];
        }
        for (int a = 0, i = 0; a < activeCount; a++) {
            for (int t = 0; t < tiles; t += perItem, i++) {
                itemExpert[i] = active[a];
                itemTile[i] = t;
            }
        }
        pool.run(this, items);
    }

    @Override
    public void run(int item, int worker) {
        if (phase == 2) {
            swiglu(item);
            return;
        }
        int e = itemExpert[item];
        int first = e == 0 ? 0 : grouping[e - 1];
        int rowsE = grouping[e] - first;
        CpuWeight w = phase == 1 ? gates[e] : downs[e];
        int tiles = (w.data.rows() + TILE - 1) / TILE;
        for (int t = itemTile[item], end = Math.min(tiles, t + perItem); t < end; t++) {
            if (phase == 1) {
                matmul.tile(worker, gathered, first * hidden, w, rowsE, gate, first * inter, t);
                matmul.tile(worker, gathered, first * hidden, ups[e], rowsE, up, first * inter, t);
            } else {
                matmul.tile(worker, fp8(w) ? gate : up, first * inter, w, rowsE, down, first * hidden, t);
            }
        }
    }

    /** Pair {@code p}: {@code up = SiLU(gate) · up}, then permuted into {@code gate} for an FP8 down projection. */
    private void swiglu(int p) {
        int o = p * inter;
        RowOps.siluMul(gate, o, up, o, up, o, inter);
        if (fp8(downs[pairExpert[p]])) {
            Fp8Kernels.permute(up, o, gate, o, inter);
        }
    }

    private static boolean fp8(CpuWeight w) {
        return w.data.dtype() == DType.F8_E4M3;
    }

    private static float[] grow(float[] a, int size) {
        return a.length < size ? new float[size] : a;
    }
}
