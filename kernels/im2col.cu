// im2col / col2im for 2-D convolution (1-D convolution is the H = 1 case), C-contiguous arrays.
//   x (N, C, H, W)  <->  cols (N, C * KH * KW, OH * OW)   (PyTorch's unfold layout; the GEMM with
//   the weight (O, C * KH * KW) stays in cuBLAS through cupy's matmul).
//   Kernel arguments: the arrays, then N, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw
//   (all long long).
//   OH = (H + 2 ph - dh (KH - 1) - 1) / sh + 1, likewise OW.
//
// Grid/block contract (pydyfast/cuda_launch/im2col.py): 1-D grid-stride loops, any grid/block;
//   im2col: one thread per element of cols; col2im: one thread per element of x, which GATHERS
//   the overlapping windows that cover it (a sum, no atomics, deterministic).
#include "common.cuh"

// The geometry travels as 14 scalar arguments (CuPy passes scalars reliably; a struct argument
// would depend on matching numpy's structured-dtype layout) and is gathered into a struct here.
struct ConvGeometry {
  i64 N, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw;
};
#define CONV_GEOMETRY_PARAMS                                                                   \
  i64 N, i64 C, i64 H, i64 W, i64 KH, i64 KW, i64 OH, i64 OW, i64 sh, i64 sw, i64 ph, i64 pw, \
      i64 dh, i64 dw
#define CONV_GEOMETRY \
  const ConvGeometry g = {N, C, H, W, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw}

template <typename T>
__global__ void im2col(const T* x, T* cols, CONV_GEOMETRY_PARAMS) {
  CONV_GEOMETRY;
  const i64 total = g.N * g.C * g.KH * g.KW * g.OH * g.OW;
  PDF_GRID_LOOP(i, total) {
    i64 rest = i;
    const i64 ow = rest % g.OW; rest /= g.OW;
    const i64 oh = rest % g.OH; rest /= g.OH;
    const i64 kw = rest % g.KW; rest /= g.KW;
    const i64 kh = rest % g.KH; rest /= g.KH;
    const i64 c = rest % g.C;
    const i64 n = rest / g.C;
    const i64 h = oh * g.sh - g.ph + kh * g.dh;
    const i64 w = ow * g.sw - g.pw + kw * g.dw;
    cols[i] = (h >= 0 && h < g.H && w >= 0 && w < g.W) ? x[((n * g.C + c) * g.H + h) * g.W + w]
                                                       : T(0);
  }
}

// x[n, c, h, w] = sum of cols over every (kh, kw, oh, ow) whose window position lands on (h, w).
template <typename T>
__global__ void col2im(const T* cols, T* x, CONV_GEOMETRY_PARAMS) {
  CONV_GEOMETRY;
  const i64 total = g.N * g.C * g.H * g.W;
  PDF_GRID_LOOP(i, total) {
    i64 rest = i;
    const i64 w = rest % g.W; rest /= g.W;
    const i64 h = rest % g.H; rest /= g.H;
    const i64 c = rest % g.C;
    const i64 n = rest / g.C;
    T sum = T(0);
    for (i64 kh = 0; kh < g.KH; ++kh) {
      const i64 hs = h + g.ph - kh * g.dh;  // = oh * sh when the window row hits h
      if (hs < 0 || hs % g.sh) continue;
      const i64 oh = hs / g.sh;
      if (oh >= g.OH) continue;
      for (i64 kw = 0; kw < g.KW; ++kw) {
        const i64 ws = w + g.pw - kw * g.dw;
        if (ws < 0 || ws % g.sw) continue;
        const i64 ow = ws / g.sw;
        if (ow >= g.OW) continue;
        sum += cols[((((n * g.C + c) * g.KH + kh) * g.KW + kw) * g.OH + oh) * g.OW + ow];
      }
    }
    x[i] = sum;
  }
}
