"""The examples' data: real files from ``--data DIR`` when given, otherwise offline stand-ins
made on the spot (scikit-learn's bundled digits, a generated grammar task, a noisy sine series).

Every loader returns ``(x_train, y_train, x_test, y_test, description)`` as numpy arrays plus a
line saying which data it used, so that each example can print it.
"""
import gzip
import os
import re

import numpy as np

MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def split(x, y, test_fraction=0.2, seed=0):
    """Shuffle ``(x, y)`` with a fixed seed and cut off the last ``test_fraction`` as test set."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    train, test = order[n_test:], order[:n_test]
    return x[train], y[train], x[test], y[test]


def read_idx(path):
    """One MNIST IDX file (gzip): magic number with the rank in its last byte, then one
    big-endian uint32 per dimension, then the uint8 values."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = np.frombuffer(raw[4:4 + 4 * ndim], dtype=">u4").astype(int)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def digits_28x28():
    """scikit-learn's 1797 bundled 8x8 digits made MNIST-shaped: each pixel repeated 3x3 (24x24)
    and centred in a 2-pixel border, values scaled to [0, 1]. Returns (N, 1, 28, 28), (N,)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    big = np.kron(digits.images, np.ones((3, 3))) / 16.0
    images = np.pad(big, ((0, 0), (2, 2), (2, 2)))[:, None].astype(np.float32)
    return images, digits.target.astype(np.int64)


def load_mnist(data_dir=None):
    """MNIST from the four IDX files in ``data_dir``, else the upsampled bundled digits.

    Images are (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64.
    """
    if data_dir:
        paths = [os.path.join(data_dir, name) for name in MNIST_FILES]
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            raise SystemExit(f"--data {data_dir}: MNIST files not found: {', '.join(missing)}")
        x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
        to_images = lambda a: (a.astype(np.float32) / 255.0)[:, None]  # noqa: E731
        return (to_images(x_train), y_train.astype(np.int64), to_images(x_test),
                y_test.astype(np.int64), f"MNIST from {data_dir}")
    images, labels = digits_28x28()
    return (*split(images, labels), "scikit-learn's bundled digits (1797 images, 8x8 "
            "upsampled to 28x28); pass --data DIR with the MNIST *-ubyte.gz files for MNIST")


def load_faces(data_dir=None):
    """Olivetti faces (400 images of 64x64 = 4096 features, 40 people) from a scikit-learn
    ``data_home`` in ``data_dir``, else the bundled 8x8 digits (64 features, 10 classes)."""
    if data_dir:
        from sklearn.datasets import fetch_olivetti_faces
        try:
            faces = fetch_olivetti_faces(data_home=data_dir, download_if_missing=False)
        except OSError as exc:
            raise SystemExit(f"--data {data_dir}: no Olivetti faces there ({exc})") from exc
        x, y = faces.data.astype(np.float32), faces.target.astype(np.int64)
        return (*split(x, y, test_fraction=0.25), f"Olivetti faces from {data_dir}")
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    return (*split(x, digits.target.astype(np.int64)),
            "scikit-learn's bundled digits (1797 images, 64 features); pass --data DIR "
            "(a scikit-learn data_home with Olivetti faces) for the faces")


# --------------------------------------------------------------------------- sentences
# A tiny grammar: DET ADJ? NOUN VERB DET ADJ? NOUN ADV?  ("the small cat sees a dog quietly").
WORDS = {
    "D": ["the", "a", "every", "some"],
    "A": ["small", "old", "happy", "green", "loud", "quiet"],
    "N": ["cat", "dog", "child", "teacher", "bird", "farmer", "poet", "robot"],
    "V": ["sees", "likes", "follows", "helps", "finds", "greets"],
    "R": ["today", "quietly", "again", "often"],
}
GRAMMATICAL = re.compile(r"DA?NVDA?NR?")


def _sentence(rng):
    """A well-formed sentence as a list of (category, word) pairs."""
    cats = ["D"] + ["A"] * (rng.random() < 0.5) + ["N", "V", "D"] + ["A"] * (rng.random() < 0.5)
    cats += ["N"] + ["R"] * (rng.random() < 0.5)
    return [(c, WORDS[c][rng.integers(len(WORDS[c]))]) for c in cats]


def _corrupt(sentence, rng):
    """Swap two words of different categories until the category sequence is ungrammatical:
    the negative example has the same words, only in an impossible order."""
    while True:
        i, j = rng.choice(len(sentence), size=2, replace=False)
        if sentence[i][0] == sentence[j][0]:
            continue
        swapped = list(sentence)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        if not GRAMMATICAL.fullmatch("".join(c for c, _ in swapped)):
            return swapped


def generated_sentences(n=3000, seed=0):
    """``n`` sentences, half well-formed (label 1) and half with two words swapped (label 0),
    as lists of words."""
    rng = np.random.default_rng(seed)
    sentences, labels = [], []
    for k in range(n):
        s = _sentence(rng)
        good = k % 2 == 0
        sentences.append([w for _, w in (s if good else _corrupt(s, rng))])
        labels.append(int(good))
    return sentences, np.array(labels, dtype=np.int64)


def read_cola_tsv(path):
    """CoLA's tokenized TSV: source, label, original label, sentence (space-separated tokens)."""
    sentences, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 4:
                labels.append(int(fields[1]))
                sentences.append(fields[3].split())
    return sentences, np.array(labels, dtype=np.int64)


def encode(sentences, vocab=None):
    """Word lists -> (N, max_len) int64 ids, 0 = padding, 1 = unknown word."""
    if vocab is None:
        words = sorted({w for s in sentences for w in s})
        vocab = {w: i + 2 for i, w in enumerate(words)}
    ids = np.zeros((len(sentences), max(len(s) for s in sentences)), dtype=np.int64)
    for row, s in enumerate(sentences):
        ids[row, :len(s)] = [vocab.get(w, 1) for w in s]
    return ids, vocab


def load_sentences(data_dir=None, n_generated=3000):
    """CoLA (``in_domain_train.tsv``, and ``in_domain_dev.tsv`` as test set when present) from
    ``data_dir``, else the generated grammar task. Returns ids (N, L) int64 (0 = padding),
    labels (N,) int64 (1 = acceptable), the vocabulary size (with padding and unknown) and a
    description."""
    if data_dir:
        train_path = os.path.join(data_dir, "in_domain_train.tsv")
        if not os.path.exists(train_path):
            raise SystemExit(f"--data {data_dir}: CoLA's in_domain_train.tsv not found")
        sentences, labels = read_cola_tsv(train_path)
        dev_path = os.path.join(data_dir, "in_domain_dev.tsv")
        if os.path.exists(dev_path):
            x_train, vocab = encode(sentences)
            dev_sentences, y_test = read_cola_tsv(dev_path)
            x_test, _ = encode(dev_sentences, vocab)
            width = max(x_train.shape[1], x_test.shape[1])
            pad = lambda a: np.pad(a, ((0, 0), (0, width - a.shape[1])))  # noqa: E731
            return pad(x_train), labels, pad(x_test), y_test, len(vocab) + 2, \
                f"CoLA from {data_dir}"
        ids, vocab = encode(sentences)
        return (*split(ids, labels), len(vocab) + 2, f"CoLA from {data_dir}")
    sentences, labels = generated_sentences(n_generated)
    ids, vocab = encode(sentences)
    return (*split(ids, labels), len(vocab) + 2,
            f"a generated acceptability task ({n_generated} sentences from a tiny grammar, half "
            "with two words swapped); pass --data DIR with CoLA's tokenized TSV files for CoLA")


# --------------------------------------------------------------------------- time series
def sine_series(step=0.05, stop=100.0, noise=0.05, seed=0):
    """f(t) = sin(pi t) + cos(2 pi t) / 2 sampled every ``step`` on [0, stop), plus Gaussian
    noise of standard deviation ``noise`` (PyDyNet's series, made noisy). Returns t, y."""
    t = np.arange(0.0, stop, step)
    clean = np.sin(np.pi * t) + 0.5 * np.cos(2 * np.pi * t)
    return t, clean + noise * np.random.default_rng(seed).standard_normal(len(t))


def windows(series, length):
    """Sliding windows: inputs (N, length, 1) and the next value (N, 1), N = len - length."""
    index = np.arange(length)[None, :] + np.arange(len(series) - length)[:, None]
    inputs = series[index][..., None].astype(np.float32)
    return inputs, series[length:, None].astype(np.float32)


def load_series(length=40):
    """The noisy sine series cut into windows of ``length`` steps, 80/20 split in time order
    (the test windows come after the training ones, as a forecast should)."""
    t, y = sine_series()
    x, target = windows(y, length)
    cut = int(0.8 * len(x))
    return (x[:cut], target[:cut], x[cut:], target[cut:],
            f"a noisy sine series made here ({len(y)} points, noise sd 0.05, windows of {length})")
