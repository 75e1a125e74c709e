"""Launchers for kernels/attention.cu, mirroring csrc/attention.cpp: rotary embedding, the
masked softmax of scaled_dot_product_attention (its GEMMs run in cuBLAS through cupy's matmul)
and single-token decode attention against a KV cache.
"""
import numpy as np

from ..cuda_kernels import BLOCK, grid_1d, kernel, row_block, scalar

FAMILY = "attention"
_DECODE_THREADS = 128
# Bytes of shared memory a kernel may use without opting in: decode_attention's scores row
# (length * itemsize) must fit; ops/attention.py runs the reference beyond it.
DECODE_SHARED_MEMORY_LIMIT = 48 * 1024


def rotary(x, cos, sin, interleaved, inverse):
    """x (..., S, D), cos/sin (S, D/2) -> x with each pair rotated by its position's angle
    (minus the angle when ``inverse``: the backward). Pairs (x[2i], x[2i+1]) when interleaved
    (Meta / llama2.c), else (x[i], x[i + D/2]) (Hugging Face)."""
    import cupy as cp
    S, D = x.shape[-2], x.shape[-1]
    if cos.shape != (S, D // 2) or sin.shape != (S, D // 2) or D % 2:
        raise ValueError(f"rotary: x {x.shape} needs an even head_dim and cos/sin of shape "
                         f"{(S, D // 2)}, got {cos.shape} and {sin.shape}")
    y = cp.empty_like(x)
    if x.size:
        kernel(FAMILY, "rotary", x.dtype)(
            grid_1d(x.size // 2), (BLOCK,),
            (x, cos.astype(x.dtype, copy=False), sin.astype(x.dtype, copy=False),
             y, np.int64(x.size // (S * D)), np.int64(S), np.int64(D), np.int32(bool(interleaved)),
             scalar(x.dtype, -1.0 if inverse else 1.0)))
    return y


def attention_softmax_fwd(scores, scale, causal_rows):
    """scores (N, R, S) -> softmax over S of scale * scores; causal_rows > 0 masks key
    j > r mod causal_rows for row r (masked entries 0)."""
    import cupy as cp
    N, R, S = scores.shape
    p = cp.empty_like(scores)
    if p.size:
        kernel(FAMILY, "attention_softmax_fwd", scores.dtype)(
            (N * R,), (row_block(S),),
            (scores, p, np.int64(R), np.int64(S), scalar(scores.dtype, scale),
             np.int64(causal_rows)))
    return p


def attention_softmax_bwd(p, gp, scale):
    """d scores (N, R, S) = scale * p * (gp - sum_j gp p)."""
    import cupy as cp
    N, R, S = p.shape
    gs = cp.empty_like(p)
    if p.size:
        kernel(FAMILY, "attention_softmax_bwd", p.dtype)(
            (N * R,), (row_block(S),),
            (p, gp.astype(p.dtype, copy=False), gs, np.int64(S),
             scalar(p.dtype, scale)))
    return gs


def decode_attention(q, k_cache, v_cache, length, scale):
    """q (B, H, D), k_cache/v_cache (B, Hkv, max_len, D) -> (B, H, D) attending [0, length);
    scale None means 1 / sqrt(D)."""
    import cupy as cp
    B, H, D = q.shape
    Hkv, max_len = k_cache.shape[1], k_cache.shape[2]
    if k_cache.shape != (B, Hkv, max_len, D) or v_cache.shape != k_cache.shape or H % Hkv:
        raise ValueError(f"decode_attention: q {q.shape} and caches {k_cache.shape}, "
                         f"{v_cache.shape}: expected caches (B, Hkv, max_len, D) with Hkv "
                         f"dividing H")
    length = int(length)
    scale = 1.0 / float(D) ** 0.5 if scale is None else float(scale)
    if not 0 < length <= max_len:
        raise ValueError(f"decode_attention: length {length} is not in [1, {max_len}]")
    if length * q.dtype.itemsize > DECODE_SHARED_MEMORY_LIMIT:
        raise ValueError(f"decode_attention: length {length} of {q.dtype} scores exceeds the "
                         f"kernel's {DECODE_SHARED_MEMORY_LIMIT} bytes of shared memory")
    k = k_cache.astype(q.dtype, copy=False)
    v = v_cache.astype(q.dtype, copy=False)
    out = cp.empty_like(q)
    kernel(FAMILY, "decode_attention", q.dtype)(
        (B * H,), (_DECODE_THREADS,),
        (q, k, v, out, np.int64(H), np.int64(Hkv), np.int64(max_len), np.int64(D),
         np.int64(length), scalar(q.dtype, scale)),
        shared_mem=length * q.dtype.itemsize)
    return out
