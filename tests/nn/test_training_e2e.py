"""End-to-end training: small models learn tasks made in the test to a stated accuracy with
pydyfast.optim.Adam, on both kernel paths. Each test runs a fixed number of steps (a few seconds);
the accuracy thresholds sit well below what the models reach, and well above chance."""
import numpy as np
import pytest

import pydyfast as pdf
from pydyfast import nn, optim


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """On a loaded 2-core box, OpenBLAS's spinning threads make these small GEMMs ~100x slower;
    one thread keeps each test at a few seconds (as conftest does for torch)."""
    previous = pdf.get_num_threads()
    pdf.set_num_threads(1)
    yield
    pdf.set_num_threads(previous)


def _fit(model, x, y, steps, lr, batch=None, seed=0):
    """Adam on cross-entropy over (mini)batches; returns accuracy on (x, y) in eval mode."""
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    order = np.random.default_rng(seed)
    model.train()
    for _ in range(steps):
        idx = order.choice(len(x), batch, replace=False) if batch else slice(None)
        loss = loss_fn(model(pdf.tensor(x[idx])), pdf.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with pdf.no_grad():
        predicted = model(pdf.tensor(x)).numpy().argmax(axis=-1)
    return float((predicted == y).mean()), float(loss.item())


def _spirals(rng, n_per_class, classes=3):
    t = rng.uniform(0.05, 1, (classes, n_per_class))
    angle = t * 3 * np.pi + np.arange(classes)[:, None] * 2 * np.pi / classes
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], -1).reshape(-1, 2)
    x += rng.normal(0, 0.02, x.shape)
    return x.astype(np.float32), np.repeat(np.arange(classes), n_per_class)


def test_mlp_learns_spirals(kernels, rng):
    x, y = _spirals(rng, 100)
    model = nn.Sequential(nn.Linear(2, 64), nn.GELU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Dropout(0.05), nn.Linear(64, 3))
    accuracy, _ = _fit(model, x, y, steps=120, lr=2e-2)
    assert accuracy >= 0.95, accuracy


def _bars(rng, n):
    """8x8 noisy images with a horizontal (0), vertical (1) or diagonal (2) bar."""
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 0.3, (n, 1, 8, 8))
    pos = rng.integers(1, 7, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, pos[i], 1:7] += 1
        elif y[i] == 1:
            x[i, 0, 1:7, pos[i]] += 1
        else:
            x[i, 0, np.arange(8), (np.arange(8) + pos[i]) % 8] += 1
    return x.astype(np.float32), y


def test_cnn_learns_bar_orientation(kernels, rng):
    x, y = _bars(rng, 300)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 3))
    accuracy, _ = _fit(model, x, y, steps=80, lr=1e-2, batch=64)
    assert accuracy >= 0.9, accuracy


class _SequenceClassifier(nn.Module):
    def __init__(self, vocab, d_model, classes):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.position = nn.Embedding(16, d_model)
        layer = nn.TransformerEncoderLayer(d_model, 2, 32, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens):
        positions = pdf.tensor(np.arange(tokens.shape[1]))
        h = self.encoder(self.embed(tokens) + self.position(positions))
        return self.head(h.mean(axis=1))


def test_transformer_learns_majority_token(kernels, rng):
    """Which of tokens 1 and 2 occurs more often in a length-9 sequence (token 0 is noise):
    a mixing task that attention over the whole sequence solves."""
    tokens = rng.integers(0, 3, (400, 9))
    ones, twos = (tokens == 1).sum(1), (tokens == 2).sum(1)
    keep = ones != twos
    tokens, y = tokens[keep], (twos > ones)[keep].astype(np.int64)
    accuracy, _ = _fit(_SequenceClassifier(3, 16, 2), tokens, y, steps=150, lr=1e-2, batch=64)
    assert accuracy >= 0.9, accuracy


class _GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 16, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        _, h = self.gru(x)
        return self.head(h[-1])


def test_gru_learns_sign_of_sum(kernels, rng):
    """Whether a noisy sequence of +-1 steps sums to a positive number."""
    steps = rng.choice([-1.0, 1.0], (300, 11))
    x = (steps + rng.normal(0, 0.2, steps.shape)).astype(np.float32)[:, :, None]
    y = (steps.sum(1) > 0).astype(np.int64)
    accuracy, _ = _fit(_GRUClassifier(), x, y, steps=150, lr=2e-2, batch=64)
    assert accuracy >= 0.9, accuracy
