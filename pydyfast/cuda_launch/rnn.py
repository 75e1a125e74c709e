"""Launchers for kernels/rnn.cu, mirroring csrc/rnn.cpp: the fused gate math of one GRU / LSTM
step. gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh come from cupy's matmul (cuBLAS); these run
everything between the GEMMs in one kernel each way.
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
    return a.astype(dtype, copy=False)


def gru_gates_fwd(gi, gh, h):
    """gi, gh (B, 3H) [r, z, n], h (B, H) -> (h' (B, H), saved (B, 4H) = [r, z, n, gh_n])."""
    import cupy as cp
    h_new = cp.empty_like(h)
    saved = cp.empty((h.shape[0], 4 * h.shape[1]), dtype=h.dtype)
    _launch(kernel(FAMILY, "gru_gates_fwd", h.dtype), h,
            _c(gi, h.dtype), _c(gh, h.dtype), h, h_new, saved)
    return h_new, saved


def gru_gates_bwd(saved, h, gy):
    """-> (dgi (B, 3H), dgh (B, 3H), dh (B, H)) for the gradient gy of h'; dh is the direct
    part z * gy only (the caller adds dgh W_hh)."""
    import cupy as cp
    B, H = h.shape
    dgi = cp.empty((B, 3 * H), dtype=h.dtype)
    dgh = cp.empty_like(dgi)
    dh = cp.empty_like(h)
    _launch(kernel(FAMILY, "gru_gates_bwd", h.dtype), h,
            _c(saved, h.dtype), h, _c(gy, h.dtype), dgi, dgh, dh)
    return dgi, dgh, dh


def lstm_gates_fwd(gi, gh, c):
    """gi, gh (B, 4H) [i, f, g, o], c (B, H) -> (h', c', saved (B, 5H) = [i, f, g, o, tanh c'])."""
    import cupy as cp
    h_new = cp.empty_like(c)
    c_new = cp.empty_like(c)
    saved = cp.empty((c.shape[0], 5 * c.shape[1]), dtype=c.dtype)
    _launch(kernel(FAMILY, "lstm_gates_fwd", c.dtype), c,
            _c(gi, c.dtype), _c(gh, c.dtype), c, h_new, c_new, saved)
    return h_new, c_new, saved


def lstm_gates_bwd(saved, c, gh_out, gc_out):
    """-> (dgates (B, 4H), the gradient of both gi and gh, and dc (B, H) of the previous cell)
    for the gradients gh_out of h' and gc_out of c'."""
    import cupy as cp
    dgates = cp.empty((c.shape[0], 4 * c.shape[1]), dtype=c.dtype)
    dc = cp.empty_like(c)
    _launch(kernel(FAMILY, "lstm_gates_bwd", c.dtype), c,
            _c(saved, c.dtype), c, _c(gh_out, c.dtype), _c(gc_out, c.dtype), dgates, dc)
    return dgates, dc
