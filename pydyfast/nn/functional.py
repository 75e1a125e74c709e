"""``pydyfast.nn.functional`` (``F``): every functional op, plus losses and layer functions."""
from ..functional import *  # noqa: F401,F403
