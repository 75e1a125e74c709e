"""Benchmark cases of the softmax family, float32: softmax and log_softmax on (1024, 1024) over
the last axis, cross-entropy of (4096, 32000) logits (a language-model vocabulary) against
random class indices, mean reduction.
"""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case


def _softmax_case(name, shape):
    def setup(framework, device):
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        if framework == "torch":
            import torch
            return op_case(framework, device, [x], None, lambda t: getattr(torch, name)(t, -1))
        import pydyfast.functional as F
        return op_case(framework, device, [x], lambda t: getattr(F, name)(t, dim=-1), None)
    return setup


def _cross_entropy_case(rows, classes):
    def setup(framework, device):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((rows, classes), dtype=np.float32)
        target = rng.integers(0, classes, rows)
        if framework == "torch":
            import torch
            t = torch.tensor(target, device=device)
            return op_case(framework, device, [x], None,
                           lambda v: torch.nn.functional.cross_entropy(v, t))
        import pydyfast
        import pydyfast.functional as F
        t = pydyfast.Tensor(target, device=device)
        return op_case(framework, device, [x], lambda v: F.cross_entropy(v, t), None)
    return setup


CASES = [
    KernelCase("softmax", "(1024, 1024), last axis, f32", _softmax_case("softmax", (1024, 1024))),
    KernelCase("log_softmax", "(1024, 1024), last axis, f32",
               _softmax_case("log_softmax", (1024, 1024))),
    KernelCase("cross_entropy", "logits (4096, 32000), int targets, mean, f32",
               _cross_entropy_case(4096, 32000)),
]
