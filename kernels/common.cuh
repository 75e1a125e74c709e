// Helpers shared by every pydyfast CUDA kernel file. The loader (pydyfast/cuda_kernels.py) pastes
// this text in place of `#include "common.cuh"`: CuPy's kernel cache does not track headers.
// NVRTC has no standard headers: only CUDA built-ins are used here (no <cmath>, no INFINITY).
#pragma once

typedef long long i64;

// Grid-stride loop over [0, n) with 64-bit indices (rows * cols overflows int on big tensors).
#define PDF_GRID_LOOP(i, n) \
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (i64)blockDim.x * gridDim.x)

template <typename T> __device__ __forceinline__ T neg_inf();
template <> __device__ __forceinline__ float neg_inf<float>() { return __int_as_float(0xff800000); }
template <> __device__ __forceinline__ double neg_inf<double>() {
  return __longlong_as_double(0xfff0000000000000ULL);
}

// One name for the float and double math built-ins, so a kernel template reads the same for both.
__device__ __forceinline__ float pdf_exp(float x) { return expf(x); }
__device__ __forceinline__ double pdf_exp(double x) { return exp(x); }
__device__ __forceinline__ float pdf_log(float x) { return logf(x); }
__device__ __forceinline__ double pdf_log(double x) { return log(x); }
__device__ __forceinline__ float pdf_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double pdf_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float pdf_rsqrt(float x) { return rsqrtf(x); }
__device__ __forceinline__ double pdf_rsqrt(double x) { return rsqrt(x); }
__device__ __forceinline__ float pdf_max(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double pdf_max(double a, double b) { return fmax(a, b); }

// 1 / (1 + exp(-x)), written so that large |x| neither overflows nor loses the small side.
template <typename T> __device__ __forceinline__ T pdf_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + pdf_exp(-x));
  T e = pdf_exp(x);
  return e / (T(1) + e);
}

// Dynamic shared memory as T*: one extern array for the whole file, aligned for double.
template <typename T> __device__ __forceinline__ T* shared_buffer() {
  extern __shared__ __align__(sizeof(double)) unsigned char pdf_shared_raw[];
  return reinterpret_cast<T*>(pdf_shared_raw);
}

template <typename T> __device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

template <typename T> __device__ __forceinline__ T warp_max(T v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v = pdf_max(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Sum of `v` over the block, returned to every thread. blockDim.x must be a multiple of 32;
// `scratch` holds 32 T (static shared memory of the caller), and is reused after a sync.
template <typename T> __device__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous reduction
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(0);
  return warp_sum(v);
}

template <typename T> __device__ T block_max(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : neg_inf<T>();
  return warp_max(v);
}
