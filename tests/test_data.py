"""pydyfast.data: datasets, samplers, collation and DataLoader, checked against
torch.utils.data where the result is deterministic."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast
from pydyfast import data
from pydyfast.utils.data import DataLoader as DataLoaderFromUtils


def test_utils_path_is_the_same_module():
    assert DataLoaderFromUtils is data.DataLoader


class Squares(data.Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], np.float32), "y": i % 3, "w": 0.5, "name": f"s{i}"}

    def __len__(self):
        return self.n


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (4, False), (4, True), (10, False),
                                                  (16, False)])
def test_sequential_batches_match_torch(batch_size, drop_last):
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10)
    ours = data.DataLoader(data.TensorDataset(pydyfast.Tensor(x), pydyfast.Tensor(y)),
                           batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for (bx, by), (tx, ty) in zip(got, want):
        assert isinstance(bx, pydyfast.Tensor) and bx.dtype == np.float32
        np.testing.assert_array_equal(bx.numpy(), tx.numpy())
        np.testing.assert_array_equal(by.numpy(), ty.numpy())


def test_default_collate_recurses_like_torch():
    samples = [Squares(5)[i] for i in range(3)]
    ours = data.default_collate(samples)
    theirs = torch.utils.data.default_collate(samples)
    assert set(ours) == set(theirs)
    for k in ("x", "y", "w"):
        assert ours[k].dtype == np.dtype(str(theirs[k].dtype).replace("torch.", ""))
        np.testing.assert_array_equal(ours[k].numpy(), theirs[k].numpy())
    assert ours["name"] == theirs["name"] == ["s0", "s1", "s2"]
    pairs = data.default_collate([(pydyfast.Tensor([1.0, 2.0]), 1),
                                  (pydyfast.Tensor([3.0, 4.0]), 0)])
    assert isinstance(pairs, tuple) and pairs[0].shape == (2, 2)
    np.testing.assert_array_equal(pairs[1].numpy(), [1, 0])


def test_custom_collate_sampler_and_batch_sampler():
    ds = Squares(7)
    loader = data.DataLoader(ds, batch_size=3, collate_fn=lambda b: [s["y"] for s in b])
    assert list(loader) == [[0, 1, 2], [0, 1, 2], [0]]
    reverse = list(range(6, -1, -1))
    loader = data.DataLoader(ds, batch_size=2, sampler=reverse)
    assert [b["y"].tolist() for b in loader][0] == [0, 2]
    loader = data.DataLoader(ds, batch_sampler=[[0, 6], [3]])
    assert [b["x"].shape for b in loader] == [(2, 2), (1, 2)]
    single = list(data.DataLoader(ds, batch_size=None))
    assert len(single) == 7 and single[2]["y"] == 2


def test_shuffle_is_a_permutation_seeded_and_new_each_epoch():
    ds = data.TensorDataset(np.arange(20))
    loader = data.DataLoader(ds, batch_size=6, shuffle=True, generator=1)
    first = np.concatenate([b[0].numpy() for b in loader])
    second = np.concatenate([b[0].numpy() for b in loader])
    assert sorted(first) == list(range(20)) and not np.array_equal(first, second)
    again = data.DataLoader(ds, batch_size=6, shuffle=True, generator=1)
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in again]), first)
    pydyfast.manual_seed(5)
    a = [b[0].tolist() for b in data.DataLoader(ds, batch_size=20, shuffle=True)]
    pydyfast.manual_seed(5)
    b = [b[0].tolist() for b in data.DataLoader(ds, batch_size=20, shuffle=True)]
    assert a == b


def test_samplers():
    assert list(data.SequentialSampler(range(4))) == [0, 1, 2, 3]
    order = list(data.RandomSampler(range(9), generator=np.random.default_rng(0)))
    assert sorted(order) == list(range(9)) and len(data.RandomSampler(range(9))) == 9
    batches = data.BatchSampler(data.SequentialSampler(range(7)), 3, drop_last=False)
    assert list(batches) == list(torch.utils.data.BatchSampler(range(7), 3, False))
    assert len(batches) == 3 and len(data.BatchSampler(range(7), 3, drop_last=True)) == 2


@pytest.mark.parametrize("lengths,sizes", [([3, 7], [3, 7]), ([0.3, 0.7], [3, 7]),
                                           ([0.5, 0.25, 0.25], [6, 2, 2])])
def test_random_split_sizes_match_torch_and_cover_everything(lengths, sizes):
    ds = data.TensorDataset(np.arange(10))
    parts = data.random_split(ds, lengths, generator=0)
    theirs = torch.utils.data.random_split(range(10), lengths)
    assert [len(p) for p in parts] == [len(p) for p in theirs] == sizes
    values = sorted(int(p[i][0].item()) for p in parts for i in range(len(p)))
    assert values == list(range(10))
    again = data.random_split(ds, lengths, generator=0)
    assert [p.indices for p in again] == [p.indices for p in parts]


def test_subset_in_a_loader():
    sub = data.Subset(Squares(10), [9, 2, 4])
    (batch,) = list(data.DataLoader(sub, batch_size=3))
    np.testing.assert_array_equal(batch["y"].numpy(), [0, 2, 1])


def test_pydynet_data_loader_helper():
    X, y = np.arange(14.0).reshape(7, 2), np.arange(7)
    batches = list(data.data_loader(X, y, batch_size=3))
    assert [bx.shape for bx, _ in batches] == [(3, 2), (3, 2), (1, 2)]
    np.testing.assert_array_equal(batches[2][1].numpy(), [6])
    shuffled = data.data_loader(pydyfast.Tensor(X), pydyfast.Tensor(y), 4, shuffle=True)
    ys = np.concatenate([by.numpy() for _, by in shuffled])
    assert sorted(ys) == list(range(7))


@pytest.mark.parametrize("call,match", [
    (lambda: data.DataLoader(Squares(3), batch_size=0), "positive integer"),
    (lambda: data.DataLoader(Squares(3), shuffle=True, sampler=[0]), "exclusive with shuffle"),
    (lambda: data.DataLoader(Squares(3), batch_size=2, batch_sampler=[[0]]), "batch_sampler"),
    (lambda: data.TensorDataset(np.ones(3), np.ones(4)), "same first dimension"),
    (lambda: data.random_split(Squares(10), [3, 3]), "summing to the dataset length 10"),
    (lambda: data.RandomSampler(range(3), generator="seed"), "generator must be"),
    (lambda: data.default_collate([np.ones(2), np.ones(3)]), "different shapes"),
    (lambda: data.default_collate([object()]), "cannot batch"),
    (lambda: data.Dataset()[0], "does not define __getitem__"),
])
def test_bad_inputs_raise(call, match):
    with pytest.raises((ValueError, TypeError, RuntimeError, NotImplementedError), match=match):
        call()
