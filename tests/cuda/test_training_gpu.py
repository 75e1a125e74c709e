"""Training steps of the MLP, LeNet, GRU and 1-layer Transformer on the GPU give the CPU's losses
(same initial weights, plain SGD), and the loss goes down. The models are written with the
functional ops, so only the device differs between the two runs.

Skipped without a GPU (fixture ``cp``).
"""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.functional as F


def _mlp(p, x, y):
    h = F.relu(x @ p["w1"] + p["b1"])
    h = F.relu(h @ p["w2"] + p["b2"])
    return F.cross_entropy(h @ p["w3"] + p["b3"], y)


def _lenet(p, x, y):
    h = F.max_pool2d(F.relu(F.conv2d(x, p["c1"], p["c1b"], padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p["c2"], p["c2b"])), 2)
    h = F.relu(h.reshape(h.shape[0], -1) @ p["f1"] + p["f1b"])
    return F.cross_entropy(h @ p["f2"] + p["f2b"], y)


def _gru(p, x, y):
    h = pdf.zeros(x.shape[0], 16, dtype=x.dtype, device=x.device)
    for t in range(x.shape[1]):
        h = F.gru_cell(x[:, t], h, p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"])
    return F.cross_entropy(h @ p["out"], y)


def _transformer(p, tokens, y):
    x = p["emb"][tokens]                                        # (B, S, E)
    B, S, E = x.shape
    heads = 2
    qkv = F.layer_norm(x, (E,), p["ln1"], None) @ p["qkv"]     # (B, S, 3E)
    q, k, v = (qkv[..., i * E:(i + 1) * E].reshape(B, S, heads, E // heads).permute(0, 2, 1, 3)
               for i in range(3))
    a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    x = x + a.permute(0, 2, 1, 3).reshape(B, S, E) @ p["proj"]
    x = x + F.relu(F.layer_norm(x, (E,), p["ln2"], None) @ p["ff1"]) @ p["ff2"]
    return F.cross_entropy(x.mean(axis=1) @ p["head"], y)


def _shapes_and_batch(rng, model):
    """Initial weight shapes (scaled normal init) and one batch (inputs, class targets)."""
    if model == "mlp":
        shapes = {"w1": (20, 32), "b1": (32,), "w2": (32, 16), "b2": (16,), "w3": (16, 5),
                  "b3": (5,)}
        return shapes, rng.standard_normal((8, 20)), rng.integers(0, 5, 8)
    if model == "lenet":
        shapes = {"c1": (6, 1, 5, 5), "c1b": (6,), "c2": (16, 6, 5, 5), "c2b": (16,),
                  "f1": (16 * 5 * 5, 32), "f1b": (32,), "f2": (32, 10), "f2b": (10,)}
        return shapes, rng.standard_normal((4, 1, 28, 28)), rng.integers(0, 10, 4)
    if model == "gru":
        shapes = {"w_ih": (48, 8), "w_hh": (48, 16), "b_ih": (48,), "b_hh": (48,), "out": (16, 3)}
        return shapes, rng.standard_normal((4, 6, 8)), rng.integers(0, 3, 4)
    shapes = {"emb": (50, 16), "ln1": (16,), "qkv": (16, 48), "proj": (16, 16), "ln2": (16,),
              "ff1": (16, 32), "ff2": (32, 16), "head": (16, 2)}
    return shapes, rng.integers(0, 50, (4, 9)), rng.integers(0, 2, 4)


LOSSES = {"mlp": _mlp, "lenet": _lenet, "gru": _gru, "transformer": _transformer}
# SGD steps that lower each model's loss three times in a row (LeNet's 28x28 inputs need less)
LEARNING_RATES = {"mlp": 0.1, "lenet": 0.003, "gru": 0.1, "transformer": 0.1}


def _train(model, device, steps=3, optimizer=None):
    """Losses of ``steps`` training steps: plain SGD on .data, or ``optimizer(params)``."""
    lr = LEARNING_RATES[model]
    rng = np.random.default_rng(0)
    shapes, x, y = _shapes_and_batch(rng, model)
    params = {}
    for name, shape in shapes.items():
        init = (np.ones(shape) if name.startswith("ln") else
                rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]) if len(shape) > 1
                                                     else shape[0]))
        params[name] = pdf.Tensor(init, device=device, requires_grad=True)
    x = pdf.Tensor(x, device=device)
    y = pdf.Tensor(y, device=device)
    opt = None if optimizer is None else optimizer(list(params.values()))
    losses = []
    for _ in range(steps):
        loss = LOSSES[model](params, x, y)
        loss.backward()
        losses.append(loss.item())
        for p in params.values():
            assert p.grad is not None and p.grad.device == p.device
        if opt is None:
            for p in params.values():
                p.data -= lr * p.grad.data
                p.grad = None
        else:
            opt.step()
            opt.zero_grad()
    return losses


@pytest.mark.parametrize("model", sorted(LOSSES))
def test_training_steps_on_gpu_match_cpu(cp, model):
    gpu = _train(model, "cuda")
    cpu = _train(model, "cpu")
    np.testing.assert_allclose(gpu, cpu, rtol=1e-9)
    assert gpu[2] < gpu[1] < gpu[0]


OPTIMIZERS = {
    "SGD_momentum": lambda p: pdf.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "Adam": lambda p: pdf.optim.Adam(p, lr=1e-2, amsgrad=True),
    "AdamW": lambda p: pdf.optim.AdamW(p, lr=1e-2),
    "RMSprop": lambda p: pdf.optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
    "Adagrad": lambda p: pdf.optim.Adagrad(p, lr=0.05),
    "Adadelta": lambda p: pdf.optim.Adadelta(p, lr=1.0),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_on_gpu_match_cpu(cp, name):
    """The optimizers update cupy parameters in place (numpy ufuncs dispatch to cupy)."""
    gpu = _train("mlp", "cuda", optimizer=OPTIMIZERS[name])
    cpu = _train("mlp", "cpu", optimizer=OPTIMIZERS[name])
    np.testing.assert_allclose(gpu, cpu, rtol=1e-9)
