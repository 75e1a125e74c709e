"""Adam and AdamW (decoupled weight decay), both with optional AMSGrad."""
import math

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    r"""Adam as in ``torch.optim.Adam``.

    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2)
    g^2`, :math:`\theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t} \frac{m}{\sqrt{v}/
    \sqrt{1-\beta_2^t} + \epsilon}`; AMSGrad uses the running maximum of :math:`v`. Adam adds
    ``weight_decay * theta`` to the gradient (L2); AdamW shrinks ``theta`` directly.
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _check_options(self, group):
        super()._check_options(group)
        beta1, beta2 = group["betas"]
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"{type(self).__name__}: invalid betas {group['betas']} "
                             f"(expected each in [0, 1))")
        if group["eps"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid eps {group['eps']}")

    def _update(self, param, grad, state, group):
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        if wd and self._decoupled:
            param *= 1 - lr * wd
        elif wd:
            grad = grad + wd * param
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            # numpy ufuncs and zeros_like dispatch to cupy for cupy arrays (NEP 13/18).
            second = np.maximum(state["max_exp_avg_sq"], exp_avg_sq,
                                out=state["max_exp_avg_sq"])
        else:
            second = exp_avg_sq
        denom = np.sqrt(second) / math.sqrt(1 - beta2 ** step) + eps
        param -= (lr / (1 - beta1 ** step)) * (exp_avg / denom)



class AdamW(Adam):
    """Adam with decoupled weight decay (``torch.optim.AdamW``): ``theta *= 1 - lr * wd``
    before the Adam step; ``weight_decay`` defaults to 1e-2."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
