"""Benchmark cases of the norm family, float32 on x (11520, 512) (a ViT-B-sized batch of
token rows) normalised over its last axis: layer_norm with weight and bias, rms_norm with
weight.
"""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case


def _norm_case(name, shape, with_bias):
    def setup(framework, device):
        rng = np.random.default_rng(0)
        arrays = [rng.standard_normal(shape).astype(np.float32),
                  rng.standard_normal(shape[-1:]).astype(np.float32)]
        if with_bias:
            arrays.append(rng.standard_normal(shape[-1:]).astype(np.float32))
        if framework == "torch":
            import torch.nn.functional as TF
            return op_case(framework, device, arrays, None,
                           lambda x, *p: getattr(TF, name)(x, shape[-1:], *p))
        import pydyfast.functional as F
        return op_case(framework, device, arrays,
                       lambda x, *p: getattr(F, name)(x, shape[-1:], *p), None)
    return setup


CASES = [
    KernelCase("layer_norm", "(11520, 512) over 512, weight + bias, f32",
               _norm_case("layer_norm", (11520, 512), True)),
    KernelCase("rms_norm", "(11520, 512) over 512, weight, f32",
               _norm_case("rms_norm", (11520, 512), False)),
]
