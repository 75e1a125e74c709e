"""In-place ``_`` methods against torch: values, gradients through a non-leaf in a graph, torch's
rules for leaves that require grad, version counters, views, and bad inputs."""
import numpy as np
import pytest

import pydyfast as pdf

from op_table import Case, case_params, check
from oracle import compare_outputs, torch


def _row(name, fn, shapes, **kw):
    """One table row running the same method chain in both frameworks. Inputs that require grad
    are leaves, so ``fn`` updates a non-leaf (``x * 1``) in place."""
    return Case(name, shapes, pdf_fn=fn, torch_fn=fn, id=kw.pop("id", None), **kw)


MASK = np.array([[True, False, False, True]] * 3)
INDEX = np.array([0, 2])
SCATTER_INDEX = np.array([[2, 0, 1], [0, 2, 1]])  # distinct per column: no write races

TABLE = [
    _row("add_", lambda x, y: (x * 1).add_(y), [(3, 4), (3, 4)]),
    _row("add_", lambda x, y: (x * 1).add_(y, alpha=-2.5), [(3, 4), (4,)], id="add_-alpha-bcast"),
    _row("add_", lambda x: (x * 1).add_(3.0), [(3, 4)], id="add_-scalar"),
    _row("sub_", lambda x: (x * 1).sub_(2, alpha=1.5), [(3, 4)], id="sub_-scalar-alpha"),
    _row("add_", lambda x, y: (x * 1).add_(y), [(), ()], id="add_-0d"),
    _row("add_", lambda x, y: (x * 1).add_(y), [(0, 3), (3,)], id="add_-empty"),
    _row("add_", lambda x, y: (x * 1).add_(y), [(4, 3), (4, 3)], noncontig=True),
    _row("sub_", lambda x, y: (x * 1).sub_(y, alpha=2), [(3, 4), (1, 4)]),
    _row("mul_", lambda x, y: (x * 1).mul_(y), [(2, 3, 4), (4,)]),
    _row("mul_", lambda x: (x * 1).mul_(-1.5), [(1,)], id="mul_-scalar-size1"),
    _row("div_", lambda x, y: (x * 1).div_(y), [(3, 4), (3, 4)], low=0.5, high=2.0),
    _row("div_", lambda x, y: (x * 1).div_(y, rounding_mode="floor"), [(3, 4), (3, 4)],
         low=0.5, high=2.0, id="div_-floor"),
    _row("div_", lambda x, y: (x * 1).div_(y, rounding_mode="trunc"), [(3, 4), (4,)],
         low=-2.0, high=-0.5, id="div_-trunc"),
    _row("clamp_", lambda x: (x * 1).clamp_(-0.5, 0.7), [(3, 4)]),
    _row("clamp_", lambda x: (x * 1).clamp_(min=0.0), [(5,)], id="clamp_-min"),
    _row("clamp_", lambda x: (x * 1).clamp_(max=0.1), [(4, 3)], noncontig=True),
    _row("fill_", lambda x: (x * 1).fill_(2.5), [(3, 4)]),
    _row("fill_", lambda x, v: (x * 1).fill_(v), [(3, 4), ()], id="fill_-tensor-value"),
    _row("zero_", lambda x: (x * 2).zero_() + x, [(3, 4)]),
    _row("copy_", lambda x, y: (x * 1).copy_(y), [(3, 4), (3, 4)]),
    _row("copy_", lambda x, y: (x * 1).copy_(y), [(3, 4), (4,)], id="copy_-bcast"),
    _row("copy_", lambda x, y: (x * 1).copy_(y), [(4, 3), (4, 3)], noncontig=True),
    _row("masked_fill_", lambda x, m: (x * 1).masked_fill_(m, -3.0), [(3, 4), MASK]),
    _row("masked_fill_", lambda x, m, v: (x * 1).masked_fill_(m, v), [(3, 4), MASK, ()],
         id="masked_fill_-tensor-value"),
    _row("index_fill_", lambda x, i: (x * 1).index_fill_(1, i, 7.0), [(3, 4), INDEX]),
    _row("index_fill_", lambda x, i: (x * 1).index_fill_(-2, i, 7.0), [(3, 4), INDEX],
         id="index_fill_-negative-dim"),
    _row("scatter_", lambda x, i, s: (x * 1).scatter_(0, i, s), [(3, 3), SCATTER_INDEX, (2, 3)]),
    _row("scatter_", lambda x, i: (x * 1).scatter_(1, i, 2.5), [(2, 4), SCATTER_INDEX],
         id="scatter_-value"),
    # torch has no derivative for scatter_ with reduce: compare the values only
    _row("scatter_", lambda x, i, s: (x * 1).scatter_(0, i, s, reduce="add"),
         [(3, 3), SCATTER_INDEX, (2, 3)], grad=False, id="scatter_-add"),
    # random fills: the values differ from torch's, the gradient (zero through the fill) does not
    _row("uniform_", lambda x: (x * 2).uniform_(0, 1) * 0 + x, [(3, 4)]),
    _row("normal_", lambda x: (x * 2).normal_(0, 1) * 0 + x, [(3, 4)]),
    _row("chain", lambda x, y: (x * 1).add_(y).mul_(y).clamp_(-1, 1).sub_(x), [(3, 4), (3, 4)]),
]


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")  # torch's deprecation
@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_inplace_in_a_graph_matches_torch(case, dtype):
    check(case, dtype)


METHOD_CALLS = {
    "add_": lambda t: t.add_(1.0), "sub_": lambda t: t.sub_(1.0), "mul_": lambda t: t.mul_(2.0),
    "div_": lambda t: t.div_(2.0), "clamp_": lambda t: t.clamp_(0.0, 1.0),
    "fill_": lambda t: t.fill_(3.0), "zero_": lambda t: t.zero_(),
    "copy_": lambda t: t.copy_(t.detach() * 2 if isinstance(t, pdf.Tensor) else t.detach() * 2),
    "masked_fill_": lambda t: t.masked_fill_(t.detach() > 0, 0.5),
    "index_fill_": lambda t: t.index_fill_(0, _index(t, [1]), -1.0),
    "scatter_": lambda t: t.scatter_(0, _index(t, [0]).reshape([1] * t.dim()), 4.0),
    "uniform_": lambda t: t.uniform_(), "normal_": lambda t: t.normal_(),
}


def _index(t, values):
    lib = pdf if isinstance(t, pdf.Tensor) else torch
    return lib.tensor(values)


TOL = dict(rtol=1e-6, atol=1e-7)


def _pair(shape=(3, 4), requires_grad=False, dtype=np.float32):
    a = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    return (pdf.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


@pytest.mark.parametrize("name", sorted(METHOD_CALLS))
def test_a_leaf_that_requires_grad_refuses_in_grad_mode(name):
    p, t = _pair(requires_grad=True)
    with pytest.raises(RuntimeError):
        METHOD_CALLS[name](t)
    with pytest.raises(RuntimeError, match=f"{name}: a leaf tensor that requires grad"):
        METHOD_CALLS[name](p)


@pytest.mark.parametrize("name", sorted(METHOD_CALLS))
def test_under_no_grad_a_leaf_is_updated_in_place_and_its_version_bumped(name):
    p, t = _pair(requires_grad=True)
    data, version = p.data, p._version
    with pdf.no_grad():
        assert METHOD_CALLS[name](p) is p
    with torch.no_grad():
        METHOD_CALLS[name](t)
    assert p.data is data and p._version == version + 1 and p.is_leaf and p.requires_grad
    if name not in ("uniform_", "normal_"):
        compare_outputs(p, t, TOL)


@pytest.mark.parametrize("name", sorted(METHOD_CALLS))
def test_a_plain_tensor_is_written_in_place_and_views_see_it(name):
    p, t = _pair()
    view_p, view_t = p[1], t[1]
    METHOD_CALLS[name](view_p)
    METHOD_CALLS[name](view_t)
    assert view_p._version == 1 and p.grad_fn is None and not p.requires_grad
    if name not in ("uniform_", "normal_"):
        compare_outputs(p, t, TOL)
    else:
        assert not np.array_equal(p.numpy()[1], _pair()[0].numpy()[1])


def test_a_value_that_requires_grad_puts_a_plain_tensor_in_the_graph():
    p, t = _pair((3,))
    pb, tb = _pair((3,), requires_grad=True)
    p.add_(pb * 2)
    t.add_(tb * 2)
    assert p.grad_fn is not None and not p.is_leaf and p.requires_grad
    (p * p).sum().backward()
    (t * t).sum().backward()
    compare_outputs(pb.grad, tb.grad, TOL, "grad")


def test_a_non_leaf_updated_under_no_grad_keeps_its_graph():
    results = []
    for lib, x in zip((pdf, torch), _pair((3,), True)):
        y = x * x
        with lib.no_grad():
            y.add_(1.0)
        y.sum().backward()
        results.append((y, x.grad))
    compare_outputs(results[0], results[1], TOL)


def test_an_output_that_backward_saved_raises_after_an_update_as_torch():
    """exp saved its output, which the update modified in place: torch raises, and so do we."""
    for lib, x in zip((pdf, torch), _pair((3,), True)):
        y = x.exp()
        with lib.no_grad():
            y.add_(1.0)
        with pytest.raises(RuntimeError, match="modified (by an|in place)"):
            y.sum().backward()


def test_retained_gradient_follows_the_updated_tensor():
    grads = []
    for x in _pair((3,), True):
        y = x * 2
        y.retain_grad()
        y.add_(1.0)
        (y * 3).sum().backward()
        grads.append(y.grad)
    compare_outputs(grads[0], grads[1], TOL, "retained grad")


def test_each_update_bumps_the_version_once_in_a_graph():
    x = pdf.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.add_(1).mul_(2).clamp_(0, 5)
    assert y._version == 3


def test_random_fills_follow_a_generator():
    a, b = pdf.zeros(5), pdf.zeros(5)
    a.uniform_(-1, 1, generator=pdf.Generator().manual_seed(4))
    b.uniform_(-1, 1, generator=pdf.Generator().manual_seed(4))
    assert np.array_equal(a.numpy(), b.numpy()) and (np.abs(a.numpy()) <= 1).all()
    c = pdf.zeros(20000, dtype=pdf.float64).normal_(3.0, 2.0)
    assert abs(c.numpy().mean() - 3.0) < 0.1 and abs(c.numpy().std() - 2.0) < 0.1


BAD = [
    ("add_ into a smaller shape", lambda lib: lib.zeros(3).add_(lib.ones(2, 3)), "shape"),
    ("float result into an int tensor", lambda lib: lib.zeros(3, dtype=lib.int64).add_(1.5),
     "can't be cast"),
    ("uniform_ of an int tensor", lambda lib: lib.zeros(3, dtype=lib.int64).uniform_(),
     "floating"),
    ("fill_ with a 1-d value", lambda lib: lib.zeros(3).fill_(lib.ones(2)), "0-d"),
    ("copy_ that does not broadcast", lambda lib: lib.zeros(3).copy_(lib.ones(4)),
     "broadcast"),
    ("index_fill_ with a float index",
     lambda lib: lib.zeros(3).index_fill_(0, lib.tensor([0.0]), 1.0), "int64"),
    ("index_fill_ out of range", lambda lib: lib.zeros(3).index_fill_(0, lib.tensor([3]), 1.0),
     "out of range"),
    ("index_fill_ bad dim", lambda lib: lib.zeros(3).index_fill_(1, lib.tensor([0]), 1.0),
     "dim 1"),
    ("masked_fill_ with a float mask", lambda lib: lib.zeros(3).masked_fill_(lib.ones(3), 1.0),
     "boolean"),
    ("uniform_ with from > to", lambda lib: lib.zeros(3).uniform_(2, 1), "from <= to"),
    ("scatter_ index of another rank",
     lambda lib: lib.zeros(3, 3).scatter_(0, lib.tensor([0]), 1.0), "as many dimensions"),
    ("scatter_ index out of range",
     lambda lib: lib.zeros(3, 3).scatter_(0, lib.tensor([[5]]), 1.0), "out of range"),
    ("scatter_ float index", lambda lib: lib.zeros(3).scatter_(0, lib.tensor([0.0]), 1.0),
     "integer index"),
    ("div_ unknown rounding_mode",
     lambda lib: lib.zeros(3).div_(lib.ones(3), rounding_mode="up"), "rounding_mode"),
]


@pytest.mark.parametrize("what,call,message", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs_raise_as_in_torch(what, call, message):
    with pytest.raises((RuntimeError, TypeError, ValueError, IndexError)):
        call(torch)
    with pytest.raises((RuntimeError, TypeError, ValueError, IndexError), match=message):
        call(pdf)
