package io.tessera.http;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The completions being served, how requests ended early (client left, timeout, shutdown), and the graceful drain:
 * stop admitting, let in-flight requests finish for a while, then end the rest with an error.
 */
final class InFlight {
    private static final Logger LOG = LoggerFactory.getLogger(InFlight.class);
    static final String CLIENT_LEFT = "client_left";
    static final String TIMEOUT = "timeout";
    static final String SHUTDOWN = "shutdown";

    private final Set<Completion> completions = ConcurrentHashMap.newKeySet();
    private final Map<String, LongAdder> ended = new ConcurrentHashMap<>();
    private volatile boolean draining;

    boolean draining() {
        return draining;
    }

    void add(Completion c) {
        completions.add(c);
    }

    void remove(Completion c) {
        completions.remove(c);
    }

    /** Counts a request that ended before its generations did. */
    void ended(String why) {
        ended.computeIfAbsent(why, k -> new LongAdder()).increment();
    }

    /** Requests ended early, by reason. */
    Map<String, Long> endedEarly() {
        Map<String, Long> counts = new TreeMap<>();
        for (String why : new String[] {CLIENT_LEFT, TIMEOUT, SHUTDOWN}) {
            LongAdder n = ended.get(why);
            counts.put(why, n == null ? 0 : n.sum());
        }
        return counts;
    }

    /**
     * Stops admitting, waits up to {@code seconds} for the requests in flight, then ends what remains (streams get
     * an error event and {@code [DONE]}) and waits a little for those answers to go out.
     */
    void drain(int seconds) {
        if (draining) {
            return;
        }
        draining = true;
        int before = completions.size();
        if (before == 0) {
            return;
        }
        LOG.info("io.tessera.http: draining: {} requests in flight, up to {} s", before, seconds);
        waitForNone(TimeUnit.SECONDS.toNanos(seconds));
        int cut = completions.size();
        for (Completion c : completions) {
            c.abort(ApiException.unavailable("the server shut down before this request finished", 5));
        }
        waitForNone(TimeUnit.SECONDS.toNanos(5));
        LOG.info("io.tessera.http: drained: {} requests finished, {} ended by the shutdown", before - cut, cut);
    }

    private void waitForNone(long nanos) {
        long end = System.nanoTime() + nanos;
        try {
            while (!completions.isEmpty() && System.nanoTime() - end < 0) {
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
