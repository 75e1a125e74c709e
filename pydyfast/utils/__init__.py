"""``pydyfast.utils``: the ``torch.utils`` spelling (``pydyfast.utils.data``)."""
from . import data  # noqa: F401
