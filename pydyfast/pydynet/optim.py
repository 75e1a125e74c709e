"""``pydynet.optim``: pydyfast's optimizers and schedulers, with PyDyNet's defaults where they
differ from PyTorch's (SGD with momentum 0.5 and Nesterov's update, ExponentialLR's gamma 0.1)."""
from .. import optim as _optim
from ..optim import (Adadelta, Adagrad, Adam, CosineAnnealingLR, MultiStepLR,  # noqa: F401
                     Optimizer, StepLR, _LRScheduler)


class SGD(_optim.SGD):
    """PyDyNet's SGD: momentum 0.5 with Nesterov's update unless told otherwise."""

    def __init__(self, params, lr, momentum=0.5, weight_decay=0.0, nesterov=True):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         nesterov=nesterov)


class ExponentialLR(_optim.ExponentialLR):
    """PyDyNet's ExponentialLR: ``gamma`` defaults to 0.1 (PyTorch requires it)."""

    def __init__(self, optimizer, gamma=0.1, last_epoch=-1):
        super().__init__(optimizer, gamma=gamma, last_epoch=last_epoch)
