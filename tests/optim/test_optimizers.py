"""Optimizer trajectories against torch.optim: same initial parameters, same gradients fed
for 20 steps, both dtypes; plus param groups, zero_grad, state dicts and bad options."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast
from pydyfast import optim
from pydyfast.nn import Parameter
from tests.conftest import tolerances

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adadelta", dict(lr=1.0, rho=0.8, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.8, centered=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]
SHAPES = [(3, 4), (5,), (1, 1, 2)]


def run_both(name, options, grads, initial, ours_options=None):
    """Feed the same gradient sequence to both frameworks (a None gradient: the parameter has
    no .grad that step); return both parameter lists and both optimizers. ``ours_options`` are
    pydyfast-only options (fused=...)."""
    ours = [Parameter(a.copy()) for a in initial]
    theirs = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in initial]
    opt = getattr(optim, name)(ours, **options, **(ours_options or {}))
    ref = getattr(torch.optim, name)(theirs, **options)
    for step_grads in grads:
        for p, q, g in zip(ours, theirs, step_grads):
            p.grad = None if g is None else pydyfast.Tensor(g)
            q.grad = None if g is None else torch.from_numpy(g.copy())
        opt.step()
        ref.step()
    return ours, theirs, opt, ref


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(CASES)])
def test_trajectory_matches_torch(name, options, dtype, rng):
    initial = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    # Gradients that depend on nothing we compute, so any divergence is the optimizer's.
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(20)]
    ours, theirs, _, _ = run_both(name, options, grads, initial)
    for p, q in zip(ours, theirs):
        assert p.data.dtype == dtype
        np.testing.assert_allclose(p.data, q.detach().numpy(), **tolerances(dtype))


def test_param_groups_use_their_own_options(rng):
    a0, b0 = rng.standard_normal(3), rng.standard_normal(2)
    a, b = Parameter(a0.copy()), Parameter(b0.copy())
    ta, tb = (torch.nn.Parameter(torch.from_numpy(x.copy())) for x in (a0, b0))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "momentum": 0.9}], lr=0.1)
    ref = torch.optim.SGD([{"params": [ta]}, {"params": [tb], "lr": 0.5, "momentum": 0.9}],
                          lr=0.1)
    for _ in range(3):
        for p, q in ((a, ta), (b, tb)):
            g = rng.standard_normal(p.shape)
            p.grad, q.grad = pydyfast.Tensor(g), torch.from_numpy(g.copy())
        opt.step()
        ref.step()
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["lr"] == 0.5
    np.testing.assert_allclose(a.data, ta.detach().numpy())
    np.testing.assert_allclose(b.data, tb.detach().numpy())


def test_params_without_grad_are_skipped_and_updates_are_in_place():
    a, b = Parameter(np.ones(3, np.float32)), Parameter(np.ones(2))
    array_a = a.data
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = pydyfast.Tensor(np.ones(3, np.float32))
    opt.step()
    assert a.data is array_a and a.data.dtype == np.float32
    np.testing.assert_allclose(a.data, 0.9, rtol=1e-6)
    np.testing.assert_array_equal(b.data, 1.0)
    assert b not in opt.state and a in opt.state


def test_zero_grad_to_none_or_zeros():
    p = Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.1)
    p.grad = pydyfast.Tensor(np.ones(3))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, 0)
    opt.zero_grad()
    assert p.grad is None


def test_training_through_autograd_matches_torch(dtype, rng):
    """The gradients come from backward on both sides: a least-squares fit with Adam."""
    x0, w0 = rng.standard_normal((8, 3)).astype(dtype), rng.standard_normal((3, 1)).astype(dtype)
    y0 = rng.standard_normal((8, 1)).astype(dtype)
    w, tw = Parameter(w0.copy()), torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt, ref = optim.Adam([w], lr=0.05), torch.optim.Adam([tw], lr=0.05)
    x, y = pydyfast.Tensor(x0), pydyfast.Tensor(y0)
    for _ in range(20):
        opt.zero_grad()
        ((x @ w - y) ** 2).mean().backward()
        opt.step()
        ref.zero_grad()
        ((torch.from_numpy(x0) @ tw - torch.from_numpy(y0)) ** 2).mean().backward()
        ref.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), **tolerances(dtype))


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta"])
def test_state_dict_round_trip_through_save_load(name, tmp_path, rng):
    """Resuming from a saved optimizer continues exactly as the uninterrupted run."""
    options = dict(lr=0.01, momentum=0.9) if name in ("SGD", "RMSprop") else dict(lr=0.01)
    init = rng.standard_normal(4)
    grads = [rng.standard_normal(4) for _ in range(6)]

    def fresh():
        p = Parameter(init.copy())
        return p, getattr(optim, name)([p], **options)

    def feed(p, opt, gs):
        for g in gs:
            p.grad = pydyfast.Tensor(g)
            opt.step()

    straight, straight_opt = fresh()
    feed(straight, straight_opt, grads)
    first, first_opt = fresh()
    feed(first, first_opt, grads[:3])
    pydyfast.save({"params": first.data, "optim": first_opt.state_dict()}, tmp_path / "ck.npz")
    loaded = pydyfast.load(tmp_path / "ck.npz")
    resumed, resumed_opt = fresh()
    resumed.data[...] = loaded["params"]
    resumed_opt.load_state_dict(loaded["optim"])
    feed(first, first_opt, [])  # the saved optimizer itself is not touched by saving
    feed(resumed, resumed_opt, grads[3:])
    np.testing.assert_array_equal(resumed.data, straight.data)


def test_load_state_dict_moves_state_to_param_dtype(rng):
    p64 = Parameter(rng.standard_normal(3))
    opt64 = optim.Adam([p64])
    p64.grad = pydyfast.Tensor(np.ones(3))
    opt64.step()
    p32 = Parameter(np.zeros(3, np.float32))
    opt32 = optim.Adam([p32])
    opt32.load_state_dict(opt64.state_dict())
    assert opt32.state[p32]["exp_avg"].dtype == np.float32
    assert opt32.state[p32]["step"] == 1


def test_load_state_dict_rejects_other_layout():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="group sizes"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.SGD([p], lr=-1), "invalid learning rate"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), "nesterov"),
    (lambda p: optim.Adam([p], betas=(1.0, 0.9)), "invalid betas"),
    (lambda p: optim.Adam([p], weight_decay=-1), "weight_decay"),
    (lambda p: optim.SGD([p, p], lr=0.1), "more than one place"),
    (lambda p: optim.SGD(p, lr=0.1), "single Tensor"),
    (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: optim.SGD([np.ones(2)], lr=0.1), "can only optimise Tensors"),
    (lambda p: optim.Adadelta([p], rho=2), "invalid rho"),
])
def test_bad_options_raise(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make(Parameter(np.ones(2)))
