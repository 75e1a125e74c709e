"""``pydynet.autograd``: pydyfast's grad-mode switches, and PyDyNet's spelling of the query."""
from ..autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401

is_grad_enable = is_grad_enabled
