"""Datasets, samplers and the DataLoader (``torch.utils.data``), plus PyDyNet's
``data_loader(X, y, batch_size, shuffle)`` helper. Also importable as ``pydyfast.utils.data``.

Randomness (shuffling, random_split) comes from the ``generator`` passed (a
``pydyfast.Generator``, a numpy Generator or an int seed), else pydyfast's global one, seeded by
``pydyfast.manual_seed``.
"""
import numbers

import numpy as np

from .random import Generator, numpy_generator
from .tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "BatchSampler", "DataLoader",
           "default_collate", "data_loader", "DistributedSampler"]


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


def default_collate(batch):
    """Stack a list of samples into a batch.

    Tensors and arrays stack along a new first axis into a Tensor; Python ints, floats and
    bools become int64, float64 and bool Tensors (as in torch); tuples, lists and dicts are
    collated field by field; strings stay a list.
    """
    first = batch[0]
    if isinstance(first, Tensor) or isinstance(first, np.ndarray) \
            or hasattr(first, "__cuda_array_interface__"):
        arrays = [_array(x) for x in batch]
        if any(a.shape != arrays[0].shape for a in arrays):
            raise RuntimeError(f"default_collate: samples have different shapes "
                               f"{sorted({a.shape for a in arrays})}; pass a collate_fn "
                               f"that pads them")
        xp = np if isinstance(arrays[0], np.ndarray) else _cupy_module()
        return Tensor._wrap(xp.stack(arrays))
    if isinstance(first, (bool, np.bool_)):
        return Tensor._wrap(np.array(batch, dtype=bool))
    if isinstance(first, numbers.Integral):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
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
    drop_last : bool
        Skip the last incomplete batch.
    collate_fn : callable, optional
        Turns a list of samples into a batch; ``default_collate`` stacks into Tensors.
    generator : pydyfast.Generator, numpy Generator or int seed, optional
        The randomness of ``shuffle``.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 collate_fn=None, drop_last=False, generator=None):
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler is exclusive with batch_size, shuffle, "
                             "sampler and drop_last")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler is exclusive with shuffle")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else (lambda sample: sample))

    def __iter__(self):
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        fast = self.collate_fn is default_collate and hasattr(self.dataset, "_fetch_batch")
        for indices in self.batch_sampler:
            if fast:
                yield self.dataset._fetch_batch(indices)
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self):
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)


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
