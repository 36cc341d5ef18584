package io.tessera.kernels.cpu;

import static io.tessera.api.kernel.WeightData.BLOCK;

import io.tessera.api.kernel.WeightData;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels: dot products of weight rows read in place (F32, BF16, FP8 E4M3 with block scales,
 * decoded in registers) with F32 activations, and the small vector helpers of the element-wise ops.
 * Species are chosen once; every loop has a scalar tail.
 */
final class Kernels {
    /** At least 256 bits, so the BF16 (half width) species exists. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_256;
    static final int L = F.length();
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, F.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows of W per dot kernel call: four independent FMA chains sharing each load of x. */
    static final int TILE = 4;

    private Kernels() {
    }

    /** The first {@code cols} columns of a weight row decoded exactly, for the scalar tails. */
    private static float scalar(WeightData w, int row, int col) {
        return w.get(row, col);
    }

    /**
     * {@code out[j] = W[o + j] · x[xo, xo + cols)} for {@code j < TILE}, rows past the last clamped to it (their
     * results are ignored by the caller).
     */
    static void dot(WeightData w, int o, float[] x, int xo, float[] out) {
        int last = w.rows() - 1;
        dot(w, Math.min(o, last), Math.min(o + 1, last), Math.min(o + 2, last), Math.min(o + 3, last), x, xo, out);
    }

    /** {@code out[j] = W[o_j] · x[xo, xo + cols)} for four rows of W anywhere (F32, BF16, F16). */
    static void dot(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, float[] out) {
        switch (w.dtype()) {
            case F32 -> f32(w, o0, o1, o2, o3, x, xo, out);
            case BF16 -> bf16(w, o0, o1, o2, o3, x, xo, out);
            case F8_E4M3 -> throw new AssertionError("FP8 rows go through fp8, fp8x4, fp8Decoded (x permuted)");
            default -> scalarDot(w, o0, o1, o2, o3, x, xo, out);
        }
    }

    /** F16 (no Vector API conversion yet): the exact scalar decode. */
    private static void scalarDot(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, float[] out) {
        FloatVector z = FloatVector.zero(F);
        finish(w, o0, o1, o2, o3, x, xo, 0, w.cols(), z, z, z, z, out);
    }

    private static void f32(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, float[] out) {
        MemorySegment m = w.data();
        int cols = w.cols();
        long r0 = 4L * o0 * cols, r1 = 4L * o1 * cols, r2 = 4L * o2 * cols, r3 = 4L * o3 * cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (int bound = F.loopBound(cols); c < bound; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            long off = 4L * c;
            a0 = FloatVector.fromMemorySegment(F, m, r0 + off, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, m, r1 + off, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, m, r2 + off, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, m, r3 + off, LE).fma(xv, a3);
        }
        finish(w, o0, o1, o2, o3, x, xo, c, cols, a0, a1, a2, a3, out);
    }

    private static void bf16(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, float[] out) {
        MemorySegment m = w.data();
        int cols = w.cols();
        long r0 = 2L * o0 * cols, r1 = 2L * o1 * cols, r2 = 2L * o2 * cols, r3 = 2L * o3 * cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (int bound = F.loopBound(cols); c < bound; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + c);
            long off = 2L * c;
            a0 = bf16(m, r0 + off).fma(xv, a0);
            a1 = bf16(m, r1 + off).fma(xv, a1);
            a2 = bf16(m, r2 + off).fma(xv, a2);
            a3 = bf16(m, r3 + off).fma(xv, a3);
        }
        finish(w, o0, o1, o2, o3, x, xo, c, cols, a0, a1, a2, a3, out);
    }

    /** BF16 is the high half of an F32: widen and shift. */
    private static FloatVector bf16(MemorySegment m, long offset) {
        return ((IntVector) ShortVector.fromMemorySegment(S, m, offset, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Adds the scalar tail from column {@code c} to the lane sums. */
    private static void finish(WeightData w, int o0, int o1, int o2, int o3, float[] x, int xo, int c, int cols,
                               FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] out) {
        float s0 = sum(a0), s1 = sum(a1);
        float s2 = sum(a2), s3 = sum(a3);
        for (; c < cols; c++) {
            float xc = x[xo + c];
            s0 += xc * scalar(w, o0, c);
            s1 += xc * scalar(w, o1, c);
            s2 += xc * scalar(w, o2, c);
            s3 += xc * scalar(w, o3, c);
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    /** FP8 columns per step: one int vector of weight bytes, four bytes per lane. */
    static final int CHUNK = 4 * L;

    /**
     * Reorders one row of x for {@link #fp8} rows: within each full {@link #CHUNK} of columns, byte {@code k} of
     * int lane {@code j} is column {@code 4j + k}, so the decoder's vector {@code k} needs those columns
     * together. Columns past the last full chunk keep their places (the scalar tail reads them).
     */
    static void permuteForFp8(float[] x, int xo, float[] xp, int po, int cols) {
        int c0 = 0;
        for (; c0 + CHUNK <= cols; c0 += CHUNK) {
            for (int k = 0; k < 4; k++) {
                for (int j = 0; j < L; j++) {
                    xp[po + c0 + k * L + j] = x[xo + c0 + 4 * j + k];
                }
            }
        }
        System.arraycopy(x, xo + c0, xp, po + c0, cols - c0);
    }

    /**
     * The bits for {@link #scanFp8Tile} of an FP8 weight, all clear: per (row, 128-column block), bit
     * {@link #plainBit}, set when the block's full {@link #CHUNK}s hold only normal bytes, so that
     * {@link #fp8Plain} decodes them exactly. Each 4-row tile has words of its own, so that workers filling
     * different tiles never write the same word.
     */
    static long[] plainBits(WeightData w) {
        int tiles = (w.rows() + TILE - 1) / TILE;
        return new long[Math.toIntExact((long) tiles * wordsPerTile((w.cols() + BLOCK - 1) / BLOCK))];
    }

    private static int wordsPerTile(int blocks) {
        return (TILE * blocks + 63) / 64;
    }

    /** The index in {@link #plainBits} of row {@code r}'s block {@code b} ({@code blocks} per row). */
    private static long plainBit(int r, int blocks, int b) {
        return ((long) (r / TILE) * wordsPerTile(blocks) << 6) + (long) (r % TILE) * blocks + b;
    }

    /**
     * Sets the {@link #plainBits} of the tile of rows {@code o .. o+3} (o a multiple of {@link #TILE}): one
     * vector pass over its bytes, done once per weight at its first use (at load it would read the whole
     * checkpoint), so that the kernels do not scan each block before decoding it on every call.
     */
    static void scanFp8Tile(WeightData w, long[] bits, int o) {
        MemorySegment m = w.data();
        int cols = w.cols();
        int blocks = (cols + BLOCK - 1) / BLOCK;
        for (int r = o; r < Math.min(o + TILE, w.rows()); r++) {
            long row = (long) r * cols;
            for (int b = 0; b < blocks; b++) {
                if (plain(m, row + (long) b * BLOCK, row + Math.min((b + 1) * BLOCK, cols))) {
                    long i = plainBit(r, blocks, b);
                    bits[(int) (i >>> 6)] |= 1L << i;
                }
            }
        }
    }

    private static boolean plain(long[] bits, int r, int blocks, int b) {
        long i = plainBit(r, blocks, b);
        return (bits[(int) (i >>> 6)] & 1L << i) != 0;
    }

    /**
     * The FP8 dot product of one weight row and one row of x permuted by {@link #permuteForFp8}, in this order,
     * which every FP8 path follows so that results do not depend on the batch: per 128-column block, one lane
     * accumulator {@code a} takes the FMAs of the block's full {@link #CHUNK}s in column order (vector {@code k}
     * of a chunk holds byte {@code k} of each int lane); then {@code t = a · scale·2⁻⁸ + t} (FMA); the block's
     * columns past its last full chunk go to a scalar sum {@code s}; the result is {@code s + sum(t)}.
     * Weights are decoded as 2⁸ times their value (see {@link #fp8Plain}): the factor 2⁻⁸ goes into the block
     * scale, which keeps every product exact.
     *
     * <p>Here (GEMV): one row, decoded in registers: the bytes are loaded as ints, four per lane, and byte
     * {@code k} is shifted to the top ({@code << 24 − 8k}); a byte-to-int vector conversion is not intrinsified on
     * every JDK/CPU (it boxes, 100× slower). Each block takes {@link #fp8Plain} when its bit in {@code plainBits}
     * ({@link #scanFp8Tile}) says so, else the exact {@link #fp8}.
     */
    static float fp8(WeightData w, long[] plainBits, int o, float[] x, int xo) {
        MemorySegment m = w.data();
        int cols = w.cols();
        int blocks = (cols + BLOCK - 1) / BLOCK;
        long row = (long) o * cols;
        FloatVector t = FloatVector.zero(F);
        float s = 0;
        for (int b = 0; b < blocks; b++) {
            int cb = b * BLOCK;
            int end = Math.min(cb + BLOCK, cols);
            boolean plain = plain(plainBits, o, blocks, b);
            FloatVector a = FloatVector.zero(F);
            int c = cb;
            for (; c + CHUNK <= end; c += CHUNK) {
                IntVector v = IntVector.fromMemorySegment(I, m, row + c, LE);
                for (int k = 0; k < 4; k++) {
                    IntVector top = v.lanewise(VectorOperators.LSHL, 24 - 8 * k);
                    a = (plain ? fp8Plain(top) : fp8(top)).fma(FloatVector.fromArray(F, x, xo + c + k * L), a);
                }
            }
            t = a.fma(FloatVector.broadcast(F, w.scale(o / BLOCK, b) * 0x1p-8f), t);
            for (; c < end; c++) {
                s += x[xo + c] * scalar(w, o, c);
            }
        }
        return s + sum(t);
    }

    /**
     * Small GEMM: one FP8 row against four rows of permuted x (rows {@code xo + j·cols}), each weight vector
     * decoded in registers once for all four; the order of {@link #fp8(WeightData, long[], int, float[], int)}.
     * {@code out[j]} receives row {@code j}'s result.
     */
    static void fp8x4(WeightData w, long[] plainBits, int o, float[] x, int xo, float[] out) {
        MemorySegment m = w.data();
        int cols = w.cols();
        int blocks = (cols + BLOCK - 1) / BLOCK;
        long row = (long) o * cols;
        int x1 = xo + cols, x2 = xo + 2 * cols, x3 = xo + 3 * cols;
        FloatVector t0 = FloatVector.zero(F), t1 = t0, t2 = t0, t3 = t0;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int b = 0; b < blocks; b++) {
            int cb = b * BLOCK;
            int end = Math.min(cb + BLOCK, cols);
            boolean plain = plain(plainBits, o, blocks, b);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int c = cb;
            for (; c + CHUNK <= end; c += CHUNK) {
                IntVector v = IntVector.fromMemorySegment(I, m, row + c, LE);
                for (int k = 0; k < 4; k++) {
                    IntVector top = v.lanewise(VectorOperators.LSHL, 24 - 8 * k);
                    FloatVector wv = plain ? fp8Plain(top) : fp8(top);
                    int p = c + k * L;
                    a0 = wv.fma(FloatVector.fromArray(F, x, xo + p), a0);
                    a1 = wv.fma(FloatVector.fromArray(F, x, x1 + p), a1);
                    a2 = wv.fma(FloatVector.fromArray(F, x, x2 + p), a2);
                    a3 = wv.fma(FloatVector.fromArray(F, x, x3 + p), a3);
                }
            }
            FloatVector scale = FloatVector.broadcast(F, w.scale(o / BLOCK, b) * 0x1p-8f);
            t0 = a0.fma(scale, t0);
            t1 = a1.fma(scale, t1);
            t2 = a2.fma(scale, t2);
            t3 = a3.fma(scale, t3);
            for (; c < end; c++) {
                float wc = scalar(w, o, c);
                s0 += x[xo + c] * wc;
                s1 += x[x1 + c] * wc;
                s2 += x[x2 + c] * wc;
                s3 += x[x3 + c] * wc;
            }
        }
        out[0] = s0 + sum(t0);
        out[1] = s1 + sum(t1);
        out[2] = s2 + sum(t2);
        out[3] = s3 + sum(t3);
    }

    /**
     * Larger GEMM, step one: decodes rows {@code o .. o+3} (clamped) of an FP8 weight into {@code dec} (row
     * {@code i} from {@code i · cols}), 2⁸ times their values at their permuted column positions, full chunks only
     * (the scalar tails read the weight), so that {@link #fp8Decoded} reuses each decoded weight for many x rows.
     * Always by the exact {@link #fp8}, which costs little when amortized over many x rows: a rarely taken branch
     * to it (a block with a zero, subnormal or NaN byte) would leave C2 a cold call site that it does not inline,
     * and the out-of-line call boxes every vector (measured: GEMM 2× slower).
     */
    static void decodeFp8(WeightData w, int o, float[] dec) {
        MemorySegment m = w.data();
        int cols = w.cols();
        for (int i = 0; i < TILE; i++) {
            long row = (long) Math.min(o + i, w.rows() - 1) * cols;
            for (int cb = 0; cb < cols; cb += BLOCK) {
                int end = Math.min(cb + BLOCK, cols);
                for (int c = cb; c + CHUNK <= end; c += CHUNK) {
                    IntVector v = IntVector.fromMemorySegment(I, m, row + c, LE);
                    for (int k = 0; k < 4; k++) {
                        fp8(v.lanewise(VectorOperators.LSHL, 24 - 8 * k)).intoArray(dec, i * cols + c + k * L);
                    }
                }
            }
        }
    }

    /**
     * Larger GEMM, step two: rows {@code o + i} and {@code o + i + 1} (clamped; decoded by {@link #decodeFp8} into
     * {@code dec} as rows {@code i}, {@code i + 1}) against four rows of permuted x starting at {@code x0 .. x3},
     * in the order of {@link #fp8(WeightData, long[], int, float[], int)}, so bit for bit its results.
     * Two weight rows by four x rows: eight FMA chains and their eight block sums stay in registers.
     * {@code out[2j + ii]} receives weight row {@code i + ii} against x row {@code j}.
     */
    static void fp8Decoded(WeightData w, float[] dec, int o, int i, float[] x, int x0, int x1, int x2, int x3,
                           float[] out) {
        int cols = w.cols();
        int last = w.rows() - 1;
        int oa = Math.min(o + i, last), ob = Math.min(o + i + 1, last);
        int da = i * cols, db = da + cols;
        FloatVector ta0 = FloatVector.zero(F), ta1 = ta0, ta2 = ta0, ta3 = ta0;
        FloatVector tb0 = ta0, tb1 = ta0, tb2 = ta0, tb3 = ta0;
        float sa0 = 0, sa1 = 0, sa2 = 0, sa3 = 0, sb0 = 0, sb1 = 0, sb2 = 0, sb3 = 0;
        for (int cb = 0; cb < cols; cb += BLOCK) {
            int end = Math.min(cb + BLOCK, cols);
            int full = cb + (end - cb) / CHUNK * CHUNK;
            FloatVector aa0 = FloatVector.zero(F), aa1 = aa0, aa2 = aa0, aa3 = aa0;
            FloatVector ab0 = aa0, ab1 = aa0, ab2 = aa0, ab3 = aa0;
            for (int c = cb; c < full; c += L) {
                FloatVector wa = FloatVector.fromArray(F, dec, da + c);
                FloatVector wb = FloatVector.fromArray(F, dec, db + c);
                FloatVector xv = FloatVector.fromArray(F, x, x0 + c);
                aa0 = wa.fma(xv, aa0);
                ab0 = wb.fma(xv, ab0);
                xv = FloatVector.fromArray(F, x, x1 + c);
                aa1 = wa.fma(xv, aa1);
                ab1 = wb.fma(xv, ab1);
                xv = FloatVector.fromArray(F, x, x2 + c);
                aa2 = wa.fma(xv, aa2);
                ab2 = wb.fma(xv, ab2);
                xv = FloatVector.fromArray(F, x, x3 + c);
                aa3 = wa.fma(xv, aa3);
                ab3 = wb.fma(xv, ab3);
            }
            FloatVector sa = FloatVector.broadcast(F, w.scale(oa / BLOCK, cb / BLOCK) * 0x1p-8f);
            FloatVector sb = FloatVector.broadcast(F, w.scale(ob / BLOCK, cb / BLOCK) * 0x1p-8f);
            ta0 = aa0.fma(sa, ta0);
            ta1 = aa1.fma(sa, ta1);
            ta2 = aa2.fma(sa, ta2);
            ta3 = aa3.fma(sa, ta3);
            tb0 = ab0.fma(sb, tb0);
            tb1 = ab1.fma(sb, tb1);
            tb2 = ab2.fma(sb, tb2);
            tb3 = ab3.fma(sb, tb3);
            for (int c = full; c < end; c++) {
                float wa = scalar(w, oa, c), wb = scalar(w, ob, c);
                sa0 += x[x0 + c] * wa;
                sa1 += x[x1 + c] * wa;
                sa2 += x[x2 + c] * wa;
                sa3 += x[x3 + c] * wa;
                sb0 += x[x0 + c] * wb;
                sb1 += x[x1 + c] * wb;
                sb2 += x[x2 + c] * wb;
                sb3 += x[x3 + c] * wb;
            }
        }
        out[0] = sa0 + sum(ta0);
        out[1] = sb0 + sum(tb0);
        out[2] = sa1 + sum(ta1);
        out[3] = sb1 + sum(tb1);
        out[4] = sa2 + sum(ta2);
        out[5] = sb2 + sum(tb2);
        out[6] = sa3 + sum(ta3);
        out[7] = sb3 + sum(tb3);
    }

    /**
     * Whether the full {@link #CHUNK}s of FP8 bytes in {@code [from, to)} are all normal numbers: exponent field
     * not 0 (zero and subnormals) and not the NaN byte, i.e. {@code (b & 0x7F) + 1} as a signed byte at least 9.
     * Real checkpoints have few such bytes, so most blocks take {@link #fp8Plain}.
     */
    private static boolean plain(MemorySegment m, long from, long to) {
        for (long c = from; c + CHUNK <= to; c += CHUNK) {
            if (ByteVector.fromMemorySegment(B, m, c, LE).and((byte) 0x7F).add((byte) 1).lt((byte) 9).anyTrue()) {
                return false;
            }
        }
        return true;
    }

    /**
     * A normal FP8 E4M3 byte in the top of each lane to 2⁸ times its F32 value, in three bit operations: the
     * arithmetic shift puts the 7 exponent-mantissa bits in F32 position (exponent field e) and keeps the sign
     * on top; setting exponent bit 7 makes the field 128 + e, i.e. 2⁸ · 2^(e − 7) · (1 + m/8).
     */
    private static FloatVector fp8Plain(IntVector top) {
        return top.lanewise(VectorOperators.ASHR, 4).and(0x87F00000).or(0x40000000).reinterpretAsFloats();
    }

    /**
     * Any FP8 E4M3 byte in the top of each lane to 2⁸ times its F32 value, without ever forming an F32 subnormal
     * (such an operand costs a ~100-cycle microcode assist per instruction on x86): as {@link #fp8Plain}, exact
     * for normal bytes; a subnormal byte (e = 0) comes out as 2·(1 + m/8) < 4, and twice that minus 4 is its
     * value 2⁸ · m·2⁻⁹ — which is the smaller of the two exactly when the first is below 4, so one {@code min}
     * picks the right one per lane; 480·2⁸ (e = 15, m = 7) is the NaN byte; then the sign. Kept small and called
     * once per loop body: C2 must inline it, since an out-of-line call boxes the vector it returns.
     */
    private static FloatVector fp8(IntVector top) {
        FloatVector mag = top.lanewise(VectorOperators.LSHR, 4).and(0x07F00000).or(0x40000000).reinterpretAsFloats();
        mag = mag.min(mag.fma(2f, -4f)).blend(Float.NaN, mag.eq(480f * 256));
        return mag.reinterpretAsInts().or(top.and(0x80000000)).reinterpretAsFloats();
    }

    /**
     * The lanes summed in lane order. {@code reduceLanes(ADD)} may sum in another order once compiled than when
     * interpreted, so one input could give two results; this order is the same in every tier.
     */
    static float sum(FloatVector v) {
        float s = 0;
        for (int i = 0; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** {@code Σ a[ao + i] · b[bo + i]} for {@code i < n}. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float s = sum(acc);
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** {@code y[yo + i] += a · x[xo + i]} for {@code i < n}. */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }

    /** {@code x[i] *= a} for {@code i} in {@code [from, from + n)}. */
    static void scale(float[] x, int from, int n, float a) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, x, from + i).mul(a).intoArray(x, from + i);
        }
        for (; i < n; i++) {
            x[from + i] *= a;
        }
    }
}
