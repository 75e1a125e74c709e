// Matrix products callable from C++ kernels (convolution tiles, Linear, attention, the Llama
// prefill) without a round trip through numpy, so that every parallel region of a training step
// belongs to one OpenMP pool. numpy's OpenBLAS keeps its own pthreads pool whose workers spin
// after each product; a pydyfast kernel that followed one ran at half speed on a 2-core machine
// while those workers held the second core.
//
// Row-major throughout: C (M x N) = alpha * op(A) @ op(B) + beta * C + epilogue, where op(A) is
// A (M x K, row stride lda) or, transposed, A stored as (K x M); op(B) likewise (K x N) or (N x K).
// beta == 0 never reads C (it may hold garbage or nan), as in BLAS.
#pragma once
#include <cstdint>

namespace pydyfast {

// Added to the product before the activation: bias_row[i] to row i (a convolution's channel as
// rows), bias_col[j] to column j (Linear's x @ W^T + b). Either may be null.
template <typename T>
struct GemmEpilogue {
  const T* bias_row = nullptr;
  const T* bias_col = nullptr;
  bool relu = false;  // max(0, .) after the bias
};

// Runs on the calling thread only: for kernels that are already inside a parallel region
// (a convolution parallel over images calls it once per image and thread).
template <typename T>
void gemm_serial(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                 T alpha, const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C,
                 std::int64_t ldc, const GemmEpilogue<T>& epilogue = {});

// Splits C into blocks of whole micro-tiles along the longer of M and N, shared dynamically
// among the OpenMP threads, when the product is large enough to pay for a parallel region;
// otherwise the same as gemm_serial.
template <typename T>
void gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, T alpha,
          const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C,
          std::int64_t ldc, const GemmEpilogue<T>& epilogue = {});

}  // namespace pydyfast
