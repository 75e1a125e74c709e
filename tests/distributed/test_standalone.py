"""What works without mpiexec: availability, the sampler, errors before initialisation."""
import subprocess
import sys

import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf
import pydyfast.distributed as dist
from pydyfast.data import DataLoader, DistributedSampler, TensorDataset

tud = torch.utils.data


def test_without_mpi4py_import_is_silent_and_not_available():
    code = ("import sys; sys.modules['mpi4py'] = None\n"  # makes `import mpi4py` fail
            "import pydyfast, pydyfast.distributed as d\n"
            "assert not d.is_mpi_available()\n"
            "assert d.is_available() == d.is_nccl_available()\n"
            "try:\n    d.init_process_group('mpi')\nexcept RuntimeError as e:\n"
            "    assert 'pip install mpi4py mpich' in str(e), e\n"
            "else:\n    raise AssertionError('init_process_group succeeded without mpi4py')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""


def test_import_pulls_in_neither_mpi_nor_cupy():
    code = "import sys, pydyfast; print('mpi4py.MPI' in sys.modules, 'cupy' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split() == ["False", "False"], proc.stdout + proc.stderr


def test_queries_before_init_raise_clear_errors():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="get_rank: the default process group is not "
                                           "initialised; call .*init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="all_reduce: the default process group"):
        dist.all_reduce(pdf.ones(2))
    with pytest.raises(ValueError, match="unknown backend 'gloo'"):
        dist.init_process_group("gloo")
    with pytest.raises(RuntimeError, match="DistributedSampler: pass num_replicas and rank"):
        DistributedSampler(range(4))


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                                    (2, 3, False), (0, 2, False), (7, 1, True)])
def test_sampler_without_shuffle_matches_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = tud.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                        drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shuffles_per_epoch_and_shards_disjointly(drop_last):
    n, replicas = 23, 4
    samplers = [DistributedSampler(range(n), replicas, r, seed=5, drop_last=drop_last)
                for r in range(replicas)]
    shards = [list(s) for s in samplers]
    flat = sorted(i for s in shards for i in s)
    if drop_last:
        assert len(set(flat)) == len(flat) == n // replicas * replicas
    else:
        assert set(flat) == set(range(n)) and len(flat) == -(-n // replicas) * replicas
    assert all(len(s) == len(samplers[0]) for s in shards)
    assert [list(s) for s in samplers] == shards  # same epoch, same order
    for s in samplers:
        s.set_epoch(1)
    assert [list(s) for s in samplers] != shards  # a new epoch reshuffles


def test_sampler_shards_a_dataloader():
    data = TensorDataset(np.arange(10.0)[:, None])
    loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, 2, 1,
                                                                       shuffle=False))
    assert [b[0].numpy().ravel().tolist() for b in loader] == [[1.0, 3.0], [5.0, 7.0], [9.0]]


def test_sampler_rejects_bad_rank():
    with pytest.raises(ValueError, match=r"rank 3 is not in \[0, 3\)"):
        DistributedSampler(range(4), 3, 3)


