// Warp-per-output-row dot products against a weight row of any dtype, dequantized in registers (never materialized).
#pragma once
#include "tessera.cuh"

template <int DT> struct WeightType { enum { BYTES = DT == DT_F32 ? 4 : DT == DT_F8 ? 1 : 2, PER16 = 16 / BYTES }; };

// The 16 bytes q as WeightType<DT>::PER16 floats.
template <int DT>
__device__ __forceinline__ void unpack16(uint4 q, float* f) {
    unsigned u[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
    for (int k = 0; k < 4; k++) {
        if (DT == DT_F32) {
            f[k] = __uint_as_float(u[k]);
        } else if (DT == DT_BF16) {
            f[2 * k] = bf16_to_f32((u16) (u[k] & 0xffffu));
            f[2 * k + 1] = bf16_to_f32((u16) (u[k] >> 16));
        } else if (DT == DT_F16) {
            f[2 * k] = f16_to_f32((u16) (u[k] & 0xffffu));
            f[2 * k + 1] = f16_to_f32((u16) (u[k] >> 16));
        } else {
#pragma unroll
            for (int b = 0; b < 4; b++) f[4 * k + b] = fp8_to_f32((u8) ((u[k] >> (8 * b)) & 0xffu));
        }
    }
}

// This lane's partial sums acc[rr] += sum_i x[rr][i] * W[o][i] for rr < rn (x rows of stride in); the caller warp-sums.
// w points at row o; srow at row o's block-scale row (FP8 only). 16-byte loads when every row is 16-byte aligned.
template <int DT, int RT>
__device__ __forceinline__ void dot_rows(const float* x, int rn, const void* wrow, const float* srow, int in, float* acc) {
    const int N = WeightType<DT>::PER16, lane = threadIdx.x & 31;
    if ((in % N) == 0 && (((unsigned long long) wrow) & 15) == 0) {
        for (int i = lane * N; i < in; i += 32 * N) {
            float f[N];
            unpack16<DT>(*(const uint4*) ((const u8*) wrow + (i64) i * WeightType<DT>::BYTES), f);
            float s = DT == DT_F8 ? srow[i >> 7] : 1.0f;  // N divides 128: one block per load
#pragma unroll
            for (int rr = 0; rr < RT; rr++) {
                if (rr < rn) {
                    const float* xr = x + (i64) rr * in + i;
                    float d = 0.0f;
#pragma unroll
                    for (int k = 0; k < N; k++) d += f[k] * xr[k];
                    acc[rr] += d * s;
                }
            }
        }
    } else {
        for (int i = lane; i < in; i += 32) {
            float wv = weight_at(wrow, srow, DT, in, 0, i);
#pragma unroll
            for (int rr = 0; rr < RT; rr++) if (rr < rn) acc[rr] += wv * x[(i64) rr * in + i];
        }
    }
}

template <int DT>
__device__ __forceinline__ const void* weight_row(const void* w, int in, int o) {
    return (const u8*) w + (i64) o * in * WeightType<DT>::BYTES;
}

// The block-scale row of output row o (FP8: scale is [ceil(out/128), ceil(in/128)]).
__device__ __forceinline__ const float* scale_row(const float* scale, int in, int o) {
    return scale == 0 ? 0 : scale + (i64) (o >> 7) * ((in + 127) >> 7);
}
