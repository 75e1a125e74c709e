"""Regression tests for the places where pydyfast used to differ from PyTorch silently (issue 19,
section 1) and for writes that autograd must see (issue 13, items 5 and 6). torch is the oracle
throughout; each test failed before its fix."""
import warnings

import numpy as np
import pytest
from op_table import Case, case_params, check
from oracle import compare_with_torch, torch

import pydyfast as pdf
import pydyfast.functional as PF
import pydyfast.nn.functional as F

TF = torch.nn.functional
PROBS = np.array([[0.2, 0.3, 0.5, 0.0], [0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0]])
DISTINCT = np.arange(12.0).reshape(3, 4)[:, ::-1] * np.array([1.0, -1.0, 0.5])[:, None]

TABLE = [
    # max/min/median with a dim: the (values, indices) named tuple; the gradient goes to the
    # chosen element. Without a dim: values only, ties share the gradient.
    Case("max", [DISTINCT], args=(1,)),
    Case("max", [DISTINCT], kwargs={"dim": -1, "keepdim": True}),
    Case("min", [DISTINCT], args=(0,)),
    Case("Tensor.max", [DISTINCT], kwargs={"dim": 0}),
    Case("Tensor.min", [DISTINCT], args=(1, True)),
    Case("max", [np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])]),
    Case("median", [DISTINCT]),
    Case("median", [DISTINCT], args=(1,)),
    Case("Tensor.median", [DISTINCT], kwargs={"dim": 0, "keepdim": True}),
    Case("amax", [np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])], kwargs={"dim": 1}),
    Case("amin", [(2, 3, 4)], kwargs={"dim": (0, 2), "keepdim": True}),
    # reductions over dim 0 / -1 of a 0-d tensor
    Case("sum", [()], kwargs={"dim": 0}),
    Case("mean", [()], kwargs={"dim": -1, "keepdim": True}),
    Case("amax", [()], kwargs={"dim": 0}),
    Case("logsumexp", [()], kwargs={"dim": 0}),
    Case("max", [()], args=(0,)),
    Case("Tensor.var", [(3,)], kwargs={"dim": 0}),
    # torch's split family: an int is a chunk size, a list the sizes
    Case("split", [(6, 3)], args=(2,)),
    Case("split", [(7, 3)], args=([3, 4],)),
    Case("Tensor.split", [(3, 7)], args=(3,), kwargs={"dim": -1}),
    Case("chunk", [(7, 2)], args=(3,)),
    Case("Tensor.chunk", [(2, 5)], args=(2,), kwargs={"dim": 1}),
    Case("unbind", [(3, 2)], kwargs={"dim": 1}),
    Case("tensor_split", [(7, 2)], args=(3,)),
    Case("tensor_split", [(7, 2)], args=([1, 4],)),
    # an integer indexes before an index array, as torch does
    Case("getitem-int-first", [(2, 3, 4)], pdf_fn=lambda t: t[0, :, [1, 2]],
         torch_fn=lambda t: t[0, :, [1, 2]]),
    Case("getitem-int-after", [(2, 3, 4)], pdf_fn=lambda t: t[:, 1, [0, 2, 2]],
         torch_fn=lambda t: t[:, 1, [0, 2, 2]]),
    # gradients torch gives: a probability target, a float attention mask
    Case("F.cross_entropy", [(3, 4), PROBS]),
    Case("F.cross_entropy", [(3, 4), PROBS], kwargs={"label_smoothing": 0.1}),
    Case("F.scaled_dot_product_attention", [(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), (3, 5)]),
    Case("F.scaled_dot_product_attention", [(1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4),
                                            (4, 3, 5)], kwargs={"enable_gqa": True}),
    # every input that torch differentiates gets a gradient (the audit's rows: loss targets,
    # norm and layer parameters)
    Case("F.mse_loss", [(3, 4), (3, 4)]),
    Case("F.l1_loss", [(3, 4), (3, 4)]),
    Case("F.smooth_l1_loss", [(3, 4), (3, 4)]),
    Case("F.binary_cross_entropy", [(3, 4), (3, 4)], low=0.1, high=0.9),
    Case("F.binary_cross_entropy_with_logits", [(3, 4), (3, 4)], low=0.1, high=0.9),
    Case("F.kl_div", [(3, 4), (3, 4)], kwargs={"reduction": "batchmean"}, low=0.1, high=0.9),
    Case("F.bilinear", [(2, 3), (2, 2), (4, 3, 2), (4,)]),
    Case("F.group_norm", [(2, 4, 3)], args=(2,), pdf_fn=lambda x, g: F.group_norm(
        x, g, pdf.ones(4, dtype=x.dtype, requires_grad=True)), torch_fn=lambda x, g: TF.group_norm(
        x, g, torch.ones(4, dtype=x.dtype, requires_grad=True))),
    # power at the edges: 0 ** -1 is inf (gradient -inf), x ** 0 has gradient 0 at 0,
    # a negative base to a fractional power is nan
    Case("Tensor.pow", [np.array([0.0, 1.0, 2.0])], args=(-1,)),
    Case("Tensor.pow", [np.array([0.0, 1.0, -2.0])], args=(0,)),
    Case("Tensor.pow", [np.array([0.0, -8.0, 2.0])], args=(1.0 / 3,)),
    Case("Tensor.pow", [np.array([0.0, 0.0, -2.0, 3.0]), np.array([0.0, 2.0, 0.5, -1.0])]),
    Case("Tensor.clamp", [np.array([-1.0, 0.5, 3.0])], kwargs={"min": 1.0, "max": 0.0}),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_matches_torch(case, dtype):
    check(case, dtype)


def test_max_with_dim_unpacks_as_torch_and_axis_keeps_values_only():
    out = pdf.Tensor(DISTINCT[:2])  # a batch of two: values-only would unpack into two rows
    _, pred = pdf.max(out, 1)
    np.testing.assert_array_equal(pred.numpy(), DISTINCT[:2].argmax(1))
    result = out.max(dim=1)
    assert result.indices.dtype == np.int64 and result.values.shape == (2,)
    assert out.max(axis=1).shape == (2,)  # the numpy/PyDyNet keyword: values only
    np.testing.assert_array_equal(pdf.max(out, pdf.zeros(4)).numpy(), np.maximum(out.numpy(), 0))
    with pytest.raises(IndexError, match=r"max: cannot reduce dim 1 of size 0"):
        pdf.zeros(2, 0).max(1)


def test_split_with_axis_keyword_keeps_numpy_sections():
    x = pdf.arange(6)
    assert [p.shape for p in PF.split(x, 3, axis=0)] == [(2,)] * 3
    with pytest.raises(ValueError, match=r"split: sizes \[2, 2\] must .* add up to 6"):
        x.split([2, 2])
    with pytest.raises(ValueError, match="chunk: chunks must be positive"):
        x.chunk(0)


def test_setitem_with_int_and_array_index_as_torch():
    x, t = pdf.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    value = np.arange(6.0).reshape(3, 2)
    x[0, :, [1, 2]] = pdf.Tensor(value)
    t[0, :, [1, 2]] = torch.tensor(value, dtype=torch.float32)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


PROMOTION = [  # (left array, right operand): dims decide, 0-d and scalars only raise a category
    (np.ones(3, np.float32), np.float64(2)),
    (np.ones(3, np.float32), np.array(2.0)),
    (np.ones(3, np.int32), np.array(2)),
    (np.ones(3, np.int32), np.array(2.5)),
    (np.ones(3, np.int64), np.ones(3, np.float32)),
    (np.ones(3, np.int32), 2.5),
    (np.ones(3, np.bool_), 2),
    (np.ones(3, np.float16), np.array(2.0, np.float32)),
    (np.ones(3, np.uint8), np.ones(3, np.int8)),
    (np.array(1, np.int32), np.array(2.0)),
]


@pytest.mark.parametrize("left,right", PROMOTION, ids=lambda v: f"{np.asarray(v).dtype}"
                         f"{np.asarray(v).shape}" if not isinstance(v, float) else "float")
@pytest.mark.parametrize("op", ["__add__", "__mul__", "__rsub__"])
def test_type_promotion_as_torch(left, right, op):
    def wrap(lib, v):
        return (pdf.Tensor(v) if lib is pdf else torch.tensor(v)) \
            if isinstance(v, np.ndarray) else v
    try:
        theirs = getattr(wrap(torch, left), op)(wrap(torch, right))
    except RuntimeError:  # torch refuses bool subtraction
        with pytest.raises(TypeError, match="bool"):
            getattr(wrap(pdf, left), op)(wrap(pdf, right))
        return
    ours = getattr(wrap(pdf, left), op)(wrap(pdf, right))
    assert ours.dtype == theirs.numpy().dtype
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_matmul_of_two_dtypes_raises_as_torch():
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64)
    with pytest.raises(TypeError, match="matmul: .* same dtype, got float32 and float64"):
        pdf.ones(2, 3) @ pdf.ones(3, 2, dtype=np.float64)


def test_where_with_two_scalars_and_integer_mean():
    cond = np.array([True, False, True])
    for a, b in ((1.0, 0.0), (1, 0), (1, 0.5)):
        ours = pdf.where(pdf.Tensor(cond), a, b)
        theirs = torch.where(torch.tensor(cond), a, b)
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).mean()
    # a deliberate difference: PyDyNet and NumPy programs take accuracies as integer means
    for values, expected in (([1, 2], 1.5), ([True, False, True, True], 0.75)):
        m = pdf.Tensor(values).mean()
        assert m.dtype == np.float32 and m.item() == expected
    assert pdf.Tensor([[1, 2], [3, 5]]).mean(dim=1).tolist() == [1.5, 4.0]


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_regression_losses_broadcast_with_a_warning(loss, dtype):
    x, y = np.random.default_rng(0).standard_normal((2, 3, 1)), np.arange(4.0)
    with pytest.warns(UserWarning, match="target size"):
        compare_with_torch(getattr(F, loss), getattr(TF, loss), [x, y], dtype)
    with pytest.raises(ValueError, match=f"{loss}: target of shape"):
        getattr(F, loss)(pdf.ones(3), pdf.ones(2))


@pytest.mark.parametrize("make", [
    lambda: (pdf.nn.Linear(3, 2), (4, 3)),
    lambda: (pdf.nn.Conv2d(2, 2, 3), (1, 2, 5, 5)),
    lambda: (pdf.nn.GRU(3, 4), (2, 1, 3)),
    lambda: (pdf.nn.LSTM(3, 4), (2, 1, 3)),
    lambda: (pdf.nn.RNN(3, 4), (2, 1, 3)),
    lambda: (pdf.nn.GRUCell(3, 4), (1, 3)),
    lambda: (pdf.nn.ConvTranspose2d(2, 2, 3), (1, 2, 4, 4)),
    lambda: (pdf.nn.BatchNorm1d(3), (4, 3)),
    lambda: (pdf.nn.LayerNorm(3), (4, 3)),
    lambda: (pdf.nn.GroupNorm(1, 3), (2, 3, 4)),
], ids=["Linear", "Conv2d", "GRU", "LSTM", "RNN", "GRUCell", "ConvTranspose2d", "BatchNorm1d",
        "LayerNorm", "GroupNorm"])
def test_layers_refuse_an_input_of_another_dtype(make):
    layer, shape = make()
    with pytest.raises(TypeError, match=r"float64.*float32|float32.*float64"):
        layer(pdf.ones(*shape, dtype=np.float64))
    assert layer(pdf.ones(*shape)) is not None  # the weights' dtype is fine


# ------------------------------------------------------------------ in-place writes and graphs
def test_setitem_into_a_graph_tensor_gives_torchs_gradient():
    for lib in (pdf, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([5.0], requires_grad=True)
        y = x * 2
        y[0] = 0
        y[1:2] = w * 3
        (y * y).sum().backward()
        if lib is pdf:
            ours = (x.grad.numpy(), w.grad.numpy())
        else:
            np.testing.assert_allclose(ours[0], x.grad.numpy())
            np.testing.assert_allclose(ours[1], w.grad.numpy())


def test_augmented_assignment_updates_aliases_and_uses_the_old_value():
    x = pdf.Tensor([1.0, 2.0], requires_grad=True)
    w = pdf.Tensor([3.0, 4.0], requires_grad=True)
    h = x * 1
    alias, before = h, h * 5  # ``before`` used h before the write: its gradient must not change
    h *= w
    h += 1
    assert alias is h
    np.testing.assert_allclose(alias.numpy(), [4.0, 9.0])
    (h.sum() + before.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 5, 4 + 5])
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])


def _write_through_view(lib, x, w):
    y = x * 2
    v = y[1:3]
    v += w
    return (y * y).sum() + v.sum()


def _augmented_slice(lib, x, w):
    y = x * 2
    y[1:3] *= w  # getitem, in-place multiply on the view, setitem on the base
    y[0:2] += 1
    return (y ** 3).sum()


def _setitem_into_reshaped_view(lib, x, w):
    y = (x * 2).reshape(2, 2)  # a view of the product
    y[0] = w
    return (y ** 2).sum()


def _strided_view_of_a_buffer(lib, x, w):
    buf = lib.zeros(4)
    v = buf[::2]
    v += w * x[:2]
    return (buf * buf).sum() + (v * 3).sum()


@pytest.mark.parametrize("program", [_write_through_view, _augmented_slice,
                                     _setitem_into_reshaped_view, _strided_view_of_a_buffer])
def test_writes_through_views_inside_a_graph_as_torch(program):
    results = []
    for lib in (pdf, torch):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        w = lib.tensor([5.0, 7.0], requires_grad=True)
        out = program(lib, x, w)
        out.backward()
        results.append([out.item(), x.grad.numpy().copy(), w.grad.numpy().copy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_writing_a_tensor_backward_needs_raises_as_torch():
    x = pdf.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    y[0] = 5.0
    with pytest.raises(RuntimeError, match="modified in place after it was used"):
        z.sum().backward()


def _saved_by(x):
    w = pdf.Tensor(np.ones(x.shape, np.float32), requires_grad=True)
    return (w * x).sum(), w  # Mul saves x for w's gradient


@pytest.mark.parametrize("write", [
    lambda x: x.reshape(2, 2).__setitem__((0, 0), 100.0),
    lambda x: x[1:].__setitem__(0, 100.0),
    lambda x: x.T.__iadd__(10.0),
    lambda x: x.detach().__setitem__(0, 100.0),
    lambda x: x.split(2)[1].__imul__(3.0),
], ids=["reshape", "slice-of-slice", "T", "detach", "split"])
def test_writes_through_views_are_seen(write):
    x = pdf.Tensor([1.0, 2.0, 3.0, 4.0])
    loss, _ = _saved_by(x)
    write(x)
    assert x._version > 0
    with pytest.raises(RuntimeError, match="modified in place after it was used"):
        loss.backward()


def test_writing_into_a_detached_output_is_seen():
    x = pdf.Tensor([0.5, 1.0], requires_grad=True)
    y = pdf.exp(x)  # Exp saves its output
    y.detach()[0] = 100.0
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_a_view_used_after_its_base_was_written_raises():
    x = pdf.Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    base = x * 2
    view = base.reshape(2, 2)
    base[0] = 0.0  # torch would rebuild view's history from its base; we refuse instead
    with pytest.raises(RuntimeError, match="after its base was modified in place"):
        (view * 3).sum().backward()
    y = (x * 2).reshape(2, 2)
    y.T[0] = pdf.Tensor([5.0, 7.0])  # a second view of y's base: y itself is now stale
    with pytest.raises(RuntimeError, match="after its base was modified in place"):
        (y ** 2).sum().backward()


def test_optimizer_step_between_forward_and_backward_raises():
    lin = pdf.nn.Linear(3, 1)
    opt = pdf.optim.SGD(lin.parameters(), lr=0.1)
    lin(pdf.ones(2, 3)).sum().backward()
    x = pdf.ones(2, 3, requires_grad=True)
    loss = (lin(x) ** 2).sum()  # saves the weight for the input's gradient path
    version = lin.weight._version
    opt.step()
    assert lin.weight._version == version + 1
    with pytest.raises(RuntimeError, match="modified in place after it was used"):
        loss.backward()


def test_optimizer_step_after_forward_of_a_constant_input_is_fine():
    """As in torch: when the input needs no gradient, Linear saves only the input (for the
    weight's gradient), so updating the weight before backward changes nothing."""
    lin = pdf.nn.Linear(3, 1)
    opt = pdf.optim.SGD(lin.parameters(), lr=0.1)
    loss = lin(pdf.ones(2, 3)).sum()
    opt.step()
    loss.backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), np.full((1, 3), 2.0))


@pytest.mark.parametrize("write", [
    lambda p, m: pdf.nn.init.zeros_(p),
    lambda p, m: m.load_state_dict({k: v.numpy() + 1 for k, v in m.state_dict().items()}),
], ids=["init", "load_state_dict"])
def test_init_and_load_state_dict_bump_versions(write):
    lin = pdf.nn.Linear(2, 2)
    x = pdf.Tensor(np.ones((1, 2), np.float32), requires_grad=True)
    loss = lin(x).sum()  # the input's gradient needs the weight
    array = lin.weight.data
    write(lin.weight, lin)
    assert lin.weight.data is array  # written in place, as torch's copy_
    with pytest.raises(RuntimeError, match="modified in place after it was used"):
        loss.backward()


# ------------------------------------------------------------------------------ numpy interop
def test_numpy_interop_as_torch():
    t = pdf.Tensor([1.0, 2.0, 3.0])
    assert np.asarray(t) is t.numpy() is t.data  # no copy: shares memory
    assert np.allclose(t, [1, 2, 3]) and np.exp(t).dtype == np.float32
    assert isinstance(np.ones(3, np.float32) + t, pdf.Tensor)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (np.float64(2) * t).dtype == np.float32
    w = pdf.Tensor([1.0, 2.0], requires_grad=True)
    w.grad = pdf.Tensor([1.0, 1.0])
    data = w.data
    w.data -= 0.5 * w.grad  # PyDyNet's update: numpy's in-place op with a Tensor operand
    assert w.data is data
    np.testing.assert_allclose(w.data, [0.5, 1.5])
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
        np.asarray(w)
