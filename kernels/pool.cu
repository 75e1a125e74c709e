// 2-D max / average / adaptive-average pooling over C-contiguous x (N, C, H, W) -> y (N, C, OH, OW)
// (1-D pooling is the H = 1 case). Output sizes, ceil_mode included, are computed by the launcher.
// Geometry arguments: N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw (long long).
//
// Grid/block contract (pydyfast/cuda_launch/pool.py): 1-D grid-stride loops, any grid/block;
//   forward kernels: one thread per output element;
//   max_pool_bwd, avg_pool_bwd: one thread per output element scattering into gx with atomicAdd
//     (windows overlap when stride < kernel); gx is zeroed by the launcher;
//   adaptive_avg_pool_bwd: one thread per input element, gathering the bins that contain it.
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
__global__ void max_pool_fwd(const T* x, T* y, i64* argmax, POOL_GEOMETRY_PARAMS) {
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
__global__ void max_pool_bwd(const T* gy, const i64* argmax, T* gx, i64 total, i64 plane_out,
                             i64 plane_in) {
  PDF_GRID_LOOP(i, total) {
    const i64 where = argmax[i];
    if (where >= 0) atomicAdd(gx + (i / plane_out) * plane_in + where, gy[i]);
  }
}

// The window of output (oh, ow) clipped as PyTorch's avg_pool2d: it may extend into the padding
// up to H + ph (count_include_pad counts that part), never beyond.
struct AvgWindow {
  i64 h0, h1, w0, w1;
  i64 divisor;
};

__device__ __forceinline__ AvgWindow avg_window(const PoolGeometry& g, i64 oh, i64 ow,
                                                int count_include_pad) {
  i64 h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
  i64 h1 = min(h0 + g.kh, g.H + g.ph), w1 = min(w0 + g.kw, g.W + g.pw);
  const i64 padded = (h1 - h0) * (w1 - w0);
  h0 = max(h0, (i64)0); w0 = max(w0, (i64)0);
  h1 = min(h1, g.H); w1 = min(w1, g.W);
  AvgWindow win = {h0, h1, w0, w1, count_include_pad ? padded : (h1 - h0) * (w1 - w0)};
  return win;
}

template <typename T>
__global__ void avg_pool_fwd(const T* x, T* y, POOL_GEOMETRY_PARAMS, int count_include_pad) {
  POOL_GEOMETRY;
  PDF_GRID_LOOP(i, g.N * g.C * g.OH * g.OW) {
    const i64 ow = i % g.OW, oh = (i / g.OW) % g.OH, nc = i / (g.OW * g.OH);
    const T* plane = x + nc * g.H * g.W;
    const AvgWindow win = avg_window(g, oh, ow, count_include_pad);
    T sum = T(0);
    for (i64 h = win.h0; h < win.h1; ++h)
      for (i64 w = win.w0; w < win.w1; ++w) sum += plane[h * g.W + w];
    y[i] = win.divisor > 0 ? sum / T(win.divisor) : T(0);
  }
}

template <typename T>
__global__ void avg_pool_bwd(const T* gy, T* gx, POOL_GEOMETRY_PARAMS, int count_include_pad) {
  POOL_GEOMETRY;
  PDF_GRID_LOOP(i, g.N * g.C * g.OH * g.OW) {
    const i64 ow = i % g.OW, oh = (i / g.OW) % g.OH, nc = i / (g.OW * g.OH);
    T* plane = gx + nc * g.H * g.W;
    const AvgWindow win = avg_window(g, oh, ow, count_include_pad);
    if (win.divisor <= 0) continue;
    const T share = gy[i] / T(win.divisor);
    for (i64 h = win.h0; h < win.h1; ++h)
      for (i64 w = win.w0; w < win.w1; ++w) atomicAdd(plane + h * g.W + w, share);
  }
}

// PyTorch's adaptive bins: rows [floor(o * H / OH), ceil((o + 1) * H / OH)).
__device__ __forceinline__ i64 bin_start(i64 o, i64 in, i64 out) { return (o * in) / out; }
__device__ __forceinline__ i64 bin_end(i64 o, i64 in, i64 out) {
  return ((o + 1) * in + out - 1) / out;
}
// The last bin whose start is <= h: the largest o with o * in / out < h + 1.
__device__ __forceinline__ i64 last_bin(i64 h, i64 in, i64 out) {
  return min(((h + 1) * out + in - 1) / in - 1, out - 1);
}

template <typename T>
__global__ void adaptive_avg_pool_fwd(const T* x, T* y, POOL_GEOMETRY_PARAMS) {
  POOL_GEOMETRY;
  PDF_GRID_LOOP(i, g.N * g.C * g.OH * g.OW) {
    const i64 ow = i % g.OW, oh = (i / g.OW) % g.OH, nc = i / (g.OW * g.OH);
    const T* plane = x + nc * g.H * g.W;
    const i64 h0 = bin_start(oh, g.H, g.OH), h1 = bin_end(oh, g.H, g.OH);
    const i64 w0 = bin_start(ow, g.W, g.OW), w1 = bin_end(ow, g.W, g.OW);
    T sum = T(0);
    for (i64 h = h0; h < h1; ++h)
      for (i64 w = w0; w < w1; ++w) sum += plane[h * g.W + w];
    y[i] = sum / T((h1 - h0) * (w1 - w0));
  }
}

template <typename T>
__global__ void adaptive_avg_pool_bwd(const T* gy, T* gx, POOL_GEOMETRY_PARAMS) {
  POOL_GEOMETRY;
  PDF_GRID_LOOP(i, g.N * g.C * g.H * g.W) {
    const i64 w = i % g.W, h = (i / g.W) % g.H, nc = i / (g.W * g.H);
    const T* plane = gy + nc * g.OH * g.OW;
    T sum = T(0);
    // The bins containing h: oh <= last_bin(h), going down while the bin still reaches h
    // (bin starts and ends both grow with oh). With OH > H several bins share a row.
    for (i64 oh = last_bin(h, g.H, g.OH); oh >= 0 && bin_end(oh, g.H, g.OH) > h; --oh) {
      for (i64 ow = last_bin(w, g.W, g.OW); ow >= 0 && bin_end(ow, g.W, g.OW) > w; --ow) {
        const i64 count = (bin_end(oh, g.H, g.OH) - bin_start(oh, g.H, g.OH)) *
                          (bin_end(ow, g.W, g.OW) - bin_start(ow, g.W, g.OW));
        sum += plane[oh * g.OW + ow] / T(count);
      }
    }
    gx[i] = sum;
  }
}
