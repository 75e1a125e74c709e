"""Layers, one topic per file (PyTorch's nn/modules habit)."""
from .container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .module import Module  # noqa: F401
from .rnn import *  # noqa: F401,F403
