// Kernel family: gather/scatter along one axis, and index_add.
//
// Arrays are seen as (outer, n, inner), C-contiguous, with the indexed axis in the middle (the
// Python op reshapes, and slices its input down to the index's extent where torch allows the
// index to be smaller). Indices are int64 and checked against n before any work, so a bad
// index raises instead of writing out of bounds.
#include <algorithm>

#include "common.h"

namespace pydyfast {
namespace {

using index_array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

std::int64_t dim3(const py::array& a, int i) { return static_cast<std::int64_t>(a.shape(i)); }

void check_indices(const char* op, const index_array& idx, std::int64_t n) {
  const std::int64_t* p = idx.data();
  const std::int64_t count = idx.size();
  for (std::int64_t k = 0; k < count; ++k)
    if (p[k] < 0 || p[k] >= n)
      throw py::index_error(std::string(op) + ": index " + std::to_string(p[k]) +
                            " is out of range for a dimension of size " + std::to_string(n));
}

void check_3d(const char* op, const py::array& x, const py::array& idx) {
  if (x.ndim() != 3 || idx.ndim() != 3 || x.shape(0) != idx.shape(0) ||
      x.shape(2) != idx.shape(2))
    fail(op, "expected (outer, n, inner) and (outer, m, inner) arrays, got " + shape_str(x) +
                 " and " + shape_str(idx));
}

// y[o, j, i] = x[o, idx[o, j, i], i]
template <typename T>
carray<T> gather_fwd(carray<T> x, index_array idx) {
  check_3d("gather", x, idx);
  const std::int64_t O = dim3(x, 0), N = dim3(x, 1), I = dim3(x, 2), M = dim3(idx, 1);
  check_indices("gather", idx, N);
  carray<T> y({O, M, I});
  const T* src = x.data();
  const std::int64_t* at = idx.data();
  T* dst = y.mutable_data();
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(O * M * I))
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t j = 0; j < M; ++j) {
        const std::int64_t row = (o * M + j) * I;
        for (std::int64_t i = 0; i < I; ++i) dst[row + i] = src[(o * N + at[row + i]) * I + i];
      }
  }
  return y;
}

// out = base; out[o, idx[o, j, i], i] += src[o, j, i]. Repeated indices accumulate. Lines with
// different (o, i) never write to the same element, so OpenMP splits the outer axis, or the
// inner one when there is a single outer slice (dim 0).
template <typename T>
carray<T> scatter_add_fwd(carray<T> base, index_array idx, carray<T> src) {
  check_3d("scatter_add", base, idx);
  if (src.ndim() != 3 || !std::equal(src.shape(), src.shape() + 3, idx.shape()))
    fail("scatter_add", "expected src of the index's shape " + shape_str(idx) + ", got " +
                            shape_str(src));
  const std::int64_t O = dim3(base, 0), N = dim3(base, 1), I = dim3(base, 2), M = dim3(idx, 1);
  check_indices("scatter_add", idx, N);
  carray<T> out({O, N, I});
  const T* s = src.data();
  const std::int64_t* at = idx.data();
  T* dst = out.mutable_data();
  std::copy(base.data(), base.data() + base.size(), dst);
  {
    py::gil_scoped_release release;
    const bool split_outer = O > 1 || I == 1;
#pragma omp parallel for schedule(static) if (split_outer && worth_parallel(O * M * I))
    for (std::int64_t o = 0; o < O; ++o) {
#pragma omp parallel for schedule(static) if (!split_outer && worth_parallel(M * I))
      for (std::int64_t i = 0; i < I; ++i)
        for (std::int64_t j = 0; j < M; ++j) {
          const std::int64_t k = (o * M + j) * I + i;
          dst[(o * N + at[k]) * I + i] += s[k];
        }
    }
  }
  return out;
}

// out = base; out[o, idx[j], :] += alpha * src[o, j, :]. The inner rows are contiguous, so the
// innermost loop vectorises; OpenMP splits the outer axis, or blocks of the inner one.
template <typename T>
carray<T> index_add_fwd(carray<T> base, index_array idx, carray<T> src, double alpha) {
  if (base.ndim() != 3 || src.ndim() != 3 || idx.ndim() != 1 || base.shape(0) != src.shape(0) ||
      base.shape(2) != src.shape(2) || src.shape(1) != idx.shape(0))
    fail("index_add", "expected base (outer, n, inner), index (m,) and source (outer, m, inner), "
                      "got " + shape_str(base) + ", " + shape_str(idx) + " and " +
                          shape_str(src));
  const std::int64_t O = dim3(base, 0), N = dim3(base, 1), I = dim3(base, 2);
  const std::int64_t M = idx.shape(0);
  check_indices("index_add", idx, N);
  carray<T> out({O, N, I});
  const T* s = src.data();
  const std::int64_t* at = idx.data();
  T* dst = out.mutable_data();
  std::copy(base.data(), base.data() + base.size(), dst);
  const T a = static_cast<T>(alpha);
  constexpr std::int64_t kBlock = 1024;
  const std::int64_t blocks = (I + kBlock - 1) / kBlock;
  {
    py::gil_scoped_release release;
#pragma omp parallel for collapse(2) schedule(static) if (worth_parallel(O * M * I))
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t lo = b * kBlock, hi = std::min(I, lo + kBlock);
        for (std::int64_t j = 0; j < M; ++j) {
          T* row = dst + (o * N + at[j]) * I;
          const T* from = s + (o * M + j) * I;
#pragma omp simd
          for (std::int64_t i = lo; i < hi; ++i) row[i] += a * from[i];
        }
      }
  }
  return out;
}

template <typename T>
void bind(py::module_& m) {
  m.def("gather_fwd", &gather_fwd<T>, py::arg("x").noconvert(), py::arg("idx"));
  m.def("scatter_add_fwd", &scatter_add_fwd<T>, py::arg("base").noconvert(), py::arg("idx"),
        py::arg("src").noconvert());
  m.def("index_add_fwd", &index_add_fwd<T>, py::arg("base").noconvert(), py::arg("idx"),
        py::arg("src").noconvert(), py::arg("alpha"));
}

}  // namespace

void init_gather(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
