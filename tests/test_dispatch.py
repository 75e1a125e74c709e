"""backend.dispatch owns layout and lookup: strided inputs reach every compiled kernel family as
C-contiguous arrays (and give what torch gives on both kernel paths), the bindings themselves
never convert, and a missing CUDA launcher is an error rather than a silent fallback."""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.nn.functional as F
from pydyfast import backend

from oracle import compare_with_torch, torch

TF = torch.nn.functional

# Each case slices or transposes inside the function, so the op receives a strided view.
STRIDED_CASES = {
    "layer_norm_strided_params": (
        lambda x, w, b: F.layer_norm(x, (4,), weight=w[::2], bias=b[::2]),
        lambda x, w, b: TF.layer_norm(x, (4,), weight=w[::2], bias=b[::2]),
        [(3, 4), (8,), (8,)]),
    "layer_norm_transposed_input": (
        lambda x: F.layer_norm(x.transpose(0, 1), (3,)),
        lambda x: TF.layer_norm(x.transpose(0, 1), (3,)), [(3, 5)]),
    "rms_norm_strided_weight": (
        lambda x, w: F.rms_norm(x[:, ::2], (3,), weight=w[::2], eps=1e-6),
        lambda x, w: TF.rms_norm(x[:, ::2], (3,), weight=w[::2], eps=1e-6), [(4, 6), (6,)]),
    "softmax_transposed": (
        lambda x: F.softmax(x.transpose(0, 1), dim=-1),
        lambda x: TF.softmax(x.transpose(0, 1), dim=-1), [(5, 3)]),
    "log_softmax_strided": (
        lambda x: F.log_softmax(x[:, ::2], dim=1),
        lambda x: TF.log_softmax(x[:, ::2], dim=1), [(4, 10)]),
    "cross_entropy_strided_logits": (
        lambda x: F.cross_entropy(x[:, ::2], pdf.tensor(np.array([0, 2, 1, 4]))),
        lambda x: TF.cross_entropy(x[:, ::2], torch.tensor([0, 2, 1, 4])), [(4, 10)]),
    "max_pool2d_strided": (
        lambda x: F.max_pool2d(x[..., ::2], 2),
        lambda x: TF.max_pool2d(x[..., ::2], 2), [(2, 3, 6, 8)]),
    "avg_pool2d_strided": (
        lambda x: F.avg_pool2d(x[..., ::2], 2),
        lambda x: TF.avg_pool2d(x[..., ::2], 2), [(2, 3, 6, 8)]),
    "conv2d_strided": (
        lambda x, w: F.conv2d(x[..., ::2], w[:, :, ::2]),
        lambda x, w: TF.conv2d(x[..., ::2], w[:, :, ::2]), [(2, 3, 6, 10), (4, 3, 6, 3)]),
    "attention_transposed": (
        lambda q, k, v: F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                                       v.transpose(1, 2), is_causal=True),
        lambda q, k, v: TF.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                                        v.transpose(1, 2), is_causal=True),
        [(2, 5, 3, 4)] * 3),
}


@pytest.mark.parametrize("case", sorted(STRIDED_CASES))
def test_strided_inputs_match_torch_on_both_kernel_paths(case, kernels, dtype, rng):
    pd_fn, th_fn, shapes = STRIDED_CASES[case]
    arrays = [rng.standard_normal(s) for s in shapes]
    compare_with_torch(pd_fn, th_fn, arrays, dtype)


class _RecordingC:
    """Stands in for pydyfast._C: records each kernel call and whether every array argument
    arrived C-contiguous, then runs the real kernel."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def __getattr__(self, name):
        fn = getattr(self.real, name)

        def call(*args, **kwargs):
            arrays = [a for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray)]
            self.calls.append((name, all(a.flags.c_contiguous for a in arrays)))
            return fn(*args, **kwargs)
        return call


@pytest.mark.skipif(backend._C is None, reason="pydyfast._C is not built")
def test_dispatch_hands_the_compiled_kernel_contiguous_arrays(monkeypatch, rng):
    recorder = _RecordingC(backend._C)
    monkeypatch.setattr(backend, "_C", recorder)
    monkeypatch.setattr(backend, "_kernels", "native")
    x = pdf.tensor(rng.standard_normal((3, 8)).astype(np.float32), requires_grad=True)
    w = pdf.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
    F.layer_norm(x[:, ::2], (4,), weight=w[::2]).sum().backward()
    assert [name for name, _ in recorder.calls] == ["layer_norm_fwd", "layer_norm_bwd"]
    assert all(contiguous for _, contiguous in recorder.calls), recorder.calls


@pytest.mark.skipif(backend._C is None, reason="pydyfast._C is not built")
def test_bindings_reject_strided_arrays_instead_of_copying():
    """The copy belongs to dispatch: a kernel called directly with a strided array or another
    dtype raises instead of converting silently."""
    strided = np.ones((4, 6), np.float32)[:, ::2]
    for call in (lambda: backend._C.softmax_fwd(strided),
                 lambda: backend._C.max_pool2d_fwd(np.ones((1, 1, 4, 8))[..., ::2], (2, 2),
                                                   (2, 2), (0, 0), (1, 1), (2, 2)),
                 lambda: backend._C.softmax_fwd(np.ones((4, 3), np.int64))):
        with pytest.raises(TypeError, match="incompatible function arguments"):
            call()


def test_every_launcher_is_found_by_its_kernel_name_and_a_missing_one_raises():
    from pydyfast import cuda_launch
    assert backend._cuda_launcher("layer_norm_fwd") is cuda_launch.norm.layer_norm_fwd
    assert backend._cuda_launcher("max_pool2d_bwd") is cuda_launch.pool.max_pool2d_bwd
    with pytest.raises(LookupError, match="no CUDA launcher named 'no_such_kernel'"):
        backend._cuda_launcher("no_such_kernel")
