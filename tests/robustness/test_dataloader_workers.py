"""Issue 13 item 14: DataLoader(num_workers=N) with real worker processes, torch's semantics."""
import os
import random

import numpy as np
import pytest

import pydyfast as pdf
from pydyfast.data import DataLoader, Dataset, TensorDataset, get_worker_info


class Probe(Dataset):
    """Sample i -> (i, worker id, worker pid, a draw from Python's random, one from pydyfast)."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        info = get_worker_info()
        return (np.float32(i), -1 if info is None else info.id, os.getpid(), random.random(),
                float(pdf.rand(1).item()))


def columns(loader):
    return [np.concatenate([b[i].numpy() for b in loader]) for i in range(5)]


def test_workers_give_the_same_batches_in_order_as_the_main_process():
    data = TensorDataset(np.arange(23.0), np.arange(23) % 3)
    for kwargs in ({"batch_size": 4}, {"batch_size": 5, "drop_last": True},
                   {"batch_size": None}, {"batch_size": 3, "shuffle": True, "generator": 7}):
        serial = [tuple(t.numpy() for t in b) for b in DataLoader(data, **kwargs)]
        parallel = [tuple(t.numpy() for t in b) for b in DataLoader(data, num_workers=2,
                                                                     **kwargs)]
        assert len(serial) == len(parallel)
        for a, b in zip(serial, parallel):
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x, y)


def test_batches_come_from_distinct_worker_processes_with_distinct_seeds():
    index, worker, pid, py_random, pd_random = columns(DataLoader(Probe(), batch_size=2,
                                                                  num_workers=2))
    np.testing.assert_array_equal(index, np.arange(10))
    assert set(worker) == {0, 1} and os.getpid() not in set(pid) and len(set(pid)) == 2
    first = {w: (py_random[worker == w][0], pd_random[worker == w][0]) for w in (0, 1)}
    assert first[0] != first[1]  # base_seed + worker_id differ per worker


def test_seeds_follow_the_generator_and_worker_init_fn_runs_in_each_worker(tmp_path):
    def init(worker_id):
        info = get_worker_info()
        (tmp_path / f"w{worker_id}").write_text(f"{info.id} {info.num_workers} {info.seed}")

    runs = [columns(DataLoader(Probe(), batch_size=2, num_workers=2, worker_init_fn=init,
                               generator=3))[3] for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])  # same generator: same worker seeds
    ids = sorted(int((tmp_path / f"w{w}").read_text().split()[0]) for w in (0, 1))
    seeds = [int((tmp_path / f"w{w}").read_text().split()[2]) for w in (0, 1)]
    assert ids == [0, 1] and seeds[1] == seeds[0] + 1


def test_persistent_workers_survive_epochs_and_others_do_not():
    persistent = DataLoader(Probe(), batch_size=5, num_workers=2, persistent_workers=True)
    assert set(columns(persistent)[2]) == set(columns(persistent)[2])
    fresh = DataLoader(Probe(), batch_size=5, num_workers=2)
    assert not set(columns(fresh)[2]) & set(columns(fresh)[2])


def test_an_abandoned_epoch_does_not_leak_into_the_next():
    loader = DataLoader(TensorDataset(np.arange(40.0)), batch_size=2, num_workers=2,
                        persistent_workers=True)
    next(iter(loader))
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in loader]),
                                  np.arange(40.0))


class Failing(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 4:
            raise KeyError("sample 4 is missing")
        return i


def test_a_worker_error_is_raised_in_the_main_process_with_its_traceback():
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(DataLoader(Failing(), batch_size=2, num_workers=2))


def test_a_dead_worker_is_reported():
    class Dies(Failing):
        def __getitem__(self, i):
            os._exit(3)

    with pytest.raises(RuntimeError, match="exited unexpectedly with exit code 3"):
        list(DataLoader(Dies(), batch_size=2, num_workers=1))


def test_pin_memory_is_accepted_as_a_no_op():
    data = TensorDataset(np.arange(4.0))
    assert [b[0].numpy().tolist() for b in DataLoader(data, batch_size=2, pin_memory=True)] == \
        [[0.0, 1.0], [2.0, 3.0]]


@pytest.mark.parametrize("kwargs,match", [
    ({"num_workers": -1}, "num_workers must be a non-negative integer"),
    ({"num_workers": 1.5}, "num_workers must be a non-negative integer"),
    ({"persistent_workers": True}, "persistent_workers needs num_workers > 0"),
    ({"prefetch_factor": 2}, "prefetch_factor needs num_workers > 0"),
    ({"num_workers": 1, "prefetch_factor": 0}, "prefetch_factor must be a positive integer"),
    ({"timeout": -1}, "timeout must be a non-negative number"),
])
def test_worker_options_are_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(TensorDataset(np.arange(4.0)), **kwargs)
