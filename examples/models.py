"""The example models, each written once against a :class:`~examples.frameworks.Framework`, so
pydyfast, PyTorch and PyDyNet train the very same architecture (the benchmark relies on it).

Only what the three frameworks share is used: ``nn.Module``/``Linear``/``Conv2d``/``MaxPool2d``/
``ReLU``/``Dropout``/``BatchNorm1d``/``Embedding``/``LayerNorm``/``GRU``, ``F.softmax``, ``@``,
``reshape`` and ``swapaxes``.
"""
import math

import numpy as np


def mlp(fw, in_features=28 * 28, hidden=1024, classes=10):
    """PyDyNet's 3-layer MLP: (N, ...) -> flatten -> 1024 -> ReLU -> 1024 -> ReLU -> classes."""
    nn = fw.nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(in_features, hidden)
            self.fc2 = nn.Linear(hidden, hidden)
            self.fc3 = nn.Linear(hidden, classes)
            self.relu = nn.ReLU()

        def forward(self, x):
            x = self.relu(self.fc1(x.reshape(x.shape[0], -1)))
            return self.fc3(self.relu(self.fc2(x)))

    return MLP()


def lenet(fw, classes=10):
    """LeNet-5 as in PyDyNet's MNIST example, for (N, 1, 28, 28) input:
    conv 3x3 (20) -> ReLU -> maxpool 2 -> conv 3x3 (50) -> ReLU -> maxpool 2 -> 2450 -> 500 ->
    ReLU -> classes (convolutions padded by 1, so 28 -> 14 -> 7)."""
    nn = fw.nn

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 20, 3, 1, 1)
            self.conv2 = nn.Conv2d(20, 50, 3, 1, 1)
            self.pool = nn.MaxPool2d(2, 2, 0)
            self.fc1 = nn.Linear(7 * 7 * 50, 500)
            self.fc2 = nn.Linear(500, classes)
            self.relu = nn.ReLU()

        def forward(self, x):
            x = self.pool(self.relu(self.conv1(x)))
            x = self.pool(self.relu(self.conv2(x)))
            x = self.relu(self.fc1(x.reshape(x.shape[0], -1)))
            return self.fc2(x)

    return LeNet()


def regularised_mlp(fw, in_features, classes, kind, hidden=256, p=0.3):
    """The dropout/batch-norm comparison: in -> hidden -> hidden -> classes with ReLU, where
    ``kind`` is ``"plain"``, ``"dropout"`` (Dropout(p) after each hidden ReLU) or ``"batchnorm"``
    (BatchNorm1d before each hidden ReLU)."""
    nn = fw.nn
    layers = []
    for fan_in in (in_features, hidden):
        layers.append(nn.Linear(fan_in, hidden))
        if kind == "batchnorm":
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        if kind == "dropout":
            layers.append(nn.Dropout(p))
    return nn.Sequential(*layers, nn.Linear(hidden, classes))


def gru_regressor(fw, hidden=32):
    """PyDyNet's series model: GRU(1 -> hidden, batch_first) over (N, T, 1), then a linear
    layer on the last step's output -> (N, 1)."""
    nn = fw.nn

    class GRURegressor(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(input_size=1, hidden_size=hidden, num_layers=1, batch_first=True)
            self.out = nn.Linear(hidden, 1)

        def forward(self, x):
            outputs, _ = self.gru(x)
            return self.out(outputs[:, -1, :])

    return GRURegressor()


def positional_encoding(length, dim):
    """Sinusoidal positions (length, dim): sin on even, cos on odd features."""
    position = np.arange(length)[:, None]
    frequency = np.exp(np.arange(0, dim, 2) * (-math.log(10000.0) / dim))
    table = np.zeros((length, dim))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency)
    return table


def transformer_classifier(fw, vocab, max_len, dim=512, heads=4, expansion=3, classes=2):
    """PyDyNet's 1-layer Transformer encoder for sentence classification.

    ids (N, L) -> embedding + sinusoidal positions -> multi-head self-attention (bias-free Q, K,
    V, O projections, padding masked) -> residual + LayerNorm -> Linear(dim, expansion*dim) ->
    ReLU -> Linear -> residual + LayerNorm -> first position -> Linear(dim, classes).
    The forward takes ``(ids, mask)``: mask (N, 1, 1, L) is 0 for tokens and -1e9 for padding,
    added to the attention scores (see :func:`padding_mask`).
    """
    nn, F = fw.nn, fw.F
    head_dim = dim // heads
    positions = positional_encoding(max_len, dim)

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q = nn.Linear(dim, dim, bias=False)
            self.k = nn.Linear(dim, dim, bias=False)
            self.v = nn.Linear(dim, dim, bias=False)
            self.o = nn.Linear(dim, dim, bias=False)

        def forward(self, x, mask):
            n, length = x.shape[0], x.shape[1]
            split = lambda t: t.reshape(n, length, heads, head_dim).swapaxes(1, 2)  # noqa: E731
            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            scores = (q @ k.swapaxes(2, 3)) * (1.0 / math.sqrt(head_dim)) + mask
            out = F.softmax(scores, -1) @ v                      # (n, heads, length, head_dim)
            return self.o(out.swapaxes(1, 2).reshape(n, length, dim))

    class TransformerClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
            self.attention = SelfAttention()
            self.norm1 = nn.LayerNorm(dim)
            self.norm2 = nn.LayerNorm(dim)
            self.ff1 = nn.Linear(dim, expansion * dim)
            self.ff2 = nn.Linear(expansion * dim, dim)
            self.relu = nn.ReLU()
            self.head = nn.Linear(dim, classes)

        def forward(self, ids, mask):
            x = self.embedding(ids) + fw.tensor(positions[:ids.shape[1]])
            x = self.norm1(x + self.attention(x, mask))
            x = self.norm2(x + self.ff2(self.relu(self.ff1(x))))
            return self.head(x[:, 0, :])

    return TransformerClassifier()


def padding_mask(ids):
    """Additive attention mask (N, 1, 1, L): -1e9 where ``ids`` is padding (0), else 0."""
    return np.where(ids == 0, -1e9, 0.0)[:, None, None, :]
