"""Adam and AdamW (decoupled weight decay), both with optional AMSGrad."""
import math

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer

# numpy ufuncs (with out=) and zeros_like dispatch to cupy for cupy arrays (NEP 13/18), so the
# reference update below runs unchanged on both devices.


def zeros_state(param):
    """A zero state Tensor shaped and laid out like ``param``, on its device."""
    return Tensor._wrap(np.zeros_like(param))


class Adam(Optimizer):
    r"""Adam as in ``torch.optim.Adam``.

    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2)
    g^2`, :math:`\theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t} \frac{m}{\sqrt{v}/
    \sqrt{1-\beta_2^t} + \epsilon}`; AMSGrad uses the running maximum of :math:`v`. Adam adds
    ``weight_decay * theta`` to the gradient (L2); AdamW (or ``decoupled_weight_decay=True``)
    shrinks ``theta`` by ``1 - lr * weight_decay`` first.

    ``fused`` (default: when the compiled kernels are loaded) updates every parameter of a group
    in one compiled pass, ``_C.adam_step``; ``fused=False`` or a ``foreach`` choice takes the
    NumPy reference, which is also the path of cupy arrays. State per parameter: ``step`` (an
    int), ``exp_avg``, ``exp_avg_sq`` and with AMSGrad ``max_exp_avg_sq`` (Tensors).
    """

    _fused_kernel_name = "adam_step"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, foreach=None, maximize=False, fused=None,
                 decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check_options(self, group):
        super()._check_options(group)
        beta1, beta2 = group["betas"]
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"{type(self).__name__}: invalid betas {group['betas']} "
                             f"(expected each in [0, 1))")
        if group["eps"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid eps {group['eps']} "
                             f"(expected >= 0)")

    def _init_state(self, param, state, group):
        state["step"] = 0
        state["exp_avg"] = zeros_state(param)
        state["exp_avg_sq"] = zeros_state(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(param)

    def _fused_update(self, kernel, group, batch):
        params, grads, states = zip(*batch)
        beta1, beta2 = group["betas"]
        kernel(list(params), list(grads), [s["exp_avg"].data for s in states],
               [s["exp_avg_sq"].data for s in states],
               [s["max_exp_avg_sq"].data for s in states] if group["amsgrad"] else [],
               [s["step"] for s in states], group["lr"], beta1, beta2, group["eps"],
               group["weight_decay"], group["decoupled_weight_decay"], group["maximize"])

    def _update(self, param, grad, state, group):
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        step = state["step"]
        if wd and group["decoupled_weight_decay"]:
            param *= 1 - lr * wd
        elif wd:
            grad = grad + wd * param
        exp_avg, exp_avg_sq = state["exp_avg"].data, state["exp_avg_sq"].data
        # One scratch array, reused through the update with out= ufuncs: temporaries of the
        # parameter's size cost more than the arithmetic on large tensors. (An explicit out=
        # also keeps a 0-d parameter's scratch an array, not a numpy scalar.)
        tmp = np.subtract(grad, exp_avg, out=np.empty_like(exp_avg))
        tmp *= 1 - beta1
        exp_avg += tmp
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - beta2
        exp_avg_sq *= beta2
        exp_avg_sq += tmp
        if group["amsgrad"]:
            max_exp_avg_sq = state["max_exp_avg_sq"].data
            second = np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        else:
            second = exp_avg_sq
        np.sqrt(second, out=tmp)
        tmp /= math.sqrt(1 - beta2 ** step)
        tmp += eps
        np.divide(exp_avg, tmp, out=tmp)
        tmp *= lr / (1 - beta1 ** step)
        param -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch.optim.AdamW``): ``theta *= 1 - lr * wd``
    before the Adam step; ``weight_decay`` defaults to 1e-2."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, foreach=None, maximize=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize, fused=fused,
                         decoupled_weight_decay=True)
