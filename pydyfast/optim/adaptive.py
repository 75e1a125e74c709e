"""Optimizers with per-coordinate step sizes from running gradient statistics: Adagrad,
Adadelta, RMSprop (torch.optim's update rules, including the order of operations)."""
import numpy as np

from .optimizer import Optimizer

# numpy ufuncs and zeros_like dispatch to cupy for cupy arrays (NEP 13/18), so these updates
# run unchanged on both devices.


def _decayed(grad, param, weight_decay):
    """The gradient with L2 weight decay added (a new array; the caller's grad is untouched)."""
    return grad + weight_decay * param if weight_decay else grad


class Adagrad(Optimizer):
    r"""Adagrad: :math:`s \leftarrow s + g^2`, :math:`\theta \leftarrow \theta -
    \frac{\eta}{1 + (t-1)\,\mathrm{lr\_decay}} \frac{g}{\sqrt{s} + \epsilon}`."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        grad = _decayed(grad, param, group["weight_decay"])
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= clr * (grad / (np.sqrt(state["sum"]) + group["eps"]))


class Adadelta(Optimizer):
    r"""Adadelta: :math:`v \leftarrow \rho v + (1-\rho) g^2`, :math:`\Delta = \frac{\sqrt{u +
    \epsilon}}{\sqrt{v + \epsilon}} g`, :math:`u \leftarrow \rho u + (1-\rho)\Delta^2`,
    :math:`\theta \leftarrow \theta - \eta \Delta`."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _check_options(self, group):
        super()._check_options(group)
        if not 0 <= group["rho"] <= 1:
            raise ValueError(f"Adadelta: invalid rho {group['rho']} (expected in [0, 1])")

    def _update(self, param, grad, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        grad = _decayed(grad, param, group["weight_decay"])
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param -= group["lr"] * delta


class RMSprop(Optimizer):
    r"""RMSprop: :math:`v \leftarrow \alpha v + (1-\alpha) g^2`; the step divides by
    :math:`\sqrt{v} + \epsilon` (``centered``: :math:`\sqrt{v - \bar g^2} + \epsilon` with the
    running mean gradient :math:`\bar g`); with ``momentum`` the scaled gradient goes through
    a momentum buffer."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=maximize))

    def _check_options(self, group):
        super()._check_options(group)
        if group["alpha"] < 0 or group["momentum"] < 0:
            raise ValueError(f"RMSprop: invalid alpha {group['alpha']} or momentum "
                             f"{group['momentum']} (expected >= 0)")

    def _update(self, param, grad, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        grad = _decayed(grad, param, group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (grad - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * (grad / avg)
