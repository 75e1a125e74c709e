"""Benchmark cases of the sort family, float32: top-50 of 32 rows of 50257 logits (top-k
sampling over a GPT-2 vocabulary), and top-5 of (4096, 1000) (classification accuracy)."""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case


def _topk_case(shape, k):
    def setup(framework, device):
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        if framework == "torch":
            import torch
            return op_case(framework, device, [x], None, lambda t: torch.topk(t, k).values)
        import pydyfast
        return op_case(framework, device, [x], lambda t: pydyfast.topk(t, k).values, None)
    return setup


CASES = [
    KernelCase("topk_sampling", "(32, 50257), k=50, f32", _topk_case((32, 50257), 50)),
    KernelCase("topk_classes", "(4096, 1000), k=5, f32", _topk_case((4096, 1000), 5)),
]
