"""``pydyfast.nn.parallel``: data parallelism across processes (``torch.nn.parallel``)."""
from .distributed import DistributedDataParallel  # noqa: F401
