package io.tessera.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CudaErrorsTest {
    @Test
    void cuResultCodesMapToTheirCudaHNames() {
        assertEquals("CUDA_SUCCESS", CudaErrors.cuResultName(0));
        assertEquals("CUDA_ERROR_INVALID_VALUE", CudaErrors.cuResultName(1));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CudaErrors.cuResultName(2));
        assertEquals("CUDA_ERROR_STUB_LIBRARY", CudaErrors.cuResultName(34));
        assertEquals("CUDA_ERROR_NO_DEVICE", CudaErrors.cuResultName(100));
        assertEquals("CUDA_ERROR_NO_BINARY_FOR_GPU", CudaErrors.cuResultName(209));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CudaErrors.cuResultName(700));
        assertEquals("CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", CudaErrors.cuResultName(901));
        assertEquals("CUDA_ERROR_UNKNOWN", CudaErrors.cuResultName(999));
        assertEquals("CUresult 12345", CudaErrors.cuResultName(12345));
    }

    @Test
    void nvrtcAndCublasCodesMapToTheirHeaderNames() {
        assertEquals("NVRTC_SUCCESS", CudaErrors.nvrtcResultName(0));
        assertEquals("NVRTC_ERROR_INVALID_OPTION", CudaErrors.nvrtcResultName(5));
        assertEquals("NVRTC_ERROR_COMPILATION", CudaErrors.nvrtcResultName(6));
        assertEquals("nvrtcResult 99", CudaErrors.nvrtcResultName(99));
        assertEquals("CUBLAS_STATUS_SUCCESS", CudaErrors.cublasStatusName(0));
        assertEquals("CUBLAS_STATUS_ALLOC_FAILED", CudaErrors.cublasStatusName(3));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", CudaErrors.cublasStatusName(15));
        assertEquals("cublasStatus 2", CudaErrors.cublasStatusName(2));
    }

    @Test
    void anExceptionNamesTheCallTheStatusAndTheDetail() {
        CudaException e = new CudaException("cuMemAlloc(1024 bytes)", 2, CudaErrors.cuResultName(2), "out of memory");
        assertEquals("cuMemAlloc(1024 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", e.getMessage());
        assertEquals(2, e.code());
        assertTrue(new CudaException("nvrtcVersion", 11, "NVRTC_ERROR_INTERNAL_ERROR", null).getMessage()
                .endsWith("NVRTC_ERROR_INTERNAL_ERROR (11)"));
    }
}
