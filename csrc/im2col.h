// The window geometry of a 2-D convolution and the per-plane im2col / col2im loops, shared by the
// whole-batch kernels of im2col.cpp and the per-image convolutions of conv.cpp.
//
// Layout: one channel plane (H, W) <-> KH*KW rows of OH*OW columns, row ki*KW + kj holding
// x_padded[oh*SH + ki*DH, ow*SW + kj*DW] at column oh*OW + ow. Padding is fused (no padded copy);
// col2im is a scatter-ADD, because overlapping windows each contribute to the same input pixel.
#pragma once
#include <algorithm>
#include <array>
#include <cstring>

#include "common.h"

namespace pydyfast {

using pair = std::array<py::ssize_t, 2>;

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
inline ConvGeometry conv_geometry(const char* op, py::ssize_t N, py::ssize_t C, py::ssize_t H,
                                  py::ssize_t W, pair kernel, pair stride, pair padding,
                                  pair dilation, std::int64_t elem) {
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

// The KH*KW rows of one channel plane `img` (H x W) for the output rows [oh0, oh1): row
// ki*KW + kj starts at out + (ki*KW + kj) * ld and holds (oh1 - oh0) * OW values.
template <typename T>
inline void im2col_plane(const ConvGeometry& g, const T* img, py::ssize_t oh0, py::ssize_t oh1,
                         T* out, py::ssize_t ld) {
  for (py::ssize_t ki = 0; ki < g.KH; ++ki) {
    for (py::ssize_t kj = 0; kj < g.KW; ++kj, out += ld) {
      py::ssize_t lo, hi;
      g.valid_ow(kj, lo, hi);
      const py::ssize_t off = kj * g.DW - g.PW;
      for (py::ssize_t oh = oh0; oh < oh1; ++oh) {
        T* row = out + (oh - oh0) * g.OW;
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

// The adjoint of im2col_plane: adds the KH*KW rows at `in` (row stride ld, output rows
// [oh0, oh1)) into their windows of the plane `img`. The caller initialises img.
template <typename T>
inline void col2im_plane(const ConvGeometry& g, const T* in, py::ssize_t ld, py::ssize_t oh0,
                         py::ssize_t oh1, T* img) {
  for (py::ssize_t ki = 0; ki < g.KH; ++ki) {
    for (py::ssize_t kj = 0; kj < g.KW; ++kj, in += ld) {
      py::ssize_t lo, hi;
      g.valid_ow(kj, lo, hi);
      const py::ssize_t off = kj * g.DW - g.PW;
      for (py::ssize_t oh = oh0; oh < oh1; ++oh) {
        const py::ssize_t ih = oh * g.SH - g.PH + ki * g.DH;
        if (ih < 0 || ih >= g.H) continue;
        const T* row = in + (oh - oh0) * g.OW;
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

}  // namespace pydyfast
