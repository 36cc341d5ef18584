package io.tessera.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checked serving settings of {@link HttpSettings}: deadlines, connection timeouts, shutdown drain and which
 * {@code Host} names are served without an API key. A bad value refuses the whole configuration, like
 * {@link Settings}.
 *
 * @param requestTimeoutSeconds  longest a request may run before it ends with a timeout
 * @param drainSeconds           on shutdown, how long in-flight requests may take to finish
 * @param idleTimeoutSeconds     Jetty's idle timeout: a connection that sends or reads nothing this long closes
 * @param maxConnections         most TCP connections open at once (Jetty's NetworkConnectionLimit)
 * @param allowedHosts           lower-case host names (no port) served without an API key; {@code *}: any
 * @param maxRoutingPositions    largest routing record a request may ask for: positions × choices
 */
record Serving(int requestTimeoutSeconds, int drainSeconds, int idleTimeoutSeconds, int maxConnections,
               Set<String> allowedHosts, int maxRoutingPositions) {

    static Serving of(HttpSettings c) {
        List<String> bad = new ArrayList<>();
        if (c.requestTimeoutSeconds() < 1) {
            bad.add("requestTimeoutSeconds: must be >= 1, got " + c.requestTimeoutSeconds());
        }
        if (c.drainSeconds() < 0) {
            bad.add("drainSeconds: must be >= 0, got " + c.drainSeconds());
        }
        if (c.idleTimeoutSeconds() < 1) {
            bad.add("idleTimeoutSeconds: must be >= 1, got " + c.idleTimeoutSeconds());
        }
        if (c.maxConnections() < 1) {
            bad.add("maxConnections: must be >= 1, got " + c.maxConnections());
        }
        if (c.maxRoutingPositions() < 1) {
            bad.add("maxRoutingPositions: must be >= 1, got " + c.maxRoutingPositions());
        }
        Set<String> hosts = new TreeSet<>();
        for (String host : (c.allowedHosts() == null ? "" : c.allowedHosts()).split(",")) {
            String h = host.strip().toLowerCase(Locale.ROOT);
            if (!h.isEmpty()) {
                hosts.add(h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h);
            }
        }
        if (hosts.isEmpty()) {
            bad.add("allowedHosts: name at least one host (e.g. localhost), or * for any");
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", bad));
        }
        return new Serving(c.requestTimeoutSeconds(), c.drainSeconds(), c.idleTimeoutSeconds(), c.maxConnections(),
                Set.copyOf(hosts), c.maxRoutingPositions());
    }

    /** Whether a {@code Host} header's host (port and IPv6 brackets stripped, any case) may be served. */
    boolean allows(String host) {
        return allowedHosts.contains("*") || host != null && allowedHosts.contains(host.toLowerCase(Locale.ROOT));
    }
}
