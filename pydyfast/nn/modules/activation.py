"""Activation layers: thin Modules over the functions of ``pydyfast.nn.functional``."""
from .. import functional as F
from .module import Module


def _activation(name, fn, doc, **defaults):
    """A parameterless layer class calling ``fn(input, **options)``; ``defaults`` lists its
    options in PyTorch's positional order, with their defaults."""
    names = tuple(defaults)

    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        if len(args) > len(names):
            raise TypeError(f"{name}: takes at most {len(names)} arguments {names}, got "
                            f"{len(args)}")
        options = dict(defaults, **dict(zip(names, args)))
        unknown = set(kwargs) - set(names)
        if unknown:
            raise TypeError(f"{name}: unexpected arguments {sorted(unknown)}; expected {names}")
        options.update(kwargs)
        for k, v in options.items():
            object.__setattr__(self, k, v)

    def forward(self, input):  # noqa: A002
        return fn(input, **{k: getattr(self, k) for k in names})

    def extra_repr(self):
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in names)

    return type(name, (Module,), {"__init__": __init__, "forward": forward,
                                  "extra_repr": extra_repr, "__doc__": doc})



Sigmoid = _activation("Sigmoid", lambda x: F.sigmoid(x), "1 / (1 + e^-x), elementwise.")
Tanh = _activation("Tanh", lambda x: F.tanh(x), "tanh(x), elementwise.")
ReLU = _activation("ReLU", lambda x: F.relu(x), "max(x, 0), elementwise.")
LeakyReLU = _activation("LeakyReLU", lambda x, **o: F.leaky_relu(x, **o),
                        "x if x > 0 else negative_slope x.", negative_slope=0.01)
ELU = _activation("ELU", lambda x, **o: F.elu(x, **o), "x if x > 0 else alpha (e^x - 1).",
                  alpha=1.0)
GELU = _activation("GELU", lambda x, **o: F.gelu(x, **o),
                   "x Phi(x) (approximate='none') or its tanh approximation ('tanh').",
                   approximate="none")
SiLU = _activation("SiLU", lambda x: F.silu(x), "x sigmoid(x), elementwise.")
Softplus = _activation("Softplus", lambda x, **o: F.softplus(x, **o),
                       "log(1 + e^(beta x)) / beta, linear above threshold.",
                       beta=1.0, threshold=20.0)
Hardtanh = _activation("Hardtanh", lambda x, **o: F.hardtanh(x, **o),
                       "x clamped to [min_val, max_val].", min_val=-1.0, max_val=1.0)
Softmax = _activation("Softmax", lambda x, dim: F.softmax(x, dim=-1 if dim is None else dim),
                      "e^x / sum(e^x) along dim (the last axis when None).", dim=None)
LogSoftmax = _activation("LogSoftmax",
                         lambda x, dim: F.log_softmax(x, dim=-1 if dim is None else dim),
                         "x - logsumexp(x) along dim (the last axis when None).", dim=None)
ReLU6 = _activation("ReLU6", lambda x: F.relu6(x), "min(max(x, 0), 6), elementwise.")
Hardsigmoid = _activation("Hardsigmoid", lambda x: F.hardsigmoid(x), "relu6(x + 3) / 6.")
Hardswish = _activation("Hardswish", lambda x: F.hardswish(x), "x relu6(x + 3) / 6.")
Mish = _activation("Mish", lambda x: F.mish(x), "x tanh(softplus(x)).")
SELU = _activation("SELU", lambda x: F.selu(x), "scale * elu(x, alpha), SELU's constants.")
CELU = _activation("CELU", lambda x, **o: F.celu(x, **o),
                   "x if x > 0 else alpha (e^(x/alpha) - 1).", alpha=1.0)
GLU = _activation("GLU", lambda x, **o: F.glu(x, **o), "a sigmoid(b) for the halves a, b of dim.",
                  dim=-1)
LogSigmoid = _activation("LogSigmoid", lambda x: F.logsigmoid(x), "log(sigmoid(x)), stable.")
Softmin = _activation("Softmin", lambda x, **o: F.softmin(x, **o),
                      "softmax(-x) along dim (PyTorch's implicit axis when None).", dim=None)
