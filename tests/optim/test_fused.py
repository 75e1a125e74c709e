"""The fused optimizer kernels (csrc/optim.cpp) against torch.optim and against the NumPy
reference updates: every option combination, both dtypes, both kernel paths, odd sizes and
layouts, mixed dtypes, missing gradients, the choice of path (fused=, foreach=), state that
aliases the kernels' arrays, state dicts and bad inputs."""
import itertools

import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast
from pydyfast import backend, optim
from pydyfast.nn import Parameter
from tests.conftest import tolerances
from tests.optim.test_optimizers import run_both

# 0-d, empty, one element, 17 (no SIMD multiple) and 2-d; with the last, a group has more
# elements than the parallel grain, so every kernel also runs its OpenMP split.
SHAPES = [(), (0,), (1,), (17,), (3, 5), (129, 67)]
STEPS = 25


def _combos(**axes):
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


CASES = (
    [("Adam", dict(lr=0.01, **o)) for o in _combos(weight_decay=[0, 0.1], amsgrad=[False, True],
                                                    maximize=[False, True])]
    + [("AdamW", dict(lr=0.01, betas=(0.8, 0.99), **o))
       for o in _combos(weight_decay=[0, 0.1], amsgrad=[False, True], maximize=[False, True])]
    + [("SGD", dict(lr=0.05, **o))
       for o in _combos(momentum=[0, 0.9], dampening=[0, 0.3], weight_decay=[0, 0.01],
                        maximize=[False, True]) if o["momentum"] or not o["dampening"]]
    + [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, **o))
       for o in _combos(weight_decay=[0, 0.01], maximize=[False, True])]
    + [("RMSprop", dict(lr=0.01, alpha=0.9, **o))
       for o in _combos(centered=[False, True], momentum=[0, 0.8], weight_decay=[0, 0.01],
                        maximize=[False, True])]
    + [("Adagrad", dict(lr=0.1, **o))
       for o in _combos(lr_decay=[0, 0.01], weight_decay=[0, 0.1],
                        initial_accumulator_value=[0, 0.1], maximize=[False, True])]
)
CASE_IDS = [f"{name}-" + "-".join(f"{k}={v}" for k, v in o.items() if k != "lr")
            for name, o in CASES]
FUSED = {"Adam": "adam_step", "AdamW": "adam_step", "SGD": "sgd_step",
         "RMSprop": "rmsprop_step", "Adagrad": "adagrad_step"}


def _gradients(rng, shapes, dtypes, steps=STEPS):
    return [[rng.standard_normal(s).astype(d) for s, d in zip(shapes, dtypes)]
            for _ in range(steps)]


def _assert_state_matches_torch(opt, ref, ours, theirs, tol):
    for p, q in zip(ours, theirs):
        theirs_state = ref.state[q]
        assert set(opt.state.get(p, {})) == set(theirs_state), "state entries differ from torch's"
        for key, value in theirs_state.items():
            mine = opt.state[p][key]
            if key == "step":
                assert mine == int(value)
                continue
            assert isinstance(mine, pydyfast.Tensor), f"state '{key}' is not a Tensor"
            assert mine.dtype == p.dtype and mine.shape == p.shape
            np.testing.assert_allclose(mine.numpy(), value.numpy(), err_msg=key, **tol)


@pytest.mark.parametrize("name,options", CASES, ids=CASE_IDS)
def test_trajectory_and_state_match_torch(name, options, dtype, kernels, rng):
    initial = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = _gradients(rng, SHAPES, [dtype] * len(SHAPES))
    ours, theirs, opt, ref = run_both(name, options, grads, initial)
    tol = tolerances(dtype)
    for p, q in zip(ours, theirs):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.data, q.detach().numpy(), **tol)
    _assert_state_matches_torch(opt, ref, ours, theirs, tol)


@pytest.mark.parametrize("name,options", CASES, ids=CASE_IDS)
def test_fused_kernel_matches_numpy_reference(name, options, dtype, rng):
    """Same formulas, same operation order: the two paths agree to rounding."""
    assert backend.native_active(), backend.info()["_C_error"]
    initial = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = _gradients(rng, SHAPES, [dtype] * len(SHAPES))
    runs = []
    for fused in (True, False):
        params = [Parameter(a.copy()) for a in initial]
        opt = getattr(optim, name)(params, **options, fused=fused)
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = pydyfast.Tensor(g)
            opt.step()
        runs.append(params)
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-13)
    for fused_param, reference_param in zip(*runs):
        np.testing.assert_allclose(fused_param.data, reference_param.data, **tol)


class KernelSpy:
    """Stands in for backend.native_module(): counts the fused kernel calls, then runs them."""

    def __init__(self, module):
        self.module, self.calls = module, []

    def __getattr__(self, name):
        kernel = getattr(self.module, name)

        def spy(*args, **kwargs):
            self.calls.append((name, args[0][0].dtype if args[0] else None, len(args[0])))
            return kernel(*args, **kwargs)
        return spy


@pytest.fixture
def spy(monkeypatch):
    assert backend.native_active(), backend.info()["_C_error"]
    real = backend.native_module
    watcher = KernelSpy(real())
    monkeypatch.setattr(backend, "native_module", lambda: None if real() is None else watcher)
    return watcher


@pytest.mark.parametrize("name", sorted(FUSED))
@pytest.mark.parametrize("choice,fused_path", [
    ({}, True), ({"fused": True}, True), ({"fused": False}, False),
    ({"foreach": True}, False), ({"foreach": False}, False), ({"fused": False, "foreach": True},
                                                              False),
])
def test_path_choice_follows_fused_and_foreach(name, choice, fused_path, spy):
    params = [Parameter(np.ones(3, np.float32)), Parameter(np.ones(2, np.float32))]
    opt = getattr(optim, name)(params, lr=0.1, **choice)
    for p in params:
        p.grad = pydyfast.Tensor(np.ones(p.shape, np.float32))
    opt.step()
    # one call for the whole group when fused, none otherwise
    assert spy.calls == ([(FUSED[name], np.float32, 2)] if fused_path else [])


def test_numpy_kernel_mode_and_float16_take_the_reference(spy):
    half = Parameter(np.ones(3, np.float16))
    opt = optim.Adam([half], lr=0.1)
    half.grad = pydyfast.Tensor(np.ones(3, np.float16))
    opt.step()
    assert spy.calls == [] and half.dtype == np.float16
    np.testing.assert_allclose(half.data, 0.9, rtol=1e-3)
    single = Parameter(np.ones(3, np.float32))
    opt = optim.Adam([single], lr=0.1)
    single.grad = pydyfast.Tensor(np.ones(3, np.float32))
    previous = backend.get_kernels()
    backend.set_kernels("numpy")
    try:
        opt.step()
    finally:
        backend.set_kernels(previous)
    assert spy.calls == []
    np.testing.assert_allclose(single.data, 0.9, rtol=1e-6)


@pytest.mark.parametrize("name,options", [
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.2)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
])
def test_mixed_dtypes_and_missing_gradients_match_torch(name, options, spy, rng):
    """float32 and float64 parameters in one group take one kernel call per dtype; a parameter
    whose .grad is None is skipped that step (its step count, hence its bias correction, falls
    behind the others'), and one that never has a gradient gets no state."""
    shapes = [(17,), (3, 5), (40, 30), (4,)]
    dtypes = [np.float32, np.float64, np.float32, np.float64]
    initial = [rng.standard_normal(s).astype(d) for s, d in zip(shapes, dtypes)]
    grads = _gradients(rng, shapes, dtypes, steps=12)
    for t, step_grads in enumerate(grads):
        step_grads[3] = None
        if t % 3 == 1:
            step_grads[1] = None
    ours, theirs, opt, ref = run_both(name, options, grads, initial)
    for p, q, d in zip(ours, theirs, dtypes):
        assert p.dtype == d
        np.testing.assert_allclose(p.data, q.detach().numpy(), **tolerances(np.float32))
    assert ours[3] not in opt.state
    if name != "SGD":
        assert opt.state[ours[1]]["step"] == 8 and opt.state[ours[0]]["step"] == 12
    # two calls a step (one per dtype), one on the 4 steps where the float64 one has no grad
    assert {(dt, n) for _, dt, n in spy.calls} == {(np.dtype(np.float32), 2),
                                                   (np.dtype(np.float64), 1)}
    assert len(spy.calls) == 2 * 12 - 4


@pytest.mark.parametrize("name,options", [
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1)),
])
def test_strided_parameters_are_updated_in_place_by_the_reference(name, options, spy, rng):
    """A parameter whose array is not C-contiguous (Fortran order, or a view into a bigger
    array) cannot be written by the kernels, which take flat arrays: it takes the NumPy
    reference path, which writes through the view, while its C-contiguous neighbours in the
    group still take one fused call."""
    big = rng.standard_normal((8, 6))
    strided = [np.asfortranarray(rng.standard_normal((5, 4))), big[::2, 1::2]]
    plain = rng.standard_normal((7,))
    ours = [Parameter(strided[0]), Parameter(np.zeros(1)), Parameter(plain.copy())]
    ours[1].data = strided[1]
    assert not ours[0].data.flags.c_contiguous and ours[1].data.base is big
    theirs = [torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(a)))
              for a in (strided[0], strided[1], plain)]
    untouched = big[1::2].copy()
    opt = getattr(optim, name)(ours, **options)
    ref = getattr(torch.optim, name)(theirs, **options)
    for _ in range(6):
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(p.shape)
            p.grad, q.grad = pydyfast.Tensor(g), torch.from_numpy(g)
        opt.step()
        ref.step()
    assert ours[1].data.base is big  # written through the view
    np.testing.assert_array_equal(big[1::2], untouched)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-9, atol=1e-10)
    assert [n for _, _, n in spy.calls] == [1] * 6


def test_state_tensors_alias_the_arrays_the_kernel_writes(rng):
    p = Parameter(rng.standard_normal((4, 3)).astype(np.float32))
    opt = optim.Adam([p], lr=0.1, amsgrad=True)
    p.grad = pydyfast.Tensor(np.ones((4, 3), np.float32))
    opt.step()
    exp_avg = opt.state[p]["exp_avg"]
    before = exp_avg.numpy().copy()
    assert opt.state_dict()["state"][0]["exp_avg"] is exp_avg
    opt.step()
    assert opt.state[p]["exp_avg"] is exp_avg
    assert not np.array_equal(exp_avg.numpy(), before)
    np.testing.assert_allclose(exp_avg.numpy(), 0.19, rtol=1e-6)  # 0.9 * 0.1 + 0.1


@pytest.mark.parametrize("name,options", [
    ("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)), ("Adagrad", dict(lr=0.1)),
])
def test_torch_state_dict_loads_and_continues_on_either_path(name, options, rng, dtype):
    """Torch's state dict (tensors as arrays, the step a float tensor) loads into a fused and a
    reference optimizer; both then continue exactly as torch does."""
    shapes = [(17,), (3, 5)]
    initial = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = _gradients(rng, shapes, [dtype] * 2, steps=8)
    _, theirs, _, ref = run_both(name, options, grads[:4], initial)
    saved = ref.state_dict()
    saved["state"] = {i: {k: v.numpy() if torch.is_tensor(v) else v for k, v in s.items()}
                      for i, s in saved["state"].items()}
    runs = []
    for fused in (True, False):
        ours = [Parameter(q.detach().numpy().copy()) for q in theirs]
        opt = getattr(optim, name)(ours, **options, fused=fused)
        opt.load_state_dict(saved)
        # torch's saved options replace ours (fused=None where torch has the option)
        assert opt.param_groups[0]["fused"] is saved["param_groups"][0].get("fused", fused)
        opt.param_groups[0]["fused"] = fused
        if name != "SGD":
            assert opt.state[ours[0]]["step"] == 4
        for step_grads in grads[4:]:
            for p, g in zip(ours, step_grads):
                p.grad = pydyfast.Tensor(g)
            opt.step()
        runs.append(ours)
    for step_grads in grads[4:]:
        for q, g in zip(theirs, step_grads):
            q.grad = torch.from_numpy(g.copy())
        ref.step()
    for run in runs:
        for p, q in zip(run, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), **tolerances(dtype))


@pytest.mark.parametrize("make,error,match", [
    (lambda p: optim.Adam([p], lr=-0.1), ValueError, "invalid learning rate"),
    (lambda p: optim.Adam([p], eps=-1e-8), ValueError, "invalid eps"),
    (lambda p: optim.AdamW([p], betas=(0.9, 1.0)), ValueError, "invalid betas"),
    (lambda p: optim.AdamW([p], weight_decay=-0.1), ValueError, "weight_decay"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=-0.5), ValueError, "invalid momentum"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "nesterov"),
    (lambda p: optim.RMSprop([p], alpha=-0.1), ValueError, "invalid alpha"),
    (lambda p: optim.RMSprop([p], eps=-1.0), ValueError, "invalid eps"),
    (lambda p: optim.RMSprop([p], momentum=-0.1), ValueError, "invalid momentum"),
    (lambda p: optim.Adagrad([p], lr_decay=-0.1), ValueError, "invalid lr_decay"),
    (lambda p: optim.Adagrad([p], initial_accumulator_value=-1), ValueError,
     "invalid initial_accumulator_value"),
    (lambda p: optim.Adagrad([p], eps=-1.0), ValueError, "invalid eps"),
    (lambda p: optim.Adam([p], fused=True, foreach=True), RuntimeError, "cannot be `True`"),
    (lambda p: optim.SGD([p], lr=0.1, fused="yes"), TypeError, "option fused must be None"),
    (lambda p: optim.RMSprop([p], foreach=1), TypeError, "option foreach must be None"),
])
def test_bad_hyper_parameters_raise_naming_the_option(make, error, match):
    with pytest.raises(error, match=match):
        make(Parameter(np.ones(2)))


def test_kernels_check_their_lists():
    """The compiled kernels refuse lists that disagree, naming the kernel and the list."""
    from pydyfast import _C
    p, g, m, v = (np.zeros((2, 3), np.float32) for _ in range(4))
    args = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
                maximize=False)
    with pytest.raises(ValueError, match=r"adam_step: grads: expected 1 arrays"):
        _C.adam_step([p], [], [m], [v], [], [1], **args)
    with pytest.raises(ValueError, match=r"adam_step: exp_avgs\[0\] has shape \(3,\), expected "
                                         r"its parameter's \(2, 3\)"):
        _C.adam_step([p], [g], [np.zeros(3, np.float32)], [v], [], [1], **args)
    with pytest.raises(ValueError, match="step counts start at 1"):
        _C.adam_step([p], [g], [m], [v], [], [0], **args)
    with pytest.raises(ValueError, match="one step count per parameter"):
        _C.adam_step([p], [g], [m], [v], [], [], **args)
    with pytest.raises(TypeError):  # float64 state beside a float32 parameter
        _C.adam_step([p], [g], [m.astype(np.float64)], [v], [], [1], **args)
    with pytest.raises(ValueError, match="sgd_step: momentum_buffers: expected 0 arrays"):
        _C.sgd_step([p], [g], [m], [], 0.1, 0.0, 0.0, 0.0, False, False)
    with pytest.raises(ValueError, match="sgd_step: expected one fresh-buffer flag"):
        _C.sgd_step([p], [g], [m], [], 0.1, 0.9, 0.0, 0.0, False, False)
    with pytest.raises(ValueError, match="rmsprop_step: grad_avgs: expected 1 arrays"):
        _C.rmsprop_step([p], [g], [m], [], [], 0.1, 0.9, 1e-8, 0.0, 0.0, True, False)
    read_only = np.zeros((2, 3), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="not writeable"):
        _C.adagrad_step([read_only], [g], [m], [1], 0.1, 0.0, 0.0, 1e-10, False)


def test_subclass_with_its_own_reference_update_keeps_it(spy):
    """A subclass that overrides ``_update`` alone (pydynet's SGD does) is not bypassed by the
    kernel, which would skip its change."""
    class HalfStepSGD(optim.SGD):
        def _update(self, param, grad, state, group):
            super()._update(param, grad / 2, state, group)

    p = Parameter(np.ones(3, np.float32))
    opt = HalfStepSGD([p], lr=0.5)
    p.grad = pydyfast.Tensor(np.ones(3, np.float32))
    opt.step()
    assert spy.calls == []
    np.testing.assert_allclose(p.data, 0.75)
