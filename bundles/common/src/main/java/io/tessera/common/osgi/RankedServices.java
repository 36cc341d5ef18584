package io.tessera.common.osgi;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.osgi.framework.ServiceReference;

/**
 * Services keyed by a kind property (e.g. {@code attention.kind}), several per kind: the one in use is the best by
 * {@code service.ranking} (then the oldest), and removing it falls back to the next.
 *
 * @param <T> the service type
 */
public final class RankedServices<T> {
    // ServiceReference orders by ranking, then by age: the greatest is the one to use
    private final Map<String, ConcurrentSkipListMap<ServiceReference<?>, T>> byKind = new ConcurrentHashMap<>();

    public void add(ServiceReference<?> reference, String kindProperty, T service) {
        byKind.computeIfAbsent(kind(reference, kindProperty), k -> new ConcurrentSkipListMap<>())
                .put(reference, service);
    }

    public void remove(ServiceReference<?> reference, String kindProperty) {
        byKind.computeIfPresent(kind(reference, kindProperty), (k, services) -> {
            services.remove(reference);
            return services.isEmpty() ? null : services;
        });
    }

    /** The best service of {@code kind} present now, or null. */
    public T best(String kind) {
        var services = byKind.get(kind);
        var last = services == null ? null : services.lastEntry();
        return last == null ? null : last.getValue();
    }

    /** The best service of each kind present now. */
    public Map<String, T> best() {
        Map<String, T> best = new TreeMap<>();
        byKind.forEach((kind, services) -> {
            var last = services.lastEntry();
            if (last != null) {
                best.put(kind, last.getValue());
            }
        });
        return Map.copyOf(best);
    }

    private static String kind(ServiceReference<?> reference, String property) {
        return String.valueOf(reference.getProperty(property));
    }
}
