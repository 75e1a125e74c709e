"""The core ops on device='cuda' (cupy arrays) against the same ops on the CPU, forward and
backward; device moves; the error for mixed devices. Skipped without a GPU (fixture ``cp``)."""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.functional as F


def _pair(rng, shape, dtype):
    """The same leaf on the CPU and on the GPU."""
    a = rng.standard_normal(shape).astype(dtype)
    return pdf.Tensor(a, requires_grad=True), pdf.Tensor(a, device="cuda", requires_grad=True)


def _check_same_on_both_devices(fn, shapes, dtype, rng, close):
    pairs = [_pair(rng, s, dtype) for s in shapes]
    cpu_out = fn(*[p[0] for p in pairs])
    gpu_out = fn(*[p[1] for p in pairs])
    assert gpu_out.device == "cuda:0" and gpu_out.is_cuda
    close(gpu_out, cpu_out, dtype, "forward")
    g = rng.standard_normal(cpu_out.shape).astype(dtype)
    cpu_out.backward(pdf.Tensor(g))
    gpu_out.backward(pdf.Tensor(g, device="cuda"))
    for i, (c, d) in enumerate(pairs):
        assert d.grad.is_cuda
        close(d.grad, c.grad, dtype, f"gradient of input {i}")


CORE_OPS = {
    "add_broadcast": (lambda a, b: a + b, [(3, 4), (4,)]),
    "mul_scalar": (lambda a: a * 2.5 - 1, [(5,)]),
    "div": (lambda a, b: a / (b * b + 1), [(2, 3), (2, 3)]),
    "pow": (lambda a: (a * a + 1) ** 1.5, [(4, 2)]),
    "unary": (lambda a: F.exp(F.tanh(a)) + F.sigmoid(a) + F.relu(a) + F.abs(a) + F.sin(a), [(7,)]),
    "log_sqrt": (lambda a: F.log(a * a + 1) + F.sqrt(a * a + 2), [(3, 3)]),
    "sum_mean": (lambda a: a.sum(axis=1) + a.mean(axis=1), [(4, 5)]),
    "max_var": (lambda a: a.max(axis=0) + a.var(axis=0), [(6, 3)]),
    "logsumexp": (lambda a: F.logsumexp(a, axis=-1), [(3, 8)]),
    "reshape_transpose": (lambda a: a.reshape(6, 4).T * 1.0, [(2, 3, 4)]),
    "permute": (lambda a: a.permute(2, 0, 1), [(2, 3, 4)]),
    "cat_stack": (lambda a, b: F.cat([a, F.stack([b, b])[0]], axis=0), [(2, 3), (1, 3)]),
    "getitem": (lambda a: a[1:, ::2] + a[[0, 2], 1:2], [(3, 4)]),
    "matmul": (lambda a, b: a @ b, [(5, 3), (3, 2)]),
    "batched_matmul": (lambda a, b: F.matmul(a, b), [(2, 4, 3), (3, 5)]),
    "where_clip": (lambda a, b: F.where(a > 0, a, b) + F.clip(a, -0.5, 0.5), [(4, 4), (4, 4)]),
    "masked_fill": (lambda a: F.masked_fill(a, a < 0, 0.0), [(3, 5)]),
}


@pytest.mark.parametrize("name", sorted(CORE_OPS))
def test_core_op_on_gpu_matches_cpu(cp, close, dtype, rng, name):
    fn, shapes = CORE_OPS[name]
    _check_same_on_both_devices(fn, shapes, dtype, rng, close)


def test_device_moves_keep_values_and_gradients(cp, rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    x = pdf.Tensor(a, requires_grad=True)
    y = x.cuda()
    assert y.is_cuda and y.device == pdf.device("cuda", 0) and type(y.data) is cp.ndarray
    assert x.to("cuda") is not x and y.to("cuda:0") is y
    z = (y * 2).cpu()
    assert not z.is_cuda and np.array_equal(z.numpy(), 2 * a)
    z.sum().backward()
    assert not x.grad.is_cuda and np.array_equal(x.grad.numpy(), np.full((2, 3), 2, np.float32))
    assert pdf.zeros(2, 2, device="cuda").is_cuda and pdf.randn(3, device="cuda").is_cuda


def test_mixed_devices_raise_an_error_naming_both(cp):
    a, b = pdf.ones(3), pdf.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="cpu and cuda:0"):
        a + b
    with pytest.raises(RuntimeError, match="same device"):
        F.cat([a, b])
    with pytest.raises(RuntimeError, match="same device"):
        F.matmul(a, b)


def test_module_to_cuda_and_back(cp, rng):
    class Affine(pdf.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = pdf.nn.Parameter(pdf.Tensor(rng.standard_normal((3, 2))))

        def forward(self, x):
            return x @ self.weight

    m = Affine().cuda()
    assert m.weight.is_cuda and m.weight.requires_grad
    m(pdf.ones(4, 3, dtype=m.weight.dtype, device="cuda")).sum().backward()
    assert m.weight.grad.is_cuda
    state = m.cpu().state_dict()
    assert not m.weight.is_cuda
    other = Affine().to("cuda")
    other.load_state_dict(state)
    assert other.weight.is_cuda and np.array_equal(other.weight.numpy(), m.weight.numpy())


def test_where_and_masked_fill_take_a_raw_cupy_mask(cp):
    x = pdf.Tensor([1.0, -2.0, 3.0], device="cuda")
    mask = cp.asarray([True, False, True])
    assert F.where(mask, x, 0.0).tolist() == [1.0, 0.0, 3.0]
    assert F.masked_fill(x, mask, 5.0).tolist() == [5.0, -2.0, 5.0]
