// The blocked GEMM of csrc/gemm.cpp for one instruction set. gemm.cpp includes this file once per
// instruction set, inside `namespace gemm_<isa>` and `#pragma GCC target(...)`, after defining
// kVecBytes (the vector register width) and kRowsF32/kRowsF64 (the micro-tile's rows, chosen so
// that the accumulators fill the register file without spilling). No include guard on purpose.
//
// Layout (the BLIS/GotoBLAS scheme): C is cut into NC-wide column panels; for each KC-deep slice
// of the K axis, op(B)'s slice is packed into NR-wide slivers (k-major: NR contiguous values per
// k) and op(A)'s MC-row block into MR-row slivers (MR contiguous values per k), both zero-padded
// to whole slivers. The micro-kernel then multiplies one MR sliver by one NR sliver with MR x NR
// accumulators held in registers, reading both packed operands sequentially.

template <typename T>
struct Tile {
  static constexpr int kWidth = kVecBytes / int(sizeof(T));  // elements per vector register
  static constexpr int kVecs = 2;                           // vector registers per tile row
  static constexpr int NR = kVecs * kWidth;
  static constexpr int MR = sizeof(T) == 4 ? kRowsF32 : kRowsF64;
  // A KC x NR sliver of B (48 KiB at most) streams from L2 across the MR slivers of A, an
  // MC x KC block of A (192 KiB) stays in L2, an NC-wide packed B panel in L3. Measured on Zen 4
  // (1 thread, float32): a 48 KiB sliver ran 10-14% faster than 24 KiB on two of five training
  // shapes and no slower on the rest; a 384 KiB A block was no faster.
  static constexpr std::int64_t KC = 49152 / (NR * int(sizeof(T))) < 512
                                         ? 49152 / (NR * int(sizeof(T))) : 512;
  static constexpr std::int64_t MC = (196608 / (KC * int(sizeof(T))) / MR) * MR;
  static constexpr std::int64_t NC = 4096;
};

// A vector with every lane x: "x - 0" folds to a plain broadcast, where "0 + x" keeps a real
// addition (-0.0 + 0.0 is +0.0) and a lane-by-lane loop becomes a two-step broadcast.
template <typename V, typename T>
inline __attribute__((always_inline)) V splat(T x) {
  return x - V{};
}

// tile (MR x NR, row-major) = sum_k a[k][0:MR] (outer) b[k][0:NR]. The two vectors of a tile row
// are named, not an array: gcc keeps an array of vectors on the stack and re-reads it per FMA.
template <typename T>
inline __attribute__((always_inline)) void micro_kernel(std::int64_t kc, const T* __restrict a,
                                                        const T* __restrict b,
                                                        T* __restrict tile) {
  using S = Tile<T>;
  static_assert(S::kVecs == 2, "the micro-kernel holds two vectors per tile row");
  typedef T V __attribute__((vector_size(kVecBytes)));
  V lo[S::MR], hi[S::MR];
#pragma GCC unroll 16
  for (int r = 0; r < S::MR; ++r) lo[r] = hi[r] = V{};
  for (std::int64_t k = 0; k < kc; ++k) {
    const V b0 = *reinterpret_cast<const V*>(b);
    const V b1 = *reinterpret_cast<const V*>(b + S::kWidth);
#pragma GCC unroll 16
    for (int r = 0; r < S::MR; ++r) {
      const V av = splat<V>(a[r]);
      lo[r] += av * b0;
      hi[r] += av * b1;
    }
    a += S::MR;
    b += S::NR;
  }
#pragma GCC unroll 16
  for (int r = 0; r < S::MR; ++r) {
    *reinterpret_cast<V*>(tile + r * S::NR) = lo[r];
    *reinterpret_cast<V*>(tile + r * S::NR + S::kWidth) = hi[r];
  }
}

// Packs op(X)[r0 : r0+rows, c0 : c0+depth] into slivers of `width` rows: for each sliver,
// depth groups of `width` values (zero past `rows`). op(X) is X (row stride ld) or its transpose.
// A is packed with width MR (rows = M), B^T's view with width NR (rows = N, since op(B)[k, j] is
// op(B)^T[j, k]), so one routine packs both.
template <typename T>
void pack_slivers(bool transposed, const T* X, std::int64_t ld, std::int64_t r0, std::int64_t rows,
                  std::int64_t c0, std::int64_t depth, int width, T* __restrict out) {
  for (std::int64_t s = 0; s < rows; s += width) {
    const std::int64_t n = rows - s < width ? rows - s : width;
    if (transposed) {  // element (r, c) at X[c * ld + r]: the sliver's values are contiguous
      for (std::int64_t k = 0; k < depth; ++k) {
        const T* src = X + (c0 + k) * ld + r0 + s;
        T* dst = out + k * width;
        for (std::int64_t i = 0; i < n; ++i) dst[i] = src[i];
        for (std::int64_t i = n; i < width; ++i) dst[i] = T(0);
      }
    } else {  // element (r, c) at X[r * ld + c]: four rows at a time, so that each k writes
      // four neighbouring values of the sliver instead of one per pass over its depth
      std::int64_t i = 0;
      for (; i + 4 <= n; i += 4) {
        const T* src = X + (r0 + s + i) * ld + c0;
        for (std::int64_t k = 0; k < depth; ++k) {
          T* dst = out + k * width + i;
          dst[0] = src[k];
          dst[1] = src[ld + k];
          dst[2] = src[2 * ld + k];
          dst[3] = src[3 * ld + k];
        }
      }
      for (; i < n; ++i) {
        const T* src = X + (r0 + s + i) * ld + c0;
        for (std::int64_t k = 0; k < depth; ++k) out[k * width + i] = src[k];
      }
      for (std::int64_t i = n; i < width; ++i)
        for (std::int64_t k = 0; k < depth; ++k) out[k * width + i] = T(0);
    }
    out += depth * width;
  }
}

// C[0:m, 0:n] = alpha * tile + beta * C (+ the epilogue on the last K slice).
template <typename T>
inline void store_tile(const T* __restrict tile, std::int64_t m, std::int64_t n, T alpha, T beta,
                       T* __restrict C, std::int64_t ldc, const T* bias_row, const T* bias_col,
                       bool relu) {
  constexpr int NR = Tile<T>::NR;
  for (std::int64_t i = 0; i < m; ++i) {
    T* c = C + i * ldc;
    const T* t = tile + i * NR;
    const T rb = bias_row ? bias_row[i] : T(0);
    if (beta == T(0))
      for (std::int64_t j = 0; j < n; ++j) c[j] = alpha * t[j] + rb;
    else
      for (std::int64_t j = 0; j < n; ++j) c[j] = alpha * t[j] + beta * c[j] + rb;
    if (bias_col)
      for (std::int64_t j = 0; j < n; ++j) c[j] += bias_col[j];
    if (relu)
      for (std::int64_t j = 0; j < n; ++j) c[j] = c[j] > T(0) ? c[j] : T(0);
  }
}

template <typename T>
void gemm_blocked(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                  T alpha, const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta,
                  T* C, std::int64_t ldc, const T* bias_row, const T* bias_col, bool relu,
                  T* packed_a, T* packed_b) {
  using S = Tile<T>;
  alignas(64) T tile[S::MR * S::NR];
  for (std::int64_t jc = 0; jc < N; jc += S::NC) {
    const std::int64_t nc = N - jc < S::NC ? N - jc : S::NC;
    for (std::int64_t pc = 0; pc < K; pc += S::KC) {
      const std::int64_t kc = K - pc < S::KC ? K - pc : S::KC;
      const bool last = pc + kc >= K;
      const T beta_here = pc == 0 ? beta : T(1);
      // op(B)[pc:, jc:] is op(B)^T[jc:, pc:], which is B^T (not transposed) or B (transposed)
      pack_slivers(!trans_b, B, ldb, jc, nc, pc, kc, S::NR, packed_b);
      for (std::int64_t ic = 0; ic < M; ic += S::MC) {
        const std::int64_t mc = M - ic < S::MC ? M - ic : S::MC;
        pack_slivers(trans_a, A, lda, ic, mc, pc, kc, S::MR, packed_a);
        for (std::int64_t jr = 0; jr < nc; jr += S::NR) {
          const std::int64_t n = nc - jr < S::NR ? nc - jr : S::NR;
          const T* bp = packed_b + (jr / S::NR) * kc * S::NR;
          for (std::int64_t ir = 0; ir < mc; ir += S::MR) {
            const std::int64_t m = mc - ir < S::MR ? mc - ir : S::MR;
            micro_kernel<T>(kc, packed_a + (ir / S::MR) * kc * S::MR, bp, tile);
            const std::int64_t i = ic + ir, j = jc + jr;
            store_tile<T>(tile, m, n, alpha, beta_here, C + i * ldc + j, ldc,
                          last && bias_row ? bias_row + i : nullptr,
                          last && bias_col ? bias_col + j : nullptr, last && relu);
          }
        }
      }
    }
  }
}
