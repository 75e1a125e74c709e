"""Identity, Linear and Bilinear layers (PyTorch's parameter names, shapes and init)."""
from .. import functional as F
from ._params import factory_kwargs, fan_in_bias, kaiming_weight, uniform_parameter
from .module import Module


class Identity(Module):
    """Returns its input unchanged (a placeholder that keeps a model's structure)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):  # noqa: A002
        return input


class Linear(Module):
    """y = x W^T + b.  x (..., in_features) -> (..., out_features).

    weight (out_features, in_features) and bias (out_features,), both ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        factory = factory_kwargs("Linear", device, dtype)
        self.in_features, self.out_features = in_features, out_features
        self.weight = kaiming_weight(out_features, in_features, **factory)
        self.register_parameter("bias", fan_in_bias(out_features, in_features, **factory)
                                if bias else None)

    def forward(self, input):  # noqa: A002
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y_o = x1^T W_o x2 + b_o.  x1 (..., in1), x2 (..., in2) -> (..., out).

    weight (out, in1, in2) and bias (out,), both ~ U(-1/sqrt(in1), 1/sqrt(in1)).
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        factory = factory_kwargs("Bilinear", device, dtype)
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        bound = 1 / in1_features ** 0.5
        self.weight = uniform_parameter((out_features, in1_features, in2_features), bound,
                                        **factory)
        self.register_parameter("bias", uniform_parameter((out_features,), bound, **factory)
                                if bias else None)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
