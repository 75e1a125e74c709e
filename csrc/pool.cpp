// Kernel family: pooling over the last two axes of (N, C, H, W); 1-D pooling calls these with
// H = 1. Every (n, c) plane is independent, so OpenMP splits the N*C planes.
//
// max_pool2d_fwd returns the argmax of each window as a flat index h*W + w into its input plane
// (PyTorch's convention); max_pool2d_bwd scatters the output gradient back through it.
// avg_pool2d_* take the windows as per-axis ranges [start, end) with per-axis scales, because
// every average pooling PyTorch has is separable that way: avg_pool with or without
// count_include_pad (scale 1/window length, padded or clamped) and adaptive_avg_pool (PyTorch's
// bins floor(i*H/OH) .. ceil((i+1)*H/OH)). The output is sum(window) * h_scale[i] * w_scale[j].
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "common.h"

namespace pydyfast {

namespace {

using pair = std::array<py::ssize_t, 2>;
using index_array = py::array_t<std::int64_t, py::array::c_style>;
using scale_array = py::array_t<double, py::array::c_style>;

// One output row's (or column's) window along an axis: its origin o*S - P and the taps
// [lo, hi) that fall inside the image.
struct Window {
  py::ssize_t origin, lo, hi;
};

std::vector<Window> windows(py::ssize_t out, py::ssize_t stride, py::ssize_t pad,
                            py::ssize_t dilation, py::ssize_t kernel, py::ssize_t extent) {
  std::vector<Window> w(out);
  for (py::ssize_t o = 0; o < out; ++o) {
    const py::ssize_t origin = o * stride - pad;
    w[o] = {origin, origin >= 0 ? 0 : (-origin + dilation - 1) / dilation,
            std::min(kernel, (extent - origin + dilation - 1) / dilation)};
  }
  return w;
}

// Whether tap value v replaces a window's maximum so far, as in PyTorch: a larger value, or the
// first NaN (which then wins over all); ties keep the earlier tap.
template <typename T>
inline bool takes_over(T v, T best) {
  return (v > best) | ((v != v) & (best == best));
}

// Rows with fewer unclipped outputs than this take the per-window loop: measured on Zen 4, 7
// outputs per row (MNIST's second pooling) ran 30% slower in the taps-outermost loop, 14
// outputs 30% faster.
constexpr py::ssize_t kMinInteriorRun = 12;

// One output row's max pooling over the outputs [0, count) whose windows lie wholly inside the
// image (no clipped taps): taps outermost, outputs innermost, each output's maximum kept in the
// output row itself, compiled per instruction set (without the clones and the simd pragma this
// loop ran 35% slower at MNIST's first pooling). Output j's window starts at input column
// col0 + j*SW of input row row0.
template <typename T>
PYDYFAST_SIMD_CLONES void max_pool_interior(const T* img, py::ssize_t W, py::ssize_t row0,
                                            py::ssize_t col0, py::ssize_t KH, py::ssize_t KW,
                                            py::ssize_t DH, py::ssize_t DW, py::ssize_t SW,
                                            py::ssize_t count, T* best, std::int64_t* best_at) {
  for (py::ssize_t j = 0; j < count; ++j) {
    best[j] = -std::numeric_limits<T>::infinity();
    best_at[j] = row0 * W + col0 + j * SW;
  }
  for (py::ssize_t ki = 0; ki < KH; ++ki)
    for (py::ssize_t kj = 0; kj < KW; ++kj) {
      const std::int64_t tap = (row0 + ki * DH) * W + col0 + kj * DW;
#pragma omp simd
      for (py::ssize_t j = 0; j < count; ++j) {
        const T v = img[tap + j * SW];
        const bool take = takes_over(v, best[j]);
        best[j] = take ? v : best[j];
        best_at[j] = take ? tap + j * SW : best_at[j];
      }
    }
}

template <typename T>
std::pair<carray<T>, index_array> max_pool2d_fwd(carray<T> x, pair kernel, pair stride,
                                                 pair padding, pair dilation, pair out_size) {
  if (x.ndim() != 4) fail("max_pool2d", "expected x of shape (N, C, H, W), got " + shape_str(x));
  const py::ssize_t N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  const py::ssize_t KH = kernel[0], KW = kernel[1], SH = stride[0], SW = stride[1];
  const py::ssize_t PH = padding[0], PW = padding[1], DH = dilation[0], DW = dilation[1];
  const py::ssize_t OH = out_size[0], OW = out_size[1];
  if (KH < 1 || KW < 1 || SH < 1 || SW < 1 || DH < 1 || DW < 1 || PH < 0 || PW < 0 || OH < 1 ||
      OW < 1)
    fail("max_pool2d", "kernel, stride, dilation and output size must be positive");
  // The window origins reach (O-1)*S - P + D*(K-1) and are scaled by W: check those sums and
  // the allocation (common.h) so hostile sizes raise instead of wrapping around.
  const char* op = "max_pool2d";
  for (const auto& [O, S, P, D, K, extent] : {std::array<std::int64_t, 6>{OH, SH, PH, DH, KH, H},
                                              std::array<std::int64_t, 6>{OW, SW, PW, DW, KW, W}}) {
    const std::int64_t reach = checked_add(
        op, checked_add(op, checked_mul(op, O, S), checked_mul(op, D, K)), checked_add(op, P, extent));
    checked_mul(op, reach, std::max<std::int64_t>(W, 1));
  }
  checked_size(op, {N, C, OH, OW}, sizeof(T) + sizeof(std::int64_t));
  carray<T> y({N, C, OH, OW});
  index_array idx({N, C, OH, OW});
  const T* src = x.data();
  T* dst = y.mutable_data();
  std::int64_t* arg = idx.mutable_data();
  const std::int64_t planes = N * C;
  // Each output row's and column's window, clipped to the image, computed once per call: the
  // clipping divides, and a division per output position cost more than the window's compares.
  const std::vector<Window> rows = windows(OH, SH, PH, DH, KH, H);
  const std::vector<Window> cols = windows(OW, SW, PW, DW, KW, W);
  // the output columns [inner_lo, inner_hi) whose windows are not clipped (a contiguous run)
  py::ssize_t inner_lo = 0, inner_hi = 0;
  for (py::ssize_t ow = 0; ow < OW; ++ow)
    if (cols[ow].lo == 0 && cols[ow].hi == KW) {
      if (inner_hi == inner_lo) inner_lo = ow;
      inner_hi = ow + 1;
    }
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(planes * OH * OW * KH * KW))
    for (std::int64_t p = 0; p < planes; ++p) {
      const T* img = src + p * H * W;
      T* out = dst + p * OH * OW;
      std::int64_t* out_arg = arg + p * OH * OW;
      for (py::ssize_t oh = 0; oh < OH; ++oh) {
        const Window& r = rows[oh];
        const bool full_row = r.lo == 0 && r.hi == KH && inner_hi - inner_lo >= kMinInteriorRun;
        if (full_row)
          max_pool_interior(img, W, r.origin, cols[inner_lo].origin, KH, KW, DH, DW, SW,
                            inner_hi - inner_lo, out + oh * OW + inner_lo,
                            out_arg + oh * OW + inner_lo);
        for (py::ssize_t ow = 0; ow < OW; ++ow) {
          if (full_row && ow >= inner_lo && ow < inner_hi) continue;
          const Window& c = cols[ow];
          std::int64_t best_at = (r.origin + r.lo * DH) * W + (c.origin + c.lo * DW);
          T best = -std::numeric_limits<T>::infinity();
          for (py::ssize_t ki = r.lo; ki < r.hi; ++ki) {
            const py::ssize_t row = (r.origin + ki * DH) * W + c.origin;
            for (py::ssize_t kj = c.lo; kj < c.hi; ++kj) {
              const T v = img[row + kj * DW];
              const bool take = takes_over(v, best);
              best = take ? v : best;
              best_at = take ? row + kj * DW : best_at;
            }
          }
          out[oh * OW + ow] = best;
          out_arg[oh * OW + ow] = best_at;
        }
      }
    }
  }
  return {y, idx};
}

template <typename T>
carray<T> max_pool2d_bwd(carray<T> gy, index_array idx, pair size) {
  if (gy.ndim() != 4 || idx.ndim() != 4 || !std::equal(gy.shape(), gy.shape() + 4, idx.shape()))
    fail("max_pool2d backward", "expected gy and idx of the same shape (N, C, OH, OW), got " +
                                    shape_str(gy) + " and " + shape_str(idx));
  const py::ssize_t N = gy.shape(0), C = gy.shape(1);
  checked_size("max_pool2d backward", {N, C, size[0], size[1]}, sizeof(T));
  const py::ssize_t HW = size[0] * size[1];
  const py::ssize_t L = gy.shape(2) * gy.shape(3);
  carray<T> gx({N, C, size[0], size[1]});
  const T* g = gy.data();
  const std::int64_t* arg = idx.data();
  T* dst = gx.mutable_data();
  const std::int64_t planes = N * C;
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(planes * (L + HW)))
    for (std::int64_t p = 0; p < planes; ++p) {
      T* img = dst + p * HW;
      std::fill(img, img + HW, T(0));
      const T* gp = g + p * L;
      const std::int64_t* ap = arg + p * L;
      for (py::ssize_t k = 0; k < L; ++k) {
        const std::int64_t at = ap[k];
        if (at >= 0 && at < HW) img[at] += gp[k];  // overlapping windows may pick one pixel twice
      }
    }
  }
  return gx;
}

struct Windows {
  const std::int64_t *h_start, *h_end, *w_start, *w_end;
  const double *h_scale, *w_scale;
  py::ssize_t OH, OW;
};

Windows windows(const char* op, const index_array& h_start, const index_array& h_end,
                const scale_array& h_scale, const index_array& w_start, const index_array& w_end,
                const scale_array& w_scale, py::ssize_t H, py::ssize_t W) {
  const py::ssize_t OH = h_start.size(), OW = w_start.size();
  if (h_end.size() != OH || h_scale.size() != OH || w_end.size() != OW || w_scale.size() != OW)
    fail(op, "window starts, ends and scales must have one entry per output row/column");
  Windows win{h_start.data(), h_end.data(), w_start.data(), w_end.data(),
              h_scale.data(), w_scale.data(), OH, OW};
  for (py::ssize_t i = 0; i < OH; ++i)
    if (win.h_start[i] < 0 || win.h_end[i] > H || win.h_start[i] > win.h_end[i])
      fail(op, "row window " + std::to_string(i) + " is outside the input height " +
                   std::to_string(H));
  for (py::ssize_t j = 0; j < OW; ++j)
    if (win.w_start[j] < 0 || win.w_end[j] > W || win.w_start[j] > win.w_end[j])
      fail(op, "column window " + std::to_string(j) + " is outside the input width " +
                   std::to_string(W));
  return win;
}

template <typename T>
carray<T> avg_pool2d_fwd(carray<T> x, index_array h_start, index_array h_end,
                         scale_array h_scale, index_array w_start, index_array w_end,
                         scale_array w_scale) {
  if (x.ndim() != 4) fail("avg_pool2d", "expected x of shape (N, C, H, W), got " + shape_str(x));
  const py::ssize_t N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  const Windows win =
      windows("avg_pool2d", h_start, h_end, h_scale, w_start, w_end, w_scale, H, W);
  const py::ssize_t OH = win.OH, OW = win.OW;
  checked_size("avg_pool2d", {N, C, OH, OW}, sizeof(T));
  carray<T> y({N, C, OH, OW});
  const T* src = x.data();
  T* dst = y.mutable_data();
  const std::int64_t planes = N * C;
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(planes * (H * W + OH * OW)))
    for (std::int64_t p = 0; p < planes; ++p) {
      const T* img = src + p * H * W;
      T* out = dst + p * OH * OW;
      for (py::ssize_t i = 0; i < OH; ++i) {
        T* row_out = out + i * OW;
        std::fill(row_out, row_out + OW, T(0));
        for (std::int64_t h = win.h_start[i]; h < win.h_end[i]; ++h) {
          const T* row = img + h * W;
          for (py::ssize_t j = 0; j < OW; ++j) {
            T s = 0;
            for (std::int64_t w = win.w_start[j]; w < win.w_end[j]; ++w) s += row[w];
            row_out[j] += s;
          }
        }
        const T hs = static_cast<T>(win.h_scale[i]);
        for (py::ssize_t j = 0; j < OW; ++j) row_out[j] *= hs * static_cast<T>(win.w_scale[j]);
      }
    }
  }
  return y;
}

template <typename T>
carray<T> avg_pool2d_bwd(carray<T> gy, pair size, index_array h_start, index_array h_end,
                         scale_array h_scale, index_array w_start, index_array w_end,
                         scale_array w_scale) {
  const py::ssize_t H = size[0], W = size[1];
  if (H < 0 || W < 0)
    fail("avg_pool2d backward", "size (" + std::to_string(H) + ", " + std::to_string(W) +
                                    ") must be non-negative");
  const Windows win =
      windows("avg_pool2d backward", h_start, h_end, h_scale, w_start, w_end, w_scale, H, W);
  const py::ssize_t OH = win.OH, OW = win.OW;
  if (gy.ndim() != 4 || gy.shape(2) != OH || gy.shape(3) != OW)
    fail("avg_pool2d backward", "expected gy of shape (N, C, " + std::to_string(OH) + ", " +
                                    std::to_string(OW) + "), got " + shape_str(gy));
  const py::ssize_t N = gy.shape(0), C = gy.shape(1);
  checked_size("avg_pool2d backward", {N, C, H, W}, sizeof(T));
  carray<T> gx({N, C, H, W});
  const T* g = gy.data();
  T* dst = gx.mutable_data();
  const std::int64_t planes = N * C;
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(planes * (H * W + OH * OW)))
    for (std::int64_t p = 0; p < planes; ++p) {
      T* img = dst + p * H * W;
      std::fill(img, img + H * W, T(0));
      const T* gp = g + p * OH * OW;
      for (py::ssize_t i = 0; i < OH; ++i) {
        const T hs = static_cast<T>(win.h_scale[i]);
        for (std::int64_t h = win.h_start[i]; h < win.h_end[i]; ++h) {
          T* row = img + h * W;
          for (py::ssize_t j = 0; j < OW; ++j) {
            const T v = gp[i * OW + j] * hs * static_cast<T>(win.w_scale[j]);
            for (std::int64_t w = win.w_start[j]; w < win.w_end[j]; ++w) row[w] += v;
          }
        }
      }
    }
  }
  return gx;
}

template <typename T>
void bind(py::module_& m) {
  // the window arrays of both average-pool directions (copies of one py::arg each)
  const py::arg h_start = py::arg("h_start").noconvert(), h_end = py::arg("h_end").noconvert(),
                h_scale = py::arg("h_scale").noconvert(), w_start = py::arg("w_start").noconvert(),
                w_end = py::arg("w_end").noconvert(), w_scale = py::arg("w_scale").noconvert();
  m.def("max_pool2d_fwd", &max_pool2d_fwd<T>, py::arg("x").noconvert(), py::arg("kernel"),
        py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("out_size"),
        "max_pool2d_fwd(x, kernel, stride, padding, dilation, out_size) -> (y, argmax): "
        "x (N, C, H, W) -> y (N, C, OH, OW), argmax int64 flat index h*W + w per window.");
  m.def("max_pool2d_bwd", &max_pool2d_bwd<T>, py::arg("gy").noconvert(),
        py::arg("idx").noconvert(), py::arg("size"),
        "max_pool2d_bwd(gy, idx, size) -> gx (N, C, H, W): gy scattered (added) to the argmax.");
  m.def("avg_pool2d_fwd", &avg_pool2d_fwd<T>, py::arg("x").noconvert(), h_start, h_end, h_scale,
        w_start, w_end, w_scale,
        "avg_pool2d_fwd(x, h_start, h_end, h_scale, w_start, w_end, w_scale) -> y: "
        "y[n,c,i,j] = h_scale[i] w_scale[j] sum(x[n,c,h_start[i]:h_end[i],w_start[j]:w_end[j]]).");
  m.def("avg_pool2d_bwd", &avg_pool2d_bwd<T>, py::arg("gy").noconvert(), py::arg("size"), h_start,
        h_end, h_scale, w_start, w_end, w_scale,
        "avg_pool2d_bwd(gy, size, ...windows) -> gx: adjoint of the forward.");
}

}  // namespace

void init_pool(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
