"""``pydyfast.utils.data``: the torch spelling of :mod:`pydyfast.data`."""
from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401
