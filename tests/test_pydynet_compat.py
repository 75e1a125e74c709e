"""PyDyNet compatibility: its module paths resolve, and training scripts written the way
PyDyNet's examples write them run with only the import lines changed."""
import importlib

import numpy as np
import pytest

# --- the import block of a PyDyNet script, with "pydynet" replaced by "pydyfast" ---
import pydyfast as pdn
import pydyfast.nn as nn
import pydyfast.nn.functional as F
from pydyfast.autograd import no_grad
from pydyfast.cuda import Device
from pydyfast.data import data_loader
from pydyfast.optim import Adam
from pydyfast.tensor import Tensor


@pytest.mark.parametrize("path,name", [
    ("pydyfast.tensor", "Tensor"), ("pydyfast.nn.functional", "relu"),
    ("pydyfast.optim", "Adam"), ("pydyfast.optim", "SGD"), ("pydyfast.optim", "Adagrad"),
    ("pydyfast.optim", "Adadelta"), ("pydyfast.optim.lr_scheduler", "StepLR"),
    ("pydyfast.optim.lr_scheduler", "MultiStepLR"),
    ("pydyfast.optim.lr_scheduler", "ExponentialLR"),
    ("pydyfast.optim.lr_scheduler", "CosineAnnealingLR"), ("pydyfast.data", "data_loader"),
    ("pydyfast.data", "DataLoader"), ("pydyfast.data", "Dataset"),
    ("pydyfast.autograd", "no_grad"), ("pydyfast.autograd", "enable_grad"),
    ("pydyfast.cuda", "Device"), ("pydyfast.cuda", "is_available"), ("pydyfast.nn", "init"),
    ("pydyfast.nn", "Parameter"), ("pydyfast.nn", "Module"), ("pydyfast", "no_grad"),
    ("pydyfast", "Device"),
])
def test_pydynet_paths_exist(path, name):
    assert hasattr(importlib.import_module(path), name)


def make_blobs(n_per_class=60, seed=0):
    """Three Gaussian blobs in 2-D: a task a small MLP learns to near-perfect accuracy."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    X = np.concatenate([c + 0.5 * rng.standard_normal((n_per_class, 2)) for c in centres])
    y = np.repeat(np.arange(3), n_per_class)
    return X.astype(np.float32), y


class Dense(nn.Module):
    """A dense layer written the PyDyNet way: Parameters initialised with nn.init."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(pdn.zeros(n_out, n_in))
        self.bias = nn.Parameter(pdn.zeros(n_out))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)

    def forward(self, x):
        return x @ self.weight.T + self.bias


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = Dense(2, 32)
        self.layer2 = Dense(32, 3)

    def forward(self, x):
        return self.layer2(F.relu(self.layer1(x)))


def cross_entropy(logits, target):
    """Mean negative log-likelihood of integer targets from logits, in F ops."""
    picked = logits[np.arange(len(target)), target.numpy()]
    return F.mean(F.logsumexp(logits, axis=1) - picked)


def test_pydynet_style_training_script_learns():
    pdn.manual_seed(0)
    X, y = make_blobs()
    train_X, train_y = Tensor(X), Tensor(y)
    device = Device("cpu")

    net = MLP().to(device)
    optimizer = Adam(net.parameters(), lr=0.02)
    train_loader = data_loader(train_X, train_y, 32, shuffle=True)

    losses = []
    for epoch in range(15):
        net.train()
        epoch_loss = 0.0
        for batch_X, batch_y in train_loader:
            input_, label = batch_X.to(device), batch_y.to(device)
            output = net(input_)
            loss = cross_entropy(output, label)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
        losses.append(epoch_loss)

    net.eval()
    with no_grad():
        output = net(train_X.to(device))
        accuracy = (output.numpy().argmax(1) == y).mean()
        assert not output.requires_grad
    assert losses[-1] < 0.25 * losses[0], losses
    assert accuracy > 0.95


def test_pydynet_example_with_layers_learns():
    """PyDyNet's mnist example shape: Sequential of Linear/ReLU, nn.CrossEntropyLoss, Adam,
    StepLR, data_loader."""
    from pydyfast.optim.lr_scheduler import StepLR
    pdn.manual_seed(0)
    X, y = make_blobs()
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = Adam(net.parameters(), lr=0.02)
    scheduler = StepLR(optimizer, step_size=5, gamma=0.5)
    first = last = None
    for epoch in range(15):
        total = 0.0
        for batch_X, batch_y in data_loader(Tensor(X), Tensor(y), 32, shuffle=True):
            loss = loss_fn(net(batch_X), batch_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        scheduler.step()
        first = total if first is None else first
        last = total
    with no_grad():
        accuracy = (net(Tensor(X)).numpy().argmax(1) == y).mean()
    assert last < 0.25 * first and accuracy > 0.95
