"""DistributedDataParallel on every rank against one process training on the whole batch.

Each rank also trains the single-process reference itself (same seed, whole batch, no DDP),
so no results travel between processes except through the code under test.
"""
import numpy as np

import pydyfast as pdf
import pydyfast.distributed as dist
import pydyfast.nn as nn
import pydyfast.nn.functional as F
from pydyfast.nn.parallel import DistributedDataParallel as DDP
from worker_common import case, expect, main

BATCH = 12  # divisible by 2 and 3 ranks


class Branches(nn.Module):
    """Two heads; ``which`` picks the one used, so a parameter can be unused on a rank."""

    def __init__(self):
        super().__init__()
        self.trunk, self.a, self.b = nn.Linear(4, 6), nn.Linear(6, 3), nn.Linear(6, 3)

    def forward(self, x, which="a"):
        h = F.relu(self.trunk(x))
        return self.a(h) if which == "a" else self.b(h)


class GRUHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 5, batch_first=True, dtype=np.float64)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out[:, -1])


def build(kind, seed):
    pdf.manual_seed(seed)
    pdf.set_default_dtype(np.float64)
    try:
        if kind == "mlp":
            return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        if kind == "cnn":
            return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                 nn.Flatten(), nn.Linear(4 * 5 * 5, 3))
        if kind == "gru":
            return GRUHead()
        return Branches()
    finally:
        pdf.set_default_dtype(np.float32)


def batch(kind):
    rng = np.random.default_rng(7)
    shape = {"mlp": (BATCH, 4), "cnn": (BATCH, 2, 5, 5), "gru": (BATCH, 4, 3),
             "branches": (BATCH, 4)}[kind]
    x = rng.standard_normal(shape)
    y = rng.standard_normal((BATCH, 2 if kind == "gru" else 3))
    return x, y


def shard(a):
    n, r = dist.get_world_size(), dist.get_rank()
    per = len(a) // n
    return a[r * per:(r + 1) * per]


def train(model, x, y, steps=5):
    """``steps`` Adam steps, then one more backward so the gradients can be compared too
    (Adam's update barely changes when every gradient is scaled, the gradient does)."""
    opt = pdf.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(pdf.Tensor(x)), pdf.Tensor(y)).backward()
        opt.step()
    opt.zero_grad()
    F.mse_loss(model(pdf.Tensor(x)), pdf.Tensor(y)).backward()


def close(actual_model, expected_model, what, tol=1e-6):
    want = dict(expected_model.state_dict())
    for name, t in actual_model.state_dict().items():
        expect(lambda: np.testing.assert_allclose(t.numpy(), want[name].numpy(), rtol=tol,
                                                  atol=tol, err_msg=f"{what}: {name}"), what)


def ddp_equals_single_process(kind, sync_bn=False):
    x, y = batch(kind)
    reference = build(kind, 0)
    train(reference, x, y)
    # Ranks start from different weights: DDP's broadcast from rank 0 must align them.
    local = build(kind, dist.get_rank())
    if sync_bn:
        local = nn.SyncBatchNorm.convert_sync_batchnorm(local)
    model = DDP(local, bucket_cap_mb=0.0005)  # ~500 bytes: several buckets in flight
    assert len(model.reducer.buckets) > 1
    train(model, shard(x), shard(y))
    close(local, reference, kind)
    for (name, p), q in zip(local.named_parameters(), reference.parameters()):
        expect(lambda: np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6,
                                                  atol=1e-9), f"{kind} grad {name}")


@case
def ddp_mlp_matches_one_process_after_5_adam_steps():
    ddp_equals_single_process("mlp")


@case
def ddp_cnn_with_sync_batchnorm_matches_one_process():
    ddp_equals_single_process("cnn", sync_bn=True)


@case
def ddp_gru_matches_one_process():
    ddp_equals_single_process("gru")


@case
def convert_sync_batchnorm_replaces_and_keeps_state():
    model = build("cnn", 0)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert type(converted[1]) is nn.SyncBatchNorm, type(converted[1])
    assert converted[1].weight is model[1].weight
    assert list(before) == list(converted.state_dict())


@case
def no_sync_accumulation_equals_large_batch_gradient():
    x, y = batch("mlp")
    reference = build("mlp", 0)
    F.mse_loss(reference(pdf.Tensor(x)), pdf.Tensor(y)).backward()
    local = build("mlp", 0)
    model = DDP(local)
    xs, ys = shard(x), shard(y)
    half = len(xs) // 2
    with model.no_sync():
        (F.mse_loss(model(pdf.Tensor(xs[:half])), pdf.Tensor(ys[:half])) / 2).backward()
    # inside no_sync nothing was exchanged: the ranks' gradients still differ
    grads = [None] * dist.get_world_size()
    dist.all_gather_object(grads, local[0].weight.grad.numpy())
    assert not np.allclose(grads[0], grads[1]), "no_sync still synchronised gradients"
    (F.mse_loss(model(pdf.Tensor(xs[half:])), pdf.Tensor(ys[half:])) / 2).backward()
    for (name, p), q in zip(local.named_parameters(), reference.parameters()):
        expect(lambda: np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9,
                                                  atol=1e-12), f"no_sync grad {name}")


@case
def unused_parameters_differ_per_rank_with_find_unused():
    """Rank r uses head 'a' when r is even, 'b' when odd; the averaged gradient equals that of
    the mean of the ranks' losses in one process. A head no rank uses keeps grad None."""
    x, y = batch("branches")
    n = dist.get_world_size()
    reference = build("branches", 0)
    per = BATCH // n
    losses = [F.mse_loss(reference(pdf.Tensor(x[r * per:(r + 1) * per]), "ab"[r % 2]),
                         pdf.Tensor(y[r * per:(r + 1) * per])) for r in range(n)]
    (sum(losses[1:], losses[0]) / n).backward()
    local = build("branches", 0)
    model = DDP(local, find_unused_parameters=True)
    for _ in range(2):  # twice: the second iteration must not complain about the first
        local.zero_grad()
        F.mse_loss(model(pdf.Tensor(shard(x)), "ab"[dist.get_rank() % 2]),
                   pdf.Tensor(shard(y))).backward()
    for (name, p), q in zip(local.named_parameters(), reference.parameters()):
        expect(lambda: np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9,
                                                  atol=1e-12), f"find_unused grad {name}")
    only_a = build("branches", 0)
    model = DDP(only_a, find_unused_parameters=True)
    F.mse_loss(model(pdf.Tensor(shard(x)), "a"), pdf.Tensor(shard(y))).backward()
    assert only_a.b.weight.grad is None and only_a.a.weight.grad is not None


@case
def unused_parameter_without_find_unused_is_named_at_next_forward():
    import pytest
    model = DDP(build("branches", 0))
    x, y = batch("branches")
    F.mse_loss(model(pdf.Tensor(shard(x)), "a"), pdf.Tensor(shard(y))).backward()
    with pytest.raises(RuntimeError, match=r"parameters \['b.weight', 'b.bias'\] received no "
                                           r"gradient.*find_unused_parameters=True"):
        model(pdf.Tensor(shard(x)), "a")


@case
def mismatched_parameter_shapes_are_named_at_construction():
    import pytest
    width = 5 if dist.get_rank() == 0 else 6
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, width))
    with pytest.raises(RuntimeError, match=r"differs across ranks at parameter '1.weight': rank 0"
                                           r" has parameter '1.weight' of shape \(5, 3\)"):
        DDP(model)


@case
def checkpoint_saved_on_rank0_loads_on_every_rank():
    import tempfile
    from pathlib import Path
    model = DDP(build("mlp", dist.get_rank()))
    names = [None] * dist.get_world_size()  # rank 0's file name, for everyone
    dist.all_gather_object(names, str(Path(tempfile.mkdtemp()) / "model.pdf"))
    if dist.get_rank() == 0:
        pdf.save(model.module.state_dict(), names[0])
    dist.barrier()
    fresh = build("mlp", 123)
    fresh.load_state_dict(pdf.load(names[0]))
    close(fresh, model.module, "checkpoint", tol=0)
    dist.barrier()
    if dist.get_rank() == 0:
        Path(names[0]).unlink()
        Path(names[0]).parent.rmdir()


@case
def buckets_start_during_backward_in_bucket_order():
    """Each bucket's all-reduce starts from a gradient hook while parameters of later buckets
    still wait for their gradients (that is what lets communication overlap backward)."""
    # 262 bytes: the last Linear's weight and bias (216 bytes of float64) fill the first bucket,
    # so it is complete while the first Linear's gradients are still due
    model = DDP(build("mlp", 0), bucket_cap_mb=0.00025)
    reducer, launches = model.reducer, []

    class Recorder:  # the process group, logging when each all-reduce starts
        def __getattr__(self, name):
            return getattr(reducer_group, name)

        def all_reduce(self, x, op):
            launches.append((next(i for i, b in enumerate(reducer.buckets) if b.flat is x),
                             len(reducer.ready)))
            return reducer_group.all_reduce(x, op)
    reducer_group, reducer.group = reducer.group, Recorder()
    x, y = batch("mlp")
    F.mse_loss(model(pdf.Tensor(shard(x))), pdf.Tensor(shard(y))).backward()
    n_params = len(reducer.slot)
    assert [b for b, _ in launches] == list(range(len(reducer.buckets))), launches
    assert launches[0][1] < n_params, launches  # the first started with gradients still due


@case
def a_discarded_wrapper_releases_its_hooks_and_buckets():
    import gc
    import weakref

    from pydyfast.backend import engine
    local = build("mlp", 0)
    model = DDP(local)
    reducer = weakref.ref(model.reducer)
    hooks = lambda: sum(len(tables[1]) for tables in engine._leaf_hooks.values())  # noqa: E731
    assert hooks() >= 4
    del model
    gc.collect()
    assert reducer() is None and hooks() == 0
    F.mse_loss(local(pdf.Tensor(batch("mlp")[0])), pdf.Tensor(batch("mlp")[1])).backward()


if __name__ == "__main__":
    main()
