"""Benchmark cases of the pool family, all float32 on x (64, 32, 28, 28) (the conv2d output
of the conv family) or (64, 32, 256) for 1-D.

max_pool2d / avg_pool2d: 2x2, stride 2.  adaptive_avg_pool2d: to 7x7.  max_pool1d: k=2.
"""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case

_rng = np.random.default_rng(0)


def _case(shape, pydyfast_name, torch_name, *args):
    def setup(framework, device):
        import pydyfast.functional as F
        x = _rng.standard_normal(shape).astype(np.float32)
        if framework == "torch":
            import torch.nn.functional as TF
            return op_case(framework, device, [x], None,
                           lambda t: getattr(TF, torch_name)(t, *args))
        return op_case(framework, device, [x], lambda t: getattr(F, pydyfast_name)(t, *args),
                       None)
    return setup


CASES = [
    KernelCase("max_pool2d", "(64, 32, 28, 28), 2x2 stride 2, f32",
               _case((64, 32, 28, 28), "max_pool2d", "max_pool2d", 2)),
    KernelCase("avg_pool2d", "(64, 32, 28, 28), 2x2 stride 2, f32",
               _case((64, 32, 28, 28), "avg_pool2d", "avg_pool2d", 2)),
    KernelCase("adaptive_avg_pool2d", "(64, 32, 28, 28) -> 7x7, f32",
               _case((64, 32, 28, 28), "adaptive_avg_pool2d", "adaptive_avg_pool2d", 7)),
    KernelCase("max_pool1d", "(64, 32, 256), k=2 stride 2, f32",
               _case((64, 32, 256), "max_pool1d", "max_pool1d", 2)),
]
