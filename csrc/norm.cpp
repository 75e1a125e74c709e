// Kernel family: layer_norm and rms_norm over the trailing axes, seen here as (rows, D).
//
// One template does both: Center = true is layer norm (subtract the row mean), Center = false
// is RMS norm (mean taken as 0, no bias). The moments are two passes over a row that is already
// in L1 (D is a few thousand at most), which is as cheap as Welford and more accurate.
#include <pybind11/stl.h>

#include <cmath>
#include <optional>

#include "common.h"
#include "vec_math.h"

namespace pydyfast {
namespace {

template <typename T>
std::int64_t check_rows(const carray<T>& x, const std::optional<carray<T>>& weight,
                        const std::optional<carray<T>>& bias, const char* op) {
  if (x.ndim() != 2) fail(op, "expected x of shape (rows, D), got " + shape_str(x));
  const std::int64_t D = x.shape(1);
  for (const auto* p : {&weight, &bias})
    if (*p && ((*p)->ndim() != 1 || (*p)->shape(0) != D))
      fail(op, "weight/bias " + shape_str(**p) + " must have D entries for x " + shape_str(x));
  return D;
}

template <typename T>
carray<T> vector_of(std::int64_t n) {
  return carray<T>(std::vector<py::ssize_t>{static_cast<py::ssize_t>(n)});
}

// One row of the forward; compiled per SIMD width (PYDYFAST_SIMD_CLONES) like softmax's rows.
template <typename T, bool Center>
PYDYFAST_SIMD_CLONES void norm_forward_row(const T* xr, const T* wp, const T* bp, T* yr,
                                           T* mean_out, T* rstd_out, std::int64_t D, T eps) {
  const T mu = Center && D > 0 ? row_sum(xr, D) / T(D) : T(0);
  T ss = 0;
#pragma omp simd reduction(+ : ss)
  for (std::int64_t i = 0; i < D; ++i) ss += (xr[i] - mu) * (xr[i] - mu);
  const T rs = T(1) / std::sqrt(ss / T(D) + eps);
  *mean_out = mu;
  *rstd_out = rs;
  if (wp && bp) {
#pragma omp simd
    for (std::int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mu) * rs * wp[i] + bp[i];
  } else if (wp) {
#pragma omp simd
    for (std::int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mu) * rs * wp[i];
  } else if (bp) {
#pragma omp simd
    for (std::int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mu) * rs + bp[i];
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mu) * rs;
  }
}

// One row of the backward (see norm_backward); gw_acc/gb_acc are null when not accumulating.
template <typename T, bool Center>
PYDYFAST_SIMD_CLONES void norm_backward_row(const T* gr, const T* xr, const T* wp, T* out, T mu,
                          T rs, T* gw_acc, T* gb_acc, std::int64_t D) {
  T sum_h = 0, sum_hx = 0;
#pragma omp simd reduction(+ : sum_h, sum_hx)
  for (std::int64_t i = 0; i < D; ++i) {
    const T h = wp ? gr[i] * wp[i] : gr[i];
    sum_h += h;
    sum_hx += h * (xr[i] - mu) * rs;
  }
  const T c_mean = Center ? sum_h / T(D) : T(0);
  const T c_xhat = sum_hx / T(D);
  if (gw_acc) {  // gweight/gbias sums ride along with the gx pass (row in L1)
#pragma omp simd
    for (std::int64_t i = 0; i < D; ++i) {
      const T xhat = (xr[i] - mu) * rs;
      const T h = wp ? gr[i] * wp[i] : gr[i];
      out[i] = rs * (h - c_mean - xhat * c_xhat);
      gw_acc[i] += gr[i] * xhat;
      gb_acc[i] += gr[i];
    }
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < D; ++i) {
      const T xhat = (xr[i] - mu) * rs;
      const T h = wp ? gr[i] * wp[i] : gr[i];
      out[i] = rs * (h - c_mean - xhat * c_xhat);
    }
  }
}

// mean = sum(x) / D (0 for RMS), rstd = 1 / sqrt(sum((x - mean)^2) / D + eps),
// y = (x - mean) * rstd * weight + bias. Returns (y, mean, rstd); mean is (rows,).
template <typename T, bool Center>
py::tuple norm_forward(carray<T> x, std::optional<carray<T>> weight,
                       std::optional<carray<T>> bias, double eps) {
  const char* op = Center ? "layer_norm" : "rms_norm";
  const std::int64_t D = check_rows(x, weight, bias, op);
  const std::int64_t rows = x.shape(0);
  carray<T> y(std::vector<py::ssize_t>{x.shape(0), x.shape(1)});
  carray<T> mean = vector_of<T>(rows);
  carray<T> rstd = vector_of<T>(rows);
  const T* xp = x.data();
  const T* wp = weight ? weight->data() : nullptr;
  const T* bp = bias ? bias->data() : nullptr;
  T* yp = y.mutable_data();
  T* meanp = mean.mutable_data();
  T* rstdp = rstd.mutable_data();
  {
    py::gil_scoped_release release;
    for_each_row(rows, D, [&](std::int64_t r) {
      norm_forward_row<T, Center>(xp + r * D, wp, bp, yp + r * D, meanp + r, rstdp + r, D, T(eps));
    });
  }
  return py::make_tuple(y, mean, rstd);
}

// With xhat = (x - mean) * rstd and h = gy * weight (gy without weight):
//   gx = rstd * (h - mean(h) - xhat * mean(h * xhat))      (mean(h) term only when Center)
//   gweight = sum over rows of gy * xhat,   gbias = sum over rows of gy.
// Each thread sums gweight/gbias over its block of rows into its own buffer; the buffers are
// added at the end, so there are no atomics and the result does not depend on scheduling.
// Returns (gx, gweight or None, gbias or None).
template <typename T, bool Center>
py::tuple norm_backward(carray<T> gy, carray<T> x, carray<T> mean, carray<T> rstd,
                        std::optional<carray<T>> weight, bool need_weight, bool need_bias) {
  const char* op = Center ? "layer_norm_bwd" : "rms_norm_bwd";
  const std::int64_t D = check_rows(x, weight, std::optional<carray<T>>(), op);
  const std::int64_t rows = x.shape(0);
  if (gy.ndim() != 2 || gy.shape(0) != rows || gy.shape(1) != D)
    fail(op, "gradient " + shape_str(gy) + " does not match x " + shape_str(x));
  if (mean.size() != rows || rstd.size() != rows)
    fail(op, "mean " + shape_str(mean) + " and rstd " + shape_str(rstd) + " need one entry per "
                 "row of x " + shape_str(x));
  carray<T> gx(std::vector<py::ssize_t>{x.shape(0), x.shape(1)});
  const T* gp = gy.data();
  const T* xp = x.data();
  const T* meanp = mean.data();
  const T* rstdp = rstd.data();
  const T* wp = weight ? weight->data() : nullptr;
  T* gxp = gx.mutable_data();
  const bool accumulate = need_weight || need_bias;
  const bool parallel = worth_parallel(rows * D);
  int threads = 1;
#ifdef PYDYFAST_HAVE_OPENMP
  if (parallel) threads = omp_get_max_threads();
#endif
  // per thread: D sums for gweight, then D for gbias
  std::vector<T> partial(accumulate ? static_cast<std::size_t>(threads) * 2 * D : 0, T(0));
  {
    py::gil_scoped_release release;
#pragma omp parallel num_threads(threads) if (parallel)
    {
      int tid = 0;
#ifdef PYDYFAST_HAVE_OPENMP
      tid = omp_get_thread_num();
#endif
      T* gw_acc = accumulate ? partial.data() + static_cast<std::size_t>(tid) * 2 * D : nullptr;
      T* gb_acc = accumulate ? gw_acc + D : nullptr;
#pragma omp for schedule(static)
      for (std::int64_t r = 0; r < rows; ++r)
        norm_backward_row<T, Center>(gp + r * D, xp + r * D, wp, gxp + r * D, meanp[r], rstdp[r],
                                     gw_acc, gb_acc, D);
    }
  }
  py::object gw = py::none(), gb = py::none();
  if (need_weight || need_bias) {
    carray<T> w_sum = vector_of<T>(D), b_sum = vector_of<T>(D);
    T* ws = w_sum.mutable_data();
    T* bs = b_sum.mutable_data();
    for (std::int64_t i = 0; i < D; ++i) ws[i] = bs[i] = T(0);
    for (int t = 0; t < threads; ++t)
      for (std::int64_t i = 0; i < D; ++i) {
        ws[i] += partial[static_cast<std::size_t>(t) * 2 * D + i];
        bs[i] += partial[static_cast<std::size_t>(t) * 2 * D + D + i];
      }
    if (need_weight) gw = w_sum;
    if (need_bias) gb = b_sum;
  }
  return py::make_tuple(gx, gw, gb);
}

// Array arguments are noconvert (see carray in common.h).
template <typename T>
void bind(py::module_& m) {
  m.def("layer_norm_fwd", &norm_forward<T, true>, py::arg("x").noconvert(),
        py::arg("weight").noconvert(), py::arg("bias").noconvert(), py::arg("eps"));
  m.def("rms_norm_fwd",
        [](carray<T> x, std::optional<carray<T>> weight, double eps) {
          return norm_forward<T, false>(x, weight, std::nullopt, eps);
        },
        py::arg("x").noconvert(), py::arg("weight").noconvert(), py::arg("eps"));
  m.def("layer_norm_bwd", &norm_backward<T, true>, py::arg("gy").noconvert(),
        py::arg("x").noconvert(), py::arg("mean").noconvert(), py::arg("rstd").noconvert(),
        py::arg("weight").noconvert(), py::arg("need_weight"), py::arg("need_bias"));
  m.def("rms_norm_bwd", &norm_backward<T, false>, py::arg("gy").noconvert(),
        py::arg("x").noconvert(), py::arg("mean").noconvert(), py::arg("rstd").noconvert(),
        py::arg("weight").noconvert(), py::arg("need_weight"), py::arg("need_bias"));
}

}  // namespace

void init_norm(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
