"""Launchers for kernels/sort.cu, mirroring csrc/sort.cpp: top-k indices per row of a
C-contiguous (rows, n) array."""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel

FAMILY = "sort"


def topk_indices(x, k, largest):
    """int64 (rows, k): the indices of each row's k best elements, best first."""
    import cupy as cp
    rows, n = x.shape
    out = cp.empty((rows, k), dtype=cp.int64)
    if rows and k:
        kernel(FAMILY, "topk_indices", x.dtype)(grid_1d(rows), (BLOCK,),
                                                (x, out, np.int64(rows), np.int64(n),
                                                 np.int64(k), np.int32(largest)))
    return out
