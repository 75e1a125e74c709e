"""``pydynet.optim``: pydyfast's optimizers and schedulers, with PyDyNet's defaults and steps
where they differ from PyTorch's (SGD: momentum 0.5 and PyDyNet's Nesterov step by default;
Adadelta: PyDyNet's, an RMSprop; ExponentialLR: gamma 0.1 by default).

The schedulers follow PyTorch's schedules: PyDyNet 1.1's compound each step's factor onto the
previous rate (its StepLR multiplies by gamma**(epoch // step_size) at every step)."""
from .. import optim as _optim
from ..backend import array_module
from ..optim import (Adagrad, Adam, CosineAnnealingLR, MultiStepLR, Optimizer,  # noqa: F401
                     StepLR, _LRScheduler)


class SGD(_optim.SGD):
    """PyDyNet's SGD: ``v <- momentum * v + lr * g`` and ``theta <- theta - v``, then with
    ``nesterov`` (the default) also ``theta <- theta - lr * g``; ``g`` includes weight decay.

    Without ``nesterov`` this is PyTorch's momentum SGD; PyTorch's Nesterov step is
    ``theta - lr * (g + momentum * b)`` where PyDyNet's is ``theta - lr * (g + b)``."""

    def __init__(self, params, lr, momentum=0.5, weight_decay=0.0, nesterov=True):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         nesterov=nesterov)

    def _check_options(self, group):
        super()._check_options({**group, "nesterov": False})  # PyDyNet's needs no momentum

    def _update(self, param, grad, state, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        super()._update(param, grad, state, {**group, "weight_decay": 0.0, "nesterov": False})
        if group["nesterov"]:
            param -= group["lr"] * grad


class ExponentialLR(_optim.ExponentialLR):
    """PyDyNet's ExponentialLR: ``gamma`` defaults to 0.1 (PyTorch requires it)."""

    def __init__(self, optimizer, gamma=0.1, last_epoch=-1):
        super().__init__(optimizer, gamma=gamma, last_epoch=last_epoch)


class Adadelta(_optim.RMSprop):
    """PyDyNet's Adadelta, which is RMSprop with eps inside the root:
    ``G <- rho * G + (1 - rho) * g**2`` and ``theta <- theta - lr * g / sqrt(G + eps)``
    (PyTorch's Adadelta also keeps a running average of the updates)."""

    def __init__(self, params, lr=1.0, rho=0.9, weight_decay=0, eps=1e-6):
        super().__init__(params, lr=lr, alpha=rho, eps=eps, weight_decay=weight_decay)

    def _update(self, param, grad, state, group):
        xp = array_module(param)
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg = state.setdefault("square_avg", xp.zeros_like(param))
        square_avg *= group["alpha"]
        square_avg += (1 - group["alpha"]) * grad * grad
        param -= group["lr"] * grad / xp.sqrt(square_avg + group["eps"])
