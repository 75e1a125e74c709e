"""Benchmark cases of the resample family, float32 on x (16, 32, 56, 56): reflect padding by 1
and bilinear 2x upsampling (forward and backward through F.pad / F.interpolate)."""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case

_rng = np.random.default_rng(0)
_SHAPE = (16, 32, 56, 56)


def _case(name, *args, **kwargs):
    def setup(framework, device):
        x = _rng.standard_normal(_SHAPE).astype(np.float32)
        if framework == "torch":
            import torch.nn.functional as TF
            return op_case(framework, device, [x], None,
                           lambda t: getattr(TF, name)(t, *args, **kwargs))
        import pydyfast.nn.functional as F
        return op_case(framework, device, [x], lambda t: getattr(F, name)(t, *args, **kwargs),
                       None)
    return setup


CASES = [
    KernelCase("pad_reflect", "(16, 32, 56, 56), pad 1 reflect, f32",
               _case("pad", (1, 1, 1, 1), mode="reflect")),
    KernelCase("interpolate_bilinear", "(16, 32, 56, 56) -> 112x112 bilinear, f32",
               _case("interpolate", scale_factor=2, mode="bilinear")),
]
