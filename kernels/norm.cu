// Layer norm and RMS norm over the last axis of a C-contiguous (rows, n) array, both directions.
// `centered` = 1: layer norm, xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps);
// `centered` = 0: RMS norm, xhat = x * rstd, rstd = 1 / sqrt(mean(x^2) + eps), mean stored as 0.
//
// Kernels are named after the csrc/norm.cpp function they implement (a part of it: `_<part>`):
// layer_norm_fwd, rms_norm_fwd; layer_norm_bwd_input, rms_norm_bwd_input; layer_norm_bwd_params,
// rms_norm_bwd_params. Each is a thin __global__ over one __device__ body with `centered` fixed.
//
// Grid/block contract (pydyfast/cuda_launch/norm.py):
//   *_fwd, *_bwd_input: grid = (rows,), one block per row, blockDim.x a power of two in
//     [32, 1024]; no dynamic shared memory.
//   *_bwd_params: block = (32, 8), grid = (ceil(n / 32), row_chunks); each block sums a strip of
//     32 columns over its rows and atomically adds into gw, gb (zeroed by the launcher).
#include "common.cuh"

// y = xhat * w + b; saves mean and rstd (rows,) for the backward. Two passes for the moments
// (mean, then squared deviations): a one-pass E[x^2] - E[x]^2 cancels badly in float.
template <typename T>
__device__ void norm_fwd_row(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, i64 n,
                             T eps, bool centered) {
  __shared__ T scratch[32];
  const i64 r = blockIdx.x;
  const T* xr = x + r * n;
  T* yr = y + r * n;
  T mu = T(0);
  if (centered) {
    T s = T(0);
    for (i64 j = threadIdx.x; j < n; j += blockDim.x) s += xr[j];
    mu = block_sum(s, scratch) / T(n);
  }
  T ss = T(0);
  for (i64 j = threadIdx.x; j < n; j += blockDim.x) {
    const T d = xr[j] - mu;
    ss += d * d;
  }
  const T rs = pdf_rsqrt(block_sum(ss, scratch) / T(n) + eps);
  for (i64 j = threadIdx.x; j < n; j += blockDim.x) yr[j] = (xr[j] - mu) * rs * w[j] + b[j];
  if (threadIdx.x == 0) {
    mean[r] = mu;
    rstd[r] = rs;
  }
}

// gx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = gy * w (mean(g) dropped for RMS norm).
template <typename T>
__device__ void norm_bwd_input_row(const T* x, const T* gy, const T* w, const T* mean,
                                   const T* rstd, T* gx, i64 n, bool centered) {
  __shared__ T scratch[32];
  const i64 r = blockIdx.x;
  const T* xr = x + r * n;
  const T* gr = gy + r * n;
  T* out = gx + r * n;
  const T mu = mean[r], rs = rstd[r];
  T sg = T(0), sgx = T(0);
  for (i64 j = threadIdx.x; j < n; j += blockDim.x) {
    const T g = gr[j] * w[j];
    sg += g;
    sgx += g * (xr[j] - mu) * rs;
  }
  const T mean_g = centered ? block_sum(sg, scratch) / T(n) : T(0);
  const T mean_gx = block_sum(sgx, scratch) / T(n);
  for (i64 j = threadIdx.x; j < n; j += blockDim.x)
    out[j] = rs * (gr[j] * w[j] - mean_g - (xr[j] - mu) * rs * mean_gx);
}

// gw[j] += sum_r gy[r, j] * xhat[r, j];  gb[j] += sum_r gy[r, j]  over this block's rows.
// The same for both norms: RMS norm saved mean = 0.
template <typename T>
__device__ void norm_bwd_params_strip(const T* x, const T* gy, const T* mean, const T* rstd,
                                      T* gw, T* gb, i64 rows, i64 n) {
  __shared__ T partial_w[8][33];  // 33: no bank conflicts when reading down a column
  __shared__ T partial_b[8][33];
  const i64 j = (i64)blockIdx.x * 32 + threadIdx.x;
  T sw = T(0), sb = T(0);
  if (j < n) {
    for (i64 r = (i64)blockIdx.y * blockDim.y + threadIdx.y; r < rows;
         r += (i64)gridDim.y * blockDim.y) {
      const T g = gy[r * n + j];
      sw += g * (x[r * n + j] - mean[r]) * rstd[r];
      sb += g;
    }
  }
  partial_w[threadIdx.y][threadIdx.x] = sw;
  partial_b[threadIdx.y][threadIdx.x] = sb;
  __syncthreads();
  if (threadIdx.y == 0 && j < n) {
    for (int k = 1; k < 8; ++k) {
      sw += partial_w[k][threadIdx.x];
      sb += partial_b[k][threadIdx.x];
    }
    atomicAdd(gw + j, sw);
    atomicAdd(gb + j, sb);
  }
}

template <typename T>
__global__ void layer_norm_fwd(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd,
                               i64 n, T eps) {
  norm_fwd_row(x, w, b, y, mean, rstd, n, eps, true);
}

template <typename T>
__global__ void rms_norm_fwd(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, i64 n,
                             T eps) {
  norm_fwd_row(x, w, b, y, mean, rstd, n, eps, false);
}

template <typename T>
__global__ void layer_norm_bwd_input(const T* x, const T* gy, const T* w, const T* mean,
                                     const T* rstd, T* gx, i64 n) {
  norm_bwd_input_row(x, gy, w, mean, rstd, gx, n, true);
}

template <typename T>
__global__ void rms_norm_bwd_input(const T* x, const T* gy, const T* w, const T* mean,
                                   const T* rstd, T* gx, i64 n) {
  norm_bwd_input_row(x, gy, w, mean, rstd, gx, n, false);
}

template <typename T>
__global__ void layer_norm_bwd_params(const T* x, const T* gy, const T* mean, const T* rstd,
                                      T* gw, T* gb, i64 rows, i64 n) {
  norm_bwd_params_strip(x, gy, mean, rstd, gw, gb, rows, n);
}

template <typename T>
__global__ void rms_norm_bwd_params(const T* x, const T* gy, const T* mean, const T* rstd, T* gw,
                                    T* gb, i64 rows, i64 n) {
  norm_bwd_params_strip(x, gy, mean, rstd, gw, gb, rows, n);
}
