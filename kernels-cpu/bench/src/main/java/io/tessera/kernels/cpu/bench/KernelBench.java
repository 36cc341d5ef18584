package io.tessera.kernels.cpu.bench;

import io.tessera.api.DType;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.Weight;
import io.tessera.kernels.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The CPU backend's weight streaming. {@code gemv}: one row through {@code matmul} (all cores); {@code read}: the
 * same weight bytes only summed, with the same threads (the pure-read ceiling of that GEMV); {@code triad}: a
 * STREAM triad {@code a = b + s·c} over three 256 MiB arrays; {@code gemm}: 4/16/64 rows on an expert matrix.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class KernelBench {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int THREADS = Runtime.getRuntime().availableProcessors();

    /** Splits {@code [0, n)} (in multiples of {@code align}) across {@code THREADS} tasks; sums their results. */
    static double parallel(ExecutorService pool, long n, long align, RangeSum body) throws Exception {
        List<Callable<Double>> parts = new ArrayList<>();
        long chunk = (n / THREADS + align - 1) / align * align;
        for (long from = 0; from < n; from += chunk) {
            long f = from, t = Math.min(n, from + chunk);
            parts.add(() -> body.sum(f, t));
        }
        double s = 0;
        for (Future<Double> r : pool.invokeAll(parts)) {
            s += r.get();
        }
        return s;
    }

    interface RangeSum {
        double sum(long from, long to);
    }

    @State(Scope.Benchmark)
    public static class Gemv {
        @Param({"F8_E4M3", "BF16", "F32"})
        public String dtype;
        @Param({"q_proj", "expert", "lm_head"})
        public String shape;

        Arena arena;
        CpuBackend cpu;
        Weight w;
        Buffer x, y;
        MemorySegment bytes;
        ExecutorService pool;

        @Setup(Level.Trial)
        public void setUp() {
            int[] s = Shapes.of(shape);
            arena = Arena.ofShared();
            cpu = new CpuBackend();
            var t = Shapes.random(arena, shape, DType.valueOf(dtype), s[0], s[1]);
            bytes = t.data();
            w = cpu.weight(t);
            x = cpu.allocate(DType.F32, 1, s[1]);
            y = cpu.allocate(DType.F32, 1, s[0]);
            float[] xs = new float[s[1]];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (i % 13 - 6) / 8f;
            }
            cpu.write(x, 0, xs, 0, xs.length);
            pool = Executors.newFixedThreadPool(THREADS);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.shutdown();
            cpu.close();
            arena.close();
        }
    }

    @Benchmark
    public Buffer gemv(Gemv s) {
        s.cpu.matmul(s.x, s.w, 1, s.y);
        return s.y;
    }

    @Benchmark
    public double read(Gemv s) throws Exception {
        long ints = s.bytes.byteSize() / 4;
        return parallel(s.pool, ints, I.length(), (from, to) -> {
            IntVector acc = IntVector.zero(I); // integer adds: no floating-point assists on odd bit patterns
            for (long i = from; i + I.length() <= to; i += I.length()) {
                acc = acc.add(IntVector.fromMemorySegment(I, s.bytes, 4 * i, ByteOrder.LITTLE_ENDIAN));
            }
            return acc.reduceLanes(VectorOperators.ADD);
        });
    }

    @State(Scope.Benchmark)
    public static class Triad {
        static final int N = 64 << 20; // floats per array: 256 MiB, far beyond any cache
        float[] a = new float[N], b = new float[N], c = new float[N];
        ExecutorService pool;

        @Setup(Level.Trial)
        public void setUp() {
            java.util.Arrays.fill(b, 1f);
            java.util.Arrays.fill(c, 2f);
            pool = Executors.newFixedThreadPool(THREADS);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.shutdown();
        }
    }

    @Benchmark
    public double triad(Triad t) throws Exception {
        return parallel(t.pool, Triad.N, F.length(), (from, to) -> {
            int i = (int) from;
            for (; i + F.length() <= to; i += F.length()) {
                FloatVector.fromArray(F, t.c, i).mul(3f).add(FloatVector.fromArray(F, t.b, i)).intoArray(t.a, i);
            }
            return 0;
        });
    }

    @State(Scope.Benchmark)
    public static class Gemm {
        @Param({"F8_E4M3", "BF16", "F32"})
        public String dtype;
        @Param({"4", "16", "64"})
        public int rows;

        Arena arena;
        CpuBackend cpu;
        Weight w;
        Buffer x, y;

        @Setup(Level.Trial)
        public void setUp() {
            int[] s = Shapes.of("expert");
            arena = Arena.ofShared();
            cpu = new CpuBackend();
            w = cpu.weight(Shapes.random(arena, "expert", DType.valueOf(dtype), s[0], s[1]));
            x = cpu.allocate(DType.F32, rows, s[1]);
            y = cpu.allocate(DType.F32, rows, s[0]);
            float[] xs = new float[rows * s[1]];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (i % 13 - 6) / 8f;
            }
            cpu.write(x, 0, xs, 0, xs.length);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            cpu.close();
            arena.close();
        }
    }

    @Benchmark
    public Buffer gemm(Gemm s) {
        s.cpu.matmul(s.x, s.w, s.rows, s.y);
        return s.y;
    }

    /** Sampling over Qwen3's 151,669-id vocabulary: what each token of a sampled decode pays after the lm_head. */
    @State(Scope.Benchmark)
    public static class Sample {
        /** temperature/topK/topP: common chat settings, a plain draw, and a top-k draw. */
        @Param({"0.7/0/0.9", "1/0/1", "0.7/40/1"})
        public String filter;

        static final int VOCAB = 151_669;
        CpuBackend cpu;
        Buffer logits, ids;
        float[] temperature = new float[1];
        int[] topK = new int[1];
        float[] topP = new float[1];
        float[] u = {0.5f};

        @Setup(Level.Trial)
        public void setUp() {
            String[] f = filter.split("/");
            temperature[0] = Float.parseFloat(f[0]);
            topK[0] = Integer.parseInt(f[1]);
            topP[0] = Float.parseFloat(f[2]);
            cpu = new CpuBackend();
            logits = cpu.allocate(DType.F32, 1, VOCAB);
            ids = cpu.allocate(DType.I32, 1, 1);
            java.util.Random random = new java.util.Random(1);
            float[] l = new float[VOCAB];
            for (int i = 0; i < VOCAB; i++) {
                l[i] = (float) (3 * random.nextGaussian());   // a language model's logits spread about this much
            }
            cpu.write(logits, 0, l, 0, VOCAB);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            cpu.close();
        }
    }

    @Benchmark
    public Buffer sample(Sample s) {
        s.cpu.sample(s.logits, 1, Sample.VOCAB, s.temperature, s.topK, s.topP, s.u, s.ids);
        return s.ids;
    }
}
