package io.tessera.kernels.cpu.bench;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.Weight;
import io.tessera.kernels.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.util.Arrays;

/**
 * The per-core decode rate: GEMV ({@code matmul} of one row) on a cache-resident 512×4096 weight, one thread,
 * many calls; prints the median and the best of 15 timings of 200 calls each, in ns per weight (the best is
 * the steadier figure on a shared host), and GB/s of weight bytes at the median.
 * FP8 twice: realistic bytes (a zero byte now and then) and bytes with subnormals in every block.
 */
final class SingleCore {
    private static final int ROWS = 512, COLS = 4096, CALLS = 200, REPEATS = 15;

    private SingleCore() {
    }

    static void run() {
        CpuBackend cpu = new CpuBackend(1);
        try (Arena arena = Arena.ofConfined()) {
            Buffer x = cpu.allocate(DType.F32, 1, COLS);
            cpu.write(x, 0, new float[COLS], 0, COLS);
            Buffer y = cpu.allocate(DType.F32, 1, ROWS);
            System.out.println("| weight 512×4096, 1 thread | ns / weight: median | best | GB/s of weights |");
            System.out.println("|---|---|---|---|");
            for (DType dt : new DType[] {DType.F8_E4M3, DType.BF16, DType.F32}) {
                report(cpu, dt.toString(), cpu.weight(Shapes.random(arena, "w", dt, ROWS, COLS)), dt, x, y);
            }
            report(cpu, "F8_E4M3, subnormals in every block",
                    cpu.weight(Shapes.subnormalFp8(arena, "w", ROWS, COLS)), DType.F8_E4M3, x, y);
        } finally {
            cpu.close();
        }
    }

    private static void report(CpuBackend cpu, String what, Weight w, DType dt, Buffer x, Buffer y) {
        long[] ns = new long[REPEATS];
        for (int warm = 0; warm < 2000; warm++) {
            cpu.matmul(x, w, 1, y);
        }
        for (int r = 0; r < REPEATS; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < CALLS; i++) {
                cpu.matmul(x, w, 1, y);
            }
            ns[r] = System.nanoTime() - t0;
        }
        Arrays.sort(ns);
        double weights = (double) CALLS * ROWS * COLS;
        double median = ns[REPEATS / 2] / weights;
        System.out.printf("| %s | %.3f | %.3f | %.1f |%n", what, median, ns[0] / weights, dt.bytes() / median);
    }
}
