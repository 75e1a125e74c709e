// Order statistics, with the arguments and results of csrc/sort.cpp: topk_indices gives, for
// every row of a C-contiguous (rows, n) array, the indices of its k best elements, best first;
// a nan counts as the largest value and equal values keep their input order.
//
// Grid/block contract (pydyfast/cuda_launch/sort.py): a 1-D grid-stride loop over rows, one
// thread per row, any grid/block. The thread keeps its row's best k in the output row, sorted,
// inserting each element that beats the current k-th: O(n) comparisons plus O(k) per insertion,
// meant for the small k of top-k sampling (a full sort on the GPU stays with the reference).
#include "common.cuh"

// Whether element a (value va) comes before element b (value vb).
template <typename T>
__device__ __forceinline__ bool before(T va, i64 a, T vb, i64 b, int largest) {
  const bool na = va != va, nb = vb != vb;
  if (na || nb) return (na && nb) ? a < b : (largest ? na : nb);
  if (va != vb) return largest ? va > vb : va < vb;
  return a < b;
}

template <typename T>
__global__ void topk_indices(const T* x, i64* out, i64 rows, i64 n, i64 k, int largest) {
  PDF_GRID_LOOP(r, rows) {
    const T* row = x + r * n;
    i64* best = out + r * k;
    i64 count = 0;
    for (i64 j = 0; j < n; ++j) {
      if (count == k && !before(row[j], j, row[best[k - 1]], best[k - 1], largest)) continue;
      i64 at = count < k ? count++ : k - 1;  // the slot freed at the end, then shifted into place
      while (at > 0 && before(row[j], j, row[best[at - 1]], best[at - 1], largest)) {
        best[at] = best[at - 1];
        --at;
      }
      best[at] = j;
    }
  }
}
