"""The examples' data loaders: real-file readers on small files written here, offline stand-ins."""
import gzip
import re

import numpy as np
import pytest

from examples import datasets


def _write_idx(path, array):
    """An IDX file as MNIST ships it: 0x0000, 0x08 (uint8), rank, big-endian dims, values."""
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_load_mnist_reads_idx_files(tmp_path, rng):
    images = rng.integers(0, 256, (5, 28, 28))
    labels = np.array([3, 1, 4, 1, 5])
    for name, array in zip(datasets.MNIST_FILES, (images, labels, images[:2], labels[:2])):
        _write_idx(tmp_path / name, array)
    x_train, y_train, x_test, y_test, description = datasets.load_mnist(str(tmp_path))
    assert x_train.shape == (5, 1, 28, 28) and x_train.dtype == np.float32
    np.testing.assert_allclose(x_train[:, 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_train, labels)
    assert x_test.shape == (2, 1, 28, 28) and list(y_test) == [3, 1]
    assert str(tmp_path) in description


def test_load_mnist_names_missing_files(tmp_path):
    with pytest.raises(SystemExit, match="MNIST files not found: .*train-images-idx3-ubyte.gz"):
        datasets.load_mnist(str(tmp_path))


def test_offline_digits_are_mnist_shaped():
    x_train, y_train, x_test, y_test, description = datasets.load_mnist()
    assert x_train.shape[1:] == (1, 28, 28) and len(x_train) + len(x_test) == 1797
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert np.all(x_train[:, :, :2] == 0) and np.all(x_train[:, :, :, -2:] == 0)  # border
    assert set(np.unique(y_train)) == set(range(10))
    assert "digits" in description


def test_faces_offline_and_bad_dir(tmp_path):
    x_train, y_train, x_test, _, description = datasets.load_faces()
    assert x_train.shape[1] == 64 and "digits" in description
    with pytest.raises(SystemExit, match="no Olivetti faces"):
        datasets.load_faces(str(tmp_path))


def test_generated_sentences_positive_grammatical_negative_not():
    sentences, labels = datasets.generated_sentences(400, seed=1)
    category = {w: c for c, words in datasets.WORDS.items() for w in words}
    for words, label in zip(sentences, labels):
        cats = "".join(category[w] for w in words)
        assert bool(datasets.GRAMMATICAL.fullmatch(cats)) == bool(label), words
    assert labels.mean() == 0.5


def test_cola_tsv_and_encoding(tmp_path):
    rows = ["gj04\t1\t\tthe cat sat .", "gj04\t0\t*\tcat the sat sat ."]
    (tmp_path / "in_domain_train.tsv").write_text("\n".join(rows * 5) + "\n")
    (tmp_path / "in_domain_dev.tsv").write_text("gj04\t1\t\tthe dog sat .\n")
    x_train, y_train, x_test, y_test, vocab, description = datasets.load_sentences(
        str(tmp_path))
    assert x_train.shape == (10, 5) and x_test.shape == (1, 5)
    assert list(y_train[:2]) == [1, 0] and list(y_test) == [1]
    assert x_train[0, 4] == 0                       # padding after the 4 tokens
    assert x_test[0, 1] == 1                        # "dog" is not in the vocabulary
    assert vocab == 4 + 2 and "CoLA" in description
    with pytest.raises(SystemExit, match="in_domain_train.tsv not found"):
        datasets.load_sentences(str(tmp_path / "missing"))


def test_windows_predict_the_next_value():
    series = np.arange(10.0)
    inputs, targets = datasets.windows(series, 4)
    assert inputs.shape == (6, 4, 1) and targets.shape == (6, 1)
    np.testing.assert_array_equal(inputs[2, :, 0], [2, 3, 4, 5])
    assert targets[2, 0] == 6


def test_series_split_is_in_time_order():
    x_train, y_train, x_test, y_test, description = datasets.load_series(40)
    assert x_train.shape[1:] == (40, 1) and len(x_train) == 4 * len(x_test)
    # the first test window starts right after the last training window
    np.testing.assert_array_equal(x_test[0, :-1], x_train[-1, 1:])
    assert re.search(r"noise sd 0\.05", description)
