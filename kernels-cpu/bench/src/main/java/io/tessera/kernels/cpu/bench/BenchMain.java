package io.tessera.kernels.cpu.bench;

import io.tessera.api.DType;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the benchmarks (one fork, 2 × 1 s warmup, 3 × 1 s measurement: short, so a full run stays near five
 * minutes) and prints GEMV GB/s against the STREAM triad and against the pure read of the same bytes, and GEMM
 * GFLOP/s, and the time of one sampled token. Argument {@code quick}: only the expert shape and 4-row GEMM;
 * {@code single}: only {@link SingleCore}, the per-core rate; {@code sample}: only sampling.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = args.length > 0 && args[0].equals("quick");
        if (args.length > 0 && args[0].equals("single")) {
            SingleCore.run();
            return;
        }
        boolean sample = args.length > 0 && args[0].equals("sample");
        ChainedOptionsBuilder opts = new OptionsBuilder()
                .include(KernelBench.class.getName() + (sample ? ".sample" : ""))
                .forks(1)
                .warmupIterations(2).warmupTime(TimeValue.seconds(1))
                .measurementIterations(3).measurementTime(TimeValue.seconds(1))
                .jvmArgsAppend("--add-modules=jdk.incubator.vector", "-Xmx6g");
        if (quick) {
            opts.param("shape", "expert").param("rows", "4");
        }
        Collection<RunResult> results = new Runner(opts.build()).run();

        double triad = 0;
        Map<String, Double> read = new HashMap<>();
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            double seconds = r.getPrimaryResult().getScore() / 1e9; // ns/op below
            if (bench.endsWith(".triad")) {
                triad = 3.0 * 4 * KernelBench.Triad.N / seconds / 1e9;
            } else if (bench.endsWith(".read")) {
                String shape = r.getParams().getParam("shape");
                DType dt = DType.valueOf(r.getParams().getParam("dtype"));
                read.put(dt + " " + shape, Shapes.bytes(shape, dt) / seconds / 1e9);
            }
        }
        System.out.printf("%nthreads %d, STREAM triad %.1f GB/s%n%n", KernelBench.THREADS, triad);
        System.out.println("| GEMV | dtype | GB/s | / triad | / pure read of the same bytes (GB/s) |");
        System.out.println("|---|---|---|---|---|");
        for (RunResult r : results) {
            if (r.getParams().getBenchmark().endsWith(".gemv")) {
                String shape = r.getParams().getParam("shape");
                DType dt = DType.valueOf(r.getParams().getParam("dtype"));
                double gbs = Shapes.bytes(shape, dt) / (r.getPrimaryResult().getScore() / 1e9) / 1e9;
                double rd = read.getOrDefault(dt + " " + shape, Double.NaN);
                System.out.printf("| %s | %s | %.1f | %.2f | %.2f (%.1f) |%n", shape, dt, gbs, gbs / triad, gbs / rd, rd);
            }
        }
        System.out.println();
        System.out.println("| GEMM expert 2048×4096 | dtype | rows | GFLOP/s |");
        System.out.println("|---|---|---|---|");
        for (RunResult r : results) {
            if (r.getParams().getBenchmark().endsWith(".gemm")) {
                int rows = Integer.parseInt(r.getParams().getParam("rows"));
                double flops = 2.0 * rows * 2048 * 4096;
                System.out.printf("| | %s | %d | %.1f |%n", r.getParams().getParam("dtype"), rows,
                        flops / (r.getPrimaryResult().getScore() / 1e9) / 1e9);
            }
        }
        System.out.println();
        System.out.println("| sample, 151,669 ids | temperature/top_k/top_p | µs per token |");
        System.out.println("|---|---|---|");
        for (RunResult r : results) {
            if (r.getParams().getBenchmark().endsWith(".sample")) {
                System.out.printf("| | %s | %.1f |%n", r.getParams().getParam("filter"),
                        r.getPrimaryResult().getScore() / 1e3);
            }
        }
    }
}
