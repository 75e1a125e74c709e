"""``pydyfast.nn.functional`` (``F``): every functional op, plus losses and layer functions."""
from ..functional import *  # noqa: F401,F403
from .functional_activation import *  # noqa: F401,F403
from .functional_layer import *  # noqa: F401,F403
from .functional_loss import *  # noqa: F401,F403
