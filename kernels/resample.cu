// Resampling along the middle axis of C-contiguous x (outer, n, inner), the kernels behind pad
// (reflect/replicate/circular) and interpolate (nearest, linear); same contract as
// csrc/resample.cpp: K taps per output position, index (K, m) int64, weight (K, m) in T.
//   resample_fwd: y[o, j, i] = sum_k weight[k, j] x[o, index[k, j], i]          (outer, m, inner)
//   resample_bwd: gx[o, index[k, j], i] += weight[k, j] gy[o, j, i]             (outer, n, inner)
//
// Grid/block contract (pydyfast/cuda_launch/resample.py): 1-D grid-stride loops, any grid/block;
//   one thread per output element (forward) or per gy element (backward, which scatters into gx
//   with atomicAdd since outputs share input positions; gx zeroed by the launcher).
#include "common.cuh"

template <typename T>
__global__ void resample_fwd(const T* x, const i64* index, const T* weight, T* y, i64 outer,
                             i64 n, i64 inner, i64 m, i64 taps) {
  PDF_GRID_LOOP(t, outer * m * inner) {
    const i64 i = t % inner, j = (t / inner) % m, o = t / (inner * m);
    const T* slab = x + o * n * inner + i;
    T acc = weight[j] * slab[index[j] * inner];
    for (i64 k = 1; k < taps; ++k) acc += weight[k * m + j] * slab[index[k * m + j] * inner];
    y[t] = acc;
  }
}

template <typename T>
__global__ void resample_bwd(const T* gy, const i64* index, const T* weight, T* gx, i64 outer,
                             i64 n, i64 inner, i64 m, i64 taps) {
  PDF_GRID_LOOP(t, outer * m * inner) {
    const i64 i = t % inner, j = (t / inner) % m, o = t / (inner * m);
    T* slab = gx + o * n * inner + i;
    for (i64 k = 0; k < taps; ++k)
      atomicAdd(slab + index[k * m + j] * inner, weight[k * m + j] * gy[t]);
  }
}
