package io.tessera.api;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * One named tensor of an opened checkpoint, viewed in place.
 *
 * <p>{@link #data()} is a read-only view of the tensor's bytes in the memory-mapped shard, row-major,
 * little-endian, {@code shape} in PyTorch order (a linear weight is {@code [out, in]}). It is valid while
 * the {@link io.tessera.api.checkpoint.Checkpoint} it came from is held (see its reference counting);
 * reading it after the last release fails with {@link IllegalStateException}, never a crash.
 *
 * <p>An {@link DType#F8_E4M3} weight carries its block scales: {@link #scaleInv()} is the F32 tensor
 * {@code <name>_scale_inv} of shape {@code [ceil(out/128), ceil(in/128)]}, and the real weight is
 * {@code W[i][j] = e4m3(data[i][j]) * scaleInv[i/128][j/128]} (a multiplier, despite its name). Edge blocks
 * may be partial when a dimension is not a multiple of 128.
 *
 * @param name     the checkpoint name, e.g. {@code model.layers.3.self_attn.q_proj.weight}
 * @param dtype    element type as stored
 * @param shape    dimensions, outermost first
 * @param data     read-only bytes, {@code product(shape) * dtype.bytes()} long
 * @param scaleInv the block scales of an FP8 weight, empty otherwise
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data, Optional<Tensor> scaleInv) {

    /** Number of elements. */
    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Size of dimension {@code i}, counting from the outermost. */
    public int dim(int i) {
        return Math.toIntExact(shape[i]);
    }

    /** Rank (number of dimensions). */
    public int rank() {
        return shape.length;
    }

    @Override
    public String toString() {
        return name + " " + dtype + java.util.Arrays.toString(shape);
    }
}
