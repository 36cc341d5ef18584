package io.tessera.kernels.cpu.bench;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Optional;

/** MiMo-V2-Flash weight shapes ({@code out × in}) and random weights of them, filled fast. */
final class Shapes {
    private Shapes() {
    }

    static int[] of(String shape) {
        return switch (shape) {
            case "q_proj" -> new int[] {12288, 4096};
            case "expert" -> new int[] {2048, 4096};
            case "lm_head" -> new int[] {152576, 4096};
            default -> throw new IllegalArgumentException("unknown shape " + shape);
        };
    }

    static long bytes(String shape, DType dtype) {
        int[] s = of(shape);
        long b = (long) s[0] * s[1] * dtype.bytes();
        return dtype == DType.F8_E4M3 ? b + 4L * ((s[0] + 127) / 128) * ((s[1] + 127) / 128) : b;
    }

    /**
     * A weight of random finite values: BF16/F32 normal numbers of magnitude 1–2; FP8 bytes with exponent field 8,
     * 9, 12 or 13 (magnitudes 2–120, as a block-scaled checkpoint's, whose largest byte is ±448) and a zero byte
     * every 4099 (about 3 % of 128-byte row blocks), as real checkpoints have few zero or subnormal bytes.
     */
    static Tensor random(Arena arena, String name, DType dtype, int rows, int cols) {
        Tensor t = fill(arena, name, dtype, rows, cols, switch (dtype) {
            case F8_E4M3 -> 0xAFAFAFAFAFAFAFAFL;
            case BF16 -> 0x807F807F807F807FL;   // sign + mantissa; exponent set below
            case F32 -> 0x807FFFFF807FFFFFL;
            default -> throw new IllegalArgumentException(dtype.toString());
        }, switch (dtype) {
            case F8_E4M3 -> 0x4040404040404040L;
            case BF16 -> 0x3F803F803F803F80L;
            case F32 -> 0x3F8000003F800000L;
            default -> 0;
        });
        if (dtype == DType.F8_E4M3) {
            for (long i = 0; i < t.data().byteSize(); i += 4099) {
                t.data().set(ValueLayout.JAVA_BYTE, i, (byte) 0);
            }
        }
        return t;
    }

    /** FP8 bytes with bit 4 cleared (never NaN), an eighth of them zero or subnormal: every block has some. */
    static Tensor subnormalFp8(Arena arena, String name, int rows, int cols) {
        return fill(arena, name, DType.F8_E4M3, rows, cols, 0xEFEFEFEFEFEFEFEFL, 0);
    }

    /** Random bits {@code & mask | set} in every 8 bytes, FP8 with block scales. */
    private static Tensor fill(Arena arena, String name, DType dtype, int rows, int cols, long mask, long set) {
        long n = (long) rows * cols;
        MemorySegment data = arena.allocate(n * dtype.bytes(), 64);
        long state = 0x9E3779B97F4A7C15L;
        ValueLayout.OfLong word = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long off = 0; off + 8 <= data.byteSize(); off += 8) {
            state ^= state << 13;
            state ^= state >>> 7;
            state ^= state << 17;
            data.set(word, off, (state & mask) | set);
        }
        Optional<Tensor> scales = Optional.empty();
        if (dtype == DType.F8_E4M3) {
            int sr = (rows + 127) / 128, sc = (cols + 127) / 128;
            MemorySegment s = arena.allocate(4L * sr * sc, 64);
            for (long i = 0; i < (long) sr * sc; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 1e-3f * (1 + i % 7));
            }
            scales = Optional.of(new Tensor(name + "_scale_inv", DType.F32, new long[] {sr, sc}, s, Optional.empty()));
        }
        return new Tensor(name, dtype, new long[] {rows, cols}, data, scales);
    }
}
