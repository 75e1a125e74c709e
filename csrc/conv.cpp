// Kernel family: conv, a 2-D convolution (groups, stride, padding, dilation) and its gradients
// as one pass over the batch each, image by image inside one OpenMP region: the columns of one
// tile of output rows of one image are built in a per-thread buffer that stays in cache
// (im2col.h), multiplied by gemm_serial (gemm.h) straight into the NCHW result, and dropped.
// Nothing of the size of the whole batch's column matrix is ever allocated.
//
// With the weight (O, C/G, KH, KW) seen as G blocks W_k (O/G x R), R = C/G*KH*KW, and
// col_k[n] = im2col(image[n], channels of group k) (R x OH*OW), one sweep computes any of
//   out[n]_k      = W_k @ col_k[n] + out_bias                (convolution forward)
//   weight_grad_k += grad[n]_k @ col_k[n]^T,  bias_grad += sum over positions of grad[n]
//   image_grad[n] = col2im(W_k^T @ grad[n]_k) + image_bias    (the adjoint: input gradient)
// so the transposed convolution needs no kernel of its own: its forward is the adjoint, its
// input gradient the forward, its weight gradient the same product with image and grad being its
// output gradient and its input. A 1x1 kernel with stride 1 and no padding skips im2col: the
// image's channel planes already are the column matrix.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <memory>
#include <optional>
#include <tuple>

#include <pybind11/stl.h>

#include "gemm.h"
#include "im2col.h"

namespace pydyfast {

namespace {

// A tile's columns fill at most this many bytes (whole output rows, at least one), so the
// buffer the GEMM reads back after im2col wrote it is still in the core's L2 cache (1 MiB on the
// EPYC this was tuned on; 128 KiB tiles measured 7-15% slower: more, thinner GEMMs).
constexpr std::int64_t kTileBytes = 256 * 1024;

// The grouped convolution between an image side (N, C, H, W) and an output side (N, O, OH, OW).
struct ConvShape {
  ConvGeometry g;  // the image side and its windows; g.C = C
  py::ssize_t O, G;

  py::ssize_t Cg() const { return g.C / G; }
  py::ssize_t Og() const { return O / G; }
  py::ssize_t R() const { return Cg() * g.KH * g.KW; }
  py::ssize_t L() const { return g.OH * g.OW; }
  bool direct() const {
    return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0;
  }
  // Output rows per tile: the fewest tiles whose R x rows*OW columns fit kTileBytes, of equal
  // height (a thin last tile would be a GEMM too narrow to run at speed).
  py::ssize_t tile_rows(std::int64_t elem) const {
    const double row_bytes = double(R()) * double(g.OW) * double(elem);
    const double fit = row_bytes > 0 ? std::max(1.0, std::floor(kTileBytes / row_bytes)) : g.OH;
    const double tiles = std::ceil(double(g.OH) / std::min(fit, double(g.OH)));
    return std::max<py::ssize_t>(1, py::ssize_t(std::ceil(double(g.OH) / tiles)));
  }
};

// Checks the weight (O, C/G, KH, KW) and groups, and derives the geometry of images (N, C, H, W)
// with (H, W) = size.
ConvShape conv_shape(const char* op, py::ssize_t N, pair size, const py::array& weight,
                     pair stride, pair padding, pair dilation, std::int64_t groups,
                     std::int64_t elem) {
  if (weight.ndim() != 4)
    fail(op, "expected a weight of shape (O, C/groups, KH, KW), got " + shape_str(weight));
  if (groups < 1 || weight.shape(0) % groups != 0)
    fail(op, "groups must be positive and divide the weight's " +
                 std::to_string(weight.shape(0)) + " output channels, got groups=" +
                 std::to_string(groups));
  const std::int64_t C = checked_mul(op, weight.shape(1), groups);
  ConvShape s{conv_geometry(op, N, C, size[0], size[1], {weight.shape(2), weight.shape(3)},
                            stride, padding, dilation, elem),
              weight.shape(0), groups};
  checked_size(op, {N, s.O, s.g.OH, s.g.OW}, elem);
  return s;
}

template <typename T>
void expect_shape(const char* op, const char* name, const carray<T>& a,
                  std::initializer_list<py::ssize_t> shape) {
  bool same = a.ndim() == py::ssize_t(shape.size());
  py::ssize_t i = 0;
  std::ostringstream want;
  want << "(";
  for (const py::ssize_t e : shape) {
    same = same && a.shape(i) == e;
    want << (i++ ? ", " : "") << e;
  }
  want << (shape.size() == 1 ? ",)" : ")");
  if (!same) fail(op, std::string("expected ") + name + " of shape " + want.str() + ", got " +
                          shape_str(a));
}

template <typename T>
void expect_ndim(const char* op, const char* name, const carray<T>& a, const char* layout) {
  if (a.ndim() != 4)
    fail(op, std::string("expected ") + name + " of shape " + layout + ", got " + shape_str(a));
}

// What one sweep over the batch reads and writes (null: not part of this sweep). All arrays are
// C-contiguous; the weight is (O, R), the image side (N, C, H, W), the output side (N, O, OH, OW).
template <typename T>
struct ConvSweep {
  const T* weight = nullptr;
  const T* image = nullptr;  // im2col'd for out and weight_grad
  T* out = nullptr;
  const T* out_bias = nullptr;  // (O,)
  const T* grad = nullptr;      // output side, for weight_grad, bias_grad and image_grad
  T* weight_grad = nullptr;     // (O, R), written (not accumulated into) by the sweep
  T* bias_grad = nullptr;       // (O,), likewise
  T* image_grad = nullptr;
  const T* image_bias = nullptr;  // (C,)
};

// sum(row[0:n]) in 16 independent lanes, which gcc turns into vector adds without reassociating
// one serial chain (that would need -ffast-math).
template <typename T>
PYDYFAST_SIMD_CLONES T row_sum(const T* row, py::ssize_t n) {
  T lanes[16] = {};
  py::ssize_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; ++l) lanes[l] += row[j + l];
  T total = 0;
  for (; j < n; ++j) total += row[j];
  for (int l = 0; l < 16; ++l) total += lanes[l];
  return total;
}

// Everything of one sweep for image n's output rows [oh0, oh1), group by group. `buffer` holds
// R x (oh1 - oh0)*OW values (unused when direct); gw (G blocks of R x O/G, each group's weight
// gradient transposed) and gb (O) are this thread's sums.
template <typename T>
void sweep_tile(const ConvShape& s, const ConvSweep<T>& w, py::ssize_t n, py::ssize_t oh0,
                py::ssize_t oh1, T* buffer, T* gw, T* gb) {
  const ConvGeometry& g = s.g;
  const py::ssize_t L = s.L(), R = s.R(), Og = s.Og(), Cg = s.Cg(), HW = g.H * g.W;
  const py::ssize_t taps = g.KH * g.KW, c0 = oh0 * g.OW, cols = (oh1 - oh0) * g.OW;
  const bool direct = s.direct();
  for (py::ssize_t k = 0; k < s.G; ++k) {
    const T* wk = w.weight + k * Og * R;
    const py::ssize_t out_at = (n * s.O + k * Og) * L + c0;  // out[n] and grad[n]: row k*Og, c0
    const py::ssize_t image_at = (n * g.C + k * Cg) * HW;
    const T* col = buffer;
    py::ssize_t ld = cols;
    if (w.out || w.weight_grad) {
      if (direct) {
        col = w.image + image_at + c0;
        ld = L;
      } else {
        for (py::ssize_t c = 0; c < Cg; ++c)
          im2col_plane(g, w.image + image_at + c * HW, oh0, oh1, buffer + c * taps * cols, cols);
      }
    }
    if (w.out) {
      GemmEpilogue<T> e;
      e.bias_row = w.out_bias ? w.out_bias + k * Og : nullptr;
      gemm_serial(false, false, Og, cols, R, T(1), wk, R, col, ld, T(0), w.out + out_at, L, e);
    }
    if (w.weight_grad) {  // as gw_k^T (R x O/G) += col @ grad^T: the GEMM's tiles fit R x O/G
      gemm_serial(false, true, R, Og, cols, T(1), col, ld, w.grad + out_at, L, T(1),
                  gw + k * R * Og, Og);  // better than O/G x R (measured: 58 against 47 GF/s)
      for (py::ssize_t o = 0; gb && o < Og; ++o)
        gb[k * Og + o] += row_sum(w.grad + out_at + o * L, cols);
    }
    if (w.image_grad) {
      if (direct) {  // the columns are the image: write them in place, bias fused
        GemmEpilogue<T> e;
        e.bias_row = w.image_bias ? w.image_bias + k * Cg : nullptr;
        gemm_serial(true, false, Cg, cols, Og, T(1), wk, R, w.grad + out_at, L, T(0),
                    w.image_grad + image_at + c0, L, e);
      } else {
        gemm_serial(true, false, R, cols, Og, T(1), wk, R, w.grad + out_at, L, T(0), buffer, cols);
        for (py::ssize_t c = 0; c < Cg; ++c)
          col2im_plane(g, buffer + c * taps * cols, cols, oh0, oh1,
                       w.image_grad + image_at + c * HW);
      }
    }
  }
}

template <typename T>
struct FreeBuffer {
  void operator()(T* p) const { delete[] p; }
};

// Runs one sweep over the batch in one OpenMP region. Work items are (image, tile) pairs, or
// whole images when col2im scatters into image_grad: tiles of one image overlap there.
template <typename T>
void run_sweep(const char* op, const ConvShape& s, const ConvSweep<T>& w) {
  const ConvGeometry& g = s.g;
  const py::ssize_t rows = s.tile_rows(sizeof(T));
  const py::ssize_t tiles = (g.OH + rows - 1) / rows;
  const bool whole_images = w.image_grad && !s.direct();
  const std::int64_t items = whole_images ? g.N : g.N * tiles;
  const double work = double(g.N) * double(s.O) * double(s.R()) * double(s.L());
  const bool parallel = work >= double(kParallelGrain) && items > 1;
  int threads = 1;
#ifdef PYDYFAST_HAVE_OPENMP
  if (parallel) threads = std::max(1, std::min<int>(omp_get_max_threads(), int(items)));
#endif
  // no buffer for an empty batch: its tile could be as wide as a hostile padding makes OW
  const std::int64_t buffer_size =
      s.direct() || items == 0 ? 0 : checked_size(op, {s.R(), rows, g.OW}, sizeof(T));
  const std::int64_t acc_size = w.weight_grad ? checked_size(op, {s.O, s.R() + 1}, sizeof(T)) : 0;
  std::unique_ptr<T[]> buffers(new T[checked_size(op, {threads, buffer_size}, sizeof(T))]);
  std::unique_ptr<T[]> sums(new T[checked_size(op, {threads, acc_size}, sizeof(T))]());
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  py::gil_scoped_release release;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int t = 0;
#ifdef PYDYFAST_HAVE_OPENMP
    t = omp_get_thread_num();
#endif
    T* buffer = buffers.get() + t * buffer_size;
    T* gw = w.weight_grad ? sums.get() + t * acc_size : nullptr;
    T* gb = w.bias_grad ? gw + s.O * s.R() : nullptr;
#pragma omp for schedule(static)
    for (std::int64_t item = 0; item < items; ++item) {
      if (failed.load(std::memory_order_relaxed)) continue;
      try {
        const py::ssize_t n = whole_images ? item : item / tiles;
        const py::ssize_t first = whole_images ? 0 : item % tiles;
        const py::ssize_t last = whole_images ? tiles : first + 1;
        if (whole_images) {  // col2im adds into the image: start it at its bias (or zero)
          T* image = w.image_grad + n * g.C * g.H * g.W;
          for (py::ssize_t c = 0; c < g.C; ++c)
            std::fill(image + c * g.H * g.W, image + (c + 1) * g.H * g.W,
                      w.image_bias ? w.image_bias[c] : T(0));
        }
        for (py::ssize_t tile = first; tile < last; ++tile)
          sweep_tile(s, w, n, tile * rows, std::min(g.OH, (tile + 1) * rows), buffer, gw, gb);
      } catch (...) {
#pragma omp critical(pydyfast_conv_error)
        error = std::current_exception();
        failed = true;
      }
    }
  }
  if (error) std::rethrow_exception(error);
  if (w.weight_grad) {  // the threads' partial sums of each group's gw^T, in thread order
    const std::int64_t weights = s.O * s.R(), R = s.R(), Og = s.Og();
    for (std::int64_t i = 0; i < weights; ++i) {
      const std::int64_t o = i / R, r = i % R, k = o / Og;  // gw[o, r] = gw_k^T[r, o - k*Og]
      const std::int64_t at = k * R * Og + r * Og + (o - k * Og);
      T total = 0;
      for (int t = 0; t < threads; ++t) total += sums[t * acc_size + at];
      w.weight_grad[i] = total;
    }
    for (std::int64_t o = 0; w.bias_grad && o < s.O; ++o) {
      T total = 0;
      for (int t = 0; t < threads; ++t) total += sums[t * acc_size + weights + o];
      w.bias_grad[o] = total;
    }
  }
}

template <typename T>
using optional_array = std::optional<carray<T>>;

template <typename T>
const T* bias_data(const char* op, const optional_array<T>& bias, py::ssize_t channels) {
  if (!bias) return nullptr;
  expect_shape(op, "bias", *bias, {channels});
  return bias->data();
}

template <typename T>
carray<T> conv2d_fwd(carray<T> x, carray<T> weight, optional_array<T> bias, pair stride,
                     pair padding, pair dilation, std::int64_t groups) {
  const char* op = "conv2d_fwd";
  expect_ndim(op, "x", x, "(N, C, H, W)");
  const ConvShape s = conv_shape(op, x.shape(0), {x.shape(2), x.shape(3)}, weight, stride,
                                 padding, dilation, groups, sizeof(T));
  const ConvGeometry& g = s.g;
  expect_shape(op, "x", x, {g.N, g.C, g.H, g.W});
  ConvSweep<T> w;
  w.out_bias = bias_data(op, bias, s.O);
  carray<T> y({g.N, s.O, g.OH, g.OW});
  w.weight = weight.data();
  w.image = x.data();
  w.out = y.mutable_data();
  run_sweep(op, s, w);
  return y;
}

template <typename T>
carray<T> conv2d_bwd_input(carray<T> gy, carray<T> weight, optional_array<T> bias, pair size,
                           pair stride, pair padding, pair dilation, std::int64_t groups) {
  const char* op = "conv2d_bwd_input";
  expect_ndim(op, "gy", gy, "(N, O, OH, OW)");
  const ConvShape s =
      conv_shape(op, gy.shape(0), size, weight, stride, padding, dilation, groups, sizeof(T));
  const ConvGeometry& g = s.g;
  expect_shape(op, "gy", gy, {g.N, s.O, g.OH, g.OW});
  ConvSweep<T> w;
  w.image_bias = bias_data(op, bias, g.C);
  carray<T> gx({g.N, g.C, g.H, g.W});
  w.weight = weight.data();
  w.grad = gy.data();
  w.image_grad = gx.mutable_data();
  run_sweep(op, s, w);
  return gx;
}

template <typename T>
std::tuple<optional_array<T>, carray<T>, optional_array<T>> conv2d_bwd(
    carray<T> x, carray<T> weight, carray<T> gy, pair stride, pair padding, pair dilation,
    std::int64_t groups, bool input_grad, bool bias_grad) {
  const char* op = "conv2d_bwd";
  expect_ndim(op, "x", x, "(N, C, H, W)");
  const ConvShape s = conv_shape(op, x.shape(0), {x.shape(2), x.shape(3)}, weight, stride,
                                 padding, dilation, groups, sizeof(T));
  const ConvGeometry& g = s.g;
  expect_shape(op, "x", x, {g.N, g.C, g.H, g.W});
  expect_shape(op, "gy", gy, {g.N, s.O, g.OH, g.OW});
  carray<T> gw({weight.shape(0), weight.shape(1), weight.shape(2), weight.shape(3)});
  optional_array<T> gx, gb;
  if (input_grad) gx = carray<T>({g.N, g.C, g.H, g.W});
  if (bias_grad) gb = carray<T>({s.O});
  ConvSweep<T> w;
  w.weight = weight.data();
  w.image = x.data();
  w.grad = gy.data();
  w.weight_grad = gw.mutable_data();
  w.bias_grad = gb ? gb->mutable_data() : nullptr;
  w.image_grad = gx ? gx->mutable_data() : nullptr;
  run_sweep(op, s, w);
  return {gx, gw, gb};
}

// x (N, C_in, H, W) and gy (N, C_out, OH, OW) of conv_transpose2d with weight (C_in, C_out/G,
// KH, KW): the convolution whose image is gy and whose output is x.
template <typename T>
std::tuple<optional_array<T>, carray<T>> conv_transpose2d_bwd(
    carray<T> x, carray<T> weight, carray<T> gy, pair stride, pair padding, pair dilation,
    std::int64_t groups, bool input_grad) {
  const char* op = "conv_transpose2d_bwd";
  expect_ndim(op, "gy", gy, "(N, C_out, OH, OW)");
  const ConvShape s = conv_shape(op, gy.shape(0), {gy.shape(2), gy.shape(3)}, weight, stride,
                                 padding, dilation, groups, sizeof(T));
  const ConvGeometry& g = s.g;
  expect_shape(op, "gy", gy, {g.N, g.C, g.H, g.W});
  expect_shape(op, "x", x, {g.N, s.O, g.OH, g.OW});
  carray<T> gw({weight.shape(0), weight.shape(1), weight.shape(2), weight.shape(3)});
  optional_array<T> gx;
  if (input_grad) gx = carray<T>({g.N, s.O, g.OH, g.OW});
  ConvSweep<T> w;
  w.weight = weight.data();
  w.image = gy.data();
  w.grad = x.data();
  w.weight_grad = gw.mutable_data();
  w.out = gx ? gx->mutable_data() : nullptr;
  run_sweep(op, s, w);
  return {gx, gw};
}

template <typename T>
void bind(py::module_& m) {
  m.def("conv2d_fwd", &conv2d_fwd<T>, py::arg("x").noconvert(), py::arg("weight").noconvert(),
        py::arg("bias").noconvert(), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"),
        "conv2d_fwd(x, weight, bias, stride, padding, dilation, groups) -> y: x (N, C, H, W), "
        "weight (O, C/groups, KH, KW), bias (O,) or None -> y (N, O, OH, OW).");
  m.def("conv2d_bwd_input", &conv2d_bwd_input<T>, py::arg("gy").noconvert(),
        py::arg("weight").noconvert(), py::arg("bias").noconvert(), py::arg("size"),
        py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("groups"),
        "conv2d_bwd_input(gy, weight, bias, size, stride, padding, dilation, groups) -> gx "
        "(N, C, H, W) with (H, W) = size: the adjoint of conv2d_fwd in x, plus bias (C,) per "
        "channel when given (conv_transpose2d's forward).");
  m.def("conv2d_bwd", &conv2d_bwd<T>, py::arg("x").noconvert(), py::arg("weight").noconvert(),
        py::arg("gy").noconvert(), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"), py::arg("input_grad"), py::arg("bias_grad"),
        "conv2d_bwd(x, weight, gy, stride, padding, dilation, groups, input_grad, bias_grad) -> "
        "(gx or None, gw, gb or None) in one pass over the batch.");
  m.def("conv_transpose2d_bwd", &conv_transpose2d_bwd<T>, py::arg("x").noconvert(),
        py::arg("weight").noconvert(), py::arg("gy").noconvert(), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("groups"), py::arg("input_grad"),
        "conv_transpose2d_bwd(x, weight, gy, stride, padding, dilation, groups, input_grad) -> "
        "(gx or None, gw): x (N, C_in, H, W), weight (C_in, C_out/groups, KH, KW), gy "
        "(N, C_out, OH, OW) with (H, W) the convolution of (OH, OW).");
}

}  // namespace

void init_conv(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
