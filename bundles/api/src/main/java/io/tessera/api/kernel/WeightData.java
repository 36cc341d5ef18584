package io.tessera.api.kernel;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A checkpoint tensor checked and viewed as a weight {@code [rows, cols]} in place (1-D tensors are one row):
 * the validation every backend's {@link KernelBackend#weight} needs, and the exact scalar decoding of each dtype,
 * so backends agree on both. Nothing is copied.
 *
 * @param name      the tensor name
 * @param dtype     F32, BF16, F16 or F8_E4M3
 * @param rows      output rows ({@code 1} for a 1-D tensor)
 * @param cols      input columns
 * @param data      the tensor bytes, row-major little-endian
 * @param scales    F8_E4M3 only: the F32 block scales {@code [ceil(rows/128), ceil(cols/128)]}, else null
 */
public record WeightData(String name, DType dtype, int rows, int cols, MemorySegment data, MemorySegment scales) {

    /** FP8 scale block edge (rows and columns). */
    public static final int BLOCK = 128;

    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Checks a tensor and views it as a weight.
     *
     * @throws IllegalArgumentException naming the tensor, for an unsupported dtype or rank, a byte size that does
     *                                  not match the shape, or FP8 scales that are missing or mis-shaped
     */
    public static WeightData of(Tensor t) {
        if (t.rank() < 1 || t.rank() > 2) {
            throw new IllegalArgumentException(t.name() + ": a weight is 1-D or 2-D, got shape " + t);
        }
        int rows = t.rank() == 2 ? t.dim(0) : 1;
        int cols = t.dim(t.rank() - 1);
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(t.name() + ": empty weight " + t);
        }
        switch (t.dtype()) {
            case F32, BF16, F16, F8_E4M3 -> { }
            default -> throw new IllegalArgumentException(t.name() + ": unsupported weight dtype " + t.dtype()
                    + " (supported: F32, BF16, F16, F8_E4M3)");
        }
        long bytes = (long) rows * cols * t.dtype().bytes();
        if (t.data().byteSize() != bytes) {
            throw new IllegalArgumentException(t.name() + ": " + t.data().byteSize() + " bytes for shape " + t
                    + ", expected " + bytes);
        }
        MemorySegment scales = null;
        if (t.dtype() == DType.F8_E4M3) {
            Tensor s = t.scaleInv().orElseThrow(() -> new IllegalArgumentException(
                    t.name() + ": F8_E4M3 weight without its block scales (weight_scale_inv)"));
            long sr = (rows + BLOCK - 1) / BLOCK;
            long sc = (cols + BLOCK - 1) / BLOCK;
            if (s.dtype() != DType.F32 || s.elements() != sr * sc || s.data().byteSize() != sr * sc * 4
                    || (s.rank() == 2 && (s.shape()[0] != sr || s.shape()[1] != sc))) {
                throw new IllegalArgumentException(t.name() + ": block scales " + s + " should be F32[" + sr + ", "
                        + sc + "]");
            }
            scales = s.data();
        } else if (t.scaleInv().isPresent()) {
            throw new IllegalArgumentException(t.name() + ": block scales on a " + t.dtype() + " weight");
        }
        return new WeightData(t.name(), t.dtype(), rows, cols, t.data(), scales);
    }

    /** The exact F32 value of element {@code (r, c)}, block scale applied. */
    public float get(int r, int c) {
        long i = (long) r * cols + c;
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, i);
            case BF16 -> Float.intBitsToFloat(data.getAtIndex(I16, i) << 16);
            case F16 -> Float.float16ToFloat(data.getAtIndex(I16, i));
            case F8_E4M3 -> e4m3(data.get(ValueLayout.JAVA_BYTE, i)) * scale(r / BLOCK, c / BLOCK);
            default -> throw new AssertionError(dtype);
        };
    }

    /** The FP8 block scale of block {@code (rowBlock, colBlock)}. */
    public float scale(int rowBlock, int colBlock) {
        return scales.getAtIndex(F32, (long) rowBlock * ((cols + BLOCK - 1) / BLOCK) + colBlock);
    }

    /**
     * Decodes FP8 E4M3FN ({@code s|eeee|mmm}, bias 7): subnormal at {@code e = 0}, no infinities, {@code 0x7F}
     * and {@code 0xFF} are NaN.
     */
    public static float e4m3(byte bits) {
        int em = bits & 0x7F;
        if (em == 0x7F) {
            return Float.NaN;
        }
        int e = em >>> 3;
        int m = em & 7;
        float v = e == 0 ? m * 0x1p-9f : Math.scalb(1 + m / 8f, e - 7);
        return bits < 0 ? -v : v;
    }
}
