package io.tessera.engine;

/** Events per second over the last few whole seconds (one-second buckets in a ring). Thread-safe. */
final class Throughput {
    private static final int SECONDS = 10;
    private final long[] counts = new long[SECONDS];
    private final long[] second = new long[SECONDS];

    synchronized void add(long n) {
        long now = System.nanoTime() / 1_000_000_000L;
        int b = (int) (now % SECONDS);
        if (second[b] != now) {
            second[b] = now;
            counts[b] = 0;
        }
        counts[b] += n;
    }

    /** The mean rate over the {@value #SECONDS} − 1 whole seconds before the current one. */
    synchronized double perSecond() {
        long now = System.nanoTime() / 1_000_000_000L;
        long total = 0;
        for (int b = 0; b < SECONDS; b++) {
            if (second[b] < now && second[b] >= now - (SECONDS - 1)) {
                total += counts[b];
            }
        }
        return total / (double) (SECONDS - 1);
    }
}
