// GEMM for the C++ kernels and for pydyfast's matrix products (see gemm.h for why pydyfast has its
// own): a blocked kernel compiled for AVX-512, AVX2+FMA and baseline x86-64 (or the host's
// default elsewhere), the widest the CPU runs picked once at load time.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "common.h"

namespace pydyfast {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define PYDYFAST_GEMM_X86 1
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
namespace gemm_avx512 {
constexpr int kVecBytes = 64, kRowsF32 = 14, kRowsF64 = 14;  // 28 of 32 zmm accumulate
#include "gemm_isa.h"
}  // namespace gemm_avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace gemm_avx2 {
constexpr int kVecBytes = 32, kRowsF32 = 6, kRowsF64 = 6;  // 12 of 16 ymm accumulate
#include "gemm_isa.h"
}  // namespace gemm_avx2
#pragma GCC pop_options
#endif

namespace gemm_base {
constexpr int kVecBytes = 16, kRowsF32 = 4, kRowsF64 = 4;  // 8 of 16 xmm accumulate
#include "gemm_isa.h"
}  // namespace gemm_base

namespace {

struct FreeAligned {
  void operator()(void* p) const { std::free(p); }
};

template <typename T>
std::unique_ptr<T[], FreeAligned> aligned_buffer(std::int64_t count) {
  const std::size_t bytes = ((std::size_t(count) * sizeof(T) + 63) / 64) * 64;
  T* p = static_cast<T*>(std::aligned_alloc(64, bytes ? bytes : 64));
  if (!p) throw std::bad_alloc();
  return std::unique_ptr<T[], FreeAligned>(p);
}

// The packing buffers one instruction set's kernel needs for a product of this size.
template <typename T, typename S>
void run_blocked(void (*kernel)(bool, bool, std::int64_t, std::int64_t, std::int64_t, T,
                                const T*, std::int64_t, const T*, std::int64_t, T, T*,
                                std::int64_t, const T*, const T*, bool, T*, T*),
                 bool ta, bool tb, std::int64_t M, std::int64_t N, std::int64_t K, T alpha,
                 const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C,
                 std::int64_t ldc, const GemmEpilogue<T>& e) {
  const std::int64_t kc = K < S::KC ? K : S::KC;
  const std::int64_t mc = M < S::MC ? M : S::MC, nc = N < S::NC ? N : S::NC;
  auto packed_a = aligned_buffer<T>(kc * ((mc + S::MR - 1) / S::MR) * S::MR);
  auto packed_b = aligned_buffer<T>(kc * ((nc + S::NR - 1) / S::NR) * S::NR);
  kernel(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, e.bias_row, e.bias_col, e.relu,
         packed_a.get(), packed_b.get());
}

enum class Isa { base, avx2, avx512 };

Isa detect_isa() {
#ifdef PYDYFAST_GEMM_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
  return Isa::base;
}

const Isa kIsa = detect_isa();

// C = beta * C + epilogue: the whole product when K is 0.
template <typename T>
void scale_only(std::int64_t M, std::int64_t N, T beta, T* C, std::int64_t ldc,
                const GemmEpilogue<T>& e) {
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) {
      T v = (beta == T(0) ? T(0) : beta * C[i * ldc + j]) + (e.bias_row ? e.bias_row[i] : T(0)) +
            (e.bias_col ? e.bias_col[j] : T(0));
      C[i * ldc + j] = e.relu && !(v > T(0)) ? T(0) : v;
    }
}

// The micro-tile (MR rows x NR columns) of the kernel this CPU runs: parallel blocks are cut
// on tile boundaries, so that no thread computes a padded partial tile in the middle of C.
template <typename T>
std::pair<std::int64_t, std::int64_t> tile_shape() {
  switch (kIsa) {
#ifdef PYDYFAST_GEMM_X86
    case Isa::avx512:
      return {gemm_avx512::Tile<T>::MR, gemm_avx512::Tile<T>::NR};
    case Isa::avx2:
      return {gemm_avx2::Tile<T>::MR, gemm_avx2::Tile<T>::NR};
#endif
    default:
      return {gemm_base::Tile<T>::MR, gemm_base::Tile<T>::NR};
  }
}

}  // namespace

template <typename T>
void gemm_serial(bool ta, bool tb, std::int64_t M, std::int64_t N, std::int64_t K, T alpha,
                 const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C,
                 std::int64_t ldc, const GemmEpilogue<T>& e) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_only(M, N, beta, C, ldc, e);
  switch (kIsa) {
#ifdef PYDYFAST_GEMM_X86
    case Isa::avx512:
      return run_blocked<T, gemm_avx512::Tile<T>>(gemm_avx512::gemm_blocked<T>, ta, tb, M, N, K,
                                                   alpha, A, lda, B, ldb, beta, C, ldc, e);
    case Isa::avx2:
      return run_blocked<T, gemm_avx2::Tile<T>>(gemm_avx2::gemm_blocked<T>, ta, tb, M, N, K,
                                                 alpha, A, lda, B, ldb, beta, C, ldc, e);
#endif
    default:
      return run_blocked<T, gemm_base::Tile<T>>(gemm_base::gemm_blocked<T>, ta, tb, M, N, K,
                                                 alpha, A, lda, B, ldb, beta, C, ldc, e);
  }
}

template <typename T>
void gemm(bool ta, bool tb, std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A,
          std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C, std::int64_t ldc,
          const GemmEpilogue<T>& e) {
#ifdef PYDYFAST_HAVE_OPENMP
  // Below about 2 MFLOP the region's start-up costs more than the second core saves.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads > 1 && M * N * K >= (std::int64_t(1) << 20) && (M >= 32 || N >= 64)) {
    const bool split_rows = M >= N;
    const auto [rows, cols] = tile_shape<T>();
    const std::int64_t extent = split_rows ? M : N, unit = split_rows ? rows : cols;
    const std::int64_t tiles = (extent + unit - 1) / unit;
    // Whole tiles per block, and up to four blocks per thread handed out as threads free up:
    // when another process takes a core for a while, the other thread takes over its blocks
    // instead of waiting for them at the end (each block repacks its operand slice, which is
    // a few percent of its products at 8 tiles or more).
    const std::int64_t blocks = std::max<std::int64_t>(
        threads, std::min<std::int64_t>(4 * threads, tiles / 8));
    const std::int64_t chunk = (tiles + blocks - 1) / blocks * unit;
    std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t start = b * chunk;
      const std::int64_t count = extent - start < chunk ? extent - start : chunk;
      if (count <= 0) continue;
      try {
        GemmEpilogue<T> part = e;
        if (split_rows) {
          if (part.bias_row) part.bias_row += start;
          gemm_serial(ta, tb, count, N, K, alpha, ta ? A + start : A + start * lda, lda, B, ldb,
                      beta, C + start * ldc, ldc, part);
        } else {
          if (part.bias_col) part.bias_col += start;
          gemm_serial(ta, tb, M, count, K, alpha, A, lda, tb ? B + start * ldb : B + start, ldb,
                      beta, C + start, ldc, part);
        }
      } catch (...) {
#pragma omp critical
        error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#endif
  gemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, e);
}

template void gemm_serial<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float,
                                 const float*, std::int64_t, const float*, std::int64_t, float,
                                 float*, std::int64_t, const GemmEpilogue<float>&);
template void gemm_serial<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double,
                                  const double*, std::int64_t, const double*, std::int64_t,
                                  double, double*, std::int64_t, const GemmEpilogue<double>&);
template void gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float,
                          const float*, std::int64_t, const float*, std::int64_t, float, float*,
                          std::int64_t, const GemmEpilogue<float>&);
template void gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double,
                           const double*, std::int64_t, const double*, std::int64_t, double,
                           double*, std::int64_t, const GemmEpilogue<double>&);

namespace {

std::string dims(std::int64_t rows, std::int64_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

// op(a) @ op(b) (+ bias per column, then relu) for 2-D operands, or for 3-D stacks of them
// (batch first, one batch size). Returns a new array, or fills `out` (alpha/beta as in BLAS).
template <typename T>
carray<T> gemm_binding(const carray<T>& a, const carray<T>& b, bool trans_a, bool trans_b,
                       std::optional<carray<T>> bias, bool relu, std::optional<carray<T>> out,
                       double alpha, double beta) {
  const py::ssize_t nd = a.ndim();
  if ((nd != 2 && nd != 3) || b.ndim() != nd || (out && out->ndim() != nd))
    fail("gemm", "expected a, b (and out) all 2-D or all 3-D, got shapes " + shape_str(a) +
                     " and " + shape_str(b) + (out ? " and " + shape_str(*out) : ""));
  const std::int64_t batch = nd == 3 ? a.shape(0) : 1;
  const int r = int(nd) - 2;  // the first matrix axis
  const std::int64_t M = a.shape(r + trans_a), K = a.shape(r + !trans_a);
  const std::int64_t Kb = b.shape(r + trans_b), N = b.shape(r + !trans_b);
  if (K != Kb || (nd == 3 && b.shape(0) != batch))
    fail("gemm", "op(a) " + dims(M, K) + " does not fit op(b) " + dims(Kb, N) + " (shapes " +
                     shape_str(a) + ", " + shape_str(b) + ", transposed: " +
                     std::to_string(trans_a) + ", " + std::to_string(trans_b) + ")");
  if (bias && (bias->ndim() != 1 || bias->shape(0) != N))
    fail("gemm", "expected bias of shape (" + std::to_string(N) + ",), got " + shape_str(*bias));
  std::vector<py::ssize_t> shape = {M, N};
  if (nd == 3) shape.insert(shape.begin(), batch);
  carray<T> c = out ? *out : carray<T>(shape);
  for (py::ssize_t d = 0; d < nd; ++d)
    if (c.shape(d) != shape[d]) fail("gemm", "out has shape " + shape_str(c) + ", expected " +
                                                 (nd == 3 ? std::to_string(batch) + "x" : "") +
                                                 dims(M, N));
  if (!out) beta = 0.0;  // a new array holds garbage: never read it
  GemmEpilogue<T> e;
  e.bias_col = bias ? bias->data() : nullptr;
  e.relu = relu;
  const T *pa = a.data(), *pb = b.data();
  T* pc = c.mutable_data();
  const std::int64_t lda = a.shape(nd - 1), ldb = b.shape(nd - 1);
  const std::int64_t sa = M * K, sb = K * N, sc = M * N;
  {
    py::gil_scoped_release release;
#ifdef PYDYFAST_HAVE_OPENMP
    // Many small products (attention's heads): one per thread. Few large ones: each in parallel.
    if (batch >= 2 * omp_get_max_threads() && worth_parallel(batch * sc * K)) {
#pragma omp parallel for schedule(static)
      for (std::int64_t i = 0; i < batch; ++i)
        gemm_serial<T>(trans_a, trans_b, M, N, K, T(alpha), pa + i * sa, lda, pb + i * sb, ldb,
                       T(beta), pc + i * sc, N, e);
    } else
#endif
      for (std::int64_t i = 0; i < batch; ++i)
        gemm<T>(trans_a, trans_b, M, N, K, T(alpha), pa + i * sa, lda, pb + i * sb, ldb, T(beta),
                pc + i * sc, N, e);
  }
  return c;
}

template <typename T>
void bind(py::module_& m) {
  m.def("gemm", &gemm_binding<T>, py::arg("a").noconvert(), py::arg("b").noconvert(),
        py::arg("trans_a") = false, py::arg("trans_b") = false,
        py::arg("bias").noconvert() = py::none(), py::arg("relu") = false,
        py::arg("out").noconvert() = py::none(), py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
        "gemm(a, b, trans_a=False, trans_b=False, bias=None, relu=False, out=None, alpha=1, "
        "beta=0) -> out: alpha op(a) @ op(b) + beta out, plus bias (N,) per column, then "
        "max(0, .) when relu; op transposes the last two axes when its flag is set. a and b are "
        "2-D, or 3-D stacks with one batch size; C-contiguous, one dtype. Without out, a new "
        "array (beta ignored).");
}

}  // namespace

void init_gemm(py::module_& m) {
  bind<float>(m);
  bind<double>(m);
}

}  // namespace pydyfast
