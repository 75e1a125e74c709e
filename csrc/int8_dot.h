// int8 dot products of the Llama decode step (csrc/llama.cpp), in llama2.c's runq.c format:
// int8 values with one float scale per group of `group_size` inputs; activations quantized per
// group on the fly. The kernels for AVX-512 VNNI and AVX2 are compiled for their targets and
// picked at run time (portable build), with a scalar fallback.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PYDYFAST_X86 1
#endif

namespace pydyfast {
namespace {

using i64 = std::int64_t;

// int8 activations (q, per-group scales s) times one int8 weight row (w, scales ws):
// sum over groups g of (sum_{j in g} q_j w_j) * ws_g * s_g. The integer group sums are exact
// whichever way they are formed; the float sum over groups runs in order, in runq.c's operation
// order, so that the result does not depend on the kernel.
using Q8Dot = float (*)(const std::int8_t*, const float*, const std::int8_t*, const float*, i64,
                        i64);

inline float scale_groups(const std::int32_t* sums, const float* s, const float* ws, i64 n) {
  float total = 0.0f;
  for (i64 g = 0; g < n; ++g) total += float(sums[g]) * ws[g] * s[g];
  return total;
}

float q8_dot_scalar(const std::int8_t* q, const float* s, const std::int8_t* w, const float* ws,
                    i64 n, i64 gs) {
  float total = 0.0f;
  for (i64 g = 0; g < n / gs; ++g) {
    std::int32_t acc = 0;
    for (i64 j = g * gs; j < (g + 1) * gs; ++j) acc += std::int32_t(q[j]) * std::int32_t(w[j]);
    total += float(acc) * ws[g] * s[g];
  }
  return total;
}

#ifdef PYDYFAST_X86
// The SIMD kernels form each group's integer sum 32 products at a time, then hand the sums to
// scale_groups, 256 groups at a time.
template <typename GroupSum>
inline float q8_rows_by_groups(const std::int8_t* q, const float* s, const std::int8_t* w,
                               const float* ws, i64 n, i64 gs, GroupSum group_sum) {
  std::int32_t sums[256];
  float total = 0.0f;
  const i64 groups = n / gs;
  for (i64 g0 = 0; g0 < groups; g0 += 256) {
    const i64 count = std::min<i64>(256, groups - g0);
    for (i64 g = 0; g < count; ++g) sums[g] = group_sum(q + (g0 + g) * gs, w + (g0 + g) * gs, gs);
    total += scale_groups(sums, s + g0, ws + g0, count);
  }
  return total;
}

__attribute__((target("avx2"))) inline std::int32_t hsum_epi32(__m256i v) {
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
  return _mm_cvtsi128_si32(h);
}

// maddubs wants unsigned x signed bytes: it gets |w| and q with w's sign moved onto it
// (|w|, |q| <= 127, so its pair sums stay inside int16); madd with ones widens to int32.
__attribute__((target("avx2"))) float q8_dot_avx2(const std::int8_t* q, const float* s,
                                                  const std::int8_t* w, const float* ws, i64 n,
                                                  i64 gs) {
  return q8_rows_by_groups(q, s, w, ws, n, gs,
                           [](const std::int8_t* qg, const std::int8_t* wg, i64 len)
                               __attribute__((target("avx2"))) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i sum = _mm256_setzero_si256();
    for (i64 j = 0; j < len; j += 32) {
      const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg + j));
      const __m256i qv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qg + j));
      const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(qv, wv));
      sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, ones));
    }
    return hsum_epi32(sum);
  });
}

// The same with VNNI's dpbusd (unsigned x signed bytes, four products per int32 lane).
__attribute__((target("avx2,avx512f,avx512vl,avx512vnni"))) float q8_dot_vnni(
    const std::int8_t* q, const float* s, const std::int8_t* w, const float* ws, i64 n, i64 gs) {
  return q8_rows_by_groups(q, s, w, ws, n, gs,
                           [](const std::int8_t* qg, const std::int8_t* wg, i64 len)
                               __attribute__((target("avx2,avx512f,avx512vl,avx512vnni"))) {
    __m256i sum = _mm256_setzero_si256();
    for (i64 j = 0; j < len; j += 32) {
      const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg + j));
      const __m256i qv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qg + j));
      sum = _mm256_dpbusd_epi32(sum, _mm256_abs_epi8(wv), _mm256_sign_epi8(qv, wv));
    }
    return hsum_epi32(sum);
  });
}
#endif

// The int8 dot product for this CPU and group size, chosen once per decoder.
std::pair<Q8Dot, const char*> pick_q8_dot(i64 group_size, const std::string& force) {
#ifdef PYDYFAST_X86
  if (group_size % 32 == 0) {
    __builtin_cpu_init();
    const bool vnni = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (vnni && (force.empty() || force == "vnni")) return {q8_dot_vnni, "vnni"};
    if (avx2 && (force.empty() || force == "avx2")) return {q8_dot_avx2, "avx2"};
  }
#endif
  return {q8_dot_scalar, "scalar"};
}

// runq.c's activation quantization: per group, scale = max|x| / 127, q = round(x / scale).
void quantize_groups(const float* x, i64 n, i64 gs, std::int8_t* q, float* s) {
  for (i64 g = 0; g < n / gs; ++g) {
    float wmax = 0.0f;
    for (i64 j = 0; j < gs; ++j) wmax = std::max(wmax, std::fabs(x[g * gs + j]));
    const float scale = wmax / 127.0f;
    s[g] = scale;
    for (i64 j = 0; j < gs; ++j)  // an all-zero group stays zero (not 0 / 0)
      q[g * gs + j] =
          scale > 0.0f ? static_cast<std::int8_t>(std::round(x[g * gs + j] / scale)) : 0;
  }
}

}  // namespace
}  // namespace pydyfast
