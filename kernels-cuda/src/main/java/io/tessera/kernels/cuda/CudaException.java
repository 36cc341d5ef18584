package io.tessera.kernels.cuda;

/** A CUDA driver, NVRTC or cuBLASLt call returned an error status; the message names the call and the status. */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;

    CudaException(String call, int code, String name, String detail) {
        super(call + " failed: " + name + " (" + code + ")" + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.code = code;
    }

    /** The library's status code (CUresult, nvrtcResult or cublasStatus_t). */
    public int code() {
        return code;
    }
}
