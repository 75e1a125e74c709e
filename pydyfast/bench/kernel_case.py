"""The contract between ``python -m pydyfast.bench kernels`` and the kernel families.

Each family lists its cases in ``pydyfast/bench/kernel_cases/<family>.py`` as ``CASES``, a list
of KernelCase. The runner measures each case once per framework, each framework in its own
process (two frameworks' thread pools in one process distort both).
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class KernelCase:
    """One benchmarked kernel.

    name: short id, e.g. "conv2d".
    shape: the documented shapes and dtype, e.g. "N=64 C=16 28x28, 32 filters 3x3, pad 1, f32".
    setup: ``setup(framework, device)`` with framework in {"pydyfast", "numpy", "torch"} and
        device in {"cpu", "cuda"}; builds the inputs and returns a dict with a zero-argument
        callable "forward" and optionally "backward" (which times the backward only: it may
        rely on state that "forward" prepared once in setup). "pydyfast" runs the compiled
        kernel, "numpy" the NumPy reference of the same op, "torch" the PyTorch equivalent.
        Raise NotImplementedError for a framework/device the case cannot run on.
    """

    name: str
    shape: str
    setup: Callable
