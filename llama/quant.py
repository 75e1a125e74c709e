"""Group-wise symmetric int8 quantization, as llama2.c's runq.c does it.

A (rows, cols) matrix becomes int8 values q and float32 scales s (rows, cols / group_size): in each
group of ``group_size`` consecutive inputs of a row, s = max|w| / 127 and q = round(w / s), so
w ~ q * s. At run time the activations are quantized the same way per group, the groups' int8 dot
products are summed exactly in int32, and each group's sum is scaled by both scales.

These are the NumPy references (and the test oracle) of the int8 decode in csrc/llama.cpp.
"""
import numpy as np

Q_MAX = 127.0


def default_group_size(*dims, largest=64):
    """The largest power of two <= ``largest`` that divides every dim (runq.c's export rule)."""
    group = largest
    while group > 1 and any(d % group for d in dims):
        group //= 2
    return group


def quantize(w, group_size, ties_away=False):
    """(int8 values, float32 scales) of ``w`` (..., cols), cols a multiple of ``group_size``.

    Ties round to even, as llama2.c's export.py (torch.round) rounds weights; ``ties_away``
    rounds them away from zero, as runq.c (C's round) rounds activations.
    """
    w = np.asarray(w, np.float32)
    if group_size <= 0 or w.shape[-1] % group_size:
        raise ValueError(f"quantize: {w.shape[-1]} columns are not a multiple of the group size "
                         f"{group_size}")
    groups = w.reshape(*w.shape[:-1], -1, group_size)
    scales = (np.abs(groups).max(axis=-1) / np.float32(Q_MAX)).astype(np.float32)
    safe = np.where(scales > 0, scales, np.float32(1))  # an all-zero group stays zero
    scaled = groups / safe[..., None]
    rounded = np.copysign(np.floor(np.abs(scaled) + 0.5), scaled) if ties_away else np.round(scaled)
    q = rounded.astype(np.int8)
    return q.reshape(w.shape), scales


def dequantize(q, scales):
    """The float32 matrix that (q, scales) stands for."""
    group_size = q.shape[-1] // scales.shape[-1]
    groups = q.reshape(*q.shape[:-1], -1, group_size).astype(np.float32)
    return (groups * scales[..., None]).reshape(q.shape)


def q8_matmul(x, q, scales):
    """x (T, cols) float32 times the quantized (rows, cols) matrix transposed: (T, rows).

    x is quantized per group as the weights were; each group's int8 products are summed in int32
    (exact), then scaled by the activation's and the weight's group scales.
    """
    group_size = q.shape[-1] // scales.shape[-1]
    xq, xs = quantize(x, group_size, ties_away=True)
    t, g = x.shape[0], scales.shape[-1]
    xg = xq.reshape(t, g, group_size).astype(np.int32)
    wg = q.reshape(q.shape[0], g, group_size).astype(np.int32)
    sums = np.einsum("tgk,rgk->trg", xg, wg)  # exact int32 group sums
    return np.einsum("trg,tg,rg->tr", sums.astype(np.float32), xs, scales)
