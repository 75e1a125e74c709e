// The Llama decode step bound by csrc/llama.cpp: one call decodes one token through a whole
// Llama (llama2.c's architecture: RMSNorm, grouped-query attention with interleaved rotary
// pairs over a KV cache, SwiGLU feed-forward) and returns the next token's logits.
//
// Decoding reads every weight once per token, so it is bound by memory bandwidth and by the
// overhead around the matrix-vector products. Here the whole step is one OpenMP parallel region
// (a thread team woken once per token, not once per product) with four phases per layer split
// across the team and our own spin-then-sleep barrier between them (team_barrier.h); the small
// serial pieces (norms, quantizing the activations) run redundantly on every thread, and the
// rotary and the cache writes ride with the rows that produce them. Weights keep llama2.c's
// (out, in) layout, so each output is a contiguous dot product. Two weight formats share it:
//   dense   float32/float64 matrices;
//   q8      int8 matrices with one float scale per group of `group_size` inputs of a row
//           (llama2.c's runq.c format); activations are quantized per group on the fly and
//           the groups' int8 dot products run on AVX-512 VNNI or AVX2 where the CPU has them.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <tuple>

#include "common.h"
#include "dense_dot.h"  // dense_rows, sum_in_order, dots_in_order
#include "int8_dot.h"   // Q8Dot, pick_q8_dot, quantize_groups
#include "team_barrier.h"

namespace pydyfast {
namespace {

// i64: std::int64_t (int8_dot.h)

struct Shape {
  i64 dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len;
  double eps;
  i64 head_dim() const { return dim / n_heads; }
  i64 kv_dim() const { return n_kv_heads * head_dim(); }
};

// ------------------------------------------------------------------------------ weight formats

// A (rows, cols) matrix in one of the two formats. Its `Input` is what the products read (the
// dense format reads the float vector as is; q8 reads it quantized, see InputBuffer), and
// `products(r0, r1, in, out, residual)` writes outputs r0 .. r1 - 1 into out[0 .. r1 - r0)
// (plus the residual, if any).
template <typename T>
struct DenseMatrix {
  const T* w;
  i64 rows, cols;
  struct Input {
    const T* x;
  };
  void products(i64 r0, i64 r1, const Input& in, T* out, const T* residual) const {
    dense_rows(w, in.x, cols, r0, r1, out, residual);
  }
};

struct Q8Matrix {
  const std::int8_t* w;
  const float* scales;  // (rows, cols / group_size)
  i64 rows, cols, group_size;
  Q8Dot kernel;
  struct Input {
    const std::int8_t* q;
    const float* s;
  };
  void products(i64 r0, i64 r1, const Input& in, float* out, const float* residual) const {
    const i64 groups = cols / group_size;
    for (i64 r = r0; r < r1; ++r) {
      const float y = kernel(in.q, in.s, w + r * cols, scales + r * groups, cols, group_size);
      out[r - r0] = residual ? residual[r - r0] + y : y;
    }
  }
};

// What a format's activations need between steps: dense reads the float vector directly.
template <typename T, typename M>
struct InputBuffer;

template <typename T>
struct InputBuffer<T, DenseMatrix<T>> {
  explicit InputBuffer(i64) {}
  typename DenseMatrix<T>::Input view(const T* x, i64, i64) const { return {x}; }
};

template <>
struct InputBuffer<float, Q8Matrix> {
  std::vector<std::int8_t> q;
  std::vector<float> s;
  explicit InputBuffer(i64 n) : q(n), s(n) {}
  Q8Matrix::Input view(const float* x, i64 n, i64 gs) {
    quantize_groups(x, n, gs, q.data(), s.data());
    return {q.data(), s.data()};
  }
};

// ------------------------------------------------------------------------------------ model

template <typename T, typename M>
struct Layer {
  const T* attention_norm;
  M wqkv;  // (dim + 2 kv_dim, dim): q, k, v rows stacked
  M wo;    // (dim, dim)
  const T* ffn_norm;
  M w13;   // (2 hidden, dim): w1 rows, then w3 rows
  M w2;    // (dim, hidden)
};

template <typename T, typename M>
class Decoder {
 public:
  Decoder(const Shape& shape, const T* embedding, std::vector<Layer<T, M>> layers,
          const T* final_norm, M classifier, T* k_cache, T* v_cache, const T* cos, const T* sin,
          i64 group_size, std::vector<py::object> owners)
      : c_(shape), embedding_(embedding), layers_(std::move(layers)), final_norm_(final_norm),
        classifier_(classifier), k_cache_(k_cache), v_cache_(v_cache), cos_(cos), sin_(sin),
        gs_(group_size), owners_(std::move(owners)), x_(c_.dim), qkv_(c_.dim + 2 * c_.kv_dim()),
        attended_(c_.dim), hb_(c_.hidden), hb2_(c_.hidden), att_(c_.n_heads * c_.seq_len) {}

  const Shape& shape() const { return c_; }
  std::string kernel = "dense";  // which dot product the matrices use (q8: vnni, avx2, scalar)

  // Logits (vocab,) of the token after `token` at position `pos`; the token's keys and values
  // go into the cache at `pos`, and positions 0..pos-1 must already be there.
  //
  // One parallel region per token. Each layer is four phases split over the team, with a
  // barrier after each: (1) q/k/v rows, rotary, cache and attention, by kv-head group;
  // (2) x += Wo att; (3) SwiGLU; (4) x += W2 h; each by output rows. The small serial pieces
  // (RMSNorm, quantizing the activations) run on every thread into its own scratch rather than
  // on one thread between two more barriers: they cost less than a barrier. Every output is
  // computed in the same float order whatever the team size, so the logits do not depend on it.
  void step(i64 token, i64 pos, T* logits) {
    const Shape& c = c_;
    std::memcpy(x_.data(), embedding_ + token * c.dim, sizeof(T) * c.dim);
    const bool parallel =
        worth_parallel(c.dim * (c.dim + 2 * c.kv_dim() + c.dim + 3 * c.hidden) * c.n_layers +
                       c.vocab * c.dim);
    const int team = parallel ? max_threads() : 1;
    while (int(scratch_.size()) < team) scratch_.emplace_back(c_);
#pragma omp parallel num_threads(team) if (parallel)
    {
      const int k = team_size(), t = team_rank();
      Scratch& mine = scratch_[t];
      for (i64 l = 0; l < c.n_layers; ++l) layer(layers_[l], l, pos, t, k, mine);
      const auto [r0, r1] = share(c.vocab, t, k);
      classifier_.products(r0, r1, norm_input(mine, final_norm_), logits + r0, nullptr);
    }
  }

 private:
  // What each thread keeps to itself: the normalized activations and the format's view of the
  // vector a product reads.
  struct Scratch {
    std::vector<T> normed;
    InputBuffer<T, M> input;
    explicit Scratch(const Shape& c) : normed(c.dim), input(std::max(c.dim, c.hidden)) {}
  };

  void layer(const Layer<T, M>& L, i64 l, i64 pos, int t, int k, Scratch& mine) {
    const Shape& c = c_;
    const i64 D = c.dim, KV = c.kv_dim(), HD = c.head_dim(), H = c.hidden;
    const i64 group = c.n_heads / c.n_kv_heads;
    T* kc = k_cache_ + l * c.n_kv_heads * c.seq_len * HD;
    T* vc = v_cache_ + l * c.n_kv_heads * c.seq_len * HD;
    auto in = norm_input(mine, L.attention_norm);
    i64 h0, h1;  // the query heads this thread attends with
    if (c.n_kv_heads >= k) {
      // Each thread owns whole kv-head groups: their q, k and v rows, then their attention,
      // with no barrier between.
      const auto [g0, g1] = share(c.n_kv_heads, t, k);
      qkv_rows(L, in, g0 * group * HD, g1 * group * HD, kc, vc, pos);
      qkv_rows(L, in, D + g0 * HD, D + g1 * HD, kc, vc, pos);
      qkv_rows(L, in, D + KV + g0 * HD, D + KV + g1 * HD, kc, vc, pos);
      h0 = g0 * group;
      h1 = g1 * group;
    } else {  // fewer kv heads than threads: split the rows (by rotary pairs), then the heads
      const auto [p0, p1] = share((D + 2 * KV) / 2, t, k);
      qkv_rows(L, in, 2 * p0, 2 * p1, kc, vc, pos);
      barrier_.wait(k);
      std::tie(h0, h1) = share(c.n_heads, t, k);
    }
    for (i64 h = h0; h < h1; ++h) attend(h, h / group, kc, vc, pos);
    barrier_.wait(k);
    const auto [d0, d1] = share(D, t, k);
    L.wo.products(d0, d1, input_of(mine, attended_.data(), D), x_.data() + d0,
                  x_.data() + d0);  // x += Wo att
    barrier_.wait(k);
    // SwiGLU: hidden unit r needs rows r of w1 and of w3; each thread does both for its share.
    in = norm_input(mine, L.ffn_norm);
    const auto [u0, u1] = share(H, t, k);
    L.w13.products(u0, u1, in, hb_.data() + u0, nullptr);
    L.w13.products(H + u0, H + u1, in, hb2_.data() + u0, nullptr);
    for (i64 r = u0; r < u1; ++r) {  // llama2.c's order: (h * (1 / (1 + e^-h))) * h2
      T v = hb_[r];
      v *= T(1) / (T(1) + std::exp(-v));
      hb_[r] = v * hb2_[r];
    }
    barrier_.wait(k);
    L.w2.products(d0, d1, input_of(mine, hb_.data(), H), x_.data() + d0,
                  x_.data() + d0);  // x += W2 h
    barrier_.wait(k);
  }

  // Rows r0 .. r1 - 1 (even bounds) of [q; k; v]: the products, then the rotary of the q and k
  // rows' interleaved pairs at `pos`, then the k and v rows into the cache at `pos`.
  void qkv_rows(const Layer<T, M>& L, const typename M::Input& in, i64 r0, i64 r1, T* kc, T* vc,
                i64 pos) {
    const Shape& c = c_;
    const i64 D = c.dim, KV = c.kv_dim(), HD = c.head_dim(), S = c.seq_len;
    T* qkv = qkv_.data();
    L.wqkv.products(r0, r1, in, qkv + r0, nullptr);
    const T* co = cos_ + pos * (HD / 2);
    const T* si = sin_ + pos * (HD / 2);
    for (i64 r = r0; r < std::min(r1, D + KV); r += 2) {
      const i64 i = (r % HD) / 2;  // D is a whole number of heads: k rows line up too
      const T a = qkv[r], b = qkv[r + 1];
      qkv[r] = a * co[i] - b * si[i];
      qkv[r + 1] = a * si[i] + b * co[i];
    }
    for (i64 r = std::max(r0, D); r < r1; ++r) {
      const i64 j = (r - D) % KV;  // k rows, then v rows
      T* cache = r < D + KV ? kc : vc;
      cache[((j / HD) * S + pos) * HD + j % HD] = qkv[r];
    }
  }

  // Query head h over the cache of kv head kvh: scores, softmax, weighted values.
  void attend(i64 h, i64 kvh, const T* kc, const T* vc, i64 pos) {
    const i64 HD = c_.head_dim(), S = c_.seq_len;
    const T* q = qkv_.data() + h * HD;
    T* a = att_.data() + h * S;
    const T root = std::sqrt(T(HD));
    T m = -INFINITY;
    dots_in_order(q, kc + kvh * S * HD, HD, pos + 1, a);
    for (i64 t = 0; t <= pos; ++t) {
      a[t] /= root;
      m = std::max(m, a[t]);
    }
    T sum = 0;
    for (i64 t = 0; t <= pos; ++t) sum += (a[t] = std::exp(a[t] - m));
    T* out = attended_.data() + h * HD;
    std::fill(out, out + HD, T(0));
    for (i64 t = 0; t <= pos; ++t) {
      const T p = a[t] / sum;
      const T* v = vc + (kvh * S + t) * HD;
#pragma omp simd
      for (i64 i = 0; i < HD; ++i) out[i] += p * v[i];
    }
  }

  static int max_threads() {
#ifdef PYDYFAST_HAVE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
  }
  static int team_size() {
#ifdef PYDYFAST_HAVE_OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
  }
  static int team_rank() {
#ifdef PYDYFAST_HAVE_OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
  }

  // Thread t's part of n items among k threads: contiguous and balanced to one item.
  static std::pair<i64, i64> share(i64 n, int t, int k) { return {n * t / k, n * (t + 1) / k}; }

  // rmsnorm(x) * weight into the thread's scratch (run.c's order), then the format's view.
  typename M::Input norm_input(Scratch& mine, const T* weight) {
    const i64 n = c_.dim;
    const T ss = sum_in_order(x_.data(), x_.data(), n);
    const T inv = T(1) / std::sqrt(ss / T(n) + T(c_.eps));
    for (i64 i = 0; i < n; ++i) mine.normed[i] = weight[i] * (inv * x_[i]);
    return input_of(mine, mine.normed.data(), n);
  }

  typename M::Input input_of(Scratch& mine, const T* v, i64 n) {
    return mine.input.view(v, n, gs_);
  }

  Shape c_;
  const T* embedding_;
  std::vector<Layer<T, M>> layers_;
  const T* final_norm_;
  M classifier_;
  T *k_cache_, *v_cache_;
  const T *cos_, *sin_;
  i64 gs_;
  std::vector<py::object> owners_;  // keeps every array the pointers above point into alive
  std::vector<T> x_, qkv_, attended_, hb_, hb2_, att_;
  std::vector<Scratch> scratch_;  // one per thread of the largest team so far
  TeamBarrier barrier_;
};

}  // namespace
}  // namespace pydyfast
