package io.tessera.tokenizer;

import java.util.Arrays;

/** A growable int array, so that encoding does not box ids. */
final class IntList {
    private int[] values = new int[64];
    private int size;

    void add(int v) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = v;
    }

    void addAll(int[] vs) {
        if (size + vs.length > values.length) {
            values = Arrays.copyOf(values, Math.max(size * 2, size + vs.length));
        }
        System.arraycopy(vs, 0, values, size, vs.length);
        size += vs.length;
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
