// Gather/scatter along one axis and index_add, with the arguments and results of
// csrc/gather.cpp. Arrays are C-contiguous (outer, n, inner) with the indexed axis in the middle;
// the Python op has checked every index against n (an index outside [0, n) is skipped here).
//
// Grid/block contract (pydyfast/cuda_launch/gather.py): every kernel is a 1-D grid-stride loop
// over the elements of its index-shaped operand (outer * m * inner); any grid/block. The scatter
// kernels add into `out` (the launcher's copy of base) with atomicAdd, so repeated indices
// accumulate; atomicAdd on double needs compute capability 6.0 or newer.
#include "common.cuh"

// y[o, j, i] = x[o, idx[o, j, i], i]
template <typename T>
__global__ void gather_fwd(const T* x, const i64* idx, T* y, i64 outer, i64 n, i64 m, i64 inner) {
  PDF_GRID_LOOP(k, outer * m * inner) {
    const i64 o = k / (m * inner), i = k % inner;
    const i64 at = idx[k];
    y[k] = (at >= 0 && at < n) ? x[(o * n + at) * inner + i] : T(0);
  }
}

// out[o, idx[o, j, i], i] += src[o, j, i]
template <typename T>
__global__ void scatter_add_fwd(const i64* idx, const T* src, T* out, i64 outer, i64 n, i64 m,
                                i64 inner) {
  PDF_GRID_LOOP(k, outer * m * inner) {
    const i64 o = k / (m * inner), i = k % inner;
    const i64 at = idx[k];
    if (at >= 0 && at < n) atomicAdd(out + (o * n + at) * inner + i, src[k]);
  }
}

// out[o, idx[j], i] += alpha * src[o, j, i]
template <typename T>
__global__ void index_add_fwd(const i64* idx, const T* src, T* out, i64 outer, i64 n, i64 m,
                              i64 inner, T alpha) {
  PDF_GRID_LOOP(k, outer * m * inner) {
    const i64 o = k / (m * inner), j = (k / inner) % m, i = k % inner;
    const i64 at = idx[j];
    if (at >= 0 && at < n) atomicAdd(out + (o * n + at) * inner + i, alpha * src[k]);
  }
}
