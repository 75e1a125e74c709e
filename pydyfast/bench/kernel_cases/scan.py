"""Benchmark cases of the scan family, float32 on (1024, 2048) along the last axis (2048-long
lines, as a sequence dimension): cumsum, cumprod, cummax (values), logcumsumexp."""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case

SHAPE = (1024, 2048)


def _scan_case(name, pick=lambda out: out):
    def setup(framework, device):
        x = np.random.default_rng(0).uniform(0.5, 1.5, SHAPE).astype(np.float32)
        if framework == "torch":
            import torch
            return op_case(framework, device, [x], None,
                           lambda t: pick(getattr(torch, name)(t, -1)))
        import pydyfast
        return op_case(framework, device, [x], lambda t: pick(getattr(pydyfast, name)(t, -1)),
                       None)
    return setup


CASES = [
    KernelCase("cumsum", "(1024, 2048), last axis, f32", _scan_case("cumsum")),
    KernelCase("cumprod", "(1024, 2048), last axis, f32", _scan_case("cumprod")),
    KernelCase("cummax", "(1024, 2048), last axis, values, f32",
               _scan_case("cummax", lambda out: out.values)),
    KernelCase("logcumsumexp", "(1024, 2048), last axis, f32", _scan_case("logcumsumexp")),
]
