package io.tessera.common;

import java.util.ArrayList;
import java.util.List;

/**
 * Backend handles (weights, buffers, caches) a component owns, closed in reverse order of creation. Bundles embed
 * this package privately (bnd {@code -conditionalpackage}); it is never exported.
 */
public final class Resources implements AutoCloseable {
    private final List<AutoCloseable> items = new ArrayList<>();

    public <T extends AutoCloseable> T add(T item) {
        items.add(item);
        return item;
    }

    @Override
    public void close() {
        for (AutoCloseable item : items.reversed()) {
            try {
                item.close();
            } catch (Exception ignored) {
                // freeing backend memory has no failure a caller could act on
            }
        }
        items.clear();
    }
}
