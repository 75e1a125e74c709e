"""``pydyfast.special``: PyDyNet's module of tensor factories (``zeros``, ``ones``, ``empty``,
``rand``, ``randn``, ``uniform``), the same functions as ``pydyfast.zeros`` etc.

(``torch.special`` holds special mathematical functions instead; none of those names clash.)
"""
from .creation import empty, ones, rand, randn, uniform, zeros  # noqa: F401
from .tensor import Tensor  # noqa: F401  (PyDyNet's special exports it too)
