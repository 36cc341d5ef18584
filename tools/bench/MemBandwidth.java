import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Memory bandwidth on this machine, as a decode-speed ceiling, measured like C STREAM
 * ({@code ../shared/bench/stream.c} beside the repository): a vectorised read-only sum of an F32 array far larger than the caches
 * (four vector accumulators per thread, so it is bound by memory, not by one add chain), and a STREAM triad
 * {@code a = b + s·c} on doubles (3 × 8 bytes per element counted, no write-allocate traffic). Arrays are off the
 * heap, first touched by the thread that later reads them; T platform threads on a static split start together
 * at a barrier; best of R repetitions after one untimed pass.
 * Run: {@code java --add-modules jdk.incubator.vector tools/bench/MemBandwidth.java [threads=2]
 * [read MiB=2048] [triad MiB per array=800] [reps=10]}
 */
public final class MemBandwidth {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.nativeOrder();

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        long readBytes = (args.length > 1 ? Long.parseLong(args[1]) : 2048) << 20;
        long triadBytes = (args.length > 2 ? Long.parseLong(args[2]) : 800) << 20;
        int reps = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        long block = (long) F.vectorByteSize() * 4 * threads;
        readBytes -= readBytes % block;
        triadBytes -= triadBytes % (8L * threads);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment read = arena.allocate(readBytes, 1 << 21);
            MemorySegment a = arena.allocate(triadBytes, 1 << 21);
            MemorySegment b = arena.allocate(triadBytes, 1 << 21);
            MemorySegment c = arena.allocate(triadBytes, 1 << 21);
            Team team = new Team(threads);
            team.run((t, n) -> fill(read, a, b, c, t, n));
            double bestRead = 0, bestTriad = 0;
            for (int r = 0; r <= reps; r++) {
                double readGBs = readBytes / (double) team.run((t, n) -> sum(read, t, n));
                double triadGBs = 3.0 * triadBytes / team.run((t, n) -> triad(a, b, c, t, n));
                if (r == 0) {
                    continue; // untimed pass: page faults of the first reads, JIT
                }
                System.out.printf(Locale.ROOT, "rep %d: read %.2f GB/s, triad %.2f GB/s%n", r, readGBs, triadGBs);
                bestRead = Math.max(bestRead, readGBs);
                bestTriad = Math.max(bestTriad, triadGBs);
            }
            team.shutdown();
            System.out.printf(Locale.ROOT, "threads %d, read %d MiB, triad 3 × %d MiB: best read %.2f GB/s, best "
                    + "triad %.2f GB/s (%s)%n", threads, readBytes >> 20, triadBytes >> 20, bestRead, bestTriad,
                    Team.sink == 12345 ? "!" : "ok");
        }
    }

    /** One part of a parallel pass: thread {@code t} of {@code n}. */
    interface Part {
        void run(int t, int n);
    }

    /** T threads that run one {@link Part} each per pass, started together; returns the pass's nanoseconds. */
    private static final class Team {
        static volatile float sink;
        private final int n;
        private final CyclicBarrier start, end;
        private volatile Part part;
        private volatile boolean done;

        Team(int n) {
            this.n = n;
            start = new CyclicBarrier(n);
            end = new CyclicBarrier(n);
            for (int t = 1; t < n; t++) {
                int id = t;
                Thread.ofPlatform().daemon().start(() -> {
                    while (true) {
                        await(start);
                        if (done) {
                            return;
                        }
                        part.run(id, n);
                        await(end);
                    }
                });
            }
        }

        long run(Part p) {
            part = p;
            await(start);
            long t0 = System.nanoTime();
            p.run(0, n);
            await(end);
            return System.nanoTime() - t0;
        }

        void shutdown() {
            done = true;
            await(start);
        }

        private static void await(CyclicBarrier b) {
            try {
                b.await();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static void fill(MemorySegment read, MemorySegment a, MemorySegment b, MemorySegment c, int t, int n) {
        long lo = read.byteSize() / n * t, hi = lo + read.byteSize() / n;
        for (long i = lo; i < hi; i += 4) {
            read.set(JAVA_FLOAT_UNALIGNED, i, (i >> 2 & 1023) * 1e-3f);
        }
        long tlo = a.byteSize() / n * t, thi = tlo + a.byteSize() / n;
        for (long i = tlo; i < thi; i += 8) {
            a.set(JAVA_DOUBLE_UNALIGNED, i, 1.0);
            b.set(JAVA_DOUBLE_UNALIGNED, i, 2.0);
            c.set(JAVA_DOUBLE_UNALIGNED, i, 0.0);
        }
    }

    /** Thread t's share of the read array summed into four independent vector accumulators. */
    private static void sum(MemorySegment m, int t, int n) {
        long share = m.byteSize() / n, lo = share * t, hi = lo + share;
        long step = F.vectorByteSize();
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        for (long i = lo; i < hi; i += 4 * step) {
            s0 = s0.add(FloatVector.fromMemorySegment(F, m, i, LE));
            s1 = s1.add(FloatVector.fromMemorySegment(F, m, i + step, LE));
            s2 = s2.add(FloatVector.fromMemorySegment(F, m, i + 2 * step, LE));
            s3 = s3.add(FloatVector.fromMemorySegment(F, m, i + 3 * step, LE));
        }
        Team.sink = s0.add(s1).add(s2).add(s3).lane(0);
    }

    private static void triad(MemorySegment a, MemorySegment b, MemorySegment c, int t, int n) {
        long share = a.byteSize() / n, lo = share * t, hi = lo + share;
        for (long i = lo; i < hi; i += 8) {
            double v = b.get(JAVA_DOUBLE_UNALIGNED, i)
                    + 3.0 * c.get(JAVA_DOUBLE_UNALIGNED, i);
            a.set(JAVA_DOUBLE_UNALIGNED, i, v);
        }
    }
}
