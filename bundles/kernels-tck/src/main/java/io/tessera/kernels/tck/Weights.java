package io.tessera.kernels.tck;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.kernel.WeightData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.Random;

/**
 * Random checkpoint tensors on off-heap memory, laid out as in a safetensors shard (little-endian, FP8 with F32
 * block scales). The memory is shared (any thread may read it, as from a mapped file) and freed by the GC.
 */
public final class Weights {
    private Weights() {
    }

    /** A random {@code [rows, cols]} weight of {@code dtype}, values of magnitude about 1 (FP8: never NaN). */
    public static Tensor random(String name, DType dtype, int rows, int cols, Random rnd) {
        MemorySegment data = Arena.ofAuto().allocate((long) rows * cols * dtype.bytes(), 8);
        for (long i = 0; i < (long) rows * cols; i++) {
            switch (dtype) {
                case F32 -> data.setAtIndex(WeightData.F32, i, (float) rnd.nextGaussian());
                case BF16 -> data.setAtIndex(WeightData.I16, i,
                        (short) (Float.floatToRawIntBits((float) rnd.nextGaussian()) >>> 16));
                case F16 -> data.setAtIndex(WeightData.I16, i, Float.floatToFloat16((float) rnd.nextGaussian()));
                case F8_E4M3 -> {
                    int b;
                    do {
                        b = rnd.nextInt(256);
                    } while ((b & 0x7F) == 0x7F || (b & 0x78) > 0x50); // no NaN; magnitudes up to 2^3
                    data.set(ValueLayout.JAVA_BYTE, i, (byte) b);
                }
                default -> throw new IllegalArgumentException("no random weights of " + dtype);
            }
        }
        Optional<Tensor> scales = Optional.empty();
        if (dtype == DType.F8_E4M3) {
            int sr = (rows + WeightData.BLOCK - 1) / WeightData.BLOCK;
            int sc = (cols + WeightData.BLOCK - 1) / WeightData.BLOCK;
            float[] s = new float[sr * sc];
            for (int i = 0; i < s.length; i++) {
                s[i] = (float) (0.125 * (0.5 + rnd.nextDouble()));
            }
            scales = Optional.of(f32(name + "_scale_inv", new long[] {sr, sc}, s));
        }
        return new Tensor(name, dtype, new long[] {rows, cols},
                data, scales);
    }

    /**
     * A random FP8 weight like a checkpoint's: normal bytes (magnitudes 2⁻⁶ to 2³), one in 400 zero or
     * subnormal, so most 128-column blocks of a row have none and some have one; block scales as {@link #random}.
     */
    public static Tensor checkpointFp8(String name, int rows, int cols, Random rnd) {
        byte[] bytes = new byte[rows * cols];
        for (int i = 0; i < bytes.length; i++) {
            int b = rnd.nextInt(400) == 0 ? rnd.nextInt(8) : (1 + rnd.nextInt(10)) << 3 | rnd.nextInt(8);
            bytes[i] = (byte) (b | (rnd.nextBoolean() ? 0x80 : 0));
        }
        float[] scales = new float[((rows + WeightData.BLOCK - 1) / WeightData.BLOCK)
                * ((cols + WeightData.BLOCK - 1) / WeightData.BLOCK)];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = (float) (0.125 * (0.5 + rnd.nextDouble()));
        }
        return fp8(name, rows, cols, bytes, scales);
    }

    /** An F32 tensor of the given shape and values. */
    public static Tensor f32(String name, long[] shape, float[] values) {
        MemorySegment data = Arena.ofAuto().allocate(4L * values.length, 8);
        for (int i = 0; i < values.length; i++) {
            data.setAtIndex(WeightData.F32, i, values[i]);
        }
        return new Tensor(name, DType.F32, shape, data, Optional.empty());
    }

    /** A 1-D F32 tensor (norm weights, biases, sinks). */
    public static Tensor vector(String name, float[] values) {
        return f32(name, new long[] {values.length}, values);
    }

    /** An FP8 weight {@code [rows, cols]} from raw bytes and block scales. */
    public static Tensor fp8(String name, int rows, int cols, byte[] bytes, float[] scales) {
        MemorySegment data = Arena.ofAuto().allocate(bytes.length, 8);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
        int sr = (rows + WeightData.BLOCK - 1) / WeightData.BLOCK;
        int sc = (cols + WeightData.BLOCK - 1) / WeightData.BLOCK;
        return new Tensor(name, DType.F8_E4M3, new long[] {rows, cols}, data,
                Optional.of(f32(name + "_scale_inv", new long[] {sr, sc}, scales)));
    }
}
