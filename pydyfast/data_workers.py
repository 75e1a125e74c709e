"""DataLoader worker processes (``DataLoader(num_workers=N)``), with torch's semantics.

The main process iterates the batch sampler and hands each batch's indices to a worker; a
worker fetches the samples, collates them and sends the batch back; the main process yields
batches in sampler order. Each worker seeds Python's ``random`` and pydyfast's generator with
``base_seed + worker_id`` (``base_seed`` is drawn from the loader's generator once per pool),
then calls ``worker_init_fn(worker_id)``; ``get_worker_info()`` describes the worker inside it.
Processes start with multiprocessing's default context (fork on Linux), or the one given.
"""
import multiprocessing
import queue
import random
import traceback
from dataclasses import dataclass

_POLL_SECONDS = 1.0  # how often a waiting main process checks that its workers are alive
_worker_info = None


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker process."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """The :class:`WorkerInfo` of this DataLoader worker process, or None in the main process."""
    return _worker_info


class _RemoteError:
    """An exception raised in a worker, carried to the main process with its traceback text."""

    def __init__(self, worker_id, exc):
        self.type, self.worker_id = type(exc), worker_id
        self.text = "".join(traceback.format_exception(exc))

    def reraise(self):
        message = (f"Caught {self.type.__name__} in DataLoader worker process "
                   f"{self.worker_id}.\nOriginal {self.text}")
        try:
            error = self.type(message)
        except Exception:  # noqa: BLE001 - an exception type with another constructor
            error = RuntimeError(message)
        raise error


def _worker_loop(worker_id, num_workers, seed, dataset, fetch, init_fn, tasks, results):
    """Body of a worker process: fetch and collate each (epoch, batch number, indices) task."""
    global _worker_info
    from .creation import manual_seed
    random.seed(seed)
    manual_seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as exc:  # noqa: BLE001 - reported to the main process, which re-raises
        results.put((None, None, _RemoteError(worker_id, exc)))
        return
    while True:
        task = tasks.get()
        if task is None:
            return
        epoch, number, indices = task
        try:
            results.put((epoch, number, fetch(indices)))
        except Exception as exc:  # noqa: BLE001 - as above
            results.put((epoch, number, _RemoteError(worker_id, exc)))


class WorkerPool:
    """``num_workers`` processes serving one DataLoader; ``batches(tasks)`` runs one epoch."""

    def __init__(self, loader, base_seed):
        context = loader.multiprocessing_context
        if context is None or isinstance(context, str):
            context = multiprocessing.get_context(context)
        self.num_workers, self.timeout = loader.num_workers, loader.timeout
        self.prefetch = loader.prefetch_factor * loader.num_workers
        self.results = context.Queue()
        self.tasks = [context.Queue() for _ in range(self.num_workers)]
        self.workers = []
        for worker_id in range(self.num_workers):
            worker = context.Process(
                target=_worker_loop, daemon=True,
                args=(worker_id, self.num_workers, base_seed + worker_id, loader.dataset,
                      loader._fetch, loader.worker_init_fn, self.tasks[worker_id],
                      self.results))
            worker.start()
            self.workers.append(worker)
        self.epoch = 0

    def batches(self, index_batches):
        """Yield the batch of every index list of ``index_batches``, in order."""
        self.epoch += 1  # results of an abandoned earlier epoch carry an older number
        pending, sent, next_out = {}, 0, 0
        index_batches = iter(index_batches)
        exhausted = False
        while True:
            while not exhausted and sent - next_out < self.prefetch:
                indices = next(index_batches, None)
                if indices is None:
                    exhausted = True
                    break
                self.tasks[sent % self.num_workers].put((self.epoch, sent, indices))
                sent += 1
            if next_out == sent:
                return
            while next_out not in pending:
                epoch, number, batch = self._get()
                if isinstance(batch, _RemoteError) and epoch in (None, self.epoch):
                    batch.reraise()
                if epoch == self.epoch:
                    pending[number] = batch
            yield pending.pop(next_out)
            next_out += 1

    def _get(self):
        """The next result; RuntimeError when a worker died or ``timeout`` passed."""
        waited = 0.0
        while True:
            wait = _POLL_SECONDS if not self.timeout else min(_POLL_SECONDS,
                                                              self.timeout - waited)
            try:
                return self.results.get(timeout=wait)
            except queue.Empty:
                waited += wait
            dead = [w for w in self.workers if not w.is_alive()]
            if dead:
                self.shutdown()
                raise RuntimeError(f"DataLoader worker (pid {dead[0].pid}) exited unexpectedly "
                                   f"with exit code {dead[0].exitcode}")
            if self.timeout and waited >= self.timeout:
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds waiting "
                                   f"for a batch from its workers")

    def shutdown(self):
        """Stop every worker (asked first, terminated if it does not exit)."""
        for tasks, worker in zip(self.tasks, self.workers):
            if worker.is_alive():
                tasks.put(None)
        for worker in self.workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        self.workers = []
        for q in (*self.tasks, self.results):
            q.cancel_join_thread()  # do not block on undelivered items of a stopped pool
            q.close()
