// Kernel family: softmax, log_softmax and the fused cross-entropy over the last axis.
//
// Every kernel sees its input as (rows, n) with the softmax axis last (the Python op moves any
// other axis there first) and runs one OpenMP task per block of rows. A row is at most a few
// hundred KiB, so its passes (max, exp-sum, write) hit L1/L2 after the first read.
#include <pybind11/stl.h>

#include <cmath>
#include <optional>

#include "common.h"
#include "vec_math.h"

namespace pydyfast {
namespace {

struct RowShape {
  std::int64_t rows;
  std::int64_t n;
};

template <typename T>
RowShape row_shape(const carray<T>& x, const char* op) {
  if (x.ndim() < 1) fail(op, "expected at least 1 dimension, got a 0-d array");
  const std::int64_t n = x.shape(x.ndim() - 1);
  return {n == 0 ? 0 : static_cast<std::int64_t>(x.size()) / n, n};
}

template <typename T>
void check_same_shape(const carray<T>& a, const carray<T>& b, const char* op) {
  bool same = a.ndim() == b.ndim();
  for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == b.shape(i);
  if (!same) fail(op, "output " + shape_str(a) + " and its gradient " + shape_str(b) +
                          " must have the same shape");
}

template <typename T>
carray<T> empty_as(const carray<T>& x) {
  return carray<T>(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
}

// softmax: y = exp(x - max) / sum(exp(x - max)). log_softmax: y = x - max - log(sum(...)).
// A row that is all -inf has no probability mass: softmax gives zeros, log_softmax -inf.
// The row loops are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time
// (PYDYFAST_SIMD_CLONES): the portable build alone would run vexp 4 lanes wide.
template <typename T, bool Log>
PYDYFAST_SIMD_CLONES void softmax_row(const T* xr, T* yr, std::int64_t n) {
  const T m = row_max(xr, n);
  if (m == -std::numeric_limits<T>::infinity()) {
    const T fill = Log ? m : T(0);
    for (std::int64_t i = 0; i < n; ++i) yr[i] = fill;
    return;
  }
  T sum = 0;
  if (Log) {
#pragma omp simd reduction(+ : sum)
    for (std::int64_t i = 0; i < n; ++i) sum += vexp(xr[i] - m);
    // (x - max) - log(sum), in this order: max + log(sum) would round away the small
    // log(sum) when |max| is large (PyTorch does the same, pytorch#11752)
    const T log_sum = std::log(sum);
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - m) - log_sum;
  } else {
#pragma omp simd reduction(+ : sum)
    for (std::int64_t i = 0; i < n; ++i) {
      const T e = vexp(xr[i] - m);
      yr[i] = e;
      sum += e;
    }
    const T inv = T(1) / sum;
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) yr[i] *= inv;
  }
}

template <typename T, bool Log>
carray<T> softmax_forward(carray<T> x) {
  const RowShape s = row_shape(x, Log ? "log_softmax" : "softmax");
  carray<T> y = empty_as(x);
  const T* xp = x.data();
  T* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    for_each_row(s.rows, s.n, [&](std::int64_t r) {
      softmax_row<T, Log>(xp + r * s.n, yp + r * s.n, s.n);
    });
  }
  return y;
}

// softmax backward: gx = y * (gy - sum(gy * y)).
// log_softmax backward: gx = gy - exp(y) * sum(gy).
template <typename T, bool Log>
PYDYFAST_SIMD_CLONES void softmax_backward_row(const T* yr, const T* gr, T* out, std::int64_t n) {
  if (Log) {
    const T g = row_sum(gr, n);
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) out[i] = gr[i] - vexp(yr[i]) * g;
  } else {
    const T d = row_dot(gr, yr, n);
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) out[i] = yr[i] * (gr[i] - d);
  }
}

template <typename T, bool Log>
carray<T> softmax_backward(carray<T> y, carray<T> gy) {
  const char* op = Log ? "log_softmax_bwd" : "softmax_bwd";
  check_same_shape(y, gy, op);
  const RowShape s = row_shape(y, op);
  carray<T> gx = empty_as(y);
  const T* yp = y.data();
  const T* gp = gy.data();
  T* outp = gx.mutable_data();
  {
    py::gil_scoped_release release;
    for_each_row(s.rows, s.n, [&](std::int64_t r) {
      softmax_backward_row<T, Log>(yp + r * s.n, gp + r * s.n, outp + r * s.n, s.n);
    });
  }
  return gx;
}

// The exp-heavy row loops of cross-entropy, compiled per SIMD width like softmax_row.
// sum_c exp(x_c - m):
template <typename T>
PYDYFAST_SIMD_CLONES T shifted_exp_sum(const T* xr, T m, std::int64_t n) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t i = 0; i < n; ++i) sum += vexp(xr[i] - m);
  return sum;
}

// g_c = exp((x_c - m) - log_sum) * scale - b * w_c   (w_c = 1 without weights)
template <typename T>
PYDYFAST_SIMD_CLONES void cross_entropy_grad_row(const T* xr, const T* wp, T* gr, T m, T log_sum,
                                                 T scale, T b, std::int64_t n) {
  if (wp) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) gr[i] = vexp((xr[i] - m) - log_sum) * scale - b * wp[i];
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) gr[i] = vexp((xr[i] - m) - log_sum) * scale - b;
  }
}

struct CrossEntropyArgs {
  std::int64_t rows;
  std::int64_t classes;
};

template <typename T>
CrossEntropyArgs check_cross_entropy(const carray<T>& logits, const carray<std::int64_t>& target,
                                     const std::optional<carray<T>>& weight, const char* op) {
  if (logits.ndim() != 2) fail(op, "expected logits of shape (rows, classes), got " +
                                       shape_str(logits));
  const CrossEntropyArgs a{logits.shape(0), logits.shape(1)};
  if (target.ndim() != 1 || target.shape(0) != a.rows)
    fail(op, "target " + shape_str(target) + " does not match logits " + shape_str(logits));
  if (weight && (weight->ndim() != 1 || weight->shape(0) != a.classes))
    fail(op, "weight " + shape_str(*weight) + " must have one entry per class of " +
                 shape_str(logits));
  return a;
}

// Per row i with target t (rows whose target is ignore_index give zeros):
//   lse_i = log(sum_c exp(x_ic)) = max_i + log_sum_i,
//   nll_i = w_t * (lse_i - x_it),
//   smooth_i = sum_c w_c * (lse_i - x_ic) = lse_i * sum(w) - sum_c w_c x_ic   (if smoothing).
// w is 1 without weight. Returns (nll, smooth, max, log_sum); smooth is zeros when not
// smoothing. max and log_sum stay apart so that x - max - log_sum keeps float32 precision.
template <typename T>
py::tuple cross_entropy_forward(carray<T> logits, carray<std::int64_t> target,
                                std::optional<carray<T>> weight, std::int64_t ignore_index,
                                bool smoothing) {
  const CrossEntropyArgs a = check_cross_entropy(logits, target, weight, "cross_entropy");
  carray<T> nll(std::vector<py::ssize_t>{a.rows});
  carray<T> smooth(std::vector<py::ssize_t>{a.rows});
  carray<T> row_maxima(std::vector<py::ssize_t>{a.rows});
  carray<T> log_sums(std::vector<py::ssize_t>{a.rows});
  const T* xp = logits.data();
  const std::int64_t* tp = target.data();
  const T* wp = weight ? weight->data() : nullptr;
  T* nllp = nll.mutable_data();
  T* smoothp = smooth.mutable_data();
  T* maxp = row_maxima.mutable_data();
  T* logp = log_sums.mutable_data();
  const std::int64_t C = a.classes;
  const T weight_total = wp ? row_sum(wp, C) : T(C);
  {
    py::gil_scoped_release release;
    for_each_row(a.rows, C, [&](std::int64_t r) {
      const T* xr = xp + r * C;
      const T m = row_max(xr, C);
      const T log_sum = std::log(shifted_exp_sum(xr, m, C));
      maxp[r] = m;
      logp[r] = log_sum;
      const std::int64_t t = tp[r];
      if (t == ignore_index || t < 0 || t >= C) {  // out-of-range targets are caught in Python
        nllp[r] = 0;
        smoothp[r] = 0;
        return;
      }
      nllp[r] = (wp ? wp[t] : T(1)) * ((m - xr[t]) + log_sum);
      // sum_c w_c (m - x_c) + log_sum * sum(w), again without forming m + log_sum
      smoothp[r] = smoothing ? m * weight_total - (wp ? row_dot(wp, xr, C) : row_sum(xr, C)) +
                                   log_sum * weight_total
                             : T(0);
    });
  }
  return py::make_tuple(nll, smooth, row_maxima, log_sums);
}

// With p = softmax(x_i) = exp((x_i - max_i) - log_sum_i), a_i = d loss / d nll_i * w_t and
// b_i = d loss / d smooth_i (both 0 on ignored rows):
//   gx_ic = p_c * (a_i + b_i * sum(w)) - b_i * w_c - a_i * [c == t].
template <typename T>
carray<T> cross_entropy_backward(carray<T> logits, carray<std::int64_t> target,
                                 carray<T> row_maxima, carray<T> log_sums, carray<T> a,
                                 carray<T> b, std::optional<carray<T>> weight) {
  const CrossEntropyArgs s = check_cross_entropy(logits, target, weight, "cross_entropy_bwd");
  for (const carray<T>* v : {&row_maxima, &log_sums, &a, &b})
    if (v->ndim() != 1 || v->shape(0) != s.rows)
      fail("cross_entropy_bwd", "per-row input " + shape_str(*v) + " does not match logits " +
                                    shape_str(logits));
  carray<T> gx = empty_as(logits);
  const T* xp = logits.data();
  const std::int64_t* tp = target.data();
  const T* wp = weight ? weight->data() : nullptr;
  const T* maxp = row_maxima.data();
  const T* logp = log_sums.data();
  const T* ap = a.data();
  const T* bp = b.data();
  T* gp = gx.mutable_data();
  const std::int64_t C = s.classes;
  const T weight_total = wp ? row_sum(wp, C) : T(C);
  {
    py::gil_scoped_release release;
    for_each_row(s.rows, C, [&](std::int64_t r) {
      const T* xr = xp + r * C;
      T* gr = gp + r * C;
      const T m = maxp[r];
      const T log_sum = logp[r];
      const T ar = ap[r];
      const T br = bp[r];
      cross_entropy_grad_row(xr, wp, gr, m, log_sum, ar + br * weight_total, br, C);
      const std::int64_t t = tp[r];
      if (t >= 0 && t < C) gr[t] -= ar;
    });
  }
  return gx;
}

// Array arguments are noconvert (see carray in common.h).
template <typename T>
void bind(py::module_& m) {
  m.def("softmax_fwd", &softmax_forward<T, false>, py::arg("x").noconvert());
  m.def("log_softmax_fwd", &softmax_forward<T, true>, py::arg("x").noconvert());
  m.def("softmax_bwd", &softmax_backward<T, false>, py::arg("y").noconvert(),
        py::arg("gy").noconvert());
  m.def("log_softmax_bwd", &softmax_backward<T, true>, py::arg("y").noconvert(),
        py::arg("gy").noconvert());
  m.def("cross_entropy_fwd", &cross_entropy_forward<T>, py::arg("logits").noconvert(),
        py::arg("target").noconvert(), py::arg("weight").noconvert(), py::arg("ignore_index"),
        py::arg("smoothing"));
  m.def("cross_entropy_bwd", &cross_entropy_backward<T>, py::arg("logits").noconvert(),
        py::arg("target").noconvert(), py::arg("row_max").noconvert(),
        py::arg("log_sum").noconvert(), py::arg("a").noconvert(), py::arg("b").noconvert(),
        py::arg("weight").noconvert());
}

}  // namespace

void init_softmax(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
