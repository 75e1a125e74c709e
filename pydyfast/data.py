"""Datasets, samplers and the DataLoader (``torch.utils.data``), plus PyDyNet's
``data_loader(X, y, batch_size, shuffle)`` helper. Also importable as ``pydyfast.utils.data``.

Randomness (shuffling, random_split) comes from the ``generator`` passed (a
``pydyfast.Generator``, a numpy Generator or an int seed), else pydyfast's global one, seeded by
``pydyfast.manual_seed``.
"""
import functools
import numbers

import numpy as np

from .data_workers import get_worker_info  # torch.utils.data's name, in __all__
from .dtypes import get_default_dtype
from .random import Generator, numpy_generator
from .tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "BatchSampler", "DataLoader",
           "default_collate", "data_loader", "DistributedSampler", "get_worker_info"]


def _generator(generator):
    """A numpy Generator from None (the global one), an int seed, a pydyfast.Generator or a
    numpy Generator."""
    if isinstance(generator, numbers.Integral):
        return np.random.default_rng(int(generator))
    return numpy_generator(generator, "data")


def _array(x):
    return x.data if isinstance(x, Tensor) else x


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")


class TensorDataset(Dataset):
    """Samples are ``(t0[i], t1[i], ...)`` of Tensors (or arrays) sharing their first axis."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one Tensor")
        lengths = [len(t) for t in tensors]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: all tensors need the same first dimension, got "
                             f"shapes {[tuple(t.shape) for t in tensors]}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(Tensor._wrap(_array(t)[index]) for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])

    def _fetch_batch(self, indices):
        """A whole batch by one fancy index per tensor, instead of stacking single samples."""
        return tuple(Tensor._wrap(_array(t)[np.asarray(indices)]) for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (the
    remainder after flooring goes one by one to the first subsets, as in torch).
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(0 <= x <= 1 for x in lengths) and abs(sum(lengths) - 1) < 1e-9 \
            and sum(lengths) != n:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be non-negative counts summing "
                         f"to the dataset length {n}, or fractions summing to 1")
    order = _generator(generator).permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + int(length)]))
        start += int(length)
    return subsets


class Sampler:
    """Yields dataset indices."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random permutation of the indices on every iteration."""

    def __init__(self, data_source, generator=None):
        self.data_source = data_source
        # An int seed becomes one Generator now, so each epoch draws a new order from it;
        # a Generator (or None: the global one) is read at iteration time, so reseeding it
        # replays the order, as in torch.
        self.generator = (Generator().manual_seed(generator)
                          if isinstance(generator, numbers.Integral) else generator)
        _generator(self.generator)  # a bad generator fails here, not at the first epoch

    def __iter__(self):
        return iter(_generator(self.generator).permutation(len(self.data_source)).tolist())

    def __len__(self):
        return len(self.data_source)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"BatchSampler: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


def _sample_dtype(x):
    """The dtype torch infers for one scalar sample: a numpy scalar keeps its own; a Python
    bool, int or float becomes bool, int64 or the default float dtype."""
    if isinstance(x, (np.generic, np.ndarray)) or hasattr(x, "dtype"):
        return np.dtype(x.dtype)
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(x, numbers.Real):
        return np.dtype(get_default_dtype())
    raise TypeError(f"default_collate: cannot batch a {type(x).__name__} with numbers")


def _batch_dtype(dtypes):
    """torch's promotion of the samples' dtypes: the highest kind wins (bool < integer <
    floating < complex) and dtypes of that kind promote among themselves, so float32 with
    int64 stays float32 (numpy would give float64)."""
    dtypes = list(dtypes)
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    top = max(rank.get(d.kind, 4) for d in dtypes)
    return functools.reduce(np.promote_types, [d for d in dtypes if rank.get(d.kind, 4) == top])


def default_collate(batch):
    """Stack a list of samples into a batch, as torch's ``default_collate`` does.

    Tensors and arrays stack along a new first axis into a Tensor; tuples, lists and dicts are
    collated field by field; strings stay a list. The dtype comes from all samples, promoted
    as torch does: Python floats after a Python float first give float64, other Python
    scalars give bool (all bools), int64, or the default float dtype when any is a float;
    numpy scalars and arrays keep their dtypes (float32 with int64 gives float32).
    """
    first = batch[0]
    if isinstance(first, (Tensor, np.ndarray)) or hasattr(first, "__cuda_array_interface__"):
        arrays = [_array(x) for x in batch]
        if any(a.shape != arrays[0].shape for a in arrays):
            raise RuntimeError(f"default_collate: samples have different shapes "
                               f"{sorted({a.shape for a in arrays})}; pass a collate_fn "
                               f"that pads them")
        dtype = _batch_dtype(a.dtype for a in arrays)
        xp = np if isinstance(arrays[0], np.ndarray) else _cupy_module()
        return Tensor._wrap(xp.stack([a.astype(dtype, copy=False) for a in arrays]))
    if isinstance(first, float) and not isinstance(first, np.generic):
        return Tensor._wrap(np.array(batch, dtype=np.float64))  # torch's collate_float_fn
    if isinstance(first, (numbers.Number, np.generic)) and not isinstance(first, (str, bytes)):
        return Tensor._wrap(np.array(batch, dtype=_batch_dtype(map(_sample_dtype, batch))))
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, dict):
        return {k: default_collate([sample[k] for sample in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("default_collate: samples have different numbers of fields")
        fields = [default_collate(list(column)) for column in zip(*batch)]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    f"pass a collate_fn")


def _cupy_module():
    from .cuda import cupy_module
    return cupy_module()


class _Fetcher:
    """Turns one task of the batch sampler (a list of indices) or of the sampler (one index)
    into a batch; a plain object, so that a worker process can be handed it."""

    def __init__(self, dataset, collate_fn, batched):
        self.dataset, self.collate_fn, self.batched = dataset, collate_fn, batched

    def __call__(self, indices):
        if not self.batched:
            return self.collate_fn(self.dataset[indices])
        if self.collate_fn is default_collate and hasattr(self.dataset, "_fetch_batch"):
            return self.dataset._fetch_batch(indices)
        return self.collate_fn([self.dataset[i] for i in indices])


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Parameters
    ----------
    dataset : Dataset
    batch_size : int or None
        None yields single samples without collating.
    shuffle : bool
        Sample in a new random order every epoch (``RandomSampler`` with ``generator``).
    sampler, batch_sampler : Sampler, optional
        Custom index order, or custom batches of indices (then leave batch_size, shuffle,
        sampler and drop_last at their defaults).
    num_workers : int
        0 loads in this process; N > 0 starts N worker processes (torch's semantics: each
        seeds Python's ``random`` and pydyfast's generator with ``base_seed + worker_id``, then
        calls ``worker_init_fn(worker_id)``; ``get_worker_info()`` describes it; batches come
        back in sampler order). NumPy's legacy global ``np.random`` is not reseeded, as in torch.
    collate_fn : callable, optional
        Turns a list of samples into a batch; ``default_collate`` stacks into Tensors.
    pin_memory : bool
        Accepted for torch compatibility; a no-op (batches are built on the CPU and pinned
        host memory has no meaning there).
    drop_last : bool
        Skip the last incomplete batch.
    timeout : float
        Seconds to wait for a batch from the workers before RuntimeError (0: forever).
    worker_init_fn : callable, optional
        Called as ``worker_init_fn(worker_id)`` in each worker after seeding.
    multiprocessing_context : str or context, optional
        How workers start (multiprocessing's default when None: fork on Linux).
    generator : pydyfast.Generator, numpy Generator or int seed, optional
        The randomness of ``shuffle`` and of the workers' base seed.
    prefetch_factor : int, optional
        Batches requested ahead per worker (2 when workers are used; must be None without).
    persistent_workers : bool
        Keep the workers alive between epochs (needs num_workers > 0).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device=""):
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler is exclusive with batch_size, shuffle, "
                             "sampler and drop_last")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler is exclusive with shuffle")
        self._check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        if sampler is None:
            sampler = (RandomSampler(dataset, generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else _identity)
        self.num_workers, self.timeout = int(num_workers), timeout
        self.prefetch_factor = 2 if num_workers and prefetch_factor is None else prefetch_factor
        self.persistent_workers, self.worker_init_fn = persistent_workers, worker_init_fn
        self.multiprocessing_context, self.generator = multiprocessing_context, generator
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self._fetch = _Fetcher(dataset, self.collate_fn, batch_sampler is not None)
        self._pool = None

    @staticmethod
    def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers):
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer (0 loads "
                             f"in the main process), got {num_workers!r}")
        if not isinstance(timeout, numbers.Real) or not timeout >= 0:
            raise ValueError(f"DataLoader: timeout must be a non-negative number, got "
                             f"{timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor needs num_workers > 0 (leave it None)")
        if prefetch_factor is not None and (isinstance(prefetch_factor, bool) or not isinstance(
                prefetch_factor, numbers.Integral) or prefetch_factor < 1):
            raise ValueError(f"DataLoader: prefetch_factor must be a positive integer, got "
                             f"{prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers needs num_workers > 0")

    def __iter__(self):
        tasks = self.batch_sampler if self.batch_sampler is not None else self.sampler
        if self.num_workers == 0:
            for task in tasks:
                yield self._fetch(task)
            return
        from .data_workers import WorkerPool
        pool = self._pool
        if pool is None:
            pool = WorkerPool(self, int(_generator(self.generator).integers(2**62)))
            if self.persistent_workers:
                self._pool = pool
        try:
            yield from pool.batches(tasks)
        finally:
            if not self.persistent_workers:
                pool.shutdown()

    def __del__(self):
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown()

    def __len__(self):
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)


def _identity(sample):
    return sample


def data_loader(X, y, batch_size, shuffle=False):
    """PyDyNet's helper: batches ``(X[idx], y[idx])`` as Tensors from two arrays or Tensors.

    ``X`` and ``y`` may be numpy arrays, cupy arrays or Tensors with the same first dimension;
    the last batch may be shorter.
    """
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle)


# ------------------------------------------------------------------ distributed sharding
class DistributedSampler(Sampler):
    """The indices of this rank's shard of ``dataset`` (``torch.utils.data.DistributedSampler``).

    Rank r of R takes indices r, r + R, r + 2R, ... of the (shuffled) index list. Without
    ``drop_last`` the list is padded with its own first indices to a multiple of R, so every
    rank gets ceil(N / R); with it, the tail is cut to floor(N / R) per rank. The shuffle
    depends on ``seed + epoch`` only, so all ranks agree: call ``set_epoch(e)`` each epoch
    (numpy's generator draws it, so the order is not torch's for the same seed).
    ``num_replicas`` and ``rank`` default to the default process group's.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from . import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: pass num_replicas and rank, or call "
                                   "pydyfast.distributed.init_process_group() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank {rank} is not in [0, {num_replicas})")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, int(seed), drop_last, 0
        n = len(dataset)
        self.num_samples = n // self.num_replicas if drop_last else -(-n // self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        indices = (np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle
                   else np.arange(n))
        if self.total_size > n and n > 0:
            indices = np.resize(indices, self.total_size)  # repeats from the start as padding
        indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Make the next iteration's shuffle that of ``epoch`` (the same on every rank)."""
        self.epoch = int(epoch)
