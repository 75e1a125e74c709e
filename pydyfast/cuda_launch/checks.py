"""Launch-side checks shared by the CUDA launchers: the kernels trust every size and extent they
are given (the C++ kernels check their own, in csrc/common.h), so a launcher checks them on the
host before it launches."""
import math
import operator

INT64_MAX = 2**63 - 1


def checked_sizes(op, *values, elem_bytes=1):
    """The mirror of csrc/common.h's checked_size: every value an int (not a bool or float) in
    [0, 2**63), and their product times ``elem_bytes`` too, because the kernels index in 64-bit
    integers and an overflow there writes outside the buffer. Returns the product."""
    for v in values:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"{op}: sizes must be integers, got {v!r}")
        if not 0 <= operator.index(v) <= INT64_MAX:
            raise ValueError(f"{op}: size {v} is outside [0, 2**63)")
    count = math.prod(operator.index(v) for v in values)
    if count * elem_bytes > INT64_MAX:
        raise ValueError(f"{op}: sizes {tuple(values)} overflow int64")
    return count


def require_shape(op, name, array, shape):
    """Raise ValueError unless ``array.shape == shape``."""
    if tuple(array.shape) != tuple(shape):
        raise ValueError(f"{op}: expected {name} of shape {tuple(shape)}, got "
                         f"{tuple(array.shape)}")
