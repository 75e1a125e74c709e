// Float dot products of the Llama decode step (csrc/llama.cpp): the matrix-vector rows of the
// dense (float32/float64) weights, and the short in-order sums around them.
#pragma once
#include <cstdint>
#include <cstring>
#include <utility>

#include "common.h"  // PYDYFAST_SIMD_CLONES

namespace pydyfast {
namespace {

using i64 = std::int64_t;

// sum_j a[j] b[j] from j = 0 up, as llama2.c's C loops add (no SIMD reassociation): for the
// short sums outside the products, where the order decides an activation's int8 rounding.
template <typename T>
inline T sum_in_order(const T* a, const T* b, i64 n) {
  T s = 0;
  for (i64 j = 0; j < n; ++j) s += a[j] * b[j];
  return s;
}

// out[t] = q . keys[t] for the `count` rows of keys (n each), every one summed as sum_in_order
// sums it; eight rows at a time so that eight independent add chains overlap (one in-order
// chain per attention score cost 6% of an int8 step at position 100).
template <typename T>
inline void dots_in_order(const T* q, const T* keys, i64 n, i64 count, T* out) {
  constexpr int B = 8;
  i64 t = 0;
  for (; t + B <= count; t += B) {
    T s[B] = {};
    for (i64 j = 0; j < n; ++j)
      for (int b = 0; b < B; ++b) s[b] += q[j] * keys[(t + b) * n + j];
    for (int b = 0; b < B; ++b) out[t + b] = s[b];
  }
  for (; t < count; ++t) out[t] = sum_in_order(q, keys + t * n, n);
}

// GCC/Clang vector of N lanes of T; the arithmetic on it compiles to the clone's SIMD width
// (one zmm, two ymm or four xmm for 64 bytes).
template <typename T, int N>
struct LanesOf {
  typedef T type __attribute__((vector_size(N * sizeof(T)), aligned(alignof(T))));
};
template <typename T, int N>
using Lanes = typename LanesOf<T, N>::type;

// The lanes of v added pairwise, lower half plus upper half until one is left, in registers
// (a loop over the lanes went through the stack).
template <typename T, int N, std::size_t... I>
__attribute__((always_inline)) inline T add_halves(Lanes<T, N> v, std::index_sequence<I...>) {
  if constexpr (N == 1) {
    return v[0];
  } else {
    const Lanes<T, N / 2> lower = __builtin_shufflevector(v, v, I...);
    const Lanes<T, N / 2> upper = __builtin_shufflevector(v, v, (I + N / 2)...);
    return add_halves<T, N / 2>(lower + upper, std::make_index_sequence<N / 4 ? N / 4 : 1>());
  }
}

// row . x, summed in an order set by this source, not by the SIMD width a clone compiles it
// for: two 64-byte accumulators (consecutive FMAs do not wait on each other's latency), a
// leftover 64-byte block into the first, the two added, their lanes added by halves, then the
// scalar tail.
//
// Measured on 288-input rows: `#pragma omp simd reduction` (one accumulator and, without
// -ffast-math, a lane reduction of 16 dependent scalar adds through the stack) took 25% longer
// per row from L2. Two rows per step sharing the x loads took 2x longer from memory: each pair
// reads two interleaved 1152-byte streams, which the hardware prefetchers keep retraining on,
// where one row after the other is one sequential stream through the matrix.
template <typename T>
__attribute__((always_inline)) inline T dot_row(const T* row, const T* x, i64 n) {
  constexpr int W = 64 / sizeof(T);
  using Vec = Lanes<T, W>;
  Vec s0{}, s1{};
  i64 j = 0;
  for (; j + 2 * W <= n; j += 2 * W) {
    s0 += *reinterpret_cast<const Vec*>(row + j) * *reinterpret_cast<const Vec*>(x + j);
    s1 += *reinterpret_cast<const Vec*>(row + j + W) * *reinterpret_cast<const Vec*>(x + j + W);
  }
  if (j + W <= n) {
    s0 += *reinterpret_cast<const Vec*>(row + j) * *reinterpret_cast<const Vec*>(x + j);
    j += W;
  }
  T total = add_halves<T, W>(s0 + s1, std::make_index_sequence<W / 2>());
  for (; j < n; ++j) total += row[j] * x[j];
  return total;
}

// out[i] = (residual ? residual[i] : 0) + w[r0 + i, :] . x for r0 + i in [r0, r1); `residual`
// may be `out` (each element is read before it is written).
template <typename T>
PYDYFAST_SIMD_CLONES void dense_rows(const T* w, const T* x, i64 cols, i64 r0, i64 r1, T* out,
                                     const T* residual) {
  for (i64 r = r0; r < r1; ++r) {
    const T y = dot_row(w + r * cols, x, cols);
    out[r - r0] = residual ? residual[r - r0] + y : y;
  }
}

}  // namespace
}  // namespace pydyfast
