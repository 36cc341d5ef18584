package io.tessera.kernels.cpu;

import io.tessera.api.DType;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.Weight;
import io.tessera.api.kernel.WeightData;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/** The CPU backend's handles: heap arrays for buffers and KV, weights viewed in place. */
final class Handles {
    private Handles() {
    }

    /** Owner and use-after-close checks shared by every handle. */
    abstract static class Handle implements AutoCloseable {
        final Object owner;
        final AtomicLong counter;
        final long bytes;
        private volatile boolean closed;

        Handle(Object owner, AtomicLong counter, long bytes) {
            this.owner = owner;
            this.counter = counter;
            this.bytes = bytes;
            counter.addAndGet(bytes);
        }

        final void check(Object backend, String param) {
            if (owner != backend) {
                throw new IllegalArgumentException(param + ": a handle of another backend: " + this);
            }
            if (closed) {
                throw new IllegalStateException(param + ": used after close");
            }
        }

        @Override
        public final synchronized void close() {
            if (!closed) {
                closed = true;
                counter.addAndGet(-bytes);
                poison();
            }
        }

        /**
         * Overwrites the contents of a closed handle with garbage (NaN, id -1), so that a read through a stale
         * reference, e.g. of a model that moved to another backend, shows instead of passing silently.
         */
        void poison() {
        }
    }

    /** F32 or I32 {@code [rows, cols]}, row-major. */
    static final class Buf extends Handle implements Buffer {
        final DType dtype;
        final int rows, cols;
        final float[] f;
        final int[] i;

        Buf(Object owner, AtomicLong counter, DType dtype, int rows, int cols) {
            super(owner, counter, 4L * rows * cols);
            if ((long) rows * cols > Integer.MAX_VALUE - 16) {
                throw new OutOfMemoryError("buffer [" + rows + ", " + cols + "] exceeds a Java array");
            }
            this.dtype = dtype;
            this.rows = rows;
            this.cols = cols;
            f = dtype == DType.F32 ? new float[rows * cols] : null;
            i = dtype == DType.I32 ? new int[rows * cols] : null;
        }

        public DType dtype() { return dtype; }
        public int rows() { return rows; }
        public int cols() { return cols; }

        @Override
        void poison() {
            if (f != null) {
                Arrays.fill(f, Float.NaN);
            } else {
                Arrays.fill(i, -1);
            }
        }

        @Override
        public String toString() { return "cpu " + dtype + "[" + rows + ", " + cols + "]"; }
    }

    /** A weight read in place: nothing is copied, so it counts 0 bytes (its FP8 block flags: 1 bit per 128 weights). */
    static final class W extends Handle implements Weight {
        final WeightData d;
        /** FP8: {@link Kernels#plainBits}, a tile's filled at its first use (then {@code scanned}); else null. */
        final long[] plain;
        final boolean[] scanned;

        W(Object owner, AtomicLong counter, WeightData d) {
            super(owner, counter, 0);
            this.d = d;
            boolean fp8 = d.dtype() == DType.F8_E4M3;
            plain = fp8 ? Kernels.plainBits(d) : null;
            scanned = fp8 ? new boolean[(d.rows() + Kernels.TILE - 1) / Kernels.TILE] : null;
        }

        public String name() { return d.name(); }
        public DType dtype() { return d.dtype(); }
        public int rows() { return d.rows(); }
        public int cols() { return d.cols(); }

        @Override
        public String toString() { return "cpu weight " + d.name(); }
    }

    /** Slot-major KV: key of slot {@code s}, kv head {@code h} at {@code (s·kvHeads + h)·keyDim}. */
    static final class Kv extends Handle implements KvCache {
        final int slots, kvHeads, keyDim, valueDim;
        final float[] keys, values;

        Kv(Object owner, AtomicLong counter, int slots, int kvHeads, int keyDim, int valueDim) {
            super(owner, counter, 4L * slots * kvHeads * (keyDim + valueDim));
            if ((long) slots * kvHeads * Math.max(keyDim, valueDim) > Integer.MAX_VALUE - 16) {
                throw new OutOfMemoryError("KV cache of " + slots + " slots × " + kvHeads + " heads exceeds a "
                        + "Java array; allocate fewer slots per cache");
            }
            this.slots = slots;
            this.kvHeads = kvHeads;
            this.keyDim = keyDim;
            this.valueDim = valueDim;
            keys = new float[slots * kvHeads * keyDim];
            values = new float[slots * kvHeads * valueDim];
        }

        public int slots() { return slots; }
        public int kvHeads() { return kvHeads; }
        public int keyDim() { return keyDim; }
        public int valueDim() { return valueDim; }

        @Override
        void poison() {
            Arrays.fill(keys, Float.NaN);
            Arrays.fill(values, Float.NaN);
        }

        @Override
        public String toString() { return "cpu KV[" + slots + " slots]"; }
    }

    static final class R extends Handle implements Rows {
        final int[] positions, kvBase, kvCapacity;

        R(Object owner, AtomicLong counter, int[] positions, int[] kvBase, int[] kvCapacity) {
            super(owner, counter, 0);
            this.positions = positions.clone();
            this.kvBase = kvBase.clone();
            this.kvCapacity = kvCapacity.clone();
        }

        public int count() { return positions.length; }

        int slot(int r, int position) { return kvBase[r] + position % kvCapacity[r]; }
    }
}
