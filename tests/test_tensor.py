"""Tensor construction, metadata, conversion, factories, devices, repr."""
import numpy as np
import pytest

import pydyfast as pdf
from pydyfast.cuda import Device


def test_default_dtypes_follow_pytorch():
    assert pdf.Tensor([1.0, 2.0]).dtype == np.float32
    assert pdf.Tensor(1.5).dtype == np.float32
    assert pdf.Tensor([1, 2]).dtype == np.int64
    assert pdf.Tensor([True]).dtype == np.bool_
    assert pdf.Tensor(np.zeros(2)).dtype == np.float64  # an explicit numpy dtype is kept
    assert pdf.Tensor([1, 2], requires_grad=True).dtype == np.float32
    assert pdf.Tensor([1.0], dtype="float64").dtype == np.float64


def test_set_default_dtype():
    pdf.set_default_dtype(pdf.float64)
    try:
        assert pdf.Tensor([1.0]).dtype == np.float64
        assert pdf.zeros(2).dtype == np.float64
        assert pdf.get_default_dtype() is np.float64
    finally:
        pdf.set_default_dtype(np.float32)
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating dtype"):
        pdf.set_default_dtype(np.int32)


def test_tensor_copies_its_data():
    a = np.ones(3, np.float32)
    t = pdf.Tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1
    shared = pdf.from_numpy(a)
    a[1] = 7
    assert shared.numpy()[1] == 7


def test_metadata():
    t = pdf.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.dim() == 3
    assert t.size == 24 and t.size(1) == 3 and t.size() == (2, 3, 4) and t.numel() == 24
    assert t.T.shape == (4, 3, 2)
    assert len(t) == 2
    assert t.device == "cpu" and str(t.device) == "cpu" and not t.is_cuda
    assert t.is_leaf and not t.requires_grad and t.grad is None


def test_item_numpy_tolist_conversions():
    t = pdf.Tensor([[1.5]])
    assert t.item() == 1.5 and float(t) == 1.5
    assert pdf.Tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="only a tensor with one element"):
        pdf.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(pdf.ones(2))


def test_to_astype_detach_clone():
    x = pdf.Tensor([1.0, 2.0], requires_grad=True)
    d = x.to(pdf.float64)
    assert d.dtype == np.float64 and d.grad_fn is not None
    (d * 2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])
    assert x.to("cpu") is x and x.cpu() is x
    assert x.astype("float64").dtype == np.float64
    det = x.detach()
    assert not det.requires_grad and det.grad_fn is None and det.data is x.data
    c = x.clone()
    assert c.data is not x.data and c.requires_grad
    assert x.double().dtype == np.float64 and x.long().dtype == np.int64


def test_requires_grad_and_retain_grad_errors():
    with pytest.raises(TypeError, match="only floating-point"):
        pdf.Tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="does not require grad"):
        pdf.ones(1).retain_grad()
    y = pdf.ones(1, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_bad_data_is_rejected():
    with pytest.raises(TypeError, match="numeric"):
        pdf.Tensor(["a", object()])


def test_repr_is_readable():
    assert repr(pdf.Tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(pdf.Tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "dtype=float64" in repr(pdf.Tensor(np.zeros(1)))
    assert "grad_fn=<MulBackward>" in repr(pdf.ones(1, requires_grad=True) * 2)


def test_factories():
    assert pdf.zeros((2, 3)).shape == (2, 3) and pdf.ones(4).numpy().sum() == 4
    assert pdf.full((2,), 7).dtype == np.int64 and pdf.full((2,), 1.5).dtype == np.float32
    assert pdf.arange(5).dtype == np.int64 and pdf.arange(0, 1, 0.25).shape == (4,)
    np.testing.assert_allclose(pdf.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert pdf.eye(3).numpy().trace() == 3 and pdf.empty(2, 2).shape == (2, 2)
    x = pdf.rand(3, 4, dtype=pdf.float64)
    assert x.dtype == np.float64 and 0 <= x.numpy().min() and x.numpy().max() < 1
    assert pdf.randn(2, 3, requires_grad=True).requires_grad
    assert pdf.uniform(-1, 1, (5,)).shape == (5,)
    assert pdf.zeros_like(x).dtype == np.float64 and pdf.ones_like(x).numpy().sum() == 12
    assert pdf.full_like(x, 2).numpy().sum() == 24 and pdf.empty_like(x).shape == x.shape
    assert pdf.randint(0, 5, (10,)).numpy().max() < 5 and sorted(pdf.randperm(4).tolist()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="negative dimension"):
        pdf.zeros(-1)


def test_manual_seed_reproduces():
    pdf.manual_seed(3)
    a = pdf.randn(4).numpy()
    pdf.manual_seed(3)
    np.testing.assert_array_equal(a, pdf.randn(4).numpy())


def test_device_parsing_and_cuda_unavailable():
    assert Device("cuda:1").index == 1 and Device("cuda").index == 0
    assert Device(-1) == "cpu" and Device(0) == Device("cuda", 0)
    assert repr(Device("cpu")) == "device(type='cpu')"
    with pytest.raises(ValueError, match="unknown device"):
        Device("tpu")
    if not pdf.cuda.is_available():
        with pytest.raises((RuntimeError, ImportError), match="CuPy|CUDA"):
            pdf.ones(2).cuda()


def test_is_available_is_silent_without_cupy(capsys):
    import subprocess
    import sys
    code = ("import sys; sys.modules['cupy'] = None; import pydyfast; "
            "print(pydyfast.cuda.is_available())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False" and out.stderr == "", out


def test_numpy_operands_defer_to_tensor():
    t = pdf.Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 3.0], np.float32) * t
    assert isinstance(y, pdf.Tensor) and y.grad_fn is not None


def test_comparisons_return_bool_tensors_without_grad():
    a = pdf.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = a > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal((a == 2.0).numpy(), [False, True, False])
    assert (a <= 2).any().item() and not (a > 5).all().item()
    assert {a: 1}[a] == 1  # tensors stay hashable


def test_backend_info_reports_compiled_modules():
    info = pdf.backend.info()
    assert set(info) >= {"_C", "_engine", "kernels", "openmp", "num_threads", "cuda"}
    import os
    if os.environ.get("PYDYFAST_REQUIRE_NATIVE") == "1":
        assert info["_C"] and info["_engine"]
    with pytest.raises(ValueError, match="set_kernels"):
        pdf.set_kernels("fast")
