// Kernel family: special functions, elementwise on any shape (erf; erfc, erfinv, xlogy may join).
#include <cmath>

#include "common.h"

namespace pydyfast {
namespace {

// erf costs some twenty flops per element: weigh it so as in worth_parallel's element-operations.
constexpr std::int64_t kErfWork = 16;

// y = erf(x) elementwise (the C library's erf/erff, within an ulp or two).
template <typename T>
carray<T> erf_fwd(carray<T> x) {
  carray<T> y(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  const T* xp = x.data();
  T* yp = y.mutable_data();
  const std::int64_t n = x.size();
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(n * kErfWork))
    for (std::int64_t i = 0; i < n; ++i) yp[i] = std::erf(xp[i]);
  }
  return y;
}

template <typename T>
void bind(py::module_& m) {
  m.def("erf_fwd", &erf_fwd<T>, py::arg("x").noconvert(),
        "erf_fwd(x) -> y: erf elementwise, y of x's shape and dtype.");
}

}  // namespace

void init_special(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
