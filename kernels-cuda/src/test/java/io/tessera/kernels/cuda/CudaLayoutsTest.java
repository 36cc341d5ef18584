package io.tessera.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class CudaLayoutsTest {
    @Test
    void cublasLtStructsHaveTheirCSizesAndOffsets() {
        // cublasLt.h: typedef struct { uint64_t data[8]; } cublasLtMatmulAlgo_t;
        assertEquals(64, CudaLayouts.CUBLASLT_MATMUL_ALGO.byteSize());
        // algo (64) + size_t workspaceSize (8) + cublasStatus_t state (4) + float wavesCount (4) + int reserved[4]
        assertEquals(96, CudaLayouts.CUBLASLT_HEURISTIC_RESULT.byteSize());
        assertEquals(64, CudaLayouts.HEURISTIC_WORKSPACE_OFFSET);
        assertEquals(72, CudaLayouts.HEURISTIC_STATE_OFFSET);
        assertEquals(8, CudaLayouts.CUBLASLT_HEURISTIC_RESULT.byteAlignment());
    }

    @Test
    void kernelArgumentBlockHasOneEightByteSlotAndOnePointerPerArgument() {
        assertEquals(8L * CudaLayouts.MAX_KERNEL_ARGS, CudaLayouts.KERNEL_ARG_VALUES.byteSize());
        assertEquals(ValueLayout.ADDRESS.byteSize() * CudaLayouts.MAX_KERNEL_ARGS,
                CudaLayouts.KERNEL_ARG_POINTERS.byteSize());
        assertEquals(8, ValueLayout.ADDRESS.byteSize(), "CUDA's ABI: 64-bit pointers and CUdeviceptr");
    }

    @Test
    void intAndFloatArgumentsSitInTheLowBytesOfTheirSlot() {
        // cuLaunchKernel reads an int parameter as 4 bytes at its address: little-endian slots must hold it first
        try (Arena a = Arena.ofConfined()) {
            MemorySegment slot = a.allocate(8);
            slot.set(ValueLayout.JAVA_LONG, 0, -1L);
            slot.set(ValueLayout.JAVA_INT, 0, 7);
            assertEquals(7, slot.get(ValueLayout.JAVA_INT, 0));
            slot.set(ValueLayout.JAVA_FLOAT, 0, 1.5f);
            assertEquals(1.5f, slot.get(ValueLayout.JAVA_FLOAT, 0));
        }
    }
}
