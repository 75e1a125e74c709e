// Kernel family: gather/scatter along one axis, index_select and index_add, and the gradients
// of gather and index_select (a scatter-add / index-add into zeros, without a zero input).
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
  bool bad = false;
  {
    py::gil_scoped_release release;
#pragma omp parallel for schedule(static) reduction(|| : bad) if (worth_parallel(count))
    for (std::int64_t k = 0; k < count; ++k) bad = bad || p[k] < 0 || p[k] >= n;
  }
  if (!bad) return;
  const std::int64_t* first = std::find_if(p, p + count, [n](std::int64_t v) {
    return v < 0 || v >= n;
  });
  throw py::index_error(std::string(op) + ": index " + std::to_string(*first) +
                        " is out of range for a dimension of size " + std::to_string(n));
}

// dst[lo, hi) = base[lo, hi), or zeros without base.
template <typename T>
void init_range(T* dst, const T* base, std::int64_t lo, std::int64_t hi) {
  if (base)
    std::copy(base + lo, base + hi, dst + lo);
  else
    std::fill(dst + lo, dst + hi, T(0));
}

// dst[0, count) = base (or zeros without base). An orphaned worksharing loop: called inside a
// parallel region its chunks are shared among the team (with a barrier at the end), so the
// initialisation and the accumulation after it take one region, i.e. one thread wake-up, which
// is what a busy machine makes expensive; outside a region it runs on the calling thread.
template <typename T>
void fill_from(T* dst, const T* base, std::int64_t count) {
  constexpr std::int64_t kChunk = 1 << 16;
  const std::int64_t chunks = (count + kChunk - 1) / kChunk;
#pragma omp for schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c)
    init_range(dst, base, c * kChunk, std::min(count, (c + 1) * kChunk));
}

int team_rank() {
#ifdef PYDYFAST_HAVE_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

int team_size() {
#ifdef PYDYFAST_HAVE_OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
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
    for (std::int64_t o = 0; o < O; ++o) {
      if (I == 1) {  // along the last axis: one load per element, no inner loop
        const T* line = src + o * N;
        const std::int64_t* line_at = at + o * M;
        T* out = dst + o * M;
        for (std::int64_t j = 0; j < M; ++j) out[j] = line[line_at[j]];
        continue;
      }
      for (std::int64_t j = 0; j < M; ++j) {
        const std::int64_t row = (o * M + j) * I;
        for (std::int64_t i = 0; i < I; ++i) dst[row + i] = src[(o * N + at[row + i]) * I + i];
      }
    }
  }
  return y;
}

// dst = base (zeros without base), then dst[o, idx[o, j, i], i] += src[o, j, i] for dst
// (O, N, I) and idx/src (O, M, I), in one parallel region. Repeated indices accumulate. Lines
// with different (o, i) never write to the same element, so the threads split the outer axis,
// or the inner one when there is a single outer slice (dim 0).
template <typename T>
void scatter_add_into(T* dst, const T* base, const std::int64_t* at, const T* s, std::int64_t O,
                      std::int64_t N, std::int64_t I, std::int64_t M) {
  const auto add_line = [=](std::int64_t o, std::int64_t i) {
    for (std::int64_t j = 0; j < M; ++j) {
      const std::int64_t k = (o * M + j) * I + i;
      dst[(o * N + at[k]) * I + i] += s[k];
    }
  };
  const bool split_outer = O != 1 || I == 1;
  py::gil_scoped_release release;
#pragma omp parallel if (worth_parallel(O * (N + M) * I))
  {
    // flat loops, not a region nested in each outer iteration: an inactive inner region still
    // costs a libgomp call per iteration (milliseconds over a topk's thousands of rows)
    if (split_outer) {  // each thread initialises the slabs it adds into: no barrier
#pragma omp for schedule(static)
      for (std::int64_t o = 0; o < O; ++o) {
        init_range(dst, base, o * N * I, (o + 1) * N * I);
        for (std::int64_t i = 0; i < I; ++i) add_line(o, i);
      }
    } else {
      fill_from(dst, base, N * I);
#pragma omp for schedule(static)
      for (std::int64_t i = 0; i < I; ++i) add_line(0, i);
    }
  }
}

// out = base; out[o, idx[o, j, i], i] += src[o, j, i].
template <typename T>
carray<T> scatter_add_fwd(carray<T> base, index_array idx, carray<T> src) {
  check_3d("scatter_add", base, idx);
  if (src.ndim() != 3 || !std::equal(src.shape(), src.shape() + 3, idx.shape()))
    fail("scatter_add", "expected src of the index's shape " + shape_str(idx) + ", got " +
                            shape_str(src));
  const std::int64_t O = dim3(base, 0), N = dim3(base, 1), I = dim3(base, 2), M = dim3(idx, 1);
  check_indices("scatter_add", idx, N);
  carray<T> out({O, N, I});
  scatter_add_into(out.mutable_data(), base.data(), idx.data(), src.data(), O, N, I, M);
  return out;
}

// The gradient of gather: gx (outer, n, inner) = zeros with gy (the index's shape) added at the
// index; scatter_add into zeros without reading a zero array.
template <typename T>
carray<T> gather_bwd(carray<T> gy, index_array idx, std::int64_t n) {
  if (gy.ndim() != 3 || idx.ndim() != 3 || !std::equal(gy.shape(), gy.shape() + 3, idx.shape()))
    fail("gather_bwd", "expected a gradient of the index's shape " + shape_str(idx) + ", got " +
                           shape_str(gy));
  const std::int64_t O = dim3(idx, 0), I = dim3(idx, 2), M = dim3(idx, 1);
  checked_size("gather_bwd", {O, n, I}, sizeof(T));
  check_indices("gather_bwd", idx, n);
  carray<T> out({O, n, I});
  scatter_add_into<T>(out.mutable_data(), nullptr, idx.data(), gy.data(), O, n, I, M);
  return out;
}

// dst = base (zeros without base), then dst[o, idx[j], :] += alpha * src[o, j, :] for dst
// (O, N, I), idx (M,) and src (O, M, I), in one parallel region without a barrier. The inner
// rows are contiguous, so the innermost loop vectorises. With at least as many outer slices as
// threads, the threads split them; otherwise (an embedding gradient: O = 1) each thread owns a
// range of the N destination rows and adds the source rows whose index falls in it (every
// thread reads the M indices, a small cost beside the rows), so no two threads write one row.
template <typename T>
void index_add_into(T* dst, const T* base, const std::int64_t* at, const T* s, std::int64_t O,
                    std::int64_t N, std::int64_t I, std::int64_t M, T alpha) {
  const auto add_row = [=](std::int64_t o, std::int64_t j) {
    T* row = dst + (o * N + at[j]) * I;
    const T* from = s + (o * M + j) * I;
#pragma omp simd
    for (std::int64_t i = 0; i < I; ++i) row[i] += alpha * from[i];
  };
  py::gil_scoped_release release;
#pragma omp parallel if (worth_parallel(O * (N + M) * I))
  {
    // each thread initialises exactly the rows it adds into, so no barrier between the two
    const int threads = team_size();
    if (O >= threads) {
#pragma omp for schedule(static)
      for (std::int64_t o = 0; o < O; ++o) {
        init_range(dst, base, o * N * I, (o + 1) * N * I);
        for (std::int64_t j = 0; j < M; ++j) add_row(o, j);
      }
    } else {
      const int tid = team_rank();
      const std::int64_t lo = N * tid / threads, hi = N * (tid + 1) / threads;
      for (std::int64_t o = 0; o < O; ++o) {
        init_range(dst, base, (o * N + lo) * I, (o * N + hi) * I);
        for (std::int64_t j = 0; j < M; ++j)
          if (at[j] >= lo && at[j] < hi) add_row(o, j);
      }
    }
  }
}

// out = base; out[o, idx[j], :] += alpha * src[o, j, :].
template <typename T>
carray<T> index_add_fwd(carray<T> base, index_array idx, carray<T> src, double alpha) {
  if (base.ndim() != 3 || src.ndim() != 3 || idx.ndim() != 1 || base.shape(0) != src.shape(0) ||
      base.shape(2) != src.shape(2) || src.shape(1) != idx.shape(0))
    fail("index_add", "expected base (outer, n, inner), index (m,) and source (outer, m, inner), "
                      "got " + shape_str(base) + ", " + shape_str(idx) + " and " +
                          shape_str(src));
  const std::int64_t O = dim3(base, 0), N = dim3(base, 1), I = dim3(base, 2);
  check_indices("index_add", idx, N);
  carray<T> out({O, N, I});
  index_add_into(out.mutable_data(), base.data(), idx.data(), src.data(), O, N, I, idx.shape(0),
                 static_cast<T>(alpha));
  return out;
}

// y[o, j, :] = x[o, idx[j], :]: whole rows copied, in parallel over (o, j).
template <typename T>
carray<T> index_select_fwd(carray<T> x, index_array idx) {
  if (x.ndim() != 3 || idx.ndim() != 1)
    fail("index_select", "expected x (outer, n, inner) and an index (m,), got " + shape_str(x) +
                             " and " + shape_str(idx));
  const std::int64_t O = dim3(x, 0), N = dim3(x, 1), I = dim3(x, 2), M = idx.shape(0);
  check_indices("index_select", idx, N);
  carray<T> y({O, M, I});
  const T* src = x.data();
  const std::int64_t* at = idx.data();
  T* dst = y.mutable_data();
  {
    py::gil_scoped_release release;
#pragma omp parallel for collapse(2) schedule(static) if (worth_parallel(O * M * I))
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t j = 0; j < M; ++j)
        std::copy(src + (o * N + at[j]) * I, src + (o * N + at[j] + 1) * I,
                  dst + (o * M + j) * I);
  }
  return y;
}

// The gradient of index_select: gx (outer, n, inner) = zeros with gy[o, j, :] added to row
// idx[j]; index_add into zeros without reading a zero array.
template <typename T>
carray<T> index_select_bwd(carray<T> gy, index_array idx, std::int64_t n) {
  if (gy.ndim() != 3 || idx.ndim() != 1 || gy.shape(1) != idx.shape(0))
    fail("index_select_bwd", "expected a gradient (outer, m, inner) for an index (m,), got " +
                                 shape_str(gy) + " and " + shape_str(idx));
  const std::int64_t O = dim3(gy, 0), I = dim3(gy, 2);
  checked_size("index_select_bwd", {O, n, I}, sizeof(T));
  check_indices("index_select_bwd", idx, n);
  carray<T> out({O, n, I});
  index_add_into<T>(out.mutable_data(), nullptr, idx.data(), gy.data(), O, n, I, idx.shape(0),
                    T(1));
  return out;
}

template <typename T>
void bind(py::module_& m) {
  m.def("gather_fwd", &gather_fwd<T>, py::arg("x").noconvert(), py::arg("idx"));
  m.def("scatter_add_fwd", &scatter_add_fwd<T>, py::arg("base").noconvert(), py::arg("idx"),
        py::arg("src").noconvert());
  m.def("index_add_fwd", &index_add_fwd<T>, py::arg("base").noconvert(), py::arg("idx"),
        py::arg("src").noconvert(), py::arg("alpha"));
  m.def("gather_bwd", &gather_bwd<T>, py::arg("gy").noconvert(), py::arg("idx"), py::arg("n"));
  m.def("index_select_fwd", &index_select_fwd<T>, py::arg("x").noconvert(), py::arg("idx"));
  m.def("index_select_bwd", &index_select_bwd<T>, py::arg("gy").noconvert(), py::arg("idx"),
        py::arg("n"));
}

}  // namespace

void init_gather(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
