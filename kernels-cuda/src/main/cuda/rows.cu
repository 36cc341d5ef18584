// Row-wise ops: embedding gather, RMSNorm, residual add, SiLU-mul, concat, gather and scatter rows, NeoX RoPE.
#include "tessera.cuh"

// out[r] = table[ids[r]]; grid (n), any block size.
extern "C" __global__ void embed(const void* table, const float* scale, int dtype, int cols, const int* ids, float* out) {
    i64 r = blockIdx.x, id = ids[r];
    for (int c = threadIdx.x; c < cols; c += blockDim.x) out[r * cols + c] = weight_at(table, scale, dtype, cols, id, c);
}

// out[r] = w * x[r] / sqrt(mean(x[r]^2) + eps); grid (n), block a multiple of 32. out may be x.
extern "C" __global__ void rms_norm(const float* x, const void* w, int dtype, float eps, int cols, float* out) {
    __shared__ float scratch[32];
    const float* xr = x + (i64) blockIdx.x * cols;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) ss += xr[c] * xr[c];
    float inv = rsqrtf(block_sum(ss, scratch) / cols + eps);
    float* o = out + (i64) blockIdx.x * cols;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) o[c] = weight_at(w, 0, dtype, cols, 0, c) * (xr[c] * inv);
}

// acc[i] += x[i] for i < total.
extern "C" __global__ void add(float* acc, const float* x, i64 total) {
    for (i64 i = blockIdx.x * (i64) blockDim.x + threadIdx.x; i < total; i += (i64) gridDim.x * blockDim.x) acc[i] += x[i];
}

// out[i] = silu(gate[i]) * up[i]; out may alias either input.
extern "C" __global__ void silu_mul(const float* gate, const float* up, float* out, i64 total) {
    for (i64 i = blockIdx.x * (i64) blockDim.x + threadIdx.x; i < total; i += (i64) gridDim.x * blockDim.x) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// out[r] = [a[r], b[r]]; grid (n).
extern "C" __global__ void concat(const float* a, int ca, const float* b, int cb, float* out) {
    i64 r = blockIdx.x;
    for (int c = threadIdx.x; c < ca + cb; c += blockDim.x)
        out[r * (ca + cb) + c] = c < ca ? a[r * ca + c] : b[r * cb + c - ca];
}

// dst[i] = src[index[i]]; grid (n).
extern "C" __global__ void gather_rows(const float* src, const int* index, int cols, float* dst) {
    i64 i = blockIdx.x, s = index[i];
    for (int c = threadIdx.x; c < cols; c += blockDim.x) dst[i * cols + c] = src[s * cols + c];
}

// dst[index[i]] = src[i]; grid (n); index holds no duplicates.
extern "C" __global__ void scatter_rows(const float* src, const int* index, int cols, float* dst) {
    i64 i = blockIdx.x, d = index[i];
    for (int c = threadIdx.x; c < cols; c += blockDim.x) dst[d * cols + c] = src[i * cols + c];
}

// NeoX RoPE in place: pairs (d, d + rotary/2) of each head rotate by pos * theta^(-2d/rotary); grid (n, heads).
extern "C" __global__ void rope(float* x, const int* positions, int heads, int head_dim, int half,
                                const double* inv_freq) {
    float* h = x + ((i64) blockIdx.x * heads + blockIdx.y) * head_dim;
    double pos = positions[blockIdx.x];
    for (int d = threadIdx.x; d < half; d += blockDim.x) {
        double angle = pos * inv_freq[d];
        float c = (float) cos(angle), s = (float) sin(angle);
        float a = h[d], b = h[d + half];
        h[d] = a * c - b * s;
        h[d + half] = b * c + a * s;
    }
}
