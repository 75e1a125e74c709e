// Softmax, log-softmax and the fused cross-entropy over the last axis of C-contiguous (rows, n),
// with the arguments and results of csrc/softmax.cpp.
//
// Kernels are named after the csrc/softmax.cpp functions they implement: softmax_fwd,
// log_softmax_fwd, softmax_bwd, log_softmax_bwd (thin __global__s over one __device__ body per
// direction, `log` fixed), cross_entropy_fwd, cross_entropy_bwd.
//
// Grid/block contract (pydyfast/cuda_launch/softmax.py):
//   (log_)softmax_fwd, (log_)softmax_bwd, cross_entropy_fwd: grid = (rows,), one block per row;
//     blockDim.x = a power of two in [32, 1024] (cuda_kernels.row_block); no dynamic shared memory.
//   cross_entropy_bwd: 1-D grid-stride loop over rows * n, any grid/block.
// Rows are read from global memory once per pass (max, sum, write); they stay in L2 for the rows
// that fit.
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

// y = exp(x - max) / sum  or  y = (x - max) - log(sum); a row of all -inf gives zeros (softmax).
template <typename T>
__device__ void softmax_fwd_row(const T* x, T* y, i64 n, bool log) {
  __shared__ T scratch[32];
  const i64 r = blockIdx.x;
  const T* xr = x + r * n;
  T* yr = y + r * n;
  T mx, sum;
  row_max_and_sum(xr, n, scratch, mx, sum);
  if (log) {
    // (x - max) - log(sum) in this order: max + log(sum) would round away a small log(sum)
    // next to a large max (as csrc/softmax.cpp and PyTorch); a row of -inf gives -inf.
    const T log_sum = pdf_log(sum);
    for (i64 j = threadIdx.x; j < n; j += blockDim.x)
      yr[j] = sum > T(0) ? (xr[j] - mx) - log_sum : neg_inf<T>();
  } else {
    const T inv = sum > T(0) ? T(1) / sum : T(0);
    for (i64 j = threadIdx.x; j < n; j += blockDim.x) yr[j] = pdf_exp(xr[j] - mx) * inv;
  }
}

// softmax: gx = y * (gy - sum(gy * y));  log_softmax: gx = gy - exp(y) * sum(gy).
template <typename T>
__device__ void softmax_bwd_row(const T* y, const T* gy, T* gx, i64 n, bool log) {
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

template <typename T>
__global__ void softmax_fwd(const T* x, T* y, i64 n) {
  softmax_fwd_row(x, y, n, false);
}

template <typename T>
__global__ void log_softmax_fwd(const T* x, T* y, i64 n) {
  softmax_fwd_row(x, y, n, true);
}

template <typename T>
__global__ void softmax_bwd(const T* y, const T* gy, T* gx, i64 n) {
  softmax_bwd_row(y, gy, gx, n, false);
}

template <typename T>
__global__ void log_softmax_bwd(const T* y, const T* gy, T* gx, i64 n) {
  softmax_bwd_row(y, gy, gx, n, true);
}

// Per-row parts of the cross-entropy of logits x (rows, n), class indices `target` (rows,) and
// class weights w (n,) (ones without weight), as csrc/softmax.cpp:
//   logsumexp = max + log_sum,  nll = w[t] ((max - x_r[t]) + log_sum),
//   smooth = sum_c w[c] (logsumexp - x_r[c]) = max wsum - sum_c w[c] x_r[c] + log_sum wsum
//   (only when `smoothing`, else 0); nll = smooth = 0 where t is ignore_index or out of range.
//   max and log_sum stay apart (float32 precision). The Python op combines the parts with the
//   label smoothing and the reduction.
template <typename T>
__global__ void cross_entropy_fwd(const T* x, const i64* target, const T* w, T* nll, T* smooth,
                                  T* row_max, T* log_sums, i64 rows, i64 n, i64 ignore_index,
                                  int smoothing, T wsum) {
  __shared__ T scratch[32];
  const i64 r = blockIdx.x;
  const T* xr = x + r * n;
  T mx, sum;
  row_max_and_sum(xr, n, scratch, mx, sum);
  const T log_sum = pdf_log(sum);
  T wx = T(0);
  if (smoothing) {
    for (i64 j = threadIdx.x; j < n; j += blockDim.x) wx += w[j] * xr[j];
    wx = block_sum(wx, scratch);
  }
  if (threadIdx.x == 0) {
    const i64 t = target[r];
    const bool skip = t == ignore_index || t < 0 || t >= n;
    row_max[r] = mx;
    log_sums[r] = log_sum;
    nll[r] = skip ? T(0) : w[t] * ((mx - xr[t]) + log_sum);
    smooth[r] = skip || !smoothing ? T(0) : mx * wsum - wx + log_sum * wsum;
  }
}

// gx[r, c] = p_c (a_r + b_r wsum) - b_r w[c] - a_r [c == t],  p = exp((x_r - max_r) - log_sum_r),
// where a = d loss / d nll * w[t] and b = d loss / d smooth per row (0 on ignored rows).
template <typename T>
__global__ void cross_entropy_bwd(const T* x, const i64* target, const T* row_max,
                                  const T* log_sums, const T* a, const T* b, const T* w, T* gx,
                                  i64 rows, i64 n, T wsum) {
  PDF_GRID_LOOP(i, rows * n) {
    const i64 r = i / n, c = i - r * n;
    const T p = pdf_exp((x[i] - row_max[r]) - log_sums[r]);
    gx[i] = p * (a[r] + b[r] * wsum) - b[r] * w[c] - (target[r] == c ? a[r] : T(0));
  }
}
