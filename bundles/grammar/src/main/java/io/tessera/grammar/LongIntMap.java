package io.tessera.grammar;

import java.util.Arrays;

/**
 * An open-addressing map from long keys to int values, without removal: the automaton's interning of stacks and
 * its closure's visited marks, without boxing (these lookups are most of the time a new state costs).
 */
final class LongIntMap {
    static final int MISSING = Integer.MIN_VALUE;

    private long[] keys = new long[64];
    private int[] values = filled(64);
    private int[] used = new int[32];   // the slots in use, so that clearing costs what was put
    private int size;

    int get(long key) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            if (values[i] == MISSING || keys[i] == key) {
                return values[i];
            }
        }
    }

    /** Sets the value of {@code key} (never {@link #MISSING}) and returns its previous one, or MISSING. */
    int put(long key, int value) {
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (values[i] != MISSING && keys[i] != key) {
            i = (i + 1) & mask;
        }
        int previous = values[i];
        if (previous == MISSING) {
            if (size == used.length) {
                used = Arrays.copyOf(used, size * 2);
            }
            used[size++] = i;
        }
        keys[i] = key;
        values[i] = value;
        return previous;
    }

    void clear() {
        for (int k = 0; k < size; k++) {
            values[used[k]] = MISSING;
        }
        size = 0;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = filled(oldKeys.length * 2);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != MISSING) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }

    private static int slot(long key, int mask) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }

    private static int[] filled(int n) {
        int[] a = new int[n];
        Arrays.fill(a, MISSING);
        return a;
    }
}
