// Shared device helpers of the Tessera CUDA kernels. No CUDA headers: NVRTC compiles these sources as they are.
#pragma once

typedef unsigned char u8;
typedef unsigned short u16;
typedef long long i64;

// Weight element types, as CudaWeight.code() numbers them.
#define DT_F32 0
#define DT_BF16 1
#define DT_F16 2
#define DT_F8 3

#define NEG_INF (__int_as_float(0xff800000))

__device__ __forceinline__ float bf16_to_f32(u16 b) { return __int_as_float(((unsigned) b) << 16); }

__device__ __forceinline__ float f16_to_f32(u16 h) {
    float f;
    asm("{ cvt.f32.f16 %0, %1; }" : "=f"(f) : "h"(h));
    return f;
}

// E4M3FN: bias 7, no infinities, 0x7F/0xFF are NaN; exact in F32.
__device__ __forceinline__ float fp8_to_f32(u8 b) {
    unsigned s = (b & 0x80u) << 24, e = (b >> 3) & 0xFu, m = b & 7u;
    if (e == 0xFu && m == 7u) return __int_as_float(0x7fc00000 | s);
    if (e == 0) return s ? -(float) m * 0.001953125f : (float) m * 0.001953125f;  // subnormal: m/8 * 2^-6
    return __int_as_float(s | ((e + 120u) << 23) | (m << 20));
}

// F32 to E4M3FN, round to nearest even, saturating to +-448 (NaN stays NaN).
__device__ __forceinline__ u8 f32_to_fp8(float x) {
    unsigned bits = __float_as_uint(x), s = (bits >> 24) & 0x80u;
    float a = fabsf(x);
    if (a != a) return (u8) (s | 0x7Fu);
    if (a >= 448.0f) return (u8) (s | 0x7Eu);
    if (a < 0.015625f) {  // subnormal range: multiples of 2^-9
        float q = rintf(a * 512.0f);
        return (u8) (s | (unsigned) q);  // q == 8 is the smallest normal, encoded the same way
    }
    unsigned ab = __float_as_uint(a);
    unsigned lsb = (ab >> 20) & 1u;
    ab += 0x7FFFFu + lsb;  // round the 23-bit mantissa to 3 bits, ties to even
    unsigned e = (ab >> 23) - 120u, m = (ab >> 20) & 7u;
    return (u8) (s | (e << 3) | m);
}

// One weight element W[r][c] of any dtype; FP8 is scaled by its 128x128 block.
__device__ __forceinline__ float weight_at(const void* w, const float* scale, int dtype, int cols, i64 r, int c) {
    i64 i = r * cols + c;
    switch (dtype) {
        case DT_BF16: return bf16_to_f32(((const u16*) w)[i]);
        case DT_F16: return f16_to_f32(((const u16*) w)[i]);
        case DT_F8: return fp8_to_f32(((const u8*) w)[i]) * scale[(r >> 7) * ((cols + 127) >> 7) + (c >> 7)];
        default: return ((const float*) w)[i];
    }
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32); every thread gets the result. scratch: 32 floats.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : NEG_INF;
    return warp_max(v);
}

// Argmax order: a NaN beats every number, then the larger value, then the lower index.
__device__ __forceinline__ bool arg_better(float v, int i, float bv, int bi) {
    bool vn = v != v, bn = bv != bv;
    if (vn || bn) return vn && (!bn || i < bi);
    return v > bv || (v == bv && i < bi);
}

// Block argmax of (v, i) pairs; every thread gets the winning index. scratch: 32 floats + 32 ints.
__device__ __forceinline__ int block_argmax(float v, int i, float* fs, int* is) {
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, v, o);
        int oi = __shfl_xor_sync(0xffffffffu, i, o);
        if (arg_better(ov, oi, v, i)) { v = ov; i = oi; }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) { fs[warp] = v; is[warp] = i; }
    __syncthreads();
    v = lane < warps ? fs[lane] : NEG_INF;
    i = lane < warps ? is[lane] : 0x7fffffff;
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, v, o);
        int oi = __shfl_xor_sync(0xffffffffu, i, o);
        if (arg_better(ov, oi, v, i)) { v = ov; i = oi; }
    }
    return i;
}
