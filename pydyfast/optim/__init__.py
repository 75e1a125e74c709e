"""Optimizers and learning-rate schedulers (``pydyfast.optim``, as ``torch.optim``)."""
from . import lr_scheduler  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .adaptive import Adadelta, Adagrad, RMSprop  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .lr_scheduler import (CosineAnnealingLR, ExponentialLR, LRScheduler,  # noqa: F401
                           MultiStepLR, StepLR)

_LRScheduler = LRScheduler  # PyDyNet's (and older torch's) name of the base class
