// Kernel family: resampling along one axis, the core of pad (reflect/replicate/circular) and
// interpolate (nearest, linear). The axis is the middle one of x viewed as (outer, n, inner):
//
//   resample_fwd: y[o, j, :] = sum_k weight[k, j] * x[o, index[k, j], :]      (outer, m, inner)
//   resample_bwd: gx[o, index[k, j], :] += weight[k, j] * gy[o, j, :]         (outer, n, inner)
//
// with K taps per output position (1 for pad and nearest, 2 for linear). The forward splits the
// longer of the outer and output-position loops across threads; the backward splits the outer
// slabs, since outputs j that share an input position write the same row of gx.
#include <algorithm>
#include <cstring>

#include "common.h"

namespace pydyfast {

namespace {

using index_array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// Checks index (K, m) and weight (K, m) against an axis of length n; all indices in [0, n).
template <typename T>
void check_taps(const char* op, const index_array& index, const carray<T>& weight,
                py::ssize_t n) {
  if (index.ndim() != 2 || weight.ndim() != 2 || index.shape(0) != weight.shape(0) ||
      index.shape(1) != weight.shape(1))
    fail(op, "expected index and weight of one shape (K, m), got " + shape_str(index) + " and " +
                 shape_str(weight));
  if (index.shape(0) < 1)  // every output reads its first tap
    fail(op, "expected at least one tap (K >= 1), got index of shape " + shape_str(index));
  const std::int64_t* idx = index.data();
  for (py::ssize_t t = 0; t < index.size(); ++t) {
    if (idx[t] < 0 || idx[t] >= n)
      fail(op, "index " + std::to_string(idx[t]) + " is out of range for an axis of length " +
                   std::to_string(n));
  }
}

template <typename T>
carray<T> resample_fwd(carray<T> x, index_array index, carray<T> weight) {
  const char* op = "resample_fwd";
  if (x.ndim() != 3) fail(op, "expected x of shape (outer, n, inner), got " + shape_str(x));
  const py::ssize_t outer = x.shape(0), n = x.shape(1), inner = x.shape(2);
  check_taps(op, index, weight, n);
  const py::ssize_t taps = index.shape(0), m = index.shape(1);
  checked_size(op, {outer, m, inner}, sizeof(T));
  carray<T> y({outer, m, inner});
  const T* src = x.data();
  const std::int64_t* idx = index.data();
  const T* w = weight.data();
  T* dst = y.mutable_data();
  // Pad and nearest resampling are plain copies (one tap of weight 1): rows are then memcpy'd.
  const bool copy = taps == 1 && std::all_of(w, w + m, [](T v) { return v == T(1); });
  auto row = [&](std::int64_t o, std::int64_t j) {
    const T* slab = src + o * n * inner;
    T* out = dst + (o * m + j) * inner;
    if (copy) {
      std::memcpy(out, slab + idx[j] * inner, sizeof(T) * inner);
      return;
    }
    const T w0 = w[j];
    const T* in0 = slab + idx[j] * inner;
    for (py::ssize_t i = 0; i < inner; ++i) out[i] = w0 * in0[i];
    for (py::ssize_t k = 1; k < taps; ++k) {
      const T wk = w[k * m + j];
      const T* in = slab + idx[k * m + j] * inner;
      for (py::ssize_t i = 0; i < inner; ++i) out[i] += wk * in[i];
    }
  };
  auto element = [&](std::int64_t o, std::int64_t j) {  // inner == 1: the last axis
    const T* slab = src + o * n;
    T acc = copy ? slab[idx[j]] : w[j] * slab[idx[j]];
    for (py::ssize_t k = 1; k < taps; ++k) acc += w[k * m + j] * slab[idx[k * m + j]];
    dst[o * m + j] = acc;
  };
  {
    py::gil_scoped_release release;
    const bool parallel = worth_parallel(outer * m * inner * taps);
    // Split the longer of the two loops across threads (outer is 1 when resampling axis 0).
    if (outer >= m) {
#pragma omp parallel for schedule(static) if (parallel)
      for (std::int64_t o = 0; o < outer; ++o) {
        if (inner == 1) {
          for (std::int64_t j = 0; j < m; ++j) element(o, j);
        } else {
          for (std::int64_t j = 0; j < m; ++j) row(o, j);
        }
      }
    } else {
#pragma omp parallel for schedule(static) if (parallel)
      for (std::int64_t j = 0; j < m; ++j) {
        for (std::int64_t o = 0; o < outer; ++o) inner == 1 ? element(o, j) : row(o, j);
      }
    }
  }
  return y;
}

template <typename T>
carray<T> resample_bwd(carray<T> gy, index_array index, carray<T> weight, py::ssize_t size) {
  const char* op = "resample_bwd";
  if (gy.ndim() != 3) fail(op, "expected gy of shape (outer, m, inner), got " + shape_str(gy));
  if (size < 0) fail(op, "size must be non-negative, got " + std::to_string(size));
  check_taps(op, index, weight, size);
  const py::ssize_t outer = gy.shape(0), m = gy.shape(1), inner = gy.shape(2);
  const py::ssize_t taps = index.shape(0);
  if (index.shape(1) != m)
    fail(op, "gy " + shape_str(gy) + " has " + std::to_string(m) + " positions, index has " +
                 std::to_string(index.shape(1)));
  checked_size(op, {outer, size, inner}, sizeof(T));
  carray<T> gx({outer, size, inner});
  const T* src = gy.data();
  const std::int64_t* idx = index.data();
  const T* w = weight.data();
  T* dst = gx.mutable_data();
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) if (worth_parallel(outer * m * inner * taps))
    for (std::int64_t o = 0; o < outer; ++o) {
      T* slab = dst + o * size * inner;
      std::fill(slab, slab + size * inner, T(0));
      const T* g = src + o * m * inner;
      for (py::ssize_t k = 0; k < taps; ++k) {
        for (py::ssize_t j = 0; j < m; ++j) {
          const T wk = w[k * m + j];
          const T* in = g + j * inner;
          T* out = slab + idx[k * m + j] * inner;
          for (py::ssize_t i = 0; i < inner; ++i) out[i] += wk * in[i];
        }
      }
    }
  }
  return gx;
}

}  // namespace

void init_resample(py::module_& m) {
  const char* fwd_doc =
      "resample_fwd(x, index, weight) -> y: x (outer, n, inner), index int64 (K, m), weight "
      "(K, m) -> y (outer, m, inner) = sum_k weight[k, j] x[:, index[k, j], :].";
  const char* bwd_doc =
      "resample_bwd(gy, index, weight, size) -> gx (outer, size, inner): the adjoint of "
      "resample_fwd, contributions to one input position summed.";
  m.def("resample_fwd", &resample_fwd<float>, py::arg("x"), py::arg("index"), py::arg("weight"),
        fwd_doc);
  m.def("resample_fwd", &resample_fwd<double>, py::arg("x"), py::arg("index"),
        py::arg("weight"), fwd_doc);
  m.def("resample_bwd", &resample_bwd<float>, py::arg("gy"), py::arg("index"), py::arg("weight"),
        py::arg("size"), bwd_doc);
  m.def("resample_bwd", &resample_bwd<double>, py::arg("gy"), py::arg("index"),
        py::arg("weight"), py::arg("size"), bwd_doc);
}

}  // namespace pydyfast
