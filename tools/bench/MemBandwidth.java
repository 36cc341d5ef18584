import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Memory bandwidth on this machine, as a decode-speed ceiling: a pure read (sum of a long[] far larger than the
 * caches) and a STREAM-like triad (a = b + s·c, counted as 3 × 8 bytes per element), split across T threads,
 * best of R repetitions. Run: java tools/bench/MemBandwidth.java [threads=2] [MiB per array=512] [reps=5]
 */
public final class MemBandwidth {
    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int mib = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int n = mib * (1 << 20) / 8;
        long[] read = new long[n];
        double[] a = new double[n], b = new double[n], c = new double[n];
        for (int i = 0; i < n; i++) {
            read[i] = i;
            b[i] = i;
            c[i] = 1.0 / (i + 1);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        double bestRead = 0, bestTriad = 0;
        long sink = 0;
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            for (Long s : run(pool, threads, n, (lo, hi) -> sum(read, lo, hi))) {
                sink += s;
            }
            double readGBs = 8.0 * n / (System.nanoTime() - t0);
            t0 = System.nanoTime();
            run(pool, threads, n, (lo, hi) -> triad(a, b, c, lo, hi));
            double triadGBs = 24.0 * n / (System.nanoTime() - t0);
            System.out.printf(Locale.ROOT, "rep %d: read %.2f GB/s, triad %.2f GB/s%n", r + 1, readGBs, triadGBs);
            bestRead = Math.max(bestRead, readGBs);
            bestTriad = Math.max(bestTriad, triadGBs);
        }
        pool.shutdown();
        System.out.printf(Locale.ROOT, "threads %d, %d MiB per array: best read %.2f GB/s, best triad %.2f GB/s (%d)%n",
                threads, mib, bestRead, bestTriad, sink + (long) a[n / 2] & 1);
    }

    interface Range {
        long apply(int lo, int hi);
    }

    private static List<Long> run(ExecutorService pool, int threads, int n, Range body) throws Exception {
        List<Future<Long>> parts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int lo = (int) ((long) n * t / threads), hi = (int) ((long) n * (t + 1) / threads);
            parts.add(pool.submit((Callable<Long>) () -> body.apply(lo, hi)));
        }
        List<Long> out = new ArrayList<>();
        for (Future<Long> f : parts) {
            out.add(f.get());
        }
        return out;
    }

    private static long sum(long[] x, int lo, int hi) {
        long s = 0;
        for (int i = lo; i < hi; i++) {
            s += x[i];
        }
        return s;
    }

    private static long triad(double[] a, double[] b, double[] c, int lo, int hi) {
        for (int i = lo; i < hi; i++) {
            a[i] = b[i] + 3.0 * c[i];
        }
        return 0;
    }
}
