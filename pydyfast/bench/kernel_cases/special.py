"""Benchmark cases of the special-function family, float32: erf and the exact gelu that uses it,
elementwise on (1024, 4096) (a transformer MLP activation)."""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case


def _elementwise_case(name, shape):
    """``name`` is a function of torch.special/torch.nn.functional and pydyfast's functional."""
    def setup(framework, device):
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        if framework == "torch":
            import torch
            fn = torch.special.erf if name == "erf" else torch.nn.functional.gelu
            return op_case(framework, device, [x], None, fn)
        import pydyfast.nn.functional as F
        return op_case(framework, device, [x], getattr(F, name), None)
    return setup


CASES = [
    KernelCase("erf", "(1024, 4096), f32", _elementwise_case("erf", (1024, 4096))),
    KernelCase("gelu", "(1024, 4096), exact (erf), f32", _elementwise_case("gelu", (1024, 4096))),
]
