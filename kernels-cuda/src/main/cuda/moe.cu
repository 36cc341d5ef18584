// MoE: sigmoid router with bias-corrected top-k, and the routed SwiGLU experts for a few rows.
#include "gemv.cuh"

// One warp per row. s = sigmoid(logit); select the top-k of s + bias (ties: lower index); weights = s_sel
// (/ (sum + 1e-20) when normalize) * scaling. With replay, ids are read and only weights are written.
// Dynamic shared memory: experts floats + experts bytes.
extern "C" __global__ void route(const float* logits, const void* bias, int bias_dtype, int experts, int k,
                                 int normalize, float scaling, int replay, int softmax, int* ids, float* weights) {
    extern __shared__ float c[];
    u8* taken = (u8*) (c + 2 * experts);
    float* score = c + experts;  // the unbiased scores
    int r = blockIdx.x, lane = threadIdx.x;
    const float* lr = logits + (i64) r * experts;
    float max = NEG_INF, total = 0.0f;
    if (softmax) {
        for (int e = lane; e < experts; e += 32) max = fmaxf(max, lr[e]);
        for (int o = 16; o > 0; o >>= 1) max = fmaxf(max, __shfl_xor_sync(0xffffffffu, max, o));
        if (lane == 0)  // summed in index order, as the host backends do
            for (int e = 0; e < experts; e++) total += expf(lr[e] - max);
        total = __shfl_sync(0xffffffffu, total, 0);
    }
    for (int e = lane; e < experts; e += 32) {
        score[e] = softmax ? expf(lr[e] - max) / total : 1.0f / (1.0f + expf(-lr[e]));
        c[e] = score[e] + (bias != 0 ? weight_at(bias, 0, bias_dtype, experts, 0, e) : 0.0f);
        taken[e] = 0;
    }
    __syncwarp();
    float sum = 0.0f;
    for (int j = 0; j < k; j++) {
        int id;
        if (replay) {
            id = ids[(i64) r * k + j];
        } else {
            float bv = NEG_INF;
            int bi = 0x7fffffff;
            for (int e = lane; e < experts; e += 32)
                if (!taken[e] && arg_better(c[e], e, bv, bi)) { bv = c[e]; bi = e; }
            for (int o = 16; o > 0; o >>= 1) {
                float ov = __shfl_xor_sync(0xffffffffu, bv, o);
                int oi = __shfl_xor_sync(0xffffffffu, bi, o);
                if (arg_better(ov, oi, bv, bi)) { bv = ov; bi = oi; }
            }
            id = bi;
            if (lane == 0) { taken[id] = 1; ids[(i64) r * k + j] = id; }
            __syncwarp();
        }
        float s = score[id];
        if (lane == 0) weights[(i64) r * k + j] = s;
        sum += s;
    }
    __syncwarp();
    if (lane == 0)
        for (int j = 0; j < k; j++) {
            float w = weights[(i64) r * k + j];
            weights[(i64) r * k + j] = (normalize ? w / (sum + 1e-20f) : w) * scaling;
        }
}

// h[p] = silu(gate_e . x[r]) * (up_e . x[r]) for each pair p = r * k + j, e = ids[p]; warp per output row.
// Expert tables hold one device pointer per expert. grid (ceil(inter * 32 / blockDim), n * k).
template <int DT>
__device__ void expert_gate_up(const float* x, const int* ids, int k, const void* const* gate, const float* const* gate_s,
                               const void* const* up, const float* const* up_s, int in, int inter, float* h) {
    int o = (blockIdx.x * blockDim.x + threadIdx.x) >> 5, lane = threadIdx.x & 31, p = blockIdx.y, e = ids[p];
    if (o >= inter) return;
    const float* xr = x + (i64) (p / k) * in;
    float g[1] = {0.0f}, u[1] = {0.0f};
    dot_rows<DT, 1>(xr, 1, weight_row<DT>(gate[e], in, o), scale_row(gate_s[e], in, o), in, g);
    dot_rows<DT, 1>(xr, 1, weight_row<DT>(up[e], in, o), scale_row(up_s[e], in, o), in, u);
    float gv = warp_sum(g[0]), uv = warp_sum(u[0]);
    if (lane == 0) h[(i64) p * inter + o] = gv / (1.0f + expf(-gv)) * uv;
}

// t[p] = weights[p] * (down_e . h[p]); grid (ceil(hidden * 32 / blockDim), n * k).
template <int DT>
__device__ void expert_down(const float* h, const int* ids, const float* weights, const void* const* down,
                            const float* const* down_s, int inter, int hidden, float* t) {
    int o = (blockIdx.x * blockDim.x + threadIdx.x) >> 5, lane = threadIdx.x & 31, p = blockIdx.y, e = ids[p];
    if (o >= hidden) return;
    float a[1] = {0.0f};
    dot_rows<DT, 1>(h + (i64) p * inter, 1, weight_row<DT>(down[e], inter, o), scale_row(down_s[e], inter, o), inter, a);
    float v = warp_sum(a[0]);
    if (lane == 0) t[(i64) p * hidden + o] = weights[p] * v;
}

#define EXPERT_ENTRIES(SUFFIX, DT)                                                                                   \
    extern "C" __global__ void expert_gate_up_##SUFFIX(const float* x, const int* ids, int k, const void* const* gate, \
            const float* const* gate_s, const void* const* up, const float* const* up_s, int in, int inter, float* h) { \
        expert_gate_up<DT>(x, ids, k, gate, gate_s, up, up_s, in, inter, h);                                         \
    }                                                                                                                \
    extern "C" __global__ void expert_down_##SUFFIX(const float* h, const int* ids, const float* weights,            \
            const void* const* down, const float* const* down_s, int inter, int hidden, float* t) {                  \
        expert_down<DT>(h, ids, weights, down, down_s, inter, hidden, t);                                            \
    }

EXPERT_ENTRIES(f32, DT_F32)
EXPERT_ENTRIES(bf16, DT_BF16)
EXPERT_ENTRIES(f16, DT_F16)
EXPERT_ENTRIES(f8, DT_F8)

// out[r] = sum_j t[r * k + j] in order j (deterministic, no atomics); grid (n).
extern "C" __global__ void expert_combine(const float* t, int k, int hidden, float* out) {
    i64 r = blockIdx.x;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) {
        float s = 0.0f;
        for (int j = 0; j < k; j++) s += t[(r * k + j) * hidden + c];
        out[r * hidden + c] = s;
    }
}
