package io.tessera.kernels.cuda;

import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/** FFM layouts of the C structs the bindings pass by pointer (x86-64 / aarch64 Linux ABI). */
final class CudaLayouts {
    /** {@code cublasLtMatmulAlgo_t}: {@code uint64_t data[8]}. */
    static final StructLayout CUBLASLT_MATMUL_ALGO = structLayout(sequenceLayout(8, ValueLayout.JAVA_LONG).withName("data"))
            .withName("cublasLtMatmulAlgo_t");

    /** {@code cublasLtMatmulHeuristicResult_t}: algo, workspaceSize, state, wavesCount, int reserved[4]. */
    static final StructLayout CUBLASLT_HEURISTIC_RESULT = structLayout(
            CUBLASLT_MATMUL_ALGO.withName("algo"),
            ValueLayout.JAVA_LONG.withName("workspaceSize"),
            ValueLayout.JAVA_INT.withName("state"),
            ValueLayout.JAVA_FLOAT.withName("wavesCount"),
            sequenceLayout(4, ValueLayout.JAVA_INT).withName("reserved")).withName("cublasLtMatmulHeuristicResult_t");

    static final long HEURISTIC_WORKSPACE_OFFSET = CUBLASLT_HEURISTIC_RESULT.byteOffset(
            MemoryLayout.PathElement.groupElement("workspaceSize"));
    static final long HEURISTIC_STATE_OFFSET = CUBLASLT_HEURISTIC_RESULT.byteOffset(
            MemoryLayout.PathElement.groupElement("state"));

    /** Kernel arguments of one launch: at most this many, each in an 8-byte slot. */
    static final int MAX_KERNEL_ARGS = 16;

    /** The argument values of a launch: one 8-byte slot per argument (pointer, long, double, or int/float low). */
    static final MemoryLayout KERNEL_ARG_VALUES = sequenceLayout(MAX_KERNEL_ARGS, ValueLayout.JAVA_LONG);

    /** The {@code void* kernelParams[]} of cuLaunchKernel: the address of each argument value. */
    static final MemoryLayout KERNEL_ARG_POINTERS = sequenceLayout(MAX_KERNEL_ARGS, ValueLayout.ADDRESS);

    private CudaLayouts() {
    }
}
