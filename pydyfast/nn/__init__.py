"""Neural-network layers, losses and helpers (``pydyfast.nn``, as ``torch.nn``)."""
from . import functional  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module, ModuleDict, ModuleList, Sequential  # noqa: F401
from .parameter import Parameter  # noqa: F401
from . import init, utils  # noqa: F401,E402
from . import parallel  # noqa: F401,E402
