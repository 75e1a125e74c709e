// 2-D max and average pooling over C-contiguous x (N, C, H, W) -> y (N, C, OH, OW) (1-D pooling is
// the H = 1 case). Output sizes (ceil_mode included) and average windows come from ops/pool.py.
// Max-pool geometry arguments: N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw (long long).
//
// Grid/block contract (pydyfast/cuda_launch/pool.py): 1-D grid-stride loops, any grid/block;
//   one thread per output element; the backward kernels scatter into gx with atomicAdd (windows
//   overlap when stride < kernel), gx zeroed by the launcher.
#include "common.cuh"

// The geometry travels as 14 scalar arguments (see im2col.cu) gathered into a struct here.
struct PoolGeometry {
  i64 N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw;
};
#define POOL_GEOMETRY_PARAMS                                                                   \
  i64 N, i64 C, i64 H, i64 W, i64 OH, i64 OW, i64 kh, i64 kw, i64 sh, i64 sw, i64 ph, i64 pw, \
      i64 dh, i64 dw
#define POOL_GEOMETRY \
  const PoolGeometry g = {N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw}

// y = max over the window (padding counts as -inf); argmax = h * W + w of the maximum, the first
// one on ties, as PyTorch.
template <typename T>
__global__ void max_pool2d_fwd(const T* x, T* y, i64* argmax, POOL_GEOMETRY_PARAMS) {
  POOL_GEOMETRY;
  PDF_GRID_LOOP(i, g.N * g.C * g.OH * g.OW) {
    const i64 ow = i % g.OW, oh = (i / g.OW) % g.OH, nc = i / (g.OW * g.OH);
    const T* plane = x + nc * g.H * g.W;
    T best = neg_inf<T>();
    i64 where = -1;
    for (i64 a = 0; a < g.kh; ++a) {
      const i64 h = oh * g.sh - g.ph + a * g.dh;
      if (h < 0 || h >= g.H) continue;
      for (i64 b = 0; b < g.kw; ++b) {
        const i64 w = ow * g.sw - g.pw + b * g.dw;
        if (w < 0 || w >= g.W) continue;
        const T v = plane[h * g.W + w];
        if (v > best || where < 0 || v != v) {  // NaN propagates, as in PyTorch
          best = v;
          where = h * g.W + w;
          if (v != v) break;
        }
      }
    }
    y[i] = best;
    argmax[i] = where;
  }
}

template <typename T>
__global__ void max_pool2d_bwd(const T* gy, const i64* argmax, T* gx, i64 total, i64 plane_out,
                             i64 plane_in) {
  PDF_GRID_LOOP(i, total) {
    const i64 where = argmax[i];
    if (where >= 0) atomicAdd(gx + (i / plane_out) * plane_in + where, gy[i]);
  }
}

// Average pooling of every kind (avg_pool with or without count_include_pad, adaptive_avg_pool)
// as separable windows: y[nc, i, j] = h_scale[i] w_scale[j] sum(x[nc, h_start[i]:h_end[i],
// w_start[j]:w_end[j]]), the per-axis ranges and scales computed by pydyfast/ops/pool.py.
#define AVG_WINDOW_PARAMS                                                                     \
  const i64 *h_start, const i64 *h_end, const T *h_scale, const i64 *w_start, const i64 *w_end, \
      const T *w_scale, i64 planes, i64 H, i64 W, i64 OH, i64 OW

template <typename T>
__global__ void avg_pool2d_fwd(const T* x, T* y, AVG_WINDOW_PARAMS) {
  PDF_GRID_LOOP(o, planes * OH * OW) {
    const i64 j = o % OW, i = (o / OW) % OH, nc = o / (OW * OH);
    const T* plane = x + nc * H * W;
    T sum = T(0);
    for (i64 h = h_start[i]; h < h_end[i]; ++h)
      for (i64 w = w_start[j]; w < w_end[j]; ++w) sum += plane[h * W + w];
    y[o] = sum * h_scale[i] * w_scale[j];
  }
}

// The adjoint: each gy spread over its window with the same scale (windows may overlap, so
// atomicAdd into gx, which the launcher zeroes).
template <typename T>
__global__ void avg_pool2d_bwd(const T* gy, T* gx, AVG_WINDOW_PARAMS) {
  PDF_GRID_LOOP(o, planes * OH * OW) {
    const i64 j = o % OW, i = (o / OW) % OH, nc = o / (OW * OH);
    T* plane = gx + nc * H * W;
    const T share = gy[o] * h_scale[i] * w_scale[j];
    for (i64 h = h_start[i]; h < h_end[i]; ++h)
      for (i64 w = w_start[j]; w < w_end[j]; ++w) atomicAdd(plane + h * W + w, share);
  }
}
