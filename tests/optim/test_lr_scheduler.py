"""Learning-rate sequences over 50 steps against torch.optim.lr_scheduler."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

from pydyfast import optim
from pydyfast.nn import Parameter
from pydyfast.optim import lr_scheduler

CASES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),  # 50 steps: several half-waves
    ("CosineAnnealingLR", dict(T_max=50)),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=8)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=20)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=50)),
    ("OneCycleLR", dict(max_lr=[0.5, 2.0], epochs=5, steps_per_epoch=10,
                        anneal_strategy="linear", three_phase=True)),
]


def make_pair(optimizer="SGD", options=None):
    options = options or dict(lr=0.1, momentum=0.9)
    ours = getattr(optim, optimizer)([{"params": [Parameter(np.ones(2))]},
                                      {"params": [Parameter(np.ones(2))], "lr": 0.05}],
                                     **options)
    theirs = getattr(torch.optim, optimizer)(
        [{"params": [torch.nn.Parameter(torch.ones(2))]},
         {"params": [torch.nn.Parameter(torch.ones(2))], "lr": 0.05}], **options)
    return ours, theirs


def lr_sequences(ours, theirs, sched, ref, steps=50, metric=None):
    got, want = [], []
    for i in range(steps):
        theirs.step()  # keeps torch from warning about the call order
        if metric is None:
            sched.step()
            ref.step()
        else:
            sched.step(metric(i))
            ref.step(metric(i))
        got.append([g["lr"] for g in ours.param_groups] + sched.get_last_lr())
        want.append([g["lr"] for g in theirs.param_groups] + ref.get_last_lr())
    return np.array(got), np.array(want)


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(CASES)])
def test_lr_sequence_matches_torch(name, options):
    ours, theirs = make_pair()
    sched = getattr(lr_scheduler, name)(ours, **options)
    ref = getattr(torch.optim.lr_scheduler, name)(theirs, **options)
    assert sched.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-12)
    steps = 49 if name == "OneCycleLR" else 50  # 1cycle has total_steps - 1 steps after init
    got, want = lr_sequences(ours, theirs, sched, ref, steps)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    if name == "OneCycleLR":
        assert [g["momentum"] for g in ours.param_groups] == pytest.approx(
            [g["momentum"] for g in theirs.param_groups], rel=1e-12)


@pytest.mark.parametrize("make", [
    lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                    m.CosineAnnealingLR(o, T_max=45)], milestones=[5]),
    lambda m, o: m.SequentialLR(o, [m.ExponentialLR(o, gamma=0.9), m.StepLR(o, 4, 0.5),
                                    m.MultiStepLR(o, [3, 9], 0.2), m.LinearLR(o, 0.5)],
                                milestones=[10, 20, 30]),
    lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.5, 1.0, 3),
                                    m.LambdaLR(o, lambda t: 0.9 ** t)], milestones=[7]),
], ids=["warmup-cosine", "four-phases", "lambda-after"])
def test_sequential_lr_matches_torch(make):
    ours, theirs = make_pair()
    sched, ref = make(lr_scheduler, ours), make(torch.optim.lr_scheduler, theirs)
    assert sched.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-12)
    got, want = lr_sequences(ours, theirs, sched, ref)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_lambda_lr_per_group():
    ours, theirs = make_pair()
    fns = [lambda t: 0.95 ** t, lambda t: 1.0 / (1 + t)]
    got, want = lr_sequences(ours, theirs, lr_scheduler.LambdaLR(ours, fns),
                             torch.optim.lr_scheduler.LambdaLR(theirs, fns))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_one_cycle_cycles_adam_beta1():
    ours, theirs = make_pair("Adam", dict(lr=0.01))
    sched = lr_scheduler.OneCycleLR(ours, max_lr=0.1, total_steps=50)
    ref = torch.optim.lr_scheduler.OneCycleLR(theirs, max_lr=0.1, total_steps=50)
    got, want = lr_sequences(ours, theirs, sched, ref, 30)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert ours.param_groups[0]["betas"] == pytest.approx(theirs.param_groups[0]["betas"])
    with pytest.raises(ValueError, match="total_steps is 50"):
        for _ in range(30):
            sched.step()


@pytest.mark.parametrize("options", [
    dict(mode="min", patience=3, factor=0.5, cooldown=2, min_lr=0.01),
    dict(mode="max", patience=2, threshold_mode="abs", threshold=0.1),
])
def test_reduce_on_plateau_matches_torch(options):
    ours, theirs = make_pair()
    sched = lr_scheduler.ReduceLROnPlateau(ours, **options)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **options)
    # A metric that improves, stalls, improves a little and stalls again.
    values = np.r_[np.linspace(1, 0.5, 10), np.full(15, 0.5), np.linspace(0.5, 0.49, 10),
                   np.full(15, 0.49)]
    got, want = lr_sequences(ours, theirs, sched, ref, metric=lambda i: values[i])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[-1, 0] < 0.1  # the test really reduced the lr


def test_scheduler_state_dict_round_trip():
    ours, _ = make_pair()
    sched = lr_scheduler.StepLR(ours, step_size=3)
    for _ in range(4):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 4
    other = lr_scheduler.StepLR(make_pair()[0], step_size=3)
    other.load_state_dict(state)
    assert other.last_epoch == 4 and other.get_last_lr() == sched.get_last_lr()


@pytest.mark.parametrize("make,match", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), "start_factor"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), "total_steps"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="x"),
     "anneal_strategy"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda t: 1.0]), "one per group"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), "factor"),
    (lambda o: lr_scheduler.ExponentialLR("sgd", gamma=0.5), "expected an Optimizer"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], milestones=[3]),
     "expected 0 milestones"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], []),
     "plain LRScheduler"),
])
def test_bad_arguments_raise(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make(make_pair()[0])


def test_one_cycle_needs_momentum():
    opt = optim.Adagrad([Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="momentum or betas"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)


def test_sequential_lr_state_dict_resumes_the_same_schedule():
    def build(opt):
        return lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, 0.1, total_iters=4),
                                               lr_scheduler.ExponentialLR(opt, 0.9)], [4])
    opt_a = make_pair()[0]
    straight = build(opt_a)
    for _ in range(6):
        straight.step()
    opt_b = make_pair()[0]
    resumed = build(opt_b)
    resumed.load_state_dict(straight.state_dict())
    for group_b, group_a in zip(opt_b.param_groups, opt_a.param_groups):
        group_b["lr"] = group_a["lr"]
    straight.step()
    resumed.step()
    assert resumed.get_last_lr() == straight.get_last_lr()
    assert resumed._schedulers[1].last_epoch == straight._schedulers[1].last_epoch == 3


@pytest.mark.parametrize("name,options", [("CosineAnnealingLR", dict(T_max=12, eta_min=0.01)),
                                          ("StepLR", dict(step_size=4)),
                                          ("LinearLR", dict(start_factor=0.2))])
def test_resuming_with_last_epoch_matches_torch(name, options):
    ours, theirs = make_pair()
    for opt, module in ((ours, lr_scheduler), (theirs, torch.optim.lr_scheduler)):
        first = getattr(module, name)(opt, **options)
        for _ in range(6):
            opt.step()  # no gradients: nothing moves, but torch sees the usual call order
            first.step()
    sched = getattr(lr_scheduler, name)(ours, last_epoch=6, **options)
    ref = getattr(torch.optim.lr_scheduler, name)(theirs, last_epoch=6, **options)
    got, want = lr_sequences(ours, theirs, sched, ref, steps=20)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError, match="needs 'initial_lr' in param_groups\\[0\\]"):
        lr_scheduler.StepLR(make_pair()[0], step_size=2, last_epoch=3)
    assert lr_scheduler._LRScheduler is lr_scheduler.LRScheduler
