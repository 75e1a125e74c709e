"""``pydynet.cuda``: pydyfast's devices (the same ``Device`` and queries)."""
from ..cuda import Device, current_device, device_count, is_available, set_device  # noqa: F401
