// Special functions and the exact gelu, elementwise over a C-contiguous array of n elements,
// with the arguments and results of csrc/special.cpp: erf_fwd, erf_bwd, gelu_fwd, gelu_bwd.
//
// Grid/block contract (pydyfast/cuda_launch/special.py): 1-D grid-stride loop over n, any
// grid/block.
#include "common.cuh"

__device__ __forceinline__ float pdf_erf(float x) { return erff(x); }
__device__ __forceinline__ double pdf_erf(double x) { return erf(x); }

// Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF
template <typename T> __device__ __forceinline__ T normal_cdf(T x) {
  return T(0.5) * (T(1) + pdf_erf(x * T(0.70710678118654752440)));
}

template <typename T>
__global__ void erf_fwd(const T* x, T* y, i64 n) {
  PDF_GRID_LOOP(i, n) y[i] = pdf_erf(x[i]);
}

// gx = gy 2/sqrt(pi) exp(-x^2)
template <typename T>
__global__ void erf_bwd(const T* x, const T* gy, T* gx, i64 n) {
  PDF_GRID_LOOP(i, n) gx[i] = gy[i] * (T(1.12837916709551257390) * pdf_exp(-x[i] * x[i]));
}

template <typename T>
__global__ void gelu_fwd(const T* x, T* y, i64 n) {
  PDF_GRID_LOOP(i, n) y[i] = x[i] * normal_cdf(x[i]);
}

// gx = gy (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
template <typename T>
__global__ void gelu_bwd(const T* x, const T* gy, T* gx, i64 n) {
  PDF_GRID_LOOP(i, n) {
    const T v = x[i];
    const T pdf = T(0.39894228040143267794) * pdf_exp(T(-0.5) * v * v);
    gx[i] = gy[i] * (normal_cdf(v) + v * pdf);
  }
}
