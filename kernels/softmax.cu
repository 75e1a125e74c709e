// Softmax, log-softmax and fused cross-entropy over the last axis of C-contiguous (rows, n).
//
// Grid/block contract (pydyfast/cuda_launch/softmax.py):
//   softmax_fwd, softmax_bwd, cross_entropy_fwd: grid = (rows,), one block per row;
//     blockDim.x = a power of two in [32, 1024] (cuda_kernels.row_block); no dynamic shared memory.
//   cross_entropy_bwd: 1-D grid-stride loop over rows * n, any grid/block.
// `log` selects log_softmax (1) or softmax (0). Rows are read from global memory once per pass
// (max, sum, write); they stay in L2 for the rows that fit.
#include "common.cuh"

template <typename T>
__device__ void row_max_and_sum(const T* row, i64 n, T* scratch, T& mx, T& sum) {
  T m = neg_inf<T>();
  for (i64 j = threadIdx.x; j < n; j += blockDim.x) m = pdf_max(m, row[j]);
  mx = block_max(m, scratch);
  // A row of -inf: subtract 0 instead of -inf, so exp gives 0 rather than nan.
  const T shift = mx == neg_inf<T>() ? T(0) : mx;
  T s = T(0);
  for (i64 j = threadIdx.x; j < n; j += blockDim.x) s += pdf_exp(row[j] - shift);
  sum = block_sum(s, scratch);
  mx = shift;
}

// y = exp(x - max) / sum  or  y = x - max - log(sum); a row of all -inf gives zeros (softmax).
template <typename T>
__global__ void softmax_fwd(const T* x, T* y, i64 rows, i64 n, int log) {
  __shared__ T scratch[32];
  const i64 r = blockIdx.x;
  const T* xr = x + r * n;
  T* yr = y + r * n;
  T mx, sum;
  row_max_and_sum(xr, n, scratch, mx, sum);
  if (log) {
    const T lse = mx + pdf_log(sum);
    for (i64 j = threadIdx.x; j < n; j += blockDim.x) yr[j] = xr[j] - lse;
  } else {
    const T inv = sum > T(0) ? T(1) / sum : T(0);
    for (i64 j = threadIdx.x; j < n; j += blockDim.x) yr[j] = pdf_exp(xr[j] - mx) * inv;
  }
}

// softmax: gx = y * (gy - sum(gy * y));  log_softmax: gx = gy - exp(y) * sum(gy).
template <typename T>
__global__ void softmax_bwd(const T* y, const T* gy, T* gx, i64 rows, i64 n, int log) {
  __shared__ T scratch[32];
  const i64 r = blockIdx.x;
  const T* yr = y + r * n;
  const T* gr = gy + r * n;
  T* out = gx + r * n;
  T s = T(0);
  for (i64 j = threadIdx.x; j < n; j += blockDim.x) s += log ? gr[j] : gr[j] * yr[j];
  s = block_sum(s, scratch);
  for (i64 j = threadIdx.x; j < n; j += blockDim.x)
    out[j] = log ? gr[j] - pdf_exp(yr[j]) * s : yr[j] * (gr[j] - s);
}

// Per-row cross-entropy of logits x (rows, n) with class indices `target` (rows,), class weights
// w (n,) and label smoothing eps (PyTorch's formula):
//   loss = w[t] (1 - eps) (lse - x[t]) + eps / n * sum_c w[c] (lse - x[c]),  0 where t == ignore.
// lse (rows,) = logsumexp of the row, kept for the backward.
template <typename T>
__global__ void cross_entropy_fwd(const T* x, const i64* target, const T* w, T* loss, T* lse,
                                  i64 rows, i64 n, i64 ignore_index, T eps) {
  __shared__ T scratch[32];
  const i64 r = blockIdx.x;
  const T* xr = x + r * n;
  T mx, sum;
  row_max_and_sum(xr, n, scratch, mx, sum);
  const T l = mx + pdf_log(sum);
  T smooth = T(0);
  if (eps != T(0)) {
    for (i64 j = threadIdx.x; j < n; j += blockDim.x) smooth += w[j] * (l - xr[j]);
    smooth = block_sum(smooth, scratch);
  }
  if (threadIdx.x == 0) {
    const i64 t = target[r];
    lse[r] = l;
    loss[r] = t == ignore_index ? T(0)
                                : w[t] * (T(1) - eps) * (l - xr[t]) + eps / T(n) * smooth;
  }
}

// gx[r, j] = g[r] (w[t] (1 - eps) (p_j - [j == t]) + eps / n (wsum p_j - w[j])), p = exp(x - lse),
// 0 for ignored rows; wsum = sum_c w[c].
template <typename T>
__global__ void cross_entropy_bwd(const T* x, const i64* target, const T* w, const T* lse,
                                  const T* g, T* gx, i64 rows, i64 n, i64 ignore_index, T eps,
                                  T wsum) {
  PDF_GRID_LOOP(i, rows * n) {
    const i64 r = i / n, j = i - r * n;
    const i64 t = target[r];
    if (t == ignore_index) {
      gx[i] = T(0);
      continue;
    }
    const T p = pdf_exp(x[i] - lse[r]);
    const T hard = w[t] * (T(1) - eps) * (p - (j == t ? T(1) : T(0)));
    gx[i] = g[r] * (hard + eps / T(n) * (wsum * p - w[j]));
  }
}
