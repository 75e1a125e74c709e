// Rotary position embedding, the masked softmax of scaled dot-product attention (the GEMMs around
// it run in cuBLAS) and single-token (KV-cache decode) attention; arguments and results as
// csrc/attention.cpp.
//   rotary: x (rows, S, D) C-contiguous, cos/sin (S, D/2). Pairs are (x[2i], x[2i+1]) when
//     interleaved (llama2.c / Meta) or (x[i], x[i + D/2]) (Hugging Face half-split):
//     y1 = x1 cos - x2 sin, y2 = x1 sin + x2 cos. The backward is the inverse rotation (sign = -1).
//   attention_softmax_fwd: scores (N, R, S) -> p = softmax over S of scale * scores; with
//     causal_rows > 0 row r sees keys j <= r mod causal_rows only (PyTorch's top-left causal
//     mask; grouped-query heads stack blocks of causal_rows rows); masked entries are 0.
//     attention_softmax_bwd: d scores = scale * p * (gp - sum_j gp p).
//   decode_attention: q (B, H, D), caches (B, Hkv, max_len, D), H a multiple of Hkv (grouped
//     query heads: head h reads kv head h / (H / Hkv)); out[b, h] = softmax(scale q k^T) v over the
//     positions [0, length).
//
// Grid/block contract (pydyfast/cuda_launch/attention.py):
//   rotary: 1-D grid-stride loop over rows * S * D/2 (one thread per pair), any grid/block.
//   attention_softmax_fwd/bwd: grid = (N * R,), one block per row, blockDim.x a power of two in
//     [32, 1024]; no dynamic shared memory.
//   decode_attention: grid = (B * H,), one block per query head; blockDim.x a multiple of 32
//     (128); dynamic shared memory = length * sizeof(T) for the scores (the launcher falls back to
//     cupy matmuls when that exceeds 48 KiB).
#include "common.cuh"

template <typename T>
__global__ void rotary(const T* x, const T* cos_t, const T* sin_t, T* y, i64 rows, i64 S, i64 D,
                       int interleaved, T sign) {
  const i64 half = D / 2;
  PDF_GRID_LOOP(p, rows * S * half) {
    const i64 i = p % half;
    const i64 row_pos = p / half;  // (row, s) flattened
    const i64 s = row_pos % S;
    const T c = cos_t[s * half + i], sn = sign * sin_t[s * half + i];
    const i64 base = row_pos * D;
    const i64 a = base + (interleaved ? 2 * i : i);
    const i64 b = base + (interleaved ? 2 * i + 1 : i + half);
    const T x1 = x[a], x2 = x[b];
    y[a] = x1 * c - x2 * sn;
    y[b] = x1 * sn + x2 * c;
  }
}

template <typename T>
__global__ void attention_softmax_fwd(const T* scores, T* p, i64 R, i64 S, T scale,
                                      i64 causal_rows) {
  __shared__ T scratch[32];
  const i64 row = blockIdx.x;
  const i64 r = row % R;
  const i64 end = causal_rows > 0 ? min(S, r % causal_rows + 1) : S;
  const T* x = scores + row * S;
  T* y = p + row * S;
  T m = neg_inf<T>();
  for (i64 j = threadIdx.x; j < end; j += blockDim.x) m = pdf_max(m, scale * x[j]);
  m = block_max(m, scratch);
  T sum = T(0);
  for (i64 j = threadIdx.x; j < end; j += blockDim.x) sum += pdf_exp(scale * x[j] - m);
  const T inv = T(1) / block_sum(sum, scratch);  // a row of -inf gives NaN, as in PyTorch
  for (i64 j = threadIdx.x; j < S; j += blockDim.x)
    y[j] = j < end ? pdf_exp(scale * x[j] - m) * inv : T(0);
}

template <typename T>
__global__ void attention_softmax_bwd(const T* p, const T* gp, T* gs, i64 S, T scale) {
  __shared__ T scratch[32];
  const i64 row = blockIdx.x;
  const T* y = p + row * S;
  const T* g = gp + row * S;
  T* o = gs + row * S;
  T dot = T(0);
  for (i64 j = threadIdx.x; j < S; j += blockDim.x) dot += g[j] * y[j];
  dot = block_sum(dot, scratch);
  for (i64 j = threadIdx.x; j < S; j += blockDim.x) o[j] = scale * y[j] * (g[j] - dot);
}

template <typename T>
__global__ void decode_attention(const T* q, const T* k_cache, const T* v_cache, T* out, i64 H,
                                 i64 Hkv, i64 max_len, i64 D, i64 length, T scale) {
  __shared__ T scratch[32];
  T* scores = shared_buffer<T>();
  const i64 bh = blockIdx.x;
  const i64 b = bh / H, h = bh - b * H;
  const i64 kv = b * Hkv + h / (H / Hkv);
  const T* qh = q + bh * D;
  const T* kh = k_cache + kv * max_len * D;
  const T* vh = v_cache + kv * max_len * D;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;

  // scores[t] = scale * q . k[t]: one warp per position, lanes across D.
  for (i64 t = warp; t < length; t += warps) {
    T dot = T(0);
    for (i64 d = lane; d < D; d += 32) dot += qh[d] * kh[t * D + d];
    dot = warp_sum(dot);
    if (lane == 0) scores[t] = dot * scale;
  }
  __syncthreads();
  T m = neg_inf<T>();
  for (i64 t = threadIdx.x; t < length; t += blockDim.x) m = pdf_max(m, scores[t]);
  m = block_max(m, scratch);
  T s = T(0);
  for (i64 t = threadIdx.x; t < length; t += blockDim.x) {
    const T e = pdf_exp(scores[t] - m);
    scores[t] = e;
    s += e;
  }
  const T inv = T(1) / block_sum(s, scratch);  // block_sum syncs, so every score is written
  // out[d] = sum_t p[t] v[t, d]: threads across D (coalesced reads of each cached row).
  for (i64 d = threadIdx.x; d < D; d += blockDim.x) {
    T acc = T(0);
    for (i64 t = 0; t < length; ++t) acc += scores[t] * vh[t * D + d];
    out[bh * D + d] = acc * inv;
  }
}
