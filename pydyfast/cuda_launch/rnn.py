"""Launchers for kernels/rnn.cu: the fused gate math of the GRU and LSTM cells.

gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh come from cupy's matmul (cuBLAS); these launchers
run everything between the GEMMs in one kernel each way.
"""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel

FAMILY = "rnn"


def _launch(fn, like, *args):
    """Run ``fn`` over the B * H units of ``like`` (B, H)."""
    B, H = like.shape
    if like.size:
        fn(grid_1d(like.size), (BLOCK,), args + (np.int64(B), np.int64(H)))


def _c(a, dtype):
    import cupy as cp
    return cp.ascontiguousarray(a, dtype=dtype)


def gru_cell_fwd(gi, gh, h):
    """gi, gh (B, 3H) [r, z, n], h (B, H) -> (h' (B, H), saved (B, 4H) = [r, z, n, gh_n])."""
    import cupy as cp
    h_new = cp.empty_like(h)
    saved = cp.empty((h.shape[0], 4 * h.shape[1]), dtype=h.dtype)
    _launch(kernel(FAMILY, "gru_cell_fwd", h.dtype), h,
            _c(gi, h.dtype), _c(gh, h.dtype), h, h_new, saved)
    return h_new, saved


def gru_cell_bwd(grad_h, h, saved):
    """-> (dgi (B, 3H), dgh (B, 3H), dh (B, H)); dh is the direct part z * grad_h only."""
    import cupy as cp
    B, H = h.shape
    dgi = cp.empty((B, 3 * H), dtype=h.dtype)
    dgh = cp.empty_like(dgi)
    dh = cp.empty_like(h)
    _launch(kernel(FAMILY, "gru_cell_bwd", h.dtype), h,
            _c(grad_h, h.dtype), h, saved, dgi, dgh, dh)
    return dgi, dgh, dh


def lstm_cell_fwd(gi, gh, c):
    """gi, gh (B, 4H) [i, f, g, o], c (B, H) -> (h', c', saved (B, 4H) = [i, f, g, o])."""
    import cupy as cp
    h_new = cp.empty_like(c)
    c_new = cp.empty_like(c)
    saved = cp.empty((c.shape[0], 4 * c.shape[1]), dtype=c.dtype)
    _launch(kernel(FAMILY, "lstm_cell_fwd", c.dtype), c,
            _c(gi, c.dtype), _c(gh, c.dtype), c, h_new, c_new, saved)
    return h_new, c_new, saved


def lstm_cell_bwd(grad_h, grad_c, c, c_new, saved):
    """-> (dgates (B, 4H), the gradient of both gi and gh, and dc (B, H) of the previous cell).
    grad_h or grad_c may be None (that output was not used)."""
    import cupy as cp
    grad_h = cp.zeros_like(c) if grad_h is None else _c(grad_h, c.dtype)
    grad_c = cp.zeros_like(c) if grad_c is None else _c(grad_c, c.dtype)
    dgates = cp.empty((c.shape[0], 4 * c.shape[1]), dtype=c.dtype)
    dc = cp.empty_like(c)
    _launch(kernel(FAMILY, "lstm_cell_bwd", c.dtype), c,
            grad_h, grad_c, c, c_new, saved, dgates, dc)
    return dgates, dc
