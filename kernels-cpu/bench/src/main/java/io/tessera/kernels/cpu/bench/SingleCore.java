package io.tessera.kernels.cpu.bench;

import io.tessera.api.DType;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.Weight;
import io.tessera.kernels.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * The per-core rate: {@code matmul} of {@code n} rows (1: GEMV, the decode; 4, 16: GEMM, the prefill) on a
 * cache-resident 512×4096 weight, one thread (the caller: {@code CpuBackend(1)}), many calls. Timed by the
 * thread's CPU time, not the wall clock, so that a shared host's other jobs, which take the core away now and
 * then, do not count (their cache and memory traffic still does); prints the median and the best of 15 timings,
 * in ns per weight and row, and GB/s of weight bytes at the median. FP8 twice: bytes as a checkpoint's (a zero
 * byte now and then) and bytes with subnormals in every block.
 */
final class SingleCore {
    private static final int ROWS = 512, COLS = 4096, REPEATS = 15;
    private static final long WEIGHTS_PER_TIMING = 400L << 20;

    private SingleCore() {
    }

    static void run() {
        CpuBackend cpu = new CpuBackend(1);
        try (Arena arena = Arena.ofConfined()) {
            System.out.println("| weight 512×4096, 1 thread | x rows | ns / weight / row (CPU time): median | best "
                    + "| GB/s of weights |");
            System.out.println("|---|---|---|---|---|");
            for (int n : new int[] {1, 4, 16}) {
                Buffer x = cpu.allocate(DType.F32, n, COLS);
                float[] xs = new float[n * COLS];
                for (int i = 0; i < xs.length; i++) {
                    xs[i] = (i % 13 - 6) / 8f;
                }
                cpu.write(x, 0, xs, 0, xs.length);
                Buffer y = cpu.allocate(DType.F32, n, ROWS);
                for (DType dt : new DType[] {DType.F8_E4M3, DType.BF16, DType.F32}) {
                    report(cpu, dt.toString(), cpu.weight(Shapes.random(arena, "w", dt, ROWS, COLS)), dt, n, x, y);
                }
                report(cpu, "F8_E4M3, subnormals in every block",
                        cpu.weight(Shapes.subnormalFp8(arena, "w", ROWS, COLS)), DType.F8_E4M3, n, x, y);
            }
        } finally {
            cpu.close();
        }
    }

    private static void report(CpuBackend cpu, String what, Weight w, DType dt, int n, Buffer x, Buffer y) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        int calls = (int) (WEIGHTS_PER_TIMING / ((long) ROWS * COLS * n));
        long[] ns = new long[REPEATS];
        for (int warm = 0; warm < 10 * calls; warm++) {
            cpu.matmul(x, w, n, y);
        }
        for (int r = 0; r < REPEATS; r++) {
            long t0 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < calls; i++) {
                cpu.matmul(x, w, n, y);
            }
            ns[r] = threads.getCurrentThreadCpuTime() - t0;
        }
        Arrays.sort(ns);
        double weights = (double) calls * ROWS * COLS * n;
        double median = ns[REPEATS / 2] / weights;
        System.out.printf("| %s | %d | %.4f | %.4f | %.1f |%n", what, n, median, ns[0] / weights,
                dt.bytes() / median / n);
    }
}
