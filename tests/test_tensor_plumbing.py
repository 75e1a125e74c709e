"""Tensor plumbing against torch: contiguous, is_contiguous, t, view_as, reshape_as, expand_as,
type_as, clone(memory_format=), view(dtype), new_* factories and the dtype names."""
import numpy as np
import pytest

import pydyfast as pdf

from op_table import Case, case_params, check
from oracle import compare_outputs, torch

EXACT = dict(rtol=0, atol=0)


def _same(fn, name, shapes, **kw):
    return Case(name, shapes, pdf_fn=fn, torch_fn=fn, id=kw.pop("id", None), **kw)


TABLE = [
    Case("Tensor.contiguous", [(3, 4)], noncontig=True),
    Case("Tensor.contiguous", [(3, 4)], id="contiguous-already"),
    Case("Tensor.contiguous", [()], id="contiguous-0d"),
    Case("Tensor.t", [(3, 4)]),
    Case("Tensor.t", [(4, 3)], noncontig=True),
    Case("Tensor.t", [(5,)], id="t-1d"),
    Case("Tensor.t", [()], id="t-0d"),
    Case("Tensor.t", [(0, 2)], id="t-empty"),
    Case("Tensor.view_as", [(3, 4), (2, 6)], requires_grad=(True, False)),
    Case("Tensor.view_as", [(1, 4), (4,)], requires_grad=(True, False), id="view_as-size1"),
    Case("Tensor.reshape_as", [(3, 4), (4, 3)], noncontig=True, requires_grad=(True, False)),
    Case("Tensor.expand_as", [(3, 1), (2, 3, 4)], requires_grad=(True, False)),
    Case("Tensor.expand_as", [(), (2, 3)], requires_grad=(True, False), id="expand_as-0d"),
    _same(lambda x: x.type_as(x.double()), "type_as", [(3, 4)], id="type_as-float64"),
    _same(lambda x: x.type_as(x.float()) * 2, "type_as", [(3, 4)], id="type_as-float32"),
    _same(lambda x, i: x.type_as(i), "type_as", [(3, 4), np.array([1, 2])], grad=False,
          id="type_as-int64"),
    Case("Tensor.clone", [(3, 4)], noncontig=True),
    Case("Tensor.clone", [(2, 3, 4, 5)], kwargs={"memory_format": "channels_last"},
         pdf_fn=lambda x, memory_format: x.clone(memory_format=pdf.channels_last),
         torch_fn=lambda x, memory_format: x.clone(memory_format=torch.channels_last)),
    Case("Tensor.clone", [(3, 4)], kwargs={"memory_format": "contiguous_format"},
         noncontig=True,
         pdf_fn=lambda x, memory_format: x.clone(memory_format=pdf.contiguous_format),
         torch_fn=lambda x, memory_format: x.clone(memory_format=torch.contiguous_format)),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_plumbing_matches_torch(case, dtype):
    check(case, dtype)


def _both(array):
    return pdf.tensor(array), torch.tensor(array)


LAYOUTS = {
    "contiguous": lambda x: x,
    "transposed": lambda x: x.transpose(0, 1),
    "sliced": lambda x: x[:, ::2],
    "row-slice": lambda x: x[1:],
    "permuted-4d": lambda x: x.reshape(1, 2, 3, 4).permute(0, 2, 3, 1),
}
FORMATS = {"preserve": ("preserve_format",), "contiguous": ("contiguous_format",),
           "channels_last": ("channels_last",)}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_is_contiguous_and_clone_layouts_match_torch(layout):
    p, t = _both(np.arange(24, dtype=np.float32).reshape(4, 6))
    p, t = LAYOUTS[layout](p), LAYOUTS[layout](t)
    assert p.is_contiguous() == t.is_contiguous()
    assert p.contiguous().is_contiguous()
    compare_outputs(p.contiguous(), t.contiguous(), EXACT)
    for fmt in ("preserve_format", "contiguous_format"):
        pc, tc = p.clone(memory_format=getattr(pdf, fmt)), t.clone(memory_format=getattr(
            torch, fmt))
        assert pc.is_contiguous() == tc.is_contiguous(), fmt
        compare_outputs(pc, tc, EXACT)
    if p.ndim == 4:
        for fn in (lambda x, lib: x.contiguous(memory_format=lib.channels_last),
                   lambda x, lib: x.clone(memory_format=lib.channels_last)):
            pc, tc = fn(p, pdf), fn(t, torch)
            assert pc.is_contiguous(memory_format=pdf.channels_last) == tc.is_contiguous(
                memory_format=torch.channels_last)
            assert pc.is_contiguous() == tc.is_contiguous()
            compare_outputs(pc, tc, EXACT)


def test_contiguous_returns_self_when_already_contiguous():
    x = pdf.ones(2, 3)
    assert x.contiguous() is x


@pytest.mark.parametrize("src,dst,shape", [
    ("float32", "int32", (2, 3)), ("float32", "int16", (2, 3)), ("int16", "float32", (2, 4)),
    ("float64", "uint8", (3,)), ("float32", "float32", ()), ("int64", "float64", (0, 2)),
])
def test_view_dtype_reinterprets_the_bytes_as_torch(src, dst, shape):
    a = np.random.default_rng(0).standard_normal(shape).astype(src)
    p, t = _both(a)
    ours, theirs = p.view(getattr(pdf, dst)), t.view(getattr(torch, dst))
    compare_outputs(ours, theirs, EXACT)


def test_view_dtype_is_cut_out_of_the_graph_and_shares_memory():
    x = pdf.ones(2, 3, requires_grad=True)
    y = x.view(pdf.int32)
    assert not y.requires_grad and y.grad_fn is None
    z = pdf.zeros(4)
    z.view(pdf.int32)[0] = 1
    assert z[0].item() != 0


@pytest.mark.parametrize("call,message", [
    (lambda lib: lib.ones(2, 3, dtype=lib.int16).view(lib.float64), "divisible"),
    (lambda lib: lib.ones(3, 2).t().view(lib.int16), "contiguous"),
    (lambda lib: lib.ones(2, 2, 2).t(), "<= 2 dimensions"),
    (lambda lib: lib.ones(2, 3).view_as(lib.ones(4)), "cannot reshape"),
    (lambda lib: lib.ones(2, 3).expand_as(lib.ones(3, 2)), "broadcast"),
])
def test_plumbing_bad_inputs_raise_as_in_torch(call, message):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises((RuntimeError, ValueError), match=message):
        call(pdf)


NEW = {
    "new_zeros": lambda x: x.new_zeros(2, 3),
    "new_zeros-tuple": lambda x: x.new_zeros((2, 3)),
    "new_ones": lambda x: x.new_ones((4,)),
    "new_empty": lambda x: x.new_empty(2),
    "new_full": lambda x: x.new_full((2, 2), 1.5),
    "new_tensor": lambda x: x.new_tensor([1.5, 2.5]),
    "new_tensor-int-data": lambda x: x.new_tensor([[1, 2]]),
}


@pytest.mark.parametrize("source", ["float32", "float64", "int64"])
@pytest.mark.parametrize("name", sorted(NEW))
def test_new_factories_take_the_source_dtype_as_torch(name, source):
    p, t = _both(np.ones(3, dtype=source))
    ours, theirs = NEW[name](p), NEW[name](t)
    compare_outputs(ours, theirs, EXACT, values=name != "new_empty")
    assert ours.device == p.device and not ours.requires_grad


def test_new_factories_take_dtype_device_and_requires_grad():
    x = pdf.ones(3, dtype=pdf.int64)
    y = x.new_zeros(2, dtype=pdf.float64, device="cpu", requires_grad=True)
    assert y.dtype == np.float64 and y.requires_grad
    assert x.new_tensor([1, 2], dtype=pdf.float32).dtype == np.float32
    assert x.new_full((2,), 3, dtype=pdf.float16).dtype == np.float16


def test_dtype_names_as_torch_and_builtins_still_work():
    assert pdf.bool is np.bool_ and pdf.int is np.int32 and pdf.float is np.float32
    assert pdf.ones(2, dtype=pdf.int).dtype == torch.ones(2, dtype=torch.int).numpy().dtype
    assert pdf.ones(2).to(pdf.bool).dtype == np.bool_ and pdf.ones(2).bool().dtype == np.bool_
    assert pdf.zeros(2).int().dtype == np.int32 and int(pdf.tensor(3)) == 3
    assert float(pdf.tensor(2.5)) == 2.5 and bool(pdf.tensor(True))
