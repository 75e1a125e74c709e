// Kernel family: im2col / col2im, the memory-bound halves of a GEMM convolution, over a whole
// batch (conv.cpp runs the same per-plane loops image by image, next to its GEMMs).
//
// Layout: x (N, C, H, W) <-> col (N, C*KH*KW, OH*OW), row index (c*KH + ki)*KW + kj, so a
// convolution is one batched GEMM  W (O, C*KH*KW) @ col[n]  with the output already in NCHW,
// and groups are a reshape of the row axis. 1-D convolutions call these with H = KH = 1.
#include "im2col.h"

#include <pybind11/stl.h>

namespace pydyfast {

namespace {

template <typename T>
carray<T> im2col(carray<T> x, pair kernel, pair stride, pair padding, pair dilation) {
  if (x.ndim() != 4) fail("im2col", "expected x of shape (N, C, H, W), got " + shape_str(x));
  const auto g = conv_geometry("im2col", x.shape(0), x.shape(1), x.shape(2), x.shape(3),
                               kernel, stride, padding, dilation, sizeof(T));
  carray<T> col({g.N, g.rows(), g.cols()});
  const T* src = x.data();
  T* dst = col.mutable_data();
  const std::int64_t planes = g.N * g.C;
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(planes * g.KH * g.KW * g.cols()))
    for (std::int64_t p = 0; p < planes; ++p)  // rows of channel c of image n are contiguous
      im2col_plane(g, src + p * g.H * g.W, 0, g.OH, dst + p * g.KH * g.KW * g.cols(), g.cols());
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
  const auto g = conv_geometry("col2im", col.shape(0), col.shape(1) / taps, size[0], size[1],
                               kernel, stride, padding, dilation, sizeof(T));
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
      col2im_plane(g, src + p * g.KH * g.KW * g.cols(), g.cols(), 0, g.OH, img);
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
