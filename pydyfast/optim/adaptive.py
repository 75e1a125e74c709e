"""Optimizers with per-coordinate step sizes from running gradient statistics: Adagrad,
Adadelta, RMSprop (torch.optim's update rules, including the order of operations)."""
import numpy as np

from ..tensor import Tensor
from .adam import zeros_state
from .optimizer import Optimizer

# numpy ufuncs and zeros_like dispatch to cupy for cupy arrays (NEP 13/18), so these reference
# updates run unchanged on both devices.


def _decayed(grad, param, weight_decay):
    """The gradient with L2 weight decay added (a new array; the caller's grad is untouched)."""
    return grad + weight_decay * param if weight_decay else grad


def _check_non_negative(name, group, keys):
    for key in keys:
        if group[key] < 0:
            raise ValueError(f"{name}: invalid {key} {group[key]} (expected >= 0)")


class Adagrad(Optimizer):
    r"""Adagrad: :math:`s \leftarrow s + g^2`, :math:`\theta \leftarrow \theta -
    \frac{\eta}{1 + (t-1)\,\mathrm{lr\_decay}} \frac{g}{\sqrt{s} + \epsilon}`.

    ``fused`` (default: when the compiled kernels are loaded) updates every parameter of a group
    in one compiled pass, ``_C.adagrad_step``; ``fused=False`` or a ``foreach`` choice takes the
    NumPy reference. State: ``step`` (an int) and ``sum`` (a Tensor), made at the first step.
    """

    _fused_kernel_name = "adagrad_step"

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, foreach=None, *, maximize=False,
                 fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, foreach=foreach, maximize=maximize, fused=fused))

    def _check_options(self, group):
        super()._check_options(group)
        _check_non_negative("Adagrad", group, ("lr_decay", "initial_accumulator_value", "eps"))

    def _init_state(self, param, state, group):
        state["step"] = 0
        state["sum"] = Tensor._wrap(np.full_like(param, group["initial_accumulator_value"]))

    def _fused_update(self, kernel, group, batch):
        params, grads, states = zip(*batch)
        kernel(list(params), list(grads), [s["sum"].data for s in states],
               [s["step"] for s in states], group["lr"], group["lr_decay"],
               group["weight_decay"], group["eps"], group["maximize"])

    def _update(self, param, grad, state, group):
        grad = _decayed(grad, param, group["weight_decay"])
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state_sum = state["sum"].data
        state_sum += grad * grad
        param -= clr * (grad / (np.sqrt(state_sum) + group["eps"]))


class Adadelta(Optimizer):
    r"""Adadelta: :math:`v \leftarrow \rho v + (1-\rho) g^2`, :math:`\Delta = \frac{\sqrt{u +
    \epsilon}}{\sqrt{v + \epsilon}} g`, :math:`u \leftarrow \rho u + (1-\rho)\Delta^2`,
    :math:`\theta \leftarrow \theta - \eta \Delta`. No fused kernel: ``foreach`` is accepted
    for torch's signature and every path runs the NumPy/CuPy update."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _check_options(self, group):
        super()._check_options(group)
        if not 0 <= group["rho"] <= 1:
            raise ValueError(f"Adadelta: invalid rho {group['rho']} (expected in [0, 1])")
        _check_non_negative("Adadelta", group, ("eps",))

    def _init_state(self, param, state, group):
        state["step"] = 0
        state["square_avg"] = zeros_state(param)
        state["acc_delta"] = zeros_state(param)

    def _update(self, param, grad, state, group):
        rho, eps = group["rho"], group["eps"]
        grad = _decayed(grad, param, group["weight_decay"])
        square_avg, acc_delta = state["square_avg"].data, state["acc_delta"].data
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
    a momentum buffer.

    ``fused`` (not a torch option here; default: when the compiled kernels are loaded) updates
    every parameter of a group in one compiled pass, ``_C.rmsprop_step``; ``fused=False`` or a
    ``foreach`` choice takes the NumPy reference. State: ``step`` (an int), ``square_avg``,
    with momentum ``momentum_buffer``, centered ``grad_avg`` (Tensors).
    """

    _fused_kernel_name = "rmsprop_step"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, foreach=None, maximize=False, fused=None):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, foreach=foreach,
                                      maximize=maximize, fused=fused))

    def _check_options(self, group):
        super()._check_options(group)
        _check_non_negative("RMSprop", group, ("alpha", "momentum", "eps"))

    def _init_state(self, param, state, group):
        state["step"] = 0
        state["square_avg"] = zeros_state(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(param)
        if group["centered"]:
            state["grad_avg"] = zeros_state(param)

    def _fused_update(self, kernel, group, batch):
        params, grads, states = zip(*batch)
        kernel(list(params), list(grads), [s["square_avg"].data for s in states],
               [s["grad_avg"].data for s in states] if group["centered"] else [],
               [s["momentum_buffer"].data for s in states] if group["momentum"] > 0 else [],
               group["lr"], group["alpha"], group["eps"], group["weight_decay"],
               group["momentum"], group["centered"], group["maximize"])

    def _update(self, param, grad, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        grad = _decayed(grad, param, group["weight_decay"])
        square_avg = state["square_avg"].data
        # One scratch array reused with out= ufuncs (temporaries dominate on large tensors; an
        # explicit out= keeps a 0-d parameter's scratch an array, not a numpy scalar).
        tmp = np.multiply(grad, grad, out=np.empty_like(square_avg))
        tmp *= 1 - alpha
        square_avg *= alpha
        square_avg += tmp
        if group["centered"]:
            grad_avg = state["grad_avg"].data
            np.subtract(grad, grad_avg, out=tmp)
            tmp *= 1 - alpha
            grad_avg += tmp
            np.multiply(grad_avg, grad_avg, out=tmp)
            np.subtract(square_avg, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(square_avg, out=tmp)
        tmp += group["eps"]
        np.divide(grad, tmp, out=tmp)
        if momentum > 0:
            buf = state["momentum_buffer"].data
            buf *= momentum
            buf += tmp
            np.multiply(buf, group["lr"], out=tmp)
        else:
            tmp *= group["lr"]
        param -= tmp
