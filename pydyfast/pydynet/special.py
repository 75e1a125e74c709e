"""PyDyNet's creation functions (``pydynet.special``): pydyfast's, with NumPy's float64 default.

PyDyNet builds arrays with NumPy, so a floating tensor made without ``dtype=`` is float64;
``pydyfast`` follows PyTorch (float32)."""
import functools

import numpy as np

from .. import creation as _creation
from .core import Tensor  # noqa: F401  (PyDyNet's special exports it too)


def _float64_by_default(factory):
    @functools.wraps(factory)
    def create(*args, dtype=None, **kwargs):
        return factory(*args, dtype=np.float64 if dtype is None else dtype, **kwargs)

    return create


zeros = _float64_by_default(_creation.zeros)
ones = _float64_by_default(_creation.ones)
empty = _float64_by_default(_creation.empty)
rand = _float64_by_default(_creation.rand)
randn = _float64_by_default(_creation.randn)
uniform = _float64_by_default(_creation.uniform)
