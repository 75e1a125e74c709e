// Kernel family: im2col / col2im, the memory-bound halves of a GEMM convolution.
//
// Layout: x (N, C, H, W) <-> col (N, C*KH*KW, OH*OW), row index (c*KH + ki)*KW + kj, so a
// convolution is one batched GEMM  W (O, C*KH*KW) @ col[n]  with the output already in NCHW,
// and groups are a reshape of the row axis. Padding is fused (no padded copy of x); col2im is a
// scatter-ADD, because overlapping windows each contribute to the same input pixel.
// 1-D convolutions call these with H = KH = 1.
#include <algorithm>
#include <array>
#include <cstring>

#include <pybind11/stl.h>

#include "common.h"

namespace pydyfast {

using pair = std::array<py::ssize_t, 2>;

namespace {

struct ConvGeometry {
  py::ssize_t N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;

  py::ssize_t rows() const { return C * KH * KW; }
  py::ssize_t cols() const { return OH * OW; }

  // The output positions ow whose input column ow*SW - PW + kj*DW lies inside [0, W).
  void valid_ow(py::ssize_t kj, py::ssize_t& lo, py::ssize_t& hi) const {
    const py::ssize_t off = kj * DW - PW;  // iw = ow*SW + off
    lo = off >= 0 ? 0 : (-off + SW - 1) / SW;
    hi = W - off <= 0 ? 0 : (W - off + SW - 1) / SW;
    lo = std::min(lo, OW);
    hi = std::max(lo, std::min(hi, OW));
  }
};

// Every size below is checked (common.h): kernel sizes or padding near 2**63 must raise, not
// wrap around. The products checked here bound every index the loops compute.
ConvGeometry geometry(const char* op, py::ssize_t N, py::ssize_t C, py::ssize_t H, py::ssize_t W,
                      pair kernel, pair stride, pair padding, pair dilation, std::int64_t elem) {
  ConvGeometry g{N, C, H, W, kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1],
                 dilation[0], dilation[1], 0, 0};
  if (g.KH < 1 || g.KW < 1 || g.SH < 1 || g.SW < 1 || g.DH < 1 || g.DW < 1 || g.PH < 0 ||
      g.PW < 0 || H < 0 || W < 0)
    fail(op, "kernel, stride and dilation must be positive and padding and size non-negative");
  const std::int64_t padded_h = checked_add(op, H, checked_mul(op, 2, g.PH));
  const std::int64_t padded_w = checked_add(op, W, checked_mul(op, 2, g.PW));
  const std::int64_t span_h = checked_add(op, checked_mul(op, g.DH, g.KH - 1), 1);
  const std::int64_t span_w = checked_add(op, checked_mul(op, g.DW, g.KW - 1), 1);
  checked_add(op, padded_h, g.SH);  // valid_ow and the row loops add a stride to a padded offset
  checked_add(op, padded_w, g.SW);
  if (padded_h < span_h || padded_w < span_w) {
    std::ostringstream s;
    s << "the dilated kernel (" << span_h << ", " << span_w << ") is larger than the padded input ("
      << padded_h << ", " << padded_w << ")";
    fail(op, s.str());
  }
  g.OH = (padded_h - span_h) / g.SH + 1;
  g.OW = (padded_w - span_w) / g.SW + 1;
  checked_size(op, {N, C, H, W}, elem);
  checked_size(op, {N, C, g.KH, g.KW, g.OH, g.OW}, elem);
  return g;
}

template <typename T>
carray<T> im2col(carray<T> x, pair kernel, pair stride, pair padding, pair dilation) {
  if (x.ndim() != 4) fail("im2col", "expected x of shape (N, C, H, W), got " + shape_str(x));
  const auto g = geometry("im2col", x.shape(0), x.shape(1), x.shape(2), x.shape(3), kernel,
                          stride, padding, dilation, sizeof(T));
  carray<T> col({g.N, g.rows(), g.cols()});
  const T* src = x.data();
  T* dst = col.mutable_data();
  const std::int64_t planes = g.N * g.C;
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(planes * g.KH * g.KW * g.cols()))
    for (std::int64_t p = 0; p < planes; ++p) {
      const T* img = src + p * g.H * g.W;
      T* out = dst + p * g.KH * g.KW * g.cols();  // rows of channel c of image n are contiguous
      for (py::ssize_t ki = 0; ki < g.KH; ++ki) {
        for (py::ssize_t kj = 0; kj < g.KW; ++kj, out += g.cols()) {
          py::ssize_t lo, hi;
          g.valid_ow(kj, lo, hi);
          const py::ssize_t off = kj * g.DW - g.PW;
          for (py::ssize_t oh = 0; oh < g.OH; ++oh) {
            T* row = out + oh * g.OW;
            const py::ssize_t ih = oh * g.SH - g.PH + ki * g.DH;
            if (ih < 0 || ih >= g.H) {
              std::fill(row, row + g.OW, T(0));
              continue;
            }
            const T* in = img + ih * g.W + off;
            std::fill(row, row + lo, T(0));
            if (g.SW == 1) {
              std::memcpy(row + lo, in + lo, sizeof(T) * (hi - lo));
            } else {
              for (py::ssize_t ow = lo; ow < hi; ++ow) row[ow] = in[ow * g.SW];
            }
            std::fill(row + hi, row + g.OW, T(0));
          }
        }
      }
    }
  }
  return col;
}

template <typename T>
carray<T> col2im(carray<T> col, pair size, pair kernel, pair stride, pair padding, pair dilation) {
  // The product of a hostile kernel can overflow to 0: check it before using it as a divisor.
  std::int64_t taps = 0;
  if (kernel[0] < 1 || kernel[1] < 1 || __builtin_mul_overflow(kernel[0], kernel[1], &taps))
    taps = 0;
  if (col.ndim() != 3 || taps < 1 || col.shape(1) % taps != 0)
    fail("col2im", "expected col of shape (N, C*KH*KW, OH*OW) for kernel (" +
                       std::to_string(kernel[0]) + ", " + std::to_string(kernel[1]) + "), got " +
                       shape_str(col));
  const auto g = geometry("col2im", col.shape(0), col.shape(1) / taps, size[0], size[1], kernel,
                          stride, padding, dilation, sizeof(T));
  if (col.shape(2) != g.cols())
    fail("col2im", "col " + shape_str(col) + " has " + std::to_string(col.shape(2)) +
                       " columns, but the image size gives OH*OW = " + std::to_string(g.cols()));
  carray<T> x({g.N, g.C, g.H, g.W});
  const T* src = col.data();
  T* dst = x.mutable_data();
  const std::int64_t planes = g.N * g.C;
  {
    py::gil_scoped_release release;
    // Each (n, c) plane of x gathers only the rows of its own channel: no write conflicts.
#pragma omp parallel for schedule(static) if (worth_parallel(planes * g.KH * g.KW * g.cols()))
    for (std::int64_t p = 0; p < planes; ++p) {
      T* img = dst + p * g.H * g.W;
      std::fill(img, img + g.H * g.W, T(0));
      const T* in = src + p * g.KH * g.KW * g.cols();
      for (py::ssize_t ki = 0; ki < g.KH; ++ki) {
        for (py::ssize_t kj = 0; kj < g.KW; ++kj, in += g.cols()) {
          py::ssize_t lo, hi;
          g.valid_ow(kj, lo, hi);
          const py::ssize_t off = kj * g.DW - g.PW;
          for (py::ssize_t oh = 0; oh < g.OH; ++oh) {
            const py::ssize_t ih = oh * g.SH - g.PH + ki * g.DH;
            if (ih < 0 || ih >= g.H) continue;
            const T* row = in + oh * g.OW;
            T* out = img + ih * g.W + off;
            if (g.SW == 1) {
              for (py::ssize_t ow = lo; ow < hi; ++ow) out[ow] += row[ow];
            } else {
              for (py::ssize_t ow = lo; ow < hi; ++ow) out[ow * g.SW] += row[ow];
            }
          }
        }
      }
    }
  }
  return x;
}

}  // namespace

void init_im2col(py::module_& m) {
  const char* im2col_doc =
      "im2col(x, kernel, stride, padding, dilation) -> col: x (N, C, H, W) -> "
      "(N, C*KH*KW, OH*OW), zero padding fused, OH = (H + 2p - d(KH-1) - 1)//s + 1.";
  const char* col2im_doc =
      "col2im(col, size, kernel, stride, padding, dilation) -> x (N, C, H, W) with (H, W) = "
      "size: the adjoint of im2col, overlapping windows summed.";
  m.def("im2col", &im2col<float>, py::arg("x").noconvert(), py::arg("kernel"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), im2col_doc);
  m.def("im2col", &im2col<double>, py::arg("x").noconvert(), py::arg("kernel"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), im2col_doc);
  m.def("col2im", &col2im<float>, py::arg("col").noconvert(), py::arg("size"), py::arg("kernel"),
        py::arg("stride"), py::arg("padding"), py::arg("dilation"), col2im_doc);
  m.def("col2im", &col2im<double>, py::arg("col").noconvert(), py::arg("size"), py::arg("kernel"),
        py::arg("stride"), py::arg("padding"), py::arg("dilation"), col2im_doc);
}

}  // namespace pydyfast
