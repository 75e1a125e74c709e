// Kernel family: scans along one axis (cumsum, cumprod, cummax/cummin, logcumsumexp) and their
// gradients.
//
// Every kernel sees its input as (outer, n, inner), C-contiguous, with the scan running over n
// (the Python op reshapes; no transpose is needed). The outer * inner lines are independent, so
// OpenMP splits them; within a line the inner stride is walked in order.
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common.h"

namespace pydyfast {
namespace {

struct Lines {
  std::int64_t outer, n, inner;
};

template <typename T>
Lines lines_of(const carray<T>& x, const char* op) {
  if (x.ndim() != 3) fail(op, "expected an (outer, n, inner) array, got " + shape_str(x));
  return {x.shape(0), x.shape(1), x.shape(2)};
}

template <typename T>
void check_same(const carray<T>& a, const carray<T>& b, const char* op) {
  if (a.ndim() != 3 || b.ndim() != 3 || !std::equal(a.shape(), a.shape() + 3, b.shape()))
    fail(op, "expected arrays of one (outer, n, inner) shape, got " + shape_str(a) + " and " +
                 shape_str(b));
}

// Runs body(base offset of the line) over every line, in parallel above the grain.
template <typename Body>
void for_each_line(const Lines& s, Body body) {
  const std::int64_t count = s.outer * s.inner;
  py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(count * s.n))
  for (std::int64_t l = 0; l < count; ++l) body((l / s.inner) * s.n * s.inner + l % s.inner);
}

// Inclusive prefix sum, or suffix sum when reverse (the gradient of cumsum).
template <typename T>
carray<T> cumsum_fwd(carray<T> x, bool reverse) {
  const Lines s = lines_of(x, "cumsum");
  carray<T> y({s.outer, s.n, s.inner});
  const T* src = x.data();
  T* dst = y.mutable_data();
  const std::int64_t st = s.inner;
  for_each_line(s, [&](std::int64_t base) {
    T acc = 0;
    for (std::int64_t k = 0; k < s.n; ++k) {
      const std::int64_t at = base + (reverse ? s.n - 1 - k : k) * st;
      acc += src[at];
      dst[at] = acc;
    }
  });
  return y;
}

template <typename T>
carray<T> cumprod_fwd(carray<T> x) {
  const Lines s = lines_of(x, "cumprod");
  carray<T> y({s.outer, s.n, s.inner});
  const T* src = x.data();
  T* dst = y.mutable_data();
  for_each_line(s, [&](std::int64_t base) {
    T acc = 1;
    for (std::int64_t k = 0; k < s.n; ++k) {
      acc *= src[base + k * s.inner];
      dst[base + k * s.inner] = acc;
    }
  });
  return y;
}

// gx_i = P_i * S_i with P_i = prod_{k<i} x_k and S_i = gy_i + x_{i+1} S_{i+1}: no division, so
// zeros in x give torch's gradient (the first zero gets the product of the rest).
template <typename T>
carray<T> cumprod_bwd(carray<T> x, carray<T> gy) {
  const Lines s = lines_of(x, "cumprod backward");
  check_same(x, gy, "cumprod backward");
  carray<T> gx({s.outer, s.n, s.inner});
  const T* xs = x.data();
  const T* g = gy.data();
  T* out = gx.mutable_data();
  for_each_line(s, [&](std::int64_t base) {
    T suffix = 0;
    for (std::int64_t k = s.n - 1; k >= 0; --k) {
      const std::int64_t at = base + k * s.inner;
      suffix = g[at] + (k + 1 < s.n ? xs[at + s.inner] * suffix : T(0));
      out[at] = suffix;  // S_k for now; multiplied by the prefix below
    }
    T prefix = 1;
    for (std::int64_t k = 0; k < s.n; ++k) {
      const std::int64_t at = base + k * s.inner;
      out[at] *= prefix;
      prefix *= xs[at];
    }
  });
  return gx;
}

// Running max (largest) or min with the index where it was reached; ties move the index to the
// later position and a nan sticks, as torch's cummax/cummin.
template <typename T>
py::tuple cumextreme_fwd(carray<T> x, bool largest) {
  const Lines s = lines_of(x, largest ? "cummax" : "cummin");
  carray<T> y({s.outer, s.n, s.inner});
  py::array_t<std::int64_t> idx({s.outer, s.n, s.inner});
  const T* src = x.data();
  T* dst = y.mutable_data();
  std::int64_t* arg = idx.mutable_data();
  for_each_line(s, [&](std::int64_t base) {
    T best = src[base];
    std::int64_t best_at = 0;
    for (std::int64_t k = 0; k < s.n; ++k) {
      const T v = src[base + k * s.inner];
      if (!std::isnan(best) && (std::isnan(v) || (largest ? v >= best : v <= best))) {
        best = v;
        best_at = k;
      }
      dst[base + k * s.inner] = best;
      arg[base + k * s.inner] = best_at;
    }
  });
  return py::make_tuple(y, idx);
}

// gx[idx_k] += gy_k along each line.
template <typename T>
carray<T> cumextreme_bwd(carray<T> gy, py::array_t<std::int64_t, py::array::c_style> idx) {
  const Lines s = lines_of(gy, "cummax/cummin backward");
  if (idx.ndim() != 3 || !std::equal(idx.shape(), idx.shape() + 3, gy.shape()))
    fail("cummax/cummin backward", "indices " + shape_str(idx) + " do not match gy " +
                                       shape_str(gy));
  carray<T> gx({s.outer, s.n, s.inner});
  const T* g = gy.data();
  const std::int64_t* arg = idx.data();
  T* out = gx.mutable_data();
  std::fill(out, out + gx.size(), T(0));
  for_each_line(s, [&](std::int64_t base) {
    for (std::int64_t k = 0; k < s.n; ++k) {
      const std::int64_t to = arg[base + k * s.inner];
      if (to >= 0 && to < s.n) out[base + to * s.inner] += g[base + k * s.inner];
    }
  });
  return gx;
}

template <typename T>
T log_add_exp(T a, T b) {
  const T hi = std::max(a, b), lo = std::min(a, b);
  if (hi == -std::numeric_limits<T>::infinity() || std::isnan(a) || std::isnan(b)) return a + b;
  return hi + std::log1p(std::exp(lo - hi));
}

template <typename T>
carray<T> logcumsumexp_fwd(carray<T> x) {
  const Lines s = lines_of(x, "logcumsumexp");
  carray<T> y({s.outer, s.n, s.inner});
  const T* src = x.data();
  T* dst = y.mutable_data();
  for_each_line(s, [&](std::int64_t base) {
    T acc = -std::numeric_limits<T>::infinity();
    for (std::int64_t k = 0; k < s.n; ++k) {
      acc = log_add_exp(acc, src[base + k * s.inner]);
      dst[base + k * s.inner] = acc;
    }
  });
  return y;
}

// exp(a - b) for a <= b, 1 where both are the same infinity (their difference is nan).
template <typename T>
T ratio(T a, T b) {
  return a == b ? T(1) : std::exp(a - b);
}

// gx_i = exp(x_i - y_i) T_i with T_i = gy_i + exp(y_i - y_{i+1}) T_{i+1}: y never decreases
// along the line, so every exponent is <= 0 and nothing overflows.
template <typename T>
carray<T> logcumsumexp_bwd(carray<T> x, carray<T> y, carray<T> gy) {
  const Lines s = lines_of(x, "logcumsumexp backward");
  check_same(x, y, "logcumsumexp backward");
  check_same(x, gy, "logcumsumexp backward");
  carray<T> gx({s.outer, s.n, s.inner});
  const T *xs = x.data(), *ys = y.data(), *g = gy.data();
  T* out = gx.mutable_data();
  for_each_line(s, [&](std::int64_t base) {
    T acc = 0;
    for (std::int64_t k = s.n - 1; k >= 0; --k) {
      const std::int64_t at = base + k * s.inner;
      acc = g[at] + (k + 1 < s.n ? ratio(ys[at], ys[at + s.inner]) * acc : T(0));
      out[at] = ratio(xs[at], ys[at]) * acc;
    }
  });
  return gx;
}

// Float arguments are noconvert: the Python op passes C-contiguous arrays of one dtype, so
// pybind11 picks the float or double overload by dtype and never casts one into the other.
template <typename T>
void bind(py::module_& m) {
  m.def("cumsum_fwd", &cumsum_fwd<T>, py::arg("x").noconvert(), py::arg("reverse"));
  m.def("cumprod_fwd", &cumprod_fwd<T>, py::arg("x").noconvert());
  m.def("cumprod_bwd", &cumprod_bwd<T>, py::arg("x").noconvert(), py::arg("gy").noconvert());
  m.def("cumextreme_fwd", &cumextreme_fwd<T>, py::arg("x").noconvert(), py::arg("largest"));
  m.def("cumextreme_bwd", &cumextreme_bwd<T>, py::arg("gy").noconvert(), py::arg("idx"));
  m.def("logcumsumexp_fwd", &logcumsumexp_fwd<T>, py::arg("x").noconvert());
  m.def("logcumsumexp_bwd", &logcumsumexp_bwd<T>, py::arg("x").noconvert(),
        py::arg("y").noconvert(), py::arg("gy").noconvert());
}

}  // namespace

void init_scan(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
