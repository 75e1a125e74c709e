"""The kernel-backed functional ops on the GPU (through backend.dispatch and the CUDA launchers)
against the same ops on the CPU (the C++ kernels), forward and backward.

Skipped without a GPU (fixture ``cp``).
"""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.functional as F
from pydyfast.ops import attention as attention_ops


def _leaves(shapes, dtype, device):
    rng = np.random.default_rng(1)  # the same values on both devices
    return [pdf.Tensor(rng.standard_normal(s).astype(dtype), device=device, requires_grad=True)
            for s in shapes]


def _run(fn, shapes, dtype, device, extra):
    leaves = _leaves(shapes, dtype, device)
    out = fn(*leaves, **extra(device))
    outs = out if isinstance(out, tuple) else (out,)
    total = sum((o * (i + 1.5)).sum() for i, o in enumerate(outs))  # every output in the loss
    total.backward()
    return outs, [t.grad for t in leaves]


def _no_extra(device):
    return {}


def _targets(device):
    return {"target": pdf.Tensor(np.array([3, 0, 9, 2, 3], np.int64), device=device)}


def _rope(device):
    cos, sin = attention_ops.rope_tables(16, 12, dtype=np.float64)
    return {"cos": pdf.Tensor(cos[:12], device=device), "sin": pdf.Tensor(sin[:12], device=device)}


# name -> (call, input shapes, non-differentiable extras built on the device)
CASES = {
    "softmax": (lambda x: F.softmax(x, dim=-1), [(4, 37)], _no_extra),
    "softmax_axis0": (lambda x: F.softmax(x, axis=0), [(5, 6)], _no_extra),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), [(3, 1025)], _no_extra),
    "cross_entropy": (lambda x, target: F.cross_entropy(x, target, label_smoothing=0.1),
                      [(5, 11)], _targets),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (24,), w, b), [(3, 5, 24), (24,), (24,)],
                   _no_extra),
    "rms_norm": (lambda x, w: F.rms_norm(x, (24,), w, 1e-6), [(7, 24), (24,)], _no_extra),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1),
               [(2, 3, 9, 9), (4, 3, 3, 3), (4,)], _no_extra),
    "conv1d": (lambda x, w: F.conv1d(x, w, stride=2, padding=1), [(2, 3, 11), (5, 3, 3)],
               _no_extra),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [(2, 3, 9, 9)],
                   _no_extra),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2, ceil_mode=True), [(2, 3, 7, 7)], _no_extra),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 4)), [(2, 3, 7, 9)],
                            _no_extra),
    "gru_cell": (lambda x, h, wi, wh, bi, bh: F.gru_cell(x, h, wi, wh, bi, bh),
                 [(4, 6), (4, 5), (15, 6), (15, 5), (15,), (15,)], _no_extra),
    "lstm_cell": (lambda x, h, c, wi, wh: F.lstm_cell(x, (h, c), wi, wh),
                  [(4, 6), (4, 5), (4, 5), (20, 6), (20, 5)], _no_extra),
    "sdpa_causal": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                    [(2, 3, 7, 8), (2, 3, 7, 8), (2, 3, 7, 8)], _no_extra),
    "apply_rotary": (lambda x, cos, sin: attention_ops.apply_rotary(x, cos, sin),
                     [(2, 3, 12, 16)], _rope),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_kernel_op_on_gpu_matches_cpu(cp, close, dtype, name):
    fn, shapes, extra = CASES[name]
    cpu_outs, cpu_grads = _run(fn, shapes, dtype, "cpu", extra)
    gpu_outs, gpu_grads = _run(fn, shapes, dtype, "cuda", extra)
    for i, (g, c) in enumerate(zip(gpu_outs, cpu_outs)):
        assert g.is_cuda
        close(g, c, dtype, f"{name} output {i}")
    for i, (g, c) in enumerate(zip(gpu_grads, cpu_grads)):
        close(g, c, dtype, f"{name} gradient of input {i}")


def test_decode_attention_on_gpu_matches_cpu(cp, close, dtype, rng):
    decode = attention_ops.decode_attention
    q = rng.standard_normal((2, 6, 16)).astype(dtype)
    k, v = (rng.standard_normal((2, 3, 32, 16)).astype(dtype) for _ in range(2))
    cpu = decode(pdf.Tensor(q), k, v, 20)
    gpu = decode(pdf.Tensor(q, device="cuda"), cp.asarray(k), cp.asarray(v), 20)
    close(gpu, cpu, dtype)
