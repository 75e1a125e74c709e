"""Parameter: a Tensor that a Module registers as trainable."""
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and is collected by ``Module.parameters()``."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True, dtype=None):
        if data is None:
            data = []
        super().__init__(data.data if isinstance(data, Tensor) else data, dtype=dtype,
                         requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
