"""Module, Parameter and the containers: registration, traversal, state dicts (against torch's
keys and error cases), modes, devices and dtypes, repr, and flat memory over training steps."""
import copy
import gc
import tracemalloc
from collections import OrderedDict

import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast
import pydyfast.functional as F
from pydyfast import nn, optim


def make_affine(framework):
    """The same small layer in pydyfast and torch, built from Parameters and buffers only."""
    base = nn if framework is pydyfast else torch.nn

    class Affine(base.Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.n_in, self.n_out = n_in, n_out
            self.weight = base.Parameter(framework.zeros(n_out, n_in))
            self.bias = base.Parameter(framework.zeros(n_out))
            self.register_buffer("calls", framework.zeros(1))
            self.register_buffer("scratch", framework.zeros(2), persistent=False)

        def forward(self, x):
            return x @ self.weight.T + self.bias

        def extra_repr(self):
            return f"in={self.n_in}, out={self.n_out}"

    return Affine


def make_net(framework):
    base = nn if framework is pydyfast else torch.nn
    Affine = make_affine(framework)
    return base.Sequential(OrderedDict([
        ("first", Affine(3, 4)),
        ("blocks", base.ModuleList([Affine(4, 4), Affine(4, 4)])),
        ("heads", base.ModuleDict({"out": Affine(4, 2)})),
    ]))


def forward(net, x):
    h = net.first(x)
    for block in net.blocks:
        h = block(h)
    return net.heads["out"](h)


def test_names_and_state_dict_keys_match_torch():
    ours, theirs = make_net(pydyfast), make_net(torch)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [k for k, _ in ours.named_buffers()] == [k for k, _ in theirs.named_buffers()]
    assert [k for k, _ in ours.named_modules()] == [k for k, _ in theirs.named_modules()]
    assert [k for k, _ in ours.named_children()] == ["first", "blocks", "heads"]
    assert "first.scratch" not in ours.state_dict()
    assert len(list(ours.parameters())) == 8 and len(list(ours.children())) == 3


def test_loading_a_torch_state_dict_gives_the_same_outputs(rng):
    ours, theirs = make_net(pydyfast), make_net(torch)
    for p in theirs.parameters():
        torch.nn.init.normal_(p)
    result = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(forward(ours, pydyfast.Tensor(x)).numpy(),
                               forward(theirs, torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_load_state_dict_errors_name_keys_and_shapes():
    net = make_net(pydyfast)
    state = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    before = net.first.weight.numpy().copy()
    bad = dict(state)
    del bad["first.bias"]
    bad["extra.weight"] = np.ones(1)
    bad["first.weight"] = np.full((4, 3), 7.0)
    with pytest.raises(RuntimeError, match=r"missing keys \['first.bias'\], unexpected keys "
                                           r"\['extra.weight'\]"):
        net.load_state_dict(bad)
    np.testing.assert_array_equal(net.first.weight.numpy(), before)  # nothing half-loaded
    result = net.load_state_dict(bad, strict=False)
    assert result == (["first.bias"], ["extra.weight"])
    assert np.all(net.first.weight.numpy() == 7)
    wrong = dict(state, **{"heads.out.weight": np.ones((3, 4))})
    with pytest.raises(RuntimeError, match=r"heads.out.weight: checkpoint shape \(3, 4\) != "
                                           r"model shape \(2, 4\)"):
        net.load_state_dict(wrong, strict=False)


def test_load_keeps_the_model_dtype():
    net = make_net(pydyfast).double()
    net.load_state_dict({k: v.numpy().astype(np.float32) for k, v in net.state_dict().items()})
    assert all(p.dtype == np.float64 for p in net.parameters())


def test_train_eval_flip_training_only():
    net = make_net(pydyfast)
    with pydyfast.no_grad():
        assert net.eval() is net
        assert not pydyfast.is_grad_enabled()
    assert pydyfast.is_grad_enabled()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules()) and pydyfast.is_grad_enabled()


def test_apply_visits_children_first_like_torch():
    ours, theirs = make_net(pydyfast), make_net(torch)
    seen_ours, seen_theirs = [], []
    ours.apply(lambda m: seen_ours.append(type(m).__name__))
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs


def test_repr_matches_torch():
    assert repr(make_net(pydyfast)) == repr(make_net(torch))


def test_zero_grad_and_requires_grad():
    net = make_net(pydyfast)
    forward(net, pydyfast.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_dtype_and_cpu_keep_registration(dtype):
    net = make_net(pydyfast)
    net.first.register_buffer("steps", pydyfast.Tensor(np.array([3], np.int64)))
    weight = net.first.weight
    assert net.to(dtype) is net and net.cpu() is net
    assert net.first.weight is weight and weight.dtype == dtype
    assert net.first.calls.dtype == dtype and net.first.steps.dtype == np.int64
    assert net.to("cpu", dtype=np.float32).first.bias.dtype == np.float32


@pytest.mark.skipif(pydyfast.cuda.is_available(), reason="checks the error without a GPU")
def test_cuda_without_gpu_raises_clearly():
    net = make_net(pydyfast)
    with pytest.raises((ImportError, RuntimeError), match="CuPy|no CUDA GPU"):
        net.cuda()
    assert net.first.weight.device == pydyfast.Device("cpu")


def test_setattr_none_keeps_the_slot_and_reassignment_moves_tables():
    layer = make_affine(pydyfast)(2, 2)
    layer.bias = None
    assert "bias" in layer._parameters and layer.bias is None
    assert "bias" not in layer.state_dict()
    layer.bias = nn.Parameter(np.ones(2))
    assert "bias" in layer.state_dict()
    layer.weight = "plain"
    assert "weight" not in layer._parameters and layer.weight == "plain"
    del layer.bias
    assert "bias" not in layer.state_dict()


def test_deepcopy_is_independent():
    net = make_net(pydyfast)
    twin = copy.deepcopy(net)
    twin.first.weight.data[...] = 5
    assert np.all(net.first.weight.numpy() == 0)
    assert list(twin.state_dict()) == list(net.state_dict())


def test_containers():
    Affine = make_affine(pydyfast)
    seq = nn.Sequential(Affine(3, 4), Affine(4, 2))
    assert len(seq) == 2 and isinstance(seq[-1], Affine) and len(seq[:1]) == 1
    assert seq(pydyfast.ones(5, 3)).shape == (5, 2)
    seq.append(Affine(2, 2))
    assert [k for k, _ in seq.named_children()] == ["0", "1", "2"]
    layers = nn.ModuleList([Affine(1, 1)])
    layers.extend([Affine(1, 1), Affine(1, 1)])
    layers[0] = Affine(1, 2)
    assert len(layers) == 3 and layers[0].n_out == 2 and len(layers[1:]) == 2
    assert [m.n_out for m in layers] == [2, 1, 1]
    heads = nn.ModuleDict({"a": Affine(1, 1)})
    heads["b"] = Affine(1, 3)
    assert "b" in heads and list(heads) == ["a", "b"] and heads["b"].n_out == 3
    assert list(heads.keys()) == ["a", "b"] and len(heads.values()) == len(heads.items()) == 2
    assert len(list(heads.parameters())) == 4


def test_shared_parameters_are_listed_once():
    Affine = make_affine(pydyfast)
    a = Affine(2, 2)
    seq = nn.Sequential(a, a)
    assert len(list(seq.parameters())) == 2


def test_parameter_defaults_and_repr():
    p = nn.Parameter(pydyfast.Tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and repr(p).startswith("Parameter containing:")
    assert not nn.Parameter(np.ones(2), requires_grad=False).requires_grad


@pytest.mark.parametrize("call,error,match", [
    (lambda m: m.register_buffer("a.b", pydyfast.ones(1)), KeyError, "without '.'"),
    (lambda m: m.register_buffer("b", np.ones(1)), TypeError, "must be a Tensor"),
    (lambda m: m.register_parameter("w", pydyfast.ones(1)), TypeError, "must be a Parameter"),
    (lambda m: m.add_module("x", 3), TypeError, "must be a Module"),
    (lambda m: m.missing, AttributeError, "has no attribute 'missing'"),
    (lambda m: m(1), NotImplementedError, "has no forward"),
])
def test_bad_registration_raises(call, error, match):
    with pytest.raises(error, match=match):
        call(nn.Module())


def test_forgetting_super_init_raises():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_memory_stays_flat_over_training_steps(rng):
    """An MLP of plain Parameters and F ops: the graph of every step must be freed."""
    w1 = nn.Parameter(rng.standard_normal((8, 32)).astype(np.float32) * 0.1)
    w2 = nn.Parameter(rng.standard_normal((32, 1)).astype(np.float32) * 0.1)
    x = pydyfast.Tensor(rng.standard_normal((64, 8)).astype(np.float32))
    y = pydyfast.Tensor(rng.standard_normal((64, 1)).astype(np.float32))
    opt = optim.Adam([w1, w2], lr=1e-3)

    def train(steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = F.mean((F.relu(x @ w1) @ w2 - y) ** 2)
            loss.backward()
            opt.step()

    tracemalloc.start()
    try:
        train(20)  # warm-up: optimizer state and caches exist from here on
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        train(300)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # One step's graph is ~100 kB of arrays; 300 leaked steps would be tens of MB.
    assert after - before < 200_000, f"memory grew by {after - before} bytes over 300 steps"
