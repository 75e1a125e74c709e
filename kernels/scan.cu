// Scans along one axis (cumsum, cumprod, cummax/cummin, logcumsumexp) and their gradients, with
// the arguments and results of csrc/scan.cpp. Arrays are C-contiguous (outer, n, inner); the
// scan runs over n, with stride inner.
//
// Grid/block contract (pydyfast/cuda_launch/scan.py): every kernel is a 1-D grid-stride loop
// over the outer * inner lines, one thread per line walking it in order; any grid/block.
// `reverse` (cumsum) scans from the end; `largest` selects cummax (1) or cummin (0).
#include "common.cuh"

__device__ __forceinline__ float pdf_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double pdf_log1p(double x) { return log1p(x); }

// Offset of the first element of line l of an (outer, n, inner) array.
__device__ __forceinline__ i64 line_base(i64 l, i64 n, i64 inner) {
  return (l / inner) * n * inner + l % inner;
}

template <typename T>
__global__ void cumsum_fwd(const T* x, T* y, i64 outer, i64 n, i64 inner, int reverse) {
  PDF_GRID_LOOP(l, outer * inner) {
    const i64 base = line_base(l, n, inner);
    T acc = T(0);
    for (i64 k = 0; k < n; ++k) {
      const i64 at = base + (reverse ? n - 1 - k : k) * inner;
      acc += x[at];
      y[at] = acc;
    }
  }
}

template <typename T>
__global__ void cumprod_fwd(const T* x, T* y, i64 outer, i64 n, i64 inner) {
  PDF_GRID_LOOP(l, outer * inner) {
    const i64 base = line_base(l, n, inner);
    T acc = T(1);
    for (i64 k = 0; k < n; ++k) {
      acc *= x[base + k * inner];
      y[base + k * inner] = acc;
    }
  }
}

// gx_i = prod_{k<i} x_k * S_i, S_i = gy_i + x_{i+1} S_{i+1}: no division, exact with zeros.
template <typename T>
__global__ void cumprod_bwd(const T* x, const T* gy, T* gx, i64 outer, i64 n, i64 inner) {
  PDF_GRID_LOOP(l, outer * inner) {
    const i64 base = line_base(l, n, inner);
    T suffix = T(0);
    for (i64 k = n - 1; k >= 0; --k) {
      const i64 at = base + k * inner;
      suffix = gy[at] + (k + 1 < n ? x[at + inner] * suffix : T(0));
      gx[at] = suffix;
    }
    T prefix = T(1);
    for (i64 k = 0; k < n; ++k) {
      const i64 at = base + k * inner;
      gx[at] *= prefix;
      prefix *= x[at];
    }
  }
}

// Running max/min and the index where it was reached: ties move to the later index, a nan sticks.
template <typename T>
__global__ void cumextreme_fwd(const T* x, T* y, i64* idx, i64 outer, i64 n, i64 inner,
                               int largest) {
  PDF_GRID_LOOP(l, outer * inner) {
    const i64 base = line_base(l, n, inner);
    T best = n ? x[base] : T(0);
    i64 best_at = 0;
    for (i64 k = 0; k < n; ++k) {
      const T v = x[base + k * inner];
      const bool best_is_nan = best != best;
      if (!best_is_nan && (v != v || (largest ? v >= best : v <= best))) {
        best = v;
        best_at = k;
      }
      y[base + k * inner] = best;
      idx[base + k * inner] = best_at;
    }
  }
}

// gx[idx_k] += gy_k along each line (lines are private to their thread: no atomics).
template <typename T>
__global__ void cumextreme_bwd(const T* gy, const i64* idx, T* gx, i64 outer, i64 n, i64 inner) {
  PDF_GRID_LOOP(l, outer * inner) {
    const i64 base = line_base(l, n, inner);
    for (i64 k = 0; k < n; ++k) gx[base + k * inner] = T(0);
    for (i64 k = 0; k < n; ++k) {
      const i64 to = idx[base + k * inner];
      if (to >= 0 && to < n) gx[base + to * inner] += gy[base + k * inner];
    }
  }
}

template <typename T>
__device__ __forceinline__ T log_add_exp(T a, T b) {
  const T hi = a > b ? a : b, lo = a > b ? b : a;
  if (hi == neg_inf<T>() || a != a || b != b) return a + b;
  return hi + pdf_log1p(pdf_exp(lo - hi));
}

template <typename T>
__global__ void logcumsumexp_fwd(const T* x, T* y, i64 outer, i64 n, i64 inner) {
  PDF_GRID_LOOP(l, outer * inner) {
    const i64 base = line_base(l, n, inner);
    T acc = neg_inf<T>();
    for (i64 k = 0; k < n; ++k) {
      acc = log_add_exp(acc, x[base + k * inner]);
      y[base + k * inner] = acc;
    }
  }
}

// exp(a - b) for a <= b; 1 where both are the same infinity.
template <typename T>
__device__ __forceinline__ T ratio(T a, T b) {
  return a == b ? T(1) : pdf_exp(a - b);
}

// gx_i = exp(x_i - y_i) T_i, T_i = gy_i + exp(y_i - y_{i+1}) T_{i+1}: every exponent is <= 0.
template <typename T>
__global__ void logcumsumexp_bwd(const T* x, const T* y, const T* gy, T* gx, i64 outer, i64 n,
                                 i64 inner) {
  PDF_GRID_LOOP(l, outer * inner) {
    const i64 base = line_base(l, n, inner);
    T acc = T(0);
    for (i64 k = n - 1; k >= 0; --k) {
      const i64 at = base + k * inner;
      acc = gy[at] + (k + 1 < n ? ratio(y[at], y[at + inner]) * acc : T(0));
      gx[at] = ratio(x[at], y[at]) * acc;
    }
  }
}
