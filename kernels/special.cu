// Special functions, elementwise over a C-contiguous array of n elements, with the arguments and
// results of csrc/special.cpp: erf_fwd.
//
// Grid/block contract (pydyfast/cuda_launch/special.py): 1-D grid-stride loop over n, any
// grid/block.
#include "common.cuh"

__device__ __forceinline__ float pdf_erf(float x) { return erff(x); }
__device__ __forceinline__ double pdf_erf(double x) { return erf(x); }

template <typename T>
__global__ void erf_fwd(const T* x, T* y, i64 n) {
  PDF_GRID_LOOP(i, n) y[i] = pdf_erf(x[i]);
}
