"""Gradient clipping (``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``)."""
import math

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad.data for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    r"""Scale all gradients in place so that their joint norm is at most ``max_norm``.

    The total norm is :math:`\|(\|g_1\|_p, \|g_2\|_p, \dots)\|_p` over the parameters that have
    gradients (``norm_type`` p, ``inf`` for the max-abs norm); the gradients are multiplied by
    :math:`\min(1, \mathrm{max\_norm} / (\mathrm{total} + 10^{-6}))`.

    Returns
    -------
    Tensor
        The total norm before clipping (a 0-d float64 Tensor on the CPU).
    """
    grads = _grads(parameters)
    if not grads:
        return Tensor(0.0, dtype=np.float64)
    norm_type = float(norm_type)
    if norm_type == math.inf:
        norms = [float(np.abs(g).max()) if g.size else 0.0 for g in grads]
        total = max(norms)
    else:
        norms = [float((np.abs(g.astype(np.float64)) ** norm_type).sum()) for g in grads]
        total = sum(norms) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}; pass error_if_nonfinite=False to clip "
                           f"anyway")
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return Tensor(total, dtype=np.float64)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient in place to ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
