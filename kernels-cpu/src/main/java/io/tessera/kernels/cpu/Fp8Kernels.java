package io.tessera.kernels.cpu;

import static io.tessera.api.kernel.WeightData.BLOCK;
import static io.tessera.kernels.cpu.VectorMath.B;
import static io.tessera.kernels.cpu.VectorMath.F;
import static io.tessera.kernels.cpu.VectorMath.I;
import static io.tessera.kernels.cpu.VectorMath.L;
import static io.tessera.kernels.cpu.VectorMath.LE;
import static io.tessera.kernels.cpu.VectorMath.sum;

import io.tessera.api.kernel.WeightData;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * FP8 E4M3 weight rows (128×128 block scales) against F32 activations, decoded in registers.
 *
 * <h2>The summation order</h2>
 * Every FP8 path (GEMV {@link #dot}, small GEMM {@link #dot4}, decoded GEMM {@link #decodedDot}) sums in this
 * order, so that a row's result does not depend on how many rows share the call (batch invariance): x is
 * permuted by {@link #permute}; per 128-column block, four lane accumulators {@code a0..a3}, {@code ak} taking
 * the FMAs of vector {@code k} of each full {@link #CHUNK} in column order (vector {@code k} holds byte {@code k}
 * of each int lane); the block sum {@code (a0 + a1) + (a2 + a3)} goes into {@code t} by one FMA with
 * {@code scale·2⁻⁸}; the block's columns past its last full chunk go to a scalar sum {@code s} in column order;
 * the result is {@code s + sum(t)}. Four accumulators instead of one: a single FMA chain per row bounds the GEMV
 * at one FMA latency per 16 weights, about half of what decoding costs.
 *
 * <h2>The decode</h2>
 * The weight bytes are loaded four per int lane and byte {@code k} is shifted to the top of its lane
 * ({@code << 24 − 8k}; a byte-to-int vector conversion is not intrinsified everywhere and boxes). A normal byte
 * becomes 2⁸ times its value in three bit operations ({@link #plainByte}); the factor 2⁻⁸ is in the block scale,
 * so products stay exact. Whether a block holds only normal bytes is found once per 4-row tile, at its first use
 * ({@link #scanTile}, one bit per row block); other blocks take the exact {@link #anyByte}.
 */
final class Fp8Kernels {
    /** FP8 columns per step: one int vector of weight bytes, four bytes per lane. */
    static final int CHUNK = 4 * L;
    /** Rows per tile of the plain-block flags (and of the matmul's work items). */
    static final int TILE = 4;

    private Fp8Kernels() {
    }

    /**
     * Reorders one row of x: within each full {@link #CHUNK} of columns, byte {@code k} of int lane {@code j} is
     * column {@code 4j + k}, so the decoder's vector {@code k} needs those columns together. Columns past the
     * last full chunk keep their places (the scalar tail reads them).
     */
    static void permute(float[] x, int xo, float[] xp, int po, int cols) {
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

    // ---- plain-block flags ---------------------------------------------------------------------------------

    /**
     * The flags of an FP8 weight, all clear: per (row, 128-column block), a bit set when the block's full
     * {@link #CHUNK}s hold only normal bytes. Each 4-row tile has words of its own, so that workers filling
     * different tiles never write the same word.
     */
    static long[] plainBits(WeightData w) {
        int tiles = (w.rows() + TILE - 1) / TILE;
        return new long[Math.toIntExact((long) tiles * wordsPerTile((w.cols() + BLOCK - 1) / BLOCK))];
    }

    private static int wordsPerTile(int blocks) {
        return (TILE * blocks + 63) / 64;
    }

    private static long plainBit(int r, int blocks, int b) {
        return ((long) (r / TILE) * wordsPerTile(blocks) << 6) + (long) (r % TILE) * blocks + b;
    }

    /** Sets the flags of the tile of rows {@code o .. o+3} ({@code o} a multiple of {@link #TILE}). */
    static void scanTile(WeightData w, long[] bits, int o) {
        MemorySegment m = w.data();
        int cols = w.cols();
        int blocks = (cols + BLOCK - 1) / BLOCK;
        for (int r = o; r < Math.min(o + TILE, w.rows()); r++) {
            long row = (long) r * cols;
            for (int b = 0; b < blocks; b++) {
                if (normal(m, row + (long) b * BLOCK, row + Math.min((b + 1) * BLOCK, cols))) {
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
     * Whether the full chunks of bytes in {@code [from, to)} are all normal numbers: exponent field not 0 (zero
     * and subnormals) and not the NaN byte, i.e. {@code (b & 0x7F) + 1} as a signed byte at least 9.
     */
    private static boolean normal(MemorySegment m, long from, long to) {
        for (long c = from; c + CHUNK <= to; c += CHUNK) {
            if (ByteVector.fromMemorySegment(B, m, c, LE).and((byte) 0x7F).add((byte) 1).lt((byte) 9).anyTrue()) {
                return false;
            }
        }
        return true;
    }

    // ---- dot products --------------------------------------------------------------------------------------

    /**
     * GEMV: weight row {@code o} against one permuted x row at {@code xo}, in the order of the class comment.
     * One decoder call site of each kind, in a loop over {@code k} that C2 unrolls after inlining: each
     * unrolled copy of the decoders counts against C2's inlining budget ({@code NodeCountInliningCutoff}), past
     * which the decoders stay calls that box every vector (10× slower). The four accumulators rotate through
     * {@code a0} once per {@code k}, so that after unrolling the moves are register renames.
     */
    static float dot(WeightData w, long[] plainBits, int o, float[] x, int xo) {
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
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int c = cb;
            for (; c + CHUNK <= end; c += CHUNK) {
                IntVector v = IntVector.fromMemorySegment(I, m, row + c, LE);
                for (int k = 0; k < 4; k++) {
                    IntVector top = v.lanewise(VectorOperators.LSHL, 24 - 8 * k);
                    FloatVector next = (plain ? plainByte(top) : anyByte(top))
                            .fma(FloatVector.fromArray(F, x, xo + c + k * L), a0);
                    a0 = a1;
                    a1 = a2;
                    a2 = a3;
                    a3 = next;
                }
            }
            t = a0.add(a1).add(a2.add(a3)).fma(FloatVector.broadcast(F, w.scale(o / BLOCK, b) * 0x1p-8f), t);
            for (; c < end; c++) {
                s += x[xo + c] * w.get(o, c);
            }
        }
        return s + sum(t);
    }

    /**
     * Small GEMM: weight row {@code o} against four permuted x rows ({@code xo + j·cols}), each weight vector
     * decoded once for all four; {@code out[j]} receives row {@code j}'s result, bit for bit that of {@link #dot}
     * (the same rotation of four accumulators per x row).
     */
    static void dot4(WeightData w, long[] plainBits, int o, float[] x, int xo, float[] out) {
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
            // accumulator [x row][rotation slot]
            FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            int c = cb;
            for (; c + CHUNK <= end; c += CHUNK) {
                IntVector v = IntVector.fromMemorySegment(I, m, row + c, LE);
                for (int k = 0; k < 4; k++) {
                    IntVector top = v.lanewise(VectorOperators.LSHL, 24 - 8 * k);
                    FloatVector wv = plain ? plainByte(top) : anyByte(top);
                    int p = c + k * L;
                    FloatVector n0 = wv.fma(FloatVector.fromArray(F, x, xo + p), a00);
                    FloatVector n1 = wv.fma(FloatVector.fromArray(F, x, x1 + p), a10);
                    FloatVector n2 = wv.fma(FloatVector.fromArray(F, x, x2 + p), a20);
                    FloatVector n3 = wv.fma(FloatVector.fromArray(F, x, x3 + p), a30);
                    a00 = a01;
                    a01 = a02;
                    a02 = a03;
                    a03 = n0;
                    a10 = a11;
                    a11 = a12;
                    a12 = a13;
                    a13 = n1;
                    a20 = a21;
                    a21 = a22;
                    a22 = a23;
                    a23 = n2;
                    a30 = a31;
                    a31 = a32;
                    a32 = a33;
                    a33 = n3;
                }
            }
            FloatVector scale = FloatVector.broadcast(F, w.scale(o / BLOCK, b) * 0x1p-8f);
            t0 = a00.add(a01).add(a02.add(a03)).fma(scale, t0);
            t1 = a10.add(a11).add(a12.add(a13)).fma(scale, t1);
            t2 = a20.add(a21).add(a22.add(a23)).fma(scale, t2);
            t3 = a30.add(a31).add(a32.add(a33)).fma(scale, t3);
            for (; c < end; c++) {
                float wc = w.get(o, c);
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
     * Larger GEMM, step one: decodes rows {@code o .. o+3} (clamped) into {@code dec} (row {@code i} from
     * {@code i · cols}), 2⁸ times their values at their permuted column positions, full chunks only (the scalar
     * tails read the weight), so that {@link #decodedDot} reuses each decoded weight for many x rows. Always by
     * the exact {@link #anyByte}: a rarely taken branch to it would leave C2 a cold call site that it does not
     * inline, and the out-of-line call boxes every vector (measured: GEMM 2× slower).
     */
    static void decodeTile(WeightData w, int o, float[] dec) {
        MemorySegment m = w.data();
        int cols = w.cols();
        for (int i = 0; i < TILE; i++) {
            long row = (long) Math.min(o + i, w.rows() - 1) * cols;
            for (int cb = 0; cb < cols; cb += BLOCK) {
                int end = Math.min(cb + BLOCK, cols);
                for (int c = cb; c + CHUNK <= end; c += CHUNK) {
                    IntVector v = IntVector.fromMemorySegment(I, m, row + c, LE);
                    for (int k = 0; k < 4; k++) {
                        anyByte(v.lanewise(VectorOperators.LSHL, 24 - 8 * k)).intoArray(dec, i * cols + c + k * L);
                    }
                }
            }
        }
    }

    /**
     * Larger GEMM, step two: weight rows {@code o + i} and {@code o + i + 1} (clamped; rows {@code i}, {@code i + 1}
     * of {@code dec}) against permuted x rows at {@code x0} and {@code x1}, in the order of the class comment, so
     * bit for bit the results of {@link #dot}: two weight rows by two x rows by four accumulators stay in
     * registers. {@code out[2j + ii]} receives weight row {@code i + ii} against x row {@code j}.
     */
    static void decodedDot(WeightData w, float[] dec, int o, int i, float[] x, int x0, int x1, float[] out) {
        int cols = w.cols();
        int last = w.rows() - 1;
        int oa = Math.min(o + i, last), ob = Math.min(o + i + 1, last);
        int da = i * cols, db = da + cols;
        FloatVector ta0 = FloatVector.zero(F), ta1 = ta0, tb0 = ta0, tb1 = ta0;
        float sa0 = 0, sa1 = 0, sb0 = 0, sb1 = 0;
        for (int cb = 0; cb < cols; cb += BLOCK) {
            int end = Math.min(cb + BLOCK, cols);
            int full = cb + (end - cb) / CHUNK * CHUNK;
            // accumulator [weight row a|b][x row][rotation slot]
            FloatVector aa00 = FloatVector.zero(F), aa01 = aa00, aa02 = aa00, aa03 = aa00;
            FloatVector aa10 = aa00, aa11 = aa00, aa12 = aa00, aa13 = aa00;
            FloatVector ab00 = aa00, ab01 = aa00, ab02 = aa00, ab03 = aa00;
            FloatVector ab10 = aa00, ab11 = aa00, ab12 = aa00, ab13 = aa00;
            for (int c = cb; c < full; c += CHUNK) {
                for (int k = 0; k < 4; k++) { // the rotation of dot's four accumulators
                    int p = c + k * L;
                    FloatVector wa = FloatVector.fromArray(F, dec, da + p), wb = FloatVector.fromArray(F, dec, db + p);
                    FloatVector xa = FloatVector.fromArray(F, x, x0 + p), xb = FloatVector.fromArray(F, x, x1 + p);
                    FloatVector na0 = wa.fma(xa, aa00), nb0 = wb.fma(xa, ab00);
                    FloatVector na1 = wa.fma(xb, aa10), nb1 = wb.fma(xb, ab10);
                    aa00 = aa01;
                    aa01 = aa02;
                    aa02 = aa03;
                    aa03 = na0;
                    ab00 = ab01;
                    ab01 = ab02;
                    ab02 = ab03;
                    ab03 = nb0;
                    aa10 = aa11;
                    aa11 = aa12;
                    aa12 = aa13;
                    aa13 = na1;
                    ab10 = ab11;
                    ab11 = ab12;
                    ab12 = ab13;
                    ab13 = nb1;
                }
            }
            FloatVector sa = FloatVector.broadcast(F, w.scale(oa / BLOCK, cb / BLOCK) * 0x1p-8f);
            FloatVector sb = FloatVector.broadcast(F, w.scale(ob / BLOCK, cb / BLOCK) * 0x1p-8f);
            ta0 = aa00.add(aa01).add(aa02.add(aa03)).fma(sa, ta0);
            ta1 = aa10.add(aa11).add(aa12.add(aa13)).fma(sa, ta1);
            tb0 = ab00.add(ab01).add(ab02.add(ab03)).fma(sb, tb0);
            tb1 = ab10.add(ab11).add(ab12.add(ab13)).fma(sb, tb1);
            for (int c = full; c < end; c++) {
                float wa = w.get(oa, c), wb = w.get(ob, c);
                sa0 += x[x0 + c] * wa;
                sa1 += x[x1 + c] * wa;
                sb0 += x[x0 + c] * wb;
                sb1 += x[x1 + c] * wb;
            }
        }
        out[0] = sa0 + sum(ta0);
        out[1] = sb0 + sum(tb0);
        out[2] = sa1 + sum(ta1);
        out[3] = sb1 + sum(tb1);
    }

    // ---- decoders ------------------------------------------------------------------------------------------

    /**
     * A normal FP8 E4M3 byte in the top of each lane to 2⁸ times its F32 value, in three bit operations: the
     * arithmetic shift puts the 7 exponent-mantissa bits in F32 position (exponent field e) and keeps the sign
     * on top; setting exponent bit 7 makes the field 128 + e, i.e. 2⁸ · 2^(e − 7) · (1 + m/8).
     */
    private static FloatVector plainByte(IntVector top) {
        return top.lanewise(VectorOperators.ASHR, 4).and(0x87F00000).or(0x40000000).reinterpretAsFloats();
    }

    /**
     * Any FP8 E4M3 byte in the top of each lane to 2⁸ times its F32 value, without ever forming an F32 subnormal
     * (such an operand costs a ~100-cycle microcode assist per instruction on x86): as {@link #plainByte}, exact
     * for normal bytes; a subnormal byte (e = 0) comes out as 2·(1 + m/8) < 4, and twice that minus 4 is its
     * value 2⁸ · m·2⁻⁹ — which is the smaller of the two exactly when the first is below 4, so one {@code min}
     * picks the right one per lane; 480·2⁸ (e = 15, m = 7) is the NaN byte; then the sign. Kept small: C2 must
     * inline it, since an out-of-line call boxes the vector it returns.
     */
    private static FloatVector anyByte(IntVector top) {
        FloatVector mag = top.lanewise(VectorOperators.LSHR, 4).and(0x07F00000).or(0x40000000).reinterpretAsFloats();
        mag = mag.min(mag.fma(2f, -4f)).blend(Float.NaN, mag.eq(480f * 256));
        return mag.reinterpretAsInts().or(top.and(0x80000000)).reinterpretAsFloats();
    }
}
