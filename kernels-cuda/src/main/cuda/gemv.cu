// y = x * W^T for a few rows (decode, verify): one warp per output row, ROWS x rows per pass over W.
#include "gemv.cuh"

#define ROWS 4

// One warp: y[r][col] = x[r] . W[o] for the n rows of x, ROWS x rows per pass over the W row; y rows are ystride wide.
template <int DT>
__device__ void gemv_row(const float* x, const void* w, const float* scale, int in, int o, int n, float* y,
                         int ystride, int col) {
    int lane = threadIdx.x & 31;
    const void* wrow = weight_row<DT>(w, in, o);
    const float* srow = scale_row(scale, in, o);
    for (int r0 = 0; r0 < n; r0 += ROWS) {
        int rn = min(ROWS, n - r0);
        float acc[ROWS] = {0.0f, 0.0f, 0.0f, 0.0f};
        dot_rows<DT, ROWS>(x + (i64) r0 * in, rn, wrow, srow, in, acc);
        for (int rr = 0; rr < rn; rr++) {
            float v = warp_sum(acc[rr]);
            if (lane == 0) y[(i64) (r0 + rr) * ystride + col] = v;
        }
    }
}

template <int DT>
__device__ void gemv(const float* x, const void* w, const float* scale, int in, int out, int n, float* y) {
    int o = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (o >= out) return;
    gemv_row<DT>(x, w, scale, in, o, n, y, out, o);
}

// The sub-vocabulary matmul: y[r][j] = x[r] . W[ids[j]] for j < count (ids' first column, stride ids_cols).
template <int DT>
__device__ void gemv_rows(const float* x, const void* w, const float* scale, int in, const int* ids, int ids_cols,
                          int count, int n, float* y) {
    int j = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (j >= count) return;
    gemv_row<DT>(x, w, scale, in, ids[(i64) j * ids_cols], n, y, count, j);
}

// grid (ceil(out * 32 / blockDim)); scale is the FP8 block-scale tensor or null.
extern "C" __global__ void gemv_f32(const float* x, const void* w, const float* scale, int in, int out, int n, float* y) { gemv<DT_F32>(x, w, scale, in, out, n, y); }
extern "C" __global__ void gemv_bf16(const float* x, const void* w, const float* scale, int in, int out, int n, float* y) { gemv<DT_BF16>(x, w, scale, in, out, n, y); }
extern "C" __global__ void gemv_f16(const float* x, const void* w, const float* scale, int in, int out, int n, float* y) { gemv<DT_F16>(x, w, scale, in, out, n, y); }
extern "C" __global__ void gemv_f8(const float* x, const void* w, const float* scale, int in, int out, int n, float* y) { gemv<DT_F8>(x, w, scale, in, out, n, y); }

// grid (ceil(count * 32 / blockDim)).
extern "C" __global__ void gemv_rows_f32(const float* x, const void* w, const float* scale, int in, const int* ids, int ids_cols, int count, int n, float* y) { gemv_rows<DT_F32>(x, w, scale, in, ids, ids_cols, count, n, y); }
extern "C" __global__ void gemv_rows_bf16(const float* x, const void* w, const float* scale, int in, const int* ids, int ids_cols, int count, int n, float* y) { gemv_rows<DT_BF16>(x, w, scale, in, ids, ids_cols, count, n, y); }
extern "C" __global__ void gemv_rows_f16(const float* x, const void* w, const float* scale, int in, const int* ids, int ids_cols, int count, int n, float* y) { gemv_rows<DT_F16>(x, w, scale, in, ids, ids_cols, count, n, y); }
extern "C" __global__ void gemv_rows_f8(const float* x, const void* w, const float* scale, int in, const int* ids, int ids_cols, int count, int n, float* y) { gemv_rows<DT_F8>(x, w, scale, in, ids, ids_cols, count, n, y); }

// Per-token, per-128-channel FP8 E4M3 quantization of activations (for block-scaled FP8 GEMMs):
// s = max|x| / 448 over each group, q = e4m3(x / s); grid (n, ceil(cols / 128)), block 128.
extern "C" __global__ void quantize_fp8(const float* x, int cols, u8* q, float* scales) {
    __shared__ float scratch[32];
    int r = blockIdx.x, g = blockIdx.y, c = g * 128 + threadIdx.x;
    float v = c < cols ? x[(i64) r * cols + c] : 0.0f;
    float amax = block_max(fabsf(v), scratch);
    float s = amax > 0.0f ? amax / 448.0f : 1.0f;
    if (c < cols) q[(i64) r * cols + c] = f32_to_fp8(v / s);
    if (threadIdx.x == 0) scales[(i64) r * ((cols + 127) / 128) + g] = s;
}
