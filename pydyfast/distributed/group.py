"""The default process group: ``init_process_group`` and the questions about it."""
import os

from . import mpi, nccl
from .process_group import timeout_seconds

_BACKENDS = {"mpi": mpi, "nccl": nccl}
_default = [None]  # the ProcessGroup after init_process_group, else None


def is_available() -> bool:
    """Whether some backend can be used here (mpi4py installed, or cupy with NCCL and a GPU)."""
    return mpi.is_available() or nccl.is_available()


def is_mpi_available() -> bool:
    return mpi.is_available()


def is_nccl_available() -> bool:
    return nccl.is_available()


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1):
    """Join the default process group of this job.

    backend : 'mpi' (CPU tensors, through mpi4py; the default) or 'nccl' (CUDA tensors, through
        cupy.cuda.nccl).
    timeout : seconds or timedelta that a collective may wait for the other ranks before it
        raises (default 1800 s, or the PYDYFAST_DIST_TIMEOUT environment variable).
    world_size, rank : checked against MPI when given (MPI decides them under mpirun); for
        'nccl' without mpirun they come from here or from WORLD_SIZE / RANK.
    """
    if _default[0] is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialised (call destroy_process_group() first)")
    name = (backend or "mpi").lower()
    if name not in _BACKENDS:
        raise ValueError(f"init_process_group: unknown backend {backend!r}; expected 'mpi' or "
                         f"'nccl'")
    if not _BACKENDS[name].is_available():
        hint = ("pip install mpi4py mpich" if name == "mpi" else
                "install cupy for your CUDA (pip install cupy-cuda12x) and run on a GPU")
        raise RuntimeError(f"init_process_group: the {name} backend is not available here "
                           f"({hint})")
    if timeout is None:
        timeout = float(os.environ.get("PYDYFAST_DIST_TIMEOUT", "1800"))
    timeout = timeout_seconds(timeout)
    if name == "mpi":
        group = mpi.MpiGroup(timeout)
        _check_layout(group, world_size, rank)
    else:
        group = nccl.NcclGroup(timeout, init_method, rank, world_size)
    _default[0] = group


def _check_layout(group, world_size, rank):
    """MPI fixes rank and size; a different request (argument or environment) is an error."""
    wanted = {"world_size": world_size if world_size > 0 else os.environ.get("WORLD_SIZE"),
              "rank": rank if rank >= 0 else os.environ.get("RANK")}
    actual = {"world_size": group.size, "rank": group.rank}
    for key, value in wanted.items():
        if value is not None and int(value) != actual[key]:
            group.close()
            raise RuntimeError(f"init_process_group: {key}={value} was requested but MPI "
                               f"started this process with {key}={actual[key]} (launch with "
                               f"`mpirun -n N` or `python -m pydyfast.distributed.run -n N`)")


def default_group(group=None, what="distributed"):
    """The process group to use; only the default (world) group exists."""
    if group is not None and group is not _default[0]:
        raise ValueError(f"{what}: only the default process group is supported (group=None)")
    if _default[0] is None:
        raise RuntimeError(f"{what}: the default process group is not initialised; call "
                           f"pydyfast.distributed.init_process_group() first")
    return _default[0]


def is_initialized() -> bool:
    return _default[0] is not None


def get_rank(group=None) -> int:
    return default_group(group, "get_rank").rank


def get_world_size(group=None) -> int:
    return default_group(group, "get_world_size").size


def get_backend(group=None) -> str:
    return default_group(group, "get_backend").name


def barrier(group=None, async_op=False):
    """Wait until every rank has reached this call."""
    work = default_group(group, "barrier").barrier()
    if async_op:
        return work
    work.wait()
    return None


def destroy_process_group(group=None):
    """Leave the process group (collective: every rank calls it)."""
    default_group(group, "destroy_process_group").close()
    _default[0] = None
