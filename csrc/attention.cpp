// Kernel family: attention. Rotary embedding, the masked softmax of scaled dot-product attention
// (forward and backward; the two GEMMs around it stay in numpy's BLAS), and single-token decode
// attention against a KV cache with scores, softmax and the weighted sum fused per (batch, head).
#include <algorithm>
#include <cmath>
#include <limits>

#include "common.h"
#include "vec_math.h"  // vexp, the vectorisable exp

namespace pydyfast {
namespace {


// The loops, on raw pointers, compiled per SIMD width (see common.h).

template <typename T>
PYDYFAST_SIMD_CLONES void rotary_loop(const T* x, const T* cos, const T* sin, T* y, py::ssize_t N,
                                      py::ssize_t S, py::ssize_t D, bool interleaved,
                                      bool inverse) {
  const py::ssize_t P = D / 2;
  // A pair's two elements sit `stride` apart; pair i starts at `step * i`.
  const py::ssize_t stride = interleaved ? 1 : P, step = interleaved ? 2 : 1;
  const T sign = inverse ? T(-1) : T(1);
#pragma omp parallel for if (worth_parallel(N * S * D * 2))
  for (py::ssize_t n = 0; n < N; ++n) {
    for (py::ssize_t s = 0; s < S; ++s) {
      const T* xr = x + (n * S + s) * D;
      T* yr = y + (n * S + s) * D;
      const T* c = cos + s * P;
      const T* sn = sin + s * P;
#pragma omp simd
      for (py::ssize_t i = 0; i < P; ++i) {
        const T a = xr[step * i], b = xr[step * i + stride], si = sign * sn[i];
        yr[step * i] = a * c[i] - b * si;
        yr[step * i + stride] = a * si + b * c[i];
      }
    }
  }
}

template <typename T>
PYDYFAST_SIMD_CLONES void softmax_loop(const T* scores, T* p, py::ssize_t N, py::ssize_t R,
                                       py::ssize_t S, T scale, py::ssize_t causal_rows) {
#pragma omp parallel for if (worth_parallel(N * R * S * 4))
  for (py::ssize_t n = 0; n < N; ++n) {
    for (py::ssize_t r = 0; r < R; ++r) {
      const T* x = scores + (n * R + r) * S;
      T* y = p + (n * R + r) * S;
      const py::ssize_t end = causal_rows > 0 ? std::min(S, r % causal_rows + 1) : S;
      T m = -std::numeric_limits<T>::infinity();
      // A select, not std::max: gcc does not inline std::max into the target clones.
#pragma omp simd reduction(max : m)
      for (py::ssize_t j = 0; j < end; ++j) m = scale * x[j] > m ? scale * x[j] : m;
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (py::ssize_t j = 0; j < end; ++j) {
        const T e = vexp(scale * x[j] - m);
        y[j] = e;
        sum += e;
      }
      const T inv = T(1) / sum;
#pragma omp simd
      for (py::ssize_t j = 0; j < end; ++j) y[j] *= inv;
      for (py::ssize_t j = end; j < S; ++j) y[j] = 0;
    }
  }
}

template <typename T>
PYDYFAST_SIMD_CLONES void softmax_bwd_loop(const T* p, const T* gp, T* gs, py::ssize_t rows,
                                           py::ssize_t S, T scale) {
#pragma omp parallel for if (worth_parallel(rows * S * 3))
  for (py::ssize_t r = 0; r < rows; ++r) {
    const T* y = p + r * S;
    const T* g = gp + r * S;
    T* o = gs + r * S;
    const T gy = row_dot(g, y, S);
#pragma omp simd
    for (py::ssize_t j = 0; j < S; ++j) o[j] = scale * y[j] * (g[j] - gy);
  }
}

// q (B, H, D), caches (B, Hkv, L, D) -> out (B, H, D); one (batch, head) per iteration.
template <typename T>
PYDYFAST_SIMD_CLONES void decode_loop(const T* q, const T* k_cache, const T* v_cache, T* out,
                                      py::ssize_t B, py::ssize_t H, py::ssize_t Hkv,
                                      py::ssize_t L, py::ssize_t D, py::ssize_t length, T scale) {
  const py::ssize_t group = H / Hkv;
  // One token is latency-bound: wake the thread pool only for long caches or big batches
  // (a parallel region on a busy 2-core box was seen to cost milliseconds).
#pragma omp parallel if (worth_parallel(B * H * length * D / 16))
  {
    std::vector<T> w(length);  // this thread's scores, then weights
#pragma omp for
    for (py::ssize_t bh = 0; bh < B * H; ++bh) {
      const py::ssize_t b = bh / H, kvh = (bh % H) / group;
      const T* qr = q + bh * D;
      const T* kb = k_cache + (b * Hkv + kvh) * L * D;
      const T* vb = v_cache + (b * Hkv + kvh) * L * D;
      T* o = out + bh * D;
      T m = -std::numeric_limits<T>::infinity();
      for (py::ssize_t t = 0; t < length; ++t) {
        w[t] = scale * row_dot(qr, kb + t * D, D);
        m = w[t] > m ? w[t] : m;
      }
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (py::ssize_t t = 0; t < length; ++t) {
        w[t] = vexp(w[t] - m);
        sum += w[t];
      }
      for (py::ssize_t d = 0; d < D; ++d) o[d] = 0;
      for (py::ssize_t t = 0; t < length; ++t) {
        const T* vr = vb + t * D;
        const T wt = w[t];
#pragma omp simd
        for (py::ssize_t d = 0; d < D; ++d) o[d] += wt * vr[d];
      }
      const T inv = T(1) / sum;
      for (py::ssize_t d = 0; d < D; ++d) o[d] *= inv;
    }
  }
}

// The bound kernels: check shapes, allocate, release the GIL around the loop.

// x (N, S, D), cos/sin (S, D/2): rotates each pair (a, b) by the angle of its position and
// frequency; inverse rotates by minus that angle (the backward of the forward). interleaved pairs
// are (x[2i], x[2i+1]) (Meta / llama2.c), otherwise (x[i], x[i + D/2]) (Hugging Face).
template <typename T>
carray<T> rotary(carray<T> x, carray<T> cos, carray<T> sin, bool interleaved, bool inverse) {
  if (x.ndim() != 3 || x.shape(2) % 2 != 0 || cos.ndim() != 2 || cos.shape(0) != x.shape(1) ||
      cos.shape(1) * 2 != x.shape(2) || sin.ndim() != 2 || sin.shape(0) != cos.shape(0) ||
      sin.shape(1) != cos.shape(1))
    fail("apply_rotary", "expected x (N, seq, head_dim) with an even head_dim and cos/sin (seq, "
                         "head_dim/2), got x " + shape_str(x) + ", cos " + shape_str(cos) +
                         ", sin " + shape_str(sin));
  const py::ssize_t N = x.shape(0), S = x.shape(1), D = x.shape(2);
  carray<T> y({N, S, D});
  {
    py::gil_scoped_release release;
    rotary_loop(x.data(), cos.data(), sin.data(), y.mutable_data(), N, S, D, interleaved,
                inverse);
  }
  return y;
}

// scores (N, R, S) -> softmax over S of scale * scores. causal_rows > 0 masks key j > (r mod
// causal_rows) for row r (PyTorch's top-left causal mask; grouped-query heads stack
// `group` blocks of causal_rows query rows). Masked entries come out 0; a row with no finite
// score comes out NaN, as in PyTorch.
template <typename T>
carray<T> attention_softmax_fwd(carray<T> scores, double scale, py::ssize_t causal_rows) {
  if (scores.ndim() != 3) fail("scaled_dot_product_attention", "expected scores (N, L, S), got " +
                                                               shape_str(scores));
  const py::ssize_t N = scores.shape(0), R = scores.shape(1), S = scores.shape(2);
  carray<T> p({N, R, S});
  {
    py::gil_scoped_release release;
    softmax_loop(scores.data(), p.mutable_data(), N, R, S, T(scale), causal_rows);
  }
  return p;
}

// d scores = scale * p * (gp - sum_j gp p), per row of (N, R, S).
template <typename T>
carray<T> attention_softmax_bwd(carray<T> p, carray<T> gp, double scale) {
  if (p.ndim() != 3 || gp.ndim() != 3 || p.shape(0) != gp.shape(0) ||
      p.shape(1) != gp.shape(1) || p.shape(2) != gp.shape(2))
    fail("scaled_dot_product_attention backward", "expected p and its gradient of one shape "
                                                  "(N, L, S), got " + shape_str(p) + " and " +
                                                  shape_str(gp));
  const py::ssize_t rows = p.shape(0) * p.shape(1), S = p.shape(2);
  carray<T> gs({p.shape(0), p.shape(1), S});
  {
    py::gil_scoped_release release;
    softmax_bwd_loop(p.data(), gp.data(), gs.mutable_data(), rows, S, T(scale));
  }
  return gs;
}

// q (B, H, D), caches (B, Hkv, max_len, D): out[b, h] = softmax_t(scale q.k_t) . v_t over
// t < length, query head h reading kv head h / (H / Hkv).
template <typename T>
carray<T> decode_attention(carray<T> q, carray<T> k_cache, carray<T> v_cache, py::ssize_t length,
                           double scale) {
  const char* op = "decode_attention";
  if (q.ndim() != 3 || k_cache.ndim() != 4 || v_cache.ndim() != 4)
    fail(op, "expected q (B, H, D) and caches (B, Hkv, max_len, D), got q " + shape_str(q) +
                 ", k_cache " + shape_str(k_cache) + ", v_cache " + shape_str(v_cache));
  const py::ssize_t B = q.shape(0), H = q.shape(1), D = q.shape(2);
  const py::ssize_t Hkv = k_cache.shape(1), L = k_cache.shape(2);
  for (int d = 0; d < 4; ++d)
    if (k_cache.shape(d) != v_cache.shape(d))
      fail(op, "k_cache " + shape_str(k_cache) + " and v_cache " + shape_str(v_cache) +
                   " differ in shape");
  if (k_cache.shape(0) != B || k_cache.shape(3) != D || Hkv == 0 || H % Hkv != 0)
    fail(op, "q " + shape_str(q) + " does not match the caches " + shape_str(k_cache) +
                 " (batch and head_dim must agree, kv heads must divide the query heads)");
  if (length < 1 || length > L)
    fail(op, "length " + std::to_string(length) + " is outside [1, max_len=" +
                 std::to_string(L) + "]");
  carray<T> out({B, H, D});
  {
    py::gil_scoped_release release;
    decode_loop(q.data(), k_cache.data(), v_cache.data(), out.mutable_data(), B, H, Hkv, L, D,
                length, T(scale));
  }
  return out;
}

template <typename T>
void bind_attention(py::module_& m) {
  m.def("rotary", &rotary<T>, py::arg("x").noconvert(), py::arg("cos").noconvert(),
        py::arg("sin").noconvert(), py::arg("interleaved"), py::arg("inverse"));
  m.def("attention_softmax_fwd", &attention_softmax_fwd<T>, py::arg("scores").noconvert(),
        py::arg("scale"), py::arg("causal_rows"));
  m.def("attention_softmax_bwd", &attention_softmax_bwd<T>, py::arg("p").noconvert(),
        py::arg("gp").noconvert(), py::arg("scale"));
  m.def("decode_attention", &decode_attention<T>, py::arg("q").noconvert(),
        py::arg("k_cache").noconvert(), py::arg("v_cache").noconvert(), py::arg("length"),
        py::arg("scale"));
}

}  // namespace

void init_attention(py::module_& m) {
  bind_attention<float>(m);
  bind_attention<double>(m);
}

}  // namespace pydyfast
