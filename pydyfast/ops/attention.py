"""Attention: rotary position embedding, scaled dot-product attention (training, forward and
backward, grouped-query heads) and single-token decode attention against a KV cache.

The GEMMs (q k^T, p v) run in numpy's BLAS; the compiled kernels fuse what lies between them
(scale, causal mask and softmax, and its backward), the rotary rotation, and the whole of decode
attention (scores, softmax and weighted sum per (batch, head) in one C++ call).
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import array_module, dispatch
from ..creation import generator
from ..cuda_launch.attention import DECODE_SHARED_MEMORY_LIMIT
from ..tensor import Tensor
from .linalg import array_matmul

__all__ = ["rope_tables", "apply_rotary", "scaled_dot_product_attention", "decode_attention"]


# ----------------------------------------------------------------------------- rotary
def rope_tables(head_dim, max_positions, theta=10000.0, dtype=np.float32):
    """cos and sin of the rotary angles m * theta^(-2i/head_dim), m < max_positions,
    i < head_dim/2 (computed in float64, returned in ``dtype``), each (max_positions, head_dim//2).
    """
    if head_dim <= 0 or head_dim % 2 or max_positions <= 0:
        raise ValueError(f"rope_tables: expected a positive even head_dim and positive "
                         f"max_positions, got head_dim={head_dim}, max_positions={max_positions}")
    freqs = 1.0 / theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.outer(np.arange(max_positions, dtype=np.float64), freqs)
    return np.cos(angles).astype(dtype), np.sin(angles).astype(dtype)


def _pair_views(x, interleaved):
    """The two members (a, b) of every rotated pair, as views of x (..., D)."""
    if interleaved:
        return x[..., 0::2], x[..., 1::2]
    half = x.shape[-1] // 2
    return x[..., :half], x[..., half:]


def _rotary_ref(xp, x, cos, sin, interleaved, inverse):
    """(a, b) -> (a cos - b sin, a sin + b cos) per pair; ``inverse`` rotates by minus the angle.
    x (N, S, D), cos/sin (S, D/2)."""
    if inverse:
        sin = -sin
    a, b = _pair_views(x, interleaved)
    y = xp.empty_like(x)
    ya, yb = _pair_views(y, interleaved)
    ya[...] = a * cos - b * sin
    yb[...] = a * sin + b * cos
    return y


class Rotary(Function):
    """Rotary embedding of x (..., S, D); backward is the inverse rotation of the gradient."""

    @staticmethod
    def forward(ctx, x, cos, sin, interleaved):
        ctx.tables = (cos, sin, interleaved)
        return _rotate(x, cos, sin, interleaved, False)

    @staticmethod
    def backward(ctx, gy):
        cos, sin, interleaved = ctx.tables
        return _rotate(gy, cos, sin, interleaved, True)


def _rotate(x, cos, sin, interleaved, inverse):
    x3 = x.reshape(-1, x.shape[-2], x.shape[-1])
    y = dispatch(x3, cos, sin, ref=_rotary_ref, native="rotary", interleaved=interleaved,
                 inverse=inverse)
    return y.reshape(x.shape)


def apply_rotary(x, cos, sin, interleaved=True):
    """Rotary position embedding (RoPE) of x: each pair (a, b) of the last axis becomes
    (a cos - b sin, a sin + b cos) with the angle of its position and frequency.

    x: Tensor (..., seq, head_dim); cos, sin: arrays or Tensors (seq, head_dim // 2), e.g. rows
    of ``rope_tables``, used as constants. interleaved=True pairs (x[2i], x[2i+1]) (Meta,
    llama2.c); False pairs (x[i], x[i + head_dim/2]) (Hugging Face). Returns a Tensor like x.
    """
    if not isinstance(x, Tensor) or x.ndim < 2 or x.shape[-1] % 2:
        raise ValueError(f"apply_rotary: expected x a Tensor (..., seq, head_dim) with an even "
                         f"head_dim, got {getattr(x, 'shape', type(x).__name__)}")
    xp = array_module(x.data)
    tables = []
    for name, t in (("cos", cos), ("sin", sin)):
        t = t.data if isinstance(t, Tensor) else xp.asarray(t)
        if t.shape != (x.shape[-2], x.shape[-1] // 2):
            raise ValueError(f"apply_rotary: expected {name} of shape (seq, head_dim // 2) = "
                             f"{(x.shape[-2], x.shape[-1] // 2)} for x {x.shape}, got {t.shape}")
        tables.append(t.astype(x.dtype, copy=False))
    return Rotary.apply(x, cos=tables[0], sin=tables[1], interleaved=bool(interleaved))


# ----------------------------------------------------------------------------- training attention
def _attention_softmax_ref(xp, scores, scale, causal_rows):
    """softmax over the last axis of scale * scores (N, R, S); with causal_rows > 0 row r may
    only attend to keys j <= r mod causal_rows (masked entries are 0)."""
    s = scores * scale
    if causal_rows:
        R, S = s.shape[-2:]
        future = xp.arange(S)[None, :] > (xp.arange(R) % causal_rows)[:, None]
        s = xp.where(future, -xp.inf, s)
    if s.shape[-1] == 0:  # no keys: nothing to normalise (max of an empty row is undefined)
        return s
    m = s.max(axis=-1, keepdims=True)
    e = xp.exp(s - xp.where(m == -xp.inf, 0, m))  # a fully masked row: exp(-inf) = 0, not NaN
    total = e.sum(axis=-1, keepdims=True)
    return e / xp.where(total == 0, 1, total)


def _attention_softmax_bwd_ref(xp, p, gp, scale):
    """Gradient of the raw scores: scale * p (gp - sum(gp p))."""
    return scale * p * (gp - (gp * p).sum(axis=-1, keepdims=True))


class Attention(Function):
    """softmax(scale q k^T + mask) v over grouped heads. q (..., H, L, E), k (..., Hkv, S, E),
    v (..., Hkv, S, Ev); query head h reads kv head h // (H / Hkv). bias (optional fourth input):
    additive float mask broadcastable to (..., H, L, S), differentiable as in torch; causal:
    PyTorch's top-left causal mask."""

    @staticmethod
    def forward(ctx, q, k, v, bias=None, *, scale, causal, dropout_p):
        xp = array_module(q)
        lead, (H, L, E) = q.shape[:-3], q.shape[-3:]
        Hkv, S = k.shape[-3], k.shape[-2]
        rows = H // Hkv * L  # the query rows that share one kv head
        qg = q.reshape(lead + (Hkv, rows, E))
        scores = array_matmul(qg, k.swapaxes(-1, -2))
        softmax_scale = scale
        if bias is not None:
            scores *= scale
            scores += xp.broadcast_to(bias, lead + (H, L, S)).reshape(scores.shape)
            softmax_scale = 1.0
        p = dispatch(_stack3(scores), softmax_scale, L if causal else 0,
                     ref=_attention_softmax_ref, native="attention_softmax_fwd")
        p = p.reshape(scores.shape)
        if bias is not None:
            # A query row the mask hides completely has no keys: torch gives it a zero row
            # (softmax would give 0/0 = NaN), so its output and its gradients are zero.
            p = xp.where((scores == -xp.inf).all(axis=-1, keepdims=True), 0, p)
        keep = None
        if dropout_p > 0:
            keep = (generator().random(p.shape) >= dropout_p).astype(p.dtype) / (1 - dropout_p)
            keep = xp.asarray(keep)
        pd = p if keep is None else p * keep
        ctx.save_for_backward(qg, k, v, p, pd, keep)
        ctx.scale, ctx.q_shape = scale, q.shape
        return array_matmul(pd, v).reshape(lead + (H, L, v.shape[-1]))

    @staticmethod
    def backward(ctx, gy):
        qg, k, v, p, pd, keep = ctx.saved_tensors
        need_q, need_k, need_v = ctx.needs_input_grad[:3]
        need_bias = ctx.needs_input_grad[3:] == (True,)
        gy = gy.reshape(pd.shape[:-1] + (v.shape[-1],))
        gv = array_matmul(pd.swapaxes(-1, -2), gy) if need_v else None
        gq = gk = gbias = None
        if need_q or need_k or need_bias:
            gp = array_matmul(gy, v.swapaxes(-1, -2))
            if keep is not None:
                gp *= keep
            gs = dispatch(_stack3(p), _stack3(gp), ctx.scale, ref=_attention_softmax_bwd_ref,
                          native="attention_softmax_bwd").reshape(p.shape)
            gq = array_matmul(gs, k).reshape(ctx.q_shape) if need_q else None
            gk = array_matmul(gs.swapaxes(-1, -2), qg) if need_k else None
            if need_bias:  # the mask is added after the scale: d/dbias = gs / scale
                gbias = (gs / gs.dtype.type(ctx.scale)).reshape(ctx.q_shape[:-1] + (p.shape[-1],))
        return (gq, gk, gv, gbias)[:len(ctx.needs_input_grad)]


def _stack3(a):
    """a (..., R, S) as (N, R, S); explicit N, since reshape(-1, 0, S) is ambiguous for L = 0."""
    return a.reshape((math.prod(a.shape[:-2]),) + a.shape[-2:])


def _check_attention(q, k, v, attn_mask, dropout_p, is_causal, enable_gqa):
    op = "scaled_dot_product_attention"
    for name, t in (("query", q), ("key", k), ("value", v)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 3:
            raise ValueError(f"{op}: expected {name} of shape (..., heads, seq, dim), got "
                             f"{t.shape}")
        if t.dtype != q.dtype or t.dtype.kind != "f":
            raise TypeError(f"{op}: expected query, key and value of one floating dtype, got "
                            f"{q.dtype}, {k.dtype}, {v.dtype}")
    if not (q.shape[:-3] == k.shape[:-3] == v.shape[:-3]) or k.shape[:-1] != v.shape[:-1] \
            or q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{op}: shapes do not match: query {q.shape}, key {k.shape}, value "
                         f"{v.shape}; expected (..., H, L, E), (..., Hkv, S, E), (..., Hkv, S, Ev)")
    H, Hkv = q.shape[-3], k.shape[-3]
    if H != Hkv and not (enable_gqa and Hkv > 0 and H % Hkv == 0):
        raise ValueError(f"{op}: query has {H} heads and key/value {Hkv}; different head counts "
                         f"need enable_gqa=True and Hkv dividing H")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1), got {dropout_p}")
    if attn_mask is not None and is_causal:
        raise ValueError(f"{op}: give attn_mask or is_causal=True, not both")


def _mask_bias(attn_mask, q, S):
    """The additive float mask as a Tensor: a bool mask (True = attend) becomes 0 / -inf; a
    float Tensor mask stays in the graph (its gradient is the scores' gradient)."""
    op = "scaled_dot_product_attention"
    xp = array_module(q.data)
    m = attn_mask.data if isinstance(attn_mask, Tensor) else xp.asarray(attn_mask)
    target = q.shape[:-1] + (S,)
    try:
        np.broadcast_shapes(m.shape, target)
    except ValueError:
        raise ValueError(f"{op}: attn_mask of shape {m.shape} does not broadcast to (..., H, L, S) "
                         f"= {target}") from None
    if m.dtype == np.bool_:
        return Tensor._wrap(xp.where(m, 0, -np.inf).astype(q.dtype))
    if m.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be bool or floating, got {m.dtype}")
    if isinstance(attn_mask, Tensor):
        return attn_mask.to(dtype=q.dtype)
    return Tensor._wrap(m.astype(q.dtype, copy=False))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """PyTorch's ``scaled_dot_product_attention``: softmax(q k^T * scale + mask) v.

    query (..., H, L, E), key (..., Hkv, S, E), value (..., Hkv, S, Ev) -> (..., H, L, Ev).
    attn_mask: bool (True = attend) or float (added to the scores), broadcastable to
    (..., H, L, S). is_causal: query i attends to keys j <= i. scale: default 1/sqrt(E).
    dropout_p: dropout on the attention weights (applied whenever > 0, as in PyTorch).
    enable_gqa: allow Hkv < H dividing it; query head h uses kv head h // (H / Hkv).
    """
    _check_attention(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    bias = None if attn_mask is None else _mask_bias(attn_mask, query, key.shape[-2])
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    inputs = (query, key, value) if bias is None else (query, key, value, bias)
    return Attention.apply(*inputs, scale=scale, causal=bool(is_causal),
                           dropout_p=float(dropout_p))


# ----------------------------------------------------------------------------- decode
def _decode_attention_ref(xp, q, k_cache, v_cache, length, scale):
    """q (B, H, D), caches (B, Hkv, max_len, D) -> softmax(scale q k^T) v over t < length."""
    B, H, D = q.shape
    Hkv = k_cache.shape[1]
    qg = q.reshape(B, Hkv, H // Hkv, D)
    scores = (qg @ k_cache[:, :, :length].swapaxes(-1, -2)) * scale
    e = xp.exp(scores - scores.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return (p @ v_cache[:, :, :length]).reshape(B, H, D)


def decode_attention(q, k_cache, v_cache, length, scale=None):
    """Attention of one new token per sequence against a preallocated KV cache (inference).

    q: (B, H, D) Tensor or array; k_cache, v_cache: (B, Hkv, max_len, D) arrays (or Tensors) of
    q's dtype, C-contiguous so that the kernel reads them in place;
    attends over positions [0, length); query head h reads kv head h // (H / Hkv). scale:
    default 1/sqrt(D). Returns (B, H, D), a Tensor (no graph) if q is one, else an array.
    """
    is_tensor = isinstance(q, Tensor)
    qa = q.data if is_tensor else q
    k_cache = k_cache.data if isinstance(k_cache, Tensor) else k_cache
    v_cache = v_cache.data if isinstance(v_cache, Tensor) else v_cache
    if qa.ndim != 3 or getattr(k_cache, "ndim", 0) != 4 or getattr(v_cache, "ndim", 0) != 4:
        raise ValueError(f"decode_attention: expected q (B, H, D) and caches (B, Hkv, max_len, "
                         f"D), got q {qa.shape}, k_cache {getattr(k_cache, 'shape', None)}, "
                         f"v_cache {getattr(v_cache, 'shape', None)}")
    if k_cache.dtype != qa.dtype or v_cache.dtype != qa.dtype:
        raise TypeError(f"decode_attention: q is {qa.dtype}, k_cache {k_cache.dtype}, v_cache "
                        f"{v_cache.dtype}; expected one dtype")
    if scale is None:
        scale = 1.0 / math.sqrt(qa.shape[-1])
    # The CUDA kernel keeps a row of scores in shared memory; longer caches run the reference
    # (cuBLAS products) on the GPU.
    fits = int(length) * qa.dtype.itemsize <= DECODE_SHARED_MEMORY_LIMIT
    out = dispatch(qa, k_cache, v_cache, int(length), float(scale), ref=_decode_reference,
                   native="decode_attention", gpu=fits)
    return Tensor._wrap(out) if is_tensor else out


def _decode_reference(xp, q, k_cache, v_cache, length, scale):
    """The reference path of ``decode_attention``, with the kernel's argument checks."""
    B, H, D = q.shape
    if k_cache.shape != v_cache.shape or k_cache.shape[0] != B or k_cache.shape[3] != D \
            or H % k_cache.shape[1]:
        raise ValueError(f"decode_attention: q {q.shape} does not match the caches "
                         f"{k_cache.shape}, {v_cache.shape} (batch and head_dim must agree, kv "
                         f"heads must divide the query heads)")
    if not 1 <= length <= k_cache.shape[2]:
        raise ValueError(f"decode_attention: length {length} is outside [1, max_len="
                         f"{k_cache.shape[2]}]")
    return _decode_attention_ref(xp, q, k_cache, v_cache, length, scale)
