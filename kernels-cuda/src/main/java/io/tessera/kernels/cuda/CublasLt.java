package io.tessera.kernels.cuda;

import static io.tessera.kernels.cuda.Native.INT;
import static io.tessera.kernels.cuda.Native.LONG;
import static io.tessera.kernels.cuda.Native.PTR;
import static io.tessera.kernels.cuda.Native.SIZE_T;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * cuBLASLt through FFM, for the GEMMs of prefill: BF16 x BF16 → F32 and, on Hopper, FP8 E4M3 with 128-block scales
 * (activations per 1x128, weights per 128x128 — exactly the checkpoint's {@code weight_scale_inv} layout).
 *
 * <p>Orientation: the backend's {@code y[n, out] = x[n, in] · W[out, in]ᵀ} in row-major is, in cuBLASLt's
 * column-major terms, {@code D(out × n) = Aᵀ · B} with A = W viewed as {@code in × out} (ld in, TRANSA = T) and
 * B = x viewed as {@code in × n} (ld in, TRANSB = N): the "TN" layout FP8 needs on Hopper. The block-scale tensors
 * then line up with no copy: W's {@code [ceil(out/128), ceil(in/128)]} row-major is A's BLK128x128 scales, and the
 * activation quantizer writes {@code [n, ceil(in/128)]} row-major, B's VEC128 scales.
 */
final class CublasLt {
    // cudaDataType_t (library_types.h)
    static final int CUDA_R_32F = 0;
    static final int CUDA_R_16BF = 14;
    static final int CUDA_R_8F_E4M3 = 28;
    // cublasComputeType_t
    static final int CUBLAS_COMPUTE_32F = 68;
    // cublasOperation_t
    static final int CUBLAS_OP_N = 0;
    static final int CUBLAS_OP_T = 1;
    // cublasLtMatmulDescAttributes_t
    static final int CUBLASLT_MATMUL_DESC_TRANSA = 3;
    static final int CUBLASLT_MATMUL_DESC_TRANSB = 4;
    static final int CUBLASLT_MATMUL_DESC_A_SCALE_POINTER = 17;
    static final int CUBLASLT_MATMUL_DESC_B_SCALE_POINTER = 18;
    static final int CUBLASLT_MATMUL_DESC_A_SCALE_MODE = 31;
    static final int CUBLASLT_MATMUL_DESC_B_SCALE_MODE = 32;
    // cublasLtMatmulMatrixScale_t (cuBLAS 12.9+; cublasLt.h of cuBLAS 13.1 lists 0..5)
    static final int CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F = 4;
    static final int CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F = 5;
    // cublasLtMatmulPreferenceAttributes_t
    static final int CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1;
    /** cublasLtGetVersion of the first release with the 128-block scale modes (12.9.0). */
    static final long BLOCK_SCALING_SINCE = 120900;

    private final MethodHandle cublasLtCreate, cublasLtDestroy, cublasLtGetVersion, cublasLtGetStatusName,
            cublasLtMatmulDescCreate, cublasLtMatmulDescDestroy, cublasLtMatmulDescSetAttribute,
            cublasLtMatrixLayoutCreate, cublasLtMatrixLayoutDestroy, cublasLtMatmulPreferenceCreate,
            cublasLtMatmulPreferenceDestroy, cublasLtMatmulPreferenceSetAttribute, cublasLtMatmulAlgoGetHeuristic,
            cublasLtMatmul;

    CublasLt(SymbolLookup lib) {
        Native n = new Native("libcublasLt", lib);
        cublasLtCreate = n.status("cublasLtCreate", PTR);
        cublasLtDestroy = n.status("cublasLtDestroy", PTR);
        cublasLtGetVersion = n.handle("cublasLtGetVersion", FunctionDescriptor.of(SIZE_T));
        cublasLtGetStatusName = n.handle("cublasLtGetStatusName", FunctionDescriptor.of(PTR, INT));
        cublasLtMatmulDescCreate = n.status("cublasLtMatmulDescCreate", PTR, INT, INT);
        cublasLtMatmulDescDestroy = n.status("cublasLtMatmulDescDestroy", PTR);
        cublasLtMatmulDescSetAttribute = n.status("cublasLtMatmulDescSetAttribute", PTR, INT, PTR, SIZE_T);
        cublasLtMatrixLayoutCreate = n.status("cublasLtMatrixLayoutCreate", PTR, INT, LONG, LONG, LONG);
        cublasLtMatrixLayoutDestroy = n.status("cublasLtMatrixLayoutDestroy", PTR);
        cublasLtMatmulPreferenceCreate = n.status("cublasLtMatmulPreferenceCreate", PTR);
        cublasLtMatmulPreferenceDestroy = n.status("cublasLtMatmulPreferenceDestroy", PTR);
        cublasLtMatmulPreferenceSetAttribute = n.status("cublasLtMatmulPreferenceSetAttribute", PTR, INT, PTR, SIZE_T);
        cublasLtMatmulAlgoGetHeuristic = n.status("cublasLtMatmulAlgoGetHeuristic", PTR, PTR, PTR, PTR, PTR, PTR, PTR,
                INT, PTR, PTR);
        cublasLtMatmul = n.status("cublasLtMatmul", PTR, PTR, PTR, LONG, PTR, LONG, PTR, PTR, LONG, PTR, LONG, PTR,
                PTR, LONG, SIZE_T, PTR);
    }

    /** E.g. 130101 for cuBLAS 13.1.1. */
    long version() throws Throwable {
        return (long) cublasLtGetVersion.invokeExact();
    }

    /** Whether this cuBLASLt knows the 128-block FP8 scale modes (they still need an sm_90 device). */
    boolean hasBlockScaling() throws Throwable {
        return version() >= BLOCK_SCALING_SINCE;
    }

    MemorySegment create() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) cublasLtCreate.invokeExact(out), "cublasLtCreate");
            return out.get(PTR, 0);
        }
    }

    void destroy(MemorySegment handle) throws Throwable {
        check((int) cublasLtDestroy.invokeExact(handle), "cublasLtDestroy");
    }

    /**
     * One GEMM shape planned once (descriptors plus the heuristic's best algorithm) and run many times:
     * {@code D(out × n, F32) = Aᵀ · B} as described on the class.
     */
    final class Gemm implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment desc, aLayout, bLayout, dLayout, algo, alpha, beta, aScale, bScale;
        private final long workspaceBytes;

        /**
         * @param inputType   CUDA_R_16BF or CUDA_R_8F_E4M3 (then A and B carry 128-block scales)
         * @param maxWorkspace bytes of workspace the caller provides
         */
        Gemm(MemorySegment handle, int inputType, int out, int n, int in, long maxWorkspace) throws Throwable {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocate(PTR);
                check((int) cublasLtMatmulDescCreate.invokeExact(p, CUBLAS_COMPUTE_32F, CUDA_R_32F),
                        "cublasLtMatmulDescCreate");
                desc = p.get(PTR, 0);
                setInt(a, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T);
                setInt(a, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N);
                boolean fp8 = inputType == CUDA_R_8F_E4M3;
                if (fp8) {
                    setInt(a, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F);
                    setInt(a, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F);
                }
                aLayout = layout(a, inputType, in, out, in);
                bLayout = layout(a, inputType, in, n, in);
                dLayout = layout(a, CUDA_R_32F, out, n, out);
                MemorySegment pref = a.allocate(PTR);
                check((int) cublasLtMatmulPreferenceCreate.invokeExact(pref), "cublasLtMatmulPreferenceCreate");
                MemorySegment preference = pref.get(PTR, 0);
                try {
                    MemorySegment ws = a.allocateFrom(LONG, maxWorkspace);
                    check((int) cublasLtMatmulPreferenceSetAttribute.invokeExact(preference,
                            CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, ws, 8L), "cublasLtMatmulPreferenceSetAttribute");
                    MemorySegment result = a.allocate(CudaLayouts.CUBLASLT_HEURISTIC_RESULT);
                    MemorySegment found = a.allocate(INT);
                    check((int) cublasLtMatmulAlgoGetHeuristic.invokeExact(handle, desc, aLayout, bLayout, dLayout,
                            dLayout, preference, 1, result, found), "cublasLtMatmulAlgoGetHeuristic");
                    if (found.get(INT, 0) == 0) {
                        throw new CudaException("cublasLtMatmulAlgoGetHeuristic", 15,
                                CudaErrors.cublasStatusName(15), "no algorithm for " + (fp8 ? "FP8 block-scaled" : "BF16")
                                + " GEMM out=" + out + " n=" + n + " in=" + in);
                    }
                    algo = arena.allocate(CudaLayouts.CUBLASLT_MATMUL_ALGO).copyFrom(
                            result.asSlice(0, CudaLayouts.CUBLASLT_MATMUL_ALGO.byteSize()));
                    workspaceBytes = result.get(LONG, CudaLayouts.HEURISTIC_WORKSPACE_OFFSET);
                } finally {
                    int ignored = (int) cublasLtMatmulPreferenceDestroy.invokeExact(preference);
                }
            }
            alpha = arena.allocateFrom(Native.FLOAT, 1f);
            beta = arena.allocateFrom(Native.FLOAT, 0f);
            aScale = arena.allocate(LONG);
            bScale = arena.allocate(LONG);
        }

        long workspaceBytes() {
            return workspaceBytes;
        }

        /** Enqueues {@code d = Aᵀ·B}; scales are device pointers (FP8) or 0. */
        void run(MemorySegment handle, long a, long aScales, long b, long bScales, long d, long workspace,
                 MemorySegment stream) throws Throwable {
            if (aScales != 0) {
                aScale.set(LONG, 0, aScales);
                bScale.set(LONG, 0, bScales);
                check((int) cublasLtMatmulDescSetAttribute.invokeExact(desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER,
                        aScale, 8L), "cublasLtMatmulDescSetAttribute(A_SCALE_POINTER)");
                check((int) cublasLtMatmulDescSetAttribute.invokeExact(desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER,
                        bScale, 8L), "cublasLtMatmulDescSetAttribute(B_SCALE_POINTER)");
            }
            check((int) cublasLtMatmul.invokeExact(handle, desc, alpha, a, aLayout, b, bLayout, beta, d, dLayout, d,
                    dLayout, algo, workspace, workspaceBytes, stream), "cublasLtMatmul");
        }

        private void setInt(Arena a, int attribute, int value) throws Throwable {
            check((int) cublasLtMatmulDescSetAttribute.invokeExact(desc, attribute, a.allocateFrom(INT, value), 4L),
                    "cublasLtMatmulDescSetAttribute(" + attribute + ")");
        }

        private MemorySegment layout(Arena a, int type, long rows, long cols, long ld) throws Throwable {
            MemorySegment p = a.allocate(PTR);
            check((int) cublasLtMatrixLayoutCreate.invokeExact(p, type, rows, cols, ld), "cublasLtMatrixLayoutCreate");
            return p.get(PTR, 0);
        }

        @Override
        public void close() {
            try {
                check((int) cublasLtMatrixLayoutDestroy.invokeExact(aLayout), "cublasLtMatrixLayoutDestroy");
                check((int) cublasLtMatrixLayoutDestroy.invokeExact(bLayout), "cublasLtMatrixLayoutDestroy");
                check((int) cublasLtMatrixLayoutDestroy.invokeExact(dLayout), "cublasLtMatrixLayoutDestroy");
                check((int) cublasLtMatmulDescDestroy.invokeExact(desc), "cublasLtMatmulDescDestroy");
            } catch (Throwable t) {
                throw CudaBackend.unchecked(t);
            } finally {
                arena.close();
            }
        }
    }

    void check(int rc, String call) throws Throwable {
        if (rc != 0) {
            MemorySegment s = (MemorySegment) cublasLtGetStatusName.invokeExact(rc);
            throw new CudaException(call, rc, Native.string(s, CudaErrors.cublasStatusName(rc)), null);
        }
    }
}
