// Vectorisable math for the row kernels (softmax, cross-entropy, norms; attention may share it).
//
// gcc 12 calls glibc's SIMD expf/exp only under -ffast-math, which pydyfast never uses (it
// assumes no infinities, and masks are -inf). So exp is written here as branch-free scalar code
// that the loop vectoriser turns into SIMD: Cephes-style range reduction exp(x) = 2^n * exp(r),
// n = round(x / ln 2), |r| <= ln2 / 2, a polynomial (float) or Pade form (double) for exp(r),
// and 2^n added straight into the exponent bits. Selects (not branches) handle the edges:
// x below the smallest normal result -> 0 (so exp(-inf) = 0), above the largest -> +inf,
// nan -> nan. Error: about 1 ulp (float) and 2 ulp (double) on normal results; results in the
// subnormal range are flushed to 0.
//
// Reductions: without -ffast-math gcc does not reorder a floating-point sum, so a plain loop
// never vectorises; `#pragma omp simd reduction(...)` gives it that permission for one loop
// (active with -fopenmp; without OpenMP the pragma is ignored and the loop stays scalar).
//
// The selects in vexp (x < lo ? 0 : y) become SIMD blends only under -fno-trapping-math, which
// CMakeLists.txt sets for every kernel (see PYDYFAST_OPT there).
#pragma once
#include <cstdint>
#include <limits>

#include "common.h"

namespace pydyfast {

// __builtin_bit_cast (gcc >= 11, clang >= 9), not memcpy: a memcpy through a local stops the
// vectoriser ("no vectype"), a bit cast is a plain register move.
template <typename To, typename From>
inline To bit_cast_value(From v) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast_value: sizes differ");
  return __builtin_bit_cast(To, v);
}

inline float vexp(float x) {
  // 1.5 * 2^23: adding it rounds to an integer that then sits in the low mantissa bits.
  const float shifter = 12582912.0f;
  const float t = x * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  float r = x - n * 0.693359375f;  // ln 2 split in two parts (Cephes) keeps r exact
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // n << 23 comes out of t's mantissa; the shift drops t's own exponent bits.
  const std::uint32_t scale = bit_cast_value<std::uint32_t>(t) << 23;
  const float y = bit_cast_value<float>(bit_cast_value<std::uint32_t>(p) + scale);
  const float big = x > 88.7228f ? std::numeric_limits<float>::infinity() : y;
  const float out = x < -87.3365f ? 0.0f : big;
  return x != x ? x : out;
}

inline double vexp(double x) {
  const double shifter = 6755399441055744.0;  // 1.5 * 2^52
  const double t = x * 1.4426950408889634074 + shifter;
  const double n = t - shifter;
  double r = x - n * 6.93145751953125e-1;
  r = r - n * 1.42860682030941723212e-6;
  const double rr = r * r;
  // Cephes exp: exp(r) = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2))
  double p = 1.26177193074810590878e-4;
  p = p * rr + 3.02994407707441961300e-2;
  p = p * rr + 9.99999999999999999910e-1;
  p = p * r;
  double q = 3.00198505138664455042e-6;
  q = q * rr + 2.52448340349684104192e-3;
  q = q * rr + 2.27265548208155028766e-1;
  q = q * rr + 2.00000000000000000009e0;
  const double e = 1.0 + 2.0 * (p / (q - p));
  const std::uint64_t scale = bit_cast_value<std::uint64_t>(t) << 52;
  const double y = bit_cast_value<double>(bit_cast_value<std::uint64_t>(e) + scale);
  const double big = x > 709.78 ? std::numeric_limits<double>::infinity() : y;
  const double out = x < -708.39 ? 0.0 : big;
  return x != x ? x : out;
}

// erf, branch-free so that loops over it vectorise (glibc's erf/erff are scalar calls: about
// 15x slower than a SIMD loop). With a = |x|:
//   a <= 0.9:  erf(x) = x + x (S(x^2) - 1), S a polynomial (relative error of the fit: 1.2e-8
//              float, 4e-17 double); adding x last keeps the rounding of S - 1 (at most
//              0.13) small beside the result;
//   a > 0.9:   erf(x) = sign(x) (1 - exp(-a^2) P(a) / Q(a)), P/Q approximating
//              erfc(a) exp(a^2) (relative error 1.4e-10 float, 1.5e-16 double), with a capped
//              where erf rounds to 1 (4 for float, 6 for double) so that P/Q never sees inf.
// Both forms are computed and one selected (a blend, no branch); the sign is copied last, so
// erf(-0) = -0, and nan passes through. The coefficients are our own weighted least-squares
// fits on Chebyshev nodes in 40-digit arithmetic (tools/fit_erf.py reproduces them). The
// polynomials' terms share one sign (P, Q) or decrease fast (S), so evaluating them in the
// working precision adds about an ulp: measured against the exact erf, at most 1.22 ulp over
// every float32 and 1.05 ulp over 10^6 doubles in [0, 6.5] (tests/ops/test_special.py).
inline float verf(float x) {
  const float a = x < 0 ? -x : x;
  const float s = a * a;
  float sp = -6.08606729e-4f;
  sp = sp * s + 5.01108325e-3f;
  sp = sp * s - 2.67782760e-2f;
  sp = sp * s + 1.12821221e-1f;
  sp = sp * s - 3.76125213e-1f;
  sp = sp * s + 1.28379153e-1f;
  const float t = a < 4.0f ? a : 4.0f;
  float p = 2.13126704e-5f;
  p = p * t + 5.63641147e-1f;
  p = p * t + 2.81915968f;
  p = p * t + 6.14807511f;
  p = p * t + 6.27312165f;
  float q = t + 4.98540126f;
  q = q * t + 11.4784524f;
  q = q * t + 13.2238498f;
  q = q * t + 6.27353583f;
  const float tail = 1.0f - vexp(-t * t) * (p / q);
  const float r = a <= 0.9f ? a + a * sp : tail;
  const float signed_r = x < 0 ? -r : r;
  return x != x ? x : signed_r;
}

inline double verf(double x) {
  const double a = x < 0 ? -x : x;
  const double s = a * a;
  double sp = 1.02465717828200567664e-8;
  sp = sp * s - 1.5540089842047734761e-7;
  sp = sp * s + 1.63747256509770238138e-6;
  sp = sp * s - 1.4919825301172841145e-5;
  sp = sp * s + 1.20550816292777094081e-4;
  sp = sp * s - 8.54832002325399000938e-4;
  sp = sp * s + 5.22397750344034046021e-3;
  sp = sp * s - 2.68661706326854813434e-2;
  sp = sp * s + 1.12837916708897939075e-1;
  sp = sp * s - 3.76126389031824099005e-1;
  sp = sp * s + 1.2837916709551252809e-1;
  const double t = a < 6.0 ? a : 6.0;
  double p = -1.05913293437806871252e-8;
  p = p * t + 5.64190177379655769993e-1;
  p = p * t + 6.40735708819922843328;
  p = p * t + 35.1226905628870379612;
  p = p * t + 115.742518514177748439;
  p = p * t + 240.655351978818965609;
  p = p * t + 301.939588225474064419;
  p = p * t + 186.793776117560530776;
  double q = t + 11.3567725913531242374;
  q = q * t + 62.752885310828682232;
  q = q * t + 210.83208337043214761;
  q = q * t + 457.129312687097422927;
  q = q * t + 632.396892192788740067;
  q = q * t + 512.713848796368768873;
  q = q * t + 186.79377036753629118;
  const double tail = 1.0 - vexp(-t * t) * (p / q);
  const double r = a <= 0.9 ? a + a * sp : tail;
  const double signed_r = x < 0 ? -r : r;
  return x != x ? x : signed_r;
}

// max over x[0..n) (n >= 1)
template <typename T>
inline T row_max(const T* x, std::int64_t n) {
  if (n <= 0) return -std::numeric_limits<T>::infinity();  // an empty row has no x[0] to read
  T m = x[0];
#pragma omp simd reduction(max : m)
  for (std::int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

template <typename T>
inline T row_sum(const T* x, std::int64_t n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (std::int64_t i = 0; i < n; ++i) s += x[i];
  return s;
}

template <typename T>
inline T row_dot(const T* a, const T* b, std::int64_t n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (std::int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Runs fn(row) for every row, in parallel over rows when the whole job (rows * row_length
// element-operations) is big enough to pay for waking the OpenMP threads.
template <typename F>
inline void for_each_row(std::int64_t rows, std::int64_t row_length, F&& fn) {
#pragma omp parallel for schedule(static) if (worth_parallel(rows * row_length))
  for (std::int64_t r = 0; r < rows; ++r) fn(r);
}

}  // namespace pydyfast
