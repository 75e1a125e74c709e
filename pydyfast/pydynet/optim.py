"""``pydynet.optim``: pydyfast's optimizers and schedulers (the same classes)."""
from ..optim import (SGD, Adadelta, Adagrad, Adam, CosineAnnealingLR,  # noqa: F401
                     ExponentialLR, MultiStepLR, Optimizer, StepLR, _LRScheduler)
