"""Raw-array building blocks of the Llama forward pass (any ``xp``: numpy or cupy).

Decoding is bound by reading the weights once per token, so the Python work around the GEMVs
must stay small: each function is a handful of whole-array calls and never loops over heads.
pydyfast's fused ``decode_attention`` (``pydyfast.ops.attention``) can replace the NumPy formula
for one token (``use_fused_decode_attention()``), once it agrees with :func:`attend` on a small
self-check. It is off by default: from ~57 cached positions on (stories15M) the kernel opens an
OpenMP region for a few microseconds of work, and its spinning threads then slow OpenBLAS's
threads in the next GEMV; on 2 cores decoding measured 12-15 tokens/s with it, 60-63 without.
"""
import numpy as np

from pydyfast.backend import array_module


def rope_table(head_dim, max_positions, theta=10000.0, dtype=np.float32):
    """Rotations exp(i * angle), (max_positions, head_dim // 2) complex of ``dtype``'s precision.

    angle[p, j] = p * theta ** (-2 j / head_dim), computed in float64, then cast (llama2.c).
    """
    freq = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angle = np.outer(np.arange(max_positions, dtype=np.float64), freq)
    cos, sin = np.cos(angle).astype(dtype), np.sin(angle).astype(dtype)
    return cos + 1j * sin.astype(np.result_type(dtype, np.complex64))


def apply_rotary(x, rotation):
    """x with its interleaved pairs (x[2j], x[2j+1]) rotated: a new (T, heads, head_dim) array.

    x : (T, heads, head_dim); rotation : (T, head_dim // 2) complex, one row per position.
    A pair read as the complex number a + ib times cos + i sin is (a cos - b sin, a sin + b cos),
    run.c's formula; one complex multiply does every head without unpacking the pairs.
    """
    xp = array_module(x)
    z = xp.ascontiguousarray(x).view(xp.result_type(x.dtype, xp.complex64))
    return (z * rotation[:, None, :]).view(x.dtype)


def rms_norm(x, weight, eps):
    """y = x / sqrt(mean(x^2, last axis) + eps) * weight; x (T, dim), weight (dim,)."""
    xp = array_module(x)
    ms = xp.einsum("ij,ij->i", x, x)[:, None]  # one pass, no x^2 temporary
    ms *= 1.0 / x.shape[-1]
    ms += eps
    out = x / xp.sqrt(ms, out=ms)
    out *= weight
    return out


def softmax_(scores):
    """Softmax over the last axis, in place (max subtracted first, so exp never overflows)."""
    xp = array_module(scores)
    scores -= scores.max(axis=-1, keepdims=True)
    xp.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


def attend(q, k_cache, v_cache, start):
    """Causal grouped-query attention of T new queries over the cache.

    q : (T, H, D) queries at positions start .. start+T-1; k_cache, v_cache : (Hkv, max_len, D)
    with the keys/values of positions 0 .. start+T-1 already written. H is a multiple of Hkv
    (each group of H // Hkv query heads shares one key/value head). Returns (T, H, D).
    out = softmax(q k^T / sqrt(D) + causal mask) v.
    """
    xp = array_module(q)
    t, h, d = q.shape
    hkv = k_cache.shape[0]
    length = start + t
    k = k_cache[:, None, :length]                          # (Hkv, 1, L, D)
    v = v_cache[:, None, :length]
    qg = q.reshape(t, hkv, h // hkv, d).transpose(1, 2, 0, 3)  # (Hkv, G, T, D)
    scores = xp.matmul(qg, k.swapaxes(-1, -2))             # (Hkv, G, T, L)
    scores *= 1.0 / np.sqrt(d)
    if t > 1:  # query i sees keys 0 .. start + i
        future = xp.arange(length)[None, :] > (start + xp.arange(t))[:, None]
        scores[..., future] = -np.inf
    softmax_(scores)
    out = xp.matmul(scores, v)                             # (Hkv, G, T, D)
    return out.transpose(2, 0, 1, 3).reshape(t, h, d)


def _fused_decode_attention():
    """pydyfast's one-call decode attention for T = 1, when built and consistent with attend."""
    try:
        from pydyfast.ops.attention import decode_attention
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, 4, 8)).astype(np.float32)
    kc = rng.standard_normal((2, 5, 8)).astype(np.float32)
    vc = rng.standard_normal((2, 5, 8)).astype(np.float32)

    def call(q1, k_cache, v_cache, length):  # arrays in, array out
        return decode_attention(q1[None], k_cache[None], v_cache[None], length)[0]
    try:
        ok = np.allclose(call(q[0], kc, vc, 3), attend(q, kc, vc, 2)[0], rtol=1e-4, atol=1e-5)
    except Exception:  # noqa: BLE001 - a kernel with another signature is simply not used
        return None
    return call if ok else None


_FUSED_DECODE_ATTENTION = _fused_decode_attention()
_DECODE_ATTENTION = None  # the one-token attention in use; None: the NumPy formula


def use_fused_decode_attention(enable=True):
    """Route one-token attention through pydyfast's kernel; returns whether it is in use (it is
    not when the kernel is missing or failed the self-check)."""
    global _DECODE_ATTENTION
    _DECODE_ATTENTION = _FUSED_DECODE_ATTENTION if enable else None
    return _DECODE_ATTENTION is not None


def attend_one(q, k_cache, v_cache, length):
    """Attention of one query (H, D) at position length-1 over cache entries [0, length)."""
    if _DECODE_ATTENTION is not None and isinstance(q, np.ndarray):
        return _DECODE_ATTENTION(q, k_cache, v_cache, length)
    # attend() for T = 1 without its transposes and mask: every cached key is in the past
    xp = array_module(q)
    h, d = q.shape
    hkv = k_cache.shape[0]
    scores = xp.matmul(q.reshape(hkv, h // hkv, d), k_cache[:, :length].swapaxes(-1, -2))
    scores *= 1.0 / np.sqrt(d)
    return xp.matmul(softmax_(scores), v_cache[:, :length]).reshape(h, d)
