// Kernel family: special functions and the exact gelu built on them, elementwise on any shape.
//
// Every kernel is one pass over its inputs: a SIMD loop (compiled per vector width, see
// PYDYFAST_SIMD_CLONES) over blocks that OpenMP shares out, erf from vec_math.h's verf.
//   erf_fwd(x) = erf(x)                      erf_bwd(x, gy) = gy 2/sqrt(pi) exp(-x^2)
//   gelu_fwd(x) = x Phi(x)                   gelu_bwd(x, gy) = gy (Phi(x) + x phi(x))
// with Phi(x) = (1 + erf(x / sqrt 2)) / 2 and phi(x) = exp(-x^2 / 2) / sqrt(2 pi). The
// backward kernels recompute erf from x instead of reading a saved Phi: cheaper than a second
// array in memory, and the forward saves only x.
#include <algorithm>
#include <cmath>

#include "common.h"
#include "vec_math.h"

namespace pydyfast {
namespace {

// erf costs some forty flops per element: weigh it so in worth_parallel's element-operations.
constexpr std::int64_t kErfWork = 16;
// Elements per call of a SIMD-cloned block function (each call goes through the ifunc).
constexpr std::int64_t kBlock = 4096;

enum class Fn { kErf, kErfBackward, kGelu, kGeluBackward };

template <typename T, Fn F>
PYDYFAST_SIMD_CLONES void apply_block(const T* x, const T* gy, T* y, std::int64_t n) {
  const T two_over_sqrt_pi = T(1.12837916709551257390);
  const T one_over_sqrt2 = T(0.70710678118654752440);
  const T one_over_sqrt_2pi = T(0.39894228040143267794);
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    if constexpr (F == Fn::kErf) {
      y[i] = verf(v);
    } else if constexpr (F == Fn::kErfBackward) {
      y[i] = gy[i] * (two_over_sqrt_pi * vexp(-v * v));
    } else {
      const T cdf = T(0.5) * (T(1) + verf(v * one_over_sqrt2));
      if constexpr (F == Fn::kGelu) {
        y[i] = v * cdf;
      } else {
        const T pdf = one_over_sqrt_2pi * vexp(T(-0.5) * v * v);
        y[i] = gy[i] * (cdf + v * pdf);
      }
    }
  }
}

void check_same_shape(const char* op, const py::array& x, const py::array& gy) {
  if (x.ndim() != gy.ndim() || !std::equal(x.shape(), x.shape() + x.ndim(), gy.shape()))
    fail(op, "x " + shape_str(x) + " and its gradient " + shape_str(gy) +
                 " must have the same shape");
}

// y (x's shape) = F elementwise over x (and gy for the backward kernels).
template <typename T, Fn F>
carray<T> elementwise(const carray<T>& x, const carray<T>* gy) {
  carray<T> y(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  const T* xp = x.data();
  const T* gp = gy ? gy->data() : nullptr;
  T* yp = y.mutable_data();
  const std::int64_t n = x.size();
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(n * kErfWork))
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t lo = b * kBlock, len = std::min(kBlock, n - lo);
      apply_block<T, F>(xp + lo, gp ? gp + lo : nullptr, yp + lo, len);
    }
  }
  return y;
}

template <typename T, Fn F>
carray<T> forward(carray<T> x) {
  return elementwise<T, F>(x, nullptr);
}

template <typename T, Fn F>
carray<T> backward(carray<T> x, carray<T> gy) {
  check_same_shape(F == Fn::kErfBackward ? "erf_bwd" : "gelu_bwd", x, gy);
  return elementwise<T, F>(x, &gy);
}

// Array arguments are noconvert (see carray in common.h).
template <typename T>
void bind(py::module_& m) {
  m.def("erf_fwd", &forward<T, Fn::kErf>, py::arg("x").noconvert(),
        "erf_fwd(x) -> y: erf elementwise, y of x's shape and dtype.");
  m.def("erf_bwd", &backward<T, Fn::kErfBackward>, py::arg("x").noconvert(),
        py::arg("gy").noconvert(), "erf_bwd(x, gy) -> gx = gy * 2/sqrt(pi) * exp(-x^2).");
  m.def("gelu_fwd", &forward<T, Fn::kGelu>, py::arg("x").noconvert(),
        "gelu_fwd(x) -> y = x * (1 + erf(x / sqrt 2)) / 2 (the exact gelu).");
  m.def("gelu_bwd", &backward<T, Fn::kGeluBackward>, py::arg("x").noconvert(),
        py::arg("gy").noconvert(), "gelu_bwd(x, gy) -> gx = gy * (Phi(x) + x * phi(x)).");
}

}  // namespace

void init_special(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
