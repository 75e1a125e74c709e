"""``pydyfast.nn.functional`` (``F``): every functional op, plus losses and layer functions."""
from ..functional import *  # noqa: F401,F403
from .functional_activation import *  # noqa: F401,F403
from .functional_layer import *  # noqa: F401,F403
from .functional_loss import *  # noqa: F401,F403
# nn.functional surface of issue 19: padding, resampling, patches, 3-D convolution, distances,
# dropout2d and the margin/likelihood losses
from ..ops.conv3d import *  # noqa: F401,F403,E402
from ..ops.distance import *  # noqa: F401,F403,E402
from ..ops.interpolate import *  # noqa: F401,F403,E402
from ..ops.padding import *  # noqa: F401,F403,E402
from ..ops.unfold import *  # noqa: F401,F403,E402
from .functional_loss_margin import *  # noqa: F401,F403,E402
