// Attention over the KV cache: store the step's keys/values, then each (row, head) attends its window.
#include "tessera.cuh"

#define TILE 128        // keys per tile = threads per block of attention
#define MAX_DV_PER_THREAD 4  // value dims per thread: valueDim <= 512

// The slot of position j of row r: contiguous, base[r] + j mod cap[r]; paged (block_tokens > 0), through the block
// table, base[r] being where the row's table starts.
__device__ __forceinline__ i64 kv_slot(const int* base, const int* cap, const int* table, int block_tokens, int r,
                                       int j) {
    return block_tokens > 0 ? (i64) table[base[r] + j / block_tokens] * block_tokens + j % block_tokens
                            : (i64) base[r] + j % cap[r];
}

// Stores row r's key and valueScale * value at its slot of pos[r]; grid (R).
extern "C" __global__ void kv_store(const float* k, const float* v, const int* pos, const int* base, const int* cap,
                                    const int* table, int block_tokens, int kv_heads, int key_dim, int value_dim,
                                    float value_scale, float* kc, float* vc) {
    int r = blockIdx.x;
    i64 slot = kv_slot(base, cap, table, block_tokens, r, pos[r]);
    int kw = kv_heads * key_dim, vw = kv_heads * value_dim;
    for (int c = threadIdx.x; c < kw; c += blockDim.x) kc[slot * kw + c] = k[(i64) r * kw + c];
    for (int c = threadIdx.x; c < vw; c += blockDim.x) vc[slot * vw + c] = value_scale * v[(i64) r * vw + c];
}

// One (row, head) per block of TILE threads; online softmax over tiles of keys, F32 throughout. The sink is an extra
// logit column (unscaled) that enters the normaliser only. Dynamic shared memory: (key_dim + TILE) floats + TILE ints.
extern "C" __global__ void attention(const float* q, const int* pos, const int* base, const int* cap,
                                     const int* table, int block_tokens, const float* kc, const float* vc, const void* sinks, int sink_dtype,
                                     int heads, int kv_heads, int key_dim, int value_dim, int window, float scale,
                                     float* out) {
    extern __shared__ float smem[];
    float* qs = smem;
    float* p = smem + key_dim;
    int* slots = (int*) (p + TILE);
    __shared__ float scratch[32];
    int r = blockIdx.x, h = blockIdx.y, t = threadIdx.x, kvh = h / (heads / kv_heads);
    int position = pos[r], lo = window > 0 ? max(0, position - window + 1) : 0;
    for (int d = t; d < key_dim; d += TILE) qs[d] = q[((i64) r * heads + h) * key_dim + d];
    float m = NEG_INF, l = 0.0f, acc[MAX_DV_PER_THREAD];
    for (int i = 0; i < MAX_DV_PER_THREAD; i++) acc[i] = 0.0f;
    if (sinks != 0) {  // the sink column: m = s, its term exp(s - m) = 1
        m = weight_at(sinks, 0, sink_dtype, heads, 0, h);
        l = 1.0f;
    }
    __syncthreads();
    for (int j0 = lo; j0 <= position; j0 += TILE) {
        int j = j0 + t;
        float a = NEG_INF;
        if (j <= position) {
            int slot = (int) kv_slot(base, cap, table, block_tokens, r, j);
            slots[t] = slot;
            const float* kr = kc + ((i64) slot * kv_heads + kvh) * key_dim;
            float dot = 0.0f;
            for (int d = 0; d < key_dim; d++) dot += qs[d] * kr[d];
            a = dot * scale;
        }
        float m_new = fmaxf(m, block_max(a, scratch));
        float alpha = m == NEG_INF ? 0.0f : expf(m - m_new);
        float e = a == NEG_INF ? 0.0f : expf(a - m_new);
        p[t] = e;
        l = l * alpha + block_sum(e, scratch);
        m = m_new;
        __syncthreads();
        int count = min(TILE, position - j0 + 1);
        for (int i = 0; i < MAX_DV_PER_THREAD; i++) {
            int d = t + i * TILE;
            if (d >= value_dim) break;
            float s = acc[i] * alpha;
            for (int jj = 0; jj < count; jj++) s += p[jj] * vc[((i64) slots[jj] * kv_heads + kvh) * value_dim + d];
            acc[i] = s;
        }
        __syncthreads();
    }
    for (int i = 0; i < MAX_DV_PER_THREAD; i++) {
        int d = t + i * TILE;
        if (d < value_dim) out[((i64) r * heads + h) * value_dim + d] = acc[i] / l;
    }
}
