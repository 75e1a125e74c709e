// Kernel family: order statistics. topk_indices returns, for every row of a C-contiguous
// (rows, n) array, the indices of its k best elements, best first (the Python op moves the
// selected dimension last). The order is total: larger (or smaller) values first, a nan counts
// as the largest value, and equal values keep their input order; the NumPy reference (a stable
// argsort) gives the same indices. partial_sort makes it O(n log k) per row, which is what
// top-k sampling over a vocabulary needs (a full sort is O(n log n)).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "common.h"

namespace pydyfast {
namespace {

template <typename T>
py::array_t<std::int64_t> topk_indices(carray<T> x, std::int64_t k, bool largest) {
  if (x.ndim() != 2) fail("topk", "expected a (rows, n) array, got " + shape_str(x));
  const std::int64_t rows = x.shape(0), n = x.shape(1);
  if (k < 0 || k > n)
    fail("topk", "k=" + std::to_string(k) + " is out of range for rows of length " +
                     std::to_string(n));
  py::array_t<std::int64_t> out({rows, k});
  const T* src = x.data();
  std::int64_t* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
#pragma omp parallel if (worth_parallel(rows * n))
    {
      std::vector<std::int64_t> order(static_cast<size_t>(n));
#pragma omp for schedule(static)
      for (std::int64_t r = 0; r < rows; ++r) {
        const T* row = src + r * n;
        // a before b: the better value, nan counting as the largest; ties by position
        auto before = [row, largest](std::int64_t a, std::int64_t b) {
          const T va = row[a], vb = row[b];
          const bool na = std::isnan(va), nb = std::isnan(vb);
          if (na || nb) {
            if (na && nb) return a < b;
            return largest ? na : nb;
          }
          if (va != vb) return largest ? va > vb : va < vb;
          return a < b;
        };
        std::iota(order.begin(), order.end(), std::int64_t(0));
        if (k == n)
          std::sort(order.begin(), order.end(), before);
        else
          std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        std::copy(order.begin(), order.begin() + k, dst + r * k);
      }
    }
  }
  return out;
}

template <typename T>
void bind(py::module_& m) {
  m.def("topk_indices", &topk_indices<T>, py::arg("x").noconvert(), py::arg("k"),
        py::arg("largest"));
}

}  // namespace

void init_sort(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
