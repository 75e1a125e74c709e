"""Benchmark cases of the matrix-product family (csrc/gemm.cpp), float32: ``linear`` at the
MLP benchmark's first two layers (batch 256) and at the Transformer benchmark's feed-forward
(11520 token rows), and ``bmm`` at its attention scores (1024 heads of 45 x 128). The "numpy"
column is numpy's matmul (OpenBLAS) under the same op.
"""
import numpy as np

from ..kernel_case import KernelCase
from ..kernels import op_case


def _linear_case(rows, in_features, out_features):
    def setup(framework, device):
        rng = np.random.default_rng(0)
        arrays = [rng.standard_normal((rows, in_features)).astype(np.float32),
                  rng.standard_normal((out_features, in_features)).astype(np.float32),
                  rng.standard_normal(out_features).astype(np.float32)]
        if framework == "torch":
            import torch.nn.functional as TF
            return op_case(framework, device, arrays, None, TF.linear)
        import pydyfast.nn.functional as F
        return op_case(framework, device, arrays, F.linear, None)
    return setup


def _bmm_case(batch, m, k, n):
    def setup(framework, device):
        rng = np.random.default_rng(0)
        arrays = [rng.standard_normal((batch, m, k)).astype(np.float32),
                  rng.standard_normal((batch, k, n)).astype(np.float32)]
        if framework == "torch":
            import torch
            return op_case(framework, device, arrays, None, torch.bmm)
        import pydyfast
        return op_case(framework, device, arrays, pydyfast.bmm, None)
    return setup


CASES = [
    KernelCase("linear_mlp1", "x (256, 784) W (1024, 784) + b, f32", _linear_case(256, 784, 1024)),
    KernelCase("linear_mlp2", "x (256, 1024) W (1024, 1024) + b, f32", _linear_case(256, 1024, 1024)),
    KernelCase("linear_ffn", "x (11520, 512) W (1536, 512) + b, f32", _linear_case(11520, 512, 1536)),
    KernelCase("bmm_scores", "(1024, 45, 128) @ (1024, 128, 45), f32", _bmm_case(1024, 45, 128, 45)),
]
