// Shared helpers for the C++ CPU kernels (pybind11). Every kernel family includes this header.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef PYDYFAST_HAVE_OPENMP
#include <omp.h>
#endif

namespace py = pybind11;

namespace pydyfast {

// C-contiguous array of T. Every binding marks its array arguments noconvert: backend.dispatch
// hands over C-contiguous arrays (copying a strided one once, for every kernel and device
// alike), and the op passes the dtype the kernel takes, so pybind11 never copies or casts here.
// With no conversion pass, pybind11 picks the float or the double overload of a name by the
// array's dtype, whatever order they were bound in; a strided or wrongly typed array reaching a
// kernel directly is a TypeError, not a silent copy.
template <typename T>
using carray = py::array_t<T, py::array::c_style>;

// Below this many element-operations a parallel region costs more than it saves on 2 cores
// (measured: an OpenMP start-up on a busy small VM can take milliseconds).
constexpr std::int64_t kParallelGrain = 32768;

inline bool worth_parallel(std::int64_t work) { return work >= kParallelGrain; }

// Put on a function holding a hot SIMD loop: gcc compiles it for AVX-512, AVX2 and baseline
// x86-64 and picks one when the module loads (function multiversioning), so the portable build
// gets the vector width that -march=native would give (4x for exp-heavy loops on AVX-512).
// OpenMP regions inside are cloned with the function.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define PYDYFAST_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PYDYFAST_SIMD_CLONES
#endif

inline std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

// Throws ValueError (pybind11 maps std::invalid_argument to ValueError) with the op name.
[[noreturn]] inline void fail(const std::string& op, const std::string& what) {
  throw std::invalid_argument(op + ": " + what);
}

// Overflow-checked size arithmetic. Every size a kernel derives from its arguments (padded
// lengths, products of extents, output allocations) goes through these, so a hostile kernel
// size or padding raises ValueError naming the op instead of wrapping around into a short buffer
// (a segfault) or a zero divisor (SIGFPE).
inline std::int64_t checked_add(const char* op, std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    fail(op, "size " + std::to_string(a) + " + " + std::to_string(b) + " overflows int64");
  return r;
}

inline std::int64_t checked_mul(const char* op, std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    fail(op, "size " + std::to_string(a) + " * " + std::to_string(b) + " overflows int64");
  return r;
}

// The element count of an array of these extents, checked: every extent non-negative and the
// byte size (count * elem_bytes) representable, so the allocation either succeeds or raises
// MemoryError, and index arithmetic inside it cannot overflow.
inline std::int64_t checked_size(const char* op, std::initializer_list<std::int64_t> extents,
                                 std::int64_t elem_bytes = 1) {
  std::int64_t count = 1;
  for (const std::int64_t e : extents) {
    if (e < 0) fail(op, "size " + std::to_string(e) + " must be non-negative");
    count = checked_mul(op, count, e);
  }
  checked_mul(op, count, elem_bytes);
  return count;
}

}  // namespace pydyfast
