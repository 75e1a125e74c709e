"""``pydyfast.distributed``: data-parallel training across processes, as ``torch.distributed``.

Backends are established engines, one file each behind ``process_group.ProcessGroup``: MPI
through mpi4py for CPU tensors (``mpi.py``) and NCCL through cupy for CUDA tensors
(``nccl.py``). Start a job with ``python -m pydyfast.distributed.run -n 4 train.py`` or
``mpirun -n 4 python train.py``; in the script::

    import pydyfast.distributed as dist
    dist.init_process_group("mpi")
    model = pydyfast.nn.parallel.DistributedDataParallel(model)

Importing this package imports neither mpi4py nor cupy; ``is_available()`` says whether a
backend can be used.
"""
from .collectives import (all_gather, all_gather_into_tensor, all_gather_object,  # noqa: F401
                          all_reduce, broadcast, gather, irecv, isend, recv, reduce,
                          reduce_scatter, reduce_scatter_tensor, scatter, send)
from .group import (barrier, destroy_process_group, get_backend, get_rank,  # noqa: F401
                    get_world_size, init_process_group, is_available, is_initialized,
                    is_mpi_available, is_nccl_available)
from .process_group import DistributedTimeoutError, ReduceOp, Work  # noqa: F401
from . import nn  # noqa: F401  (differentiable collectives: pydyfast.distributed.nn)
