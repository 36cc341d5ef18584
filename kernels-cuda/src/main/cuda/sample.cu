// Token choice: argmax, and sampling with top-k / top-p from a host-given uniform number.
#include "tessera.cuh"

typedef unsigned long long u64;

// ids[r] = argmax(logits[r]) (first NaN wins, ties to the lower index); grid (n), block a multiple of 32.
extern "C" __global__ void argmax(const float* logits, int cols, int* ids) {
    __shared__ float fs[32];
    __shared__ int is[32];
    const float* lr = logits + (i64) blockIdx.x * cols;
    float bv = NEG_INF;
    int bi = 0x7fffffff;
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        if (arg_better(lr[i], i, bv, bi)) { bv = lr[i]; bi = i; }
    int best = block_argmax(bv, bi, fs, is);
    if (threadIdx.x == 0) ids[blockIdx.x] = best == 0x7fffffff ? 0 : best;
}

// Constrained decoding: logits[r][c] = -inf where bit c of allowed[r] (words per row) is clear; grid (n).
extern "C" __global__ void mask_logits(float* logits, int cols, const unsigned* allowed, int words) {
    float* lr = logits + (i64) blockIdx.x * cols;
    const unsigned* ar = allowed + (i64) blockIdx.x * words;
    for (int c = threadIdx.x; c < cols; c += blockDim.x)
        if (!((ar[c >> 5] >> (c & 31)) & 1u)) lr[c] = NEG_INF;
}

// The sort order of sampling: descending probability, then ascending id, as one unsigned key (p >= 0).
__device__ __forceinline__ u64 order_key(float p, int i) { return ((u64) __float_as_uint(p) << 32) | (u64) (0xffffffffu - (unsigned) i); }

__device__ __forceinline__ float prob(float logit, float max, float temperature) {
    return (float) exp((double) ((logit - max) / temperature));
}

#define BY_COUNT 0
#define BY_SUM 1
#define BY_SUM_STRICT 2

struct Selection {
    u64 key;       // the selected element
    double above;  // sum of p over the keys in [lo, key) order-above it, i.e. keys > key and >= lo
};

// Radix descent over the 64-bit keys >= lo, 8 bits a pass, largest key first. BY_COUNT: the target-th key
// (1-based). BY_SUM(_STRICT): the first key whose inclusive running sum of p is >= (>) target; if none, the last key.
__device__ Selection select_key(const float* lr, int cols, float max, float temperature, u64 lo, int mode,
                                double target) {
    __shared__ unsigned count[256];
    __shared__ double sum[256];
    __shared__ u64 prefix_s;
    __shared__ double above_s;
    __shared__ unsigned above_count_s;
    if (threadIdx.x == 0) { prefix_s = 0; above_s = 0.0; above_count_s = 0; }
    for (int shift = 56; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 256; b += blockDim.x) { count[b] = 0; sum[b] = 0.0; }
        __syncthreads();
        u64 prefix = prefix_s, high = shift == 56 ? 0 : ~0ull << (shift + 8);
        for (int i = threadIdx.x; i < cols; i += blockDim.x) {
            float p = prob(lr[i], max, temperature);
            u64 key = order_key(p, i);
            if (key >= lo && (key & high) == prefix) {
                int b = (int) ((key >> shift) & 255);
                atomicAdd(&count[b], 1u);
                atomicAdd(&sum[b], (double) p);
            }
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            int lowest = 0;
            while (lowest < 255 && count[lowest] == 0) lowest++;
            for (int b = 255; b >= lowest; b--) {
                if (count[b] == 0) continue;
                bool hit = mode == BY_COUNT ? above_count_s + count[b] >= target
                         : mode == BY_SUM ? above_s + sum[b] >= target : above_s + sum[b] > target;
                if (hit || b == lowest) { prefix_s = prefix | ((u64) b << shift); break; }
                above_count_s += count[b];
                above_s += sum[b];
            }
        }
        __syncthreads();
    }
    Selection s = {prefix_s, above_s};
    __syncthreads();
    return s;
}

// One row per block. temperature 0 (or a NaN logit): argmax. Otherwise the CPU backend's rule: keep the top-k ids
// (0: all) by descending p = exp((l - max) / T), then the shortest prefix whose sum reaches topP of their total,
// and pick the first id whose running sum exceeds u * (prefix sum); sums in F64. Only the first cols ids of each
// row (of stride floats) take part.
extern "C" __global__ void sample(const float* logits, int stride, int cols, const float* temperature,
                                  const int* top_k, const float* top_p, const float* u, int* ids) {
    __shared__ float fs[32];
    __shared__ int is[32];
    int r = blockIdx.x;
    const float* lr = logits + (i64) r * stride;
    float bv = NEG_INF;
    int bi = 0x7fffffff;
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        if (arg_better(lr[i], i, bv, bi)) { bv = lr[i]; bi = i; }
    int best = block_argmax(bv, bi, fs, is);
    best = best == 0x7fffffff ? 0 : best;
    float max = lr[best], t = temperature[r];
    if (t == 0.0f || max != max) {
        if (threadIdx.x == 0) ids[r] = best;
        return;
    }
    int keep = top_k[r] > 0 ? min(top_k[r], cols) : cols;
    Selection k = select_key(lr, cols, max, t, 0, BY_COUNT, keep);
    double total = k.above + __uint_as_float((unsigned) (k.key >> 32));
    Selection p = select_key(lr, cols, max, t, k.key, BY_SUM, (double) top_p[r] * total);
    double prefix = p.above + __uint_as_float((unsigned) (p.key >> 32));
    Selection pick = select_key(lr, cols, max, t, p.key, BY_SUM_STRICT, (double) u[r] * prefix);
    if (threadIdx.x == 0) ids[r] = (int) (0xffffffffu - (unsigned) (pick.key & 0xffffffffu));
}
