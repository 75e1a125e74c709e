"""Transposed convolutions in 1-D and 2-D: the adjoint of conv2d in its input, on conv's kernels.

With a transposed convolution's weight (C_in, C_out/G, KH, KW) read as the weight of a convolution
from C_out to C_in channels, the transposed convolution of x is that convolution's input gradient
for the output gradient x; its input gradient is that convolution applied to gy, and its weight
gradient is that convolution's weight gradient with gy as the image and x as the output gradient.
So the compiled kernels and the references of conv.py serve both, and the one kernel written for
this file (``conv_transpose2d_bwd``) only shares the columns of gy between those two gradients.
"""
from ..autograd import Function
from ..backend import array_module, dispatch
from .conv import (
    _check_conv,
    _check_int64,
    _columns,
    _conv2d_bwd_input_ref,
    _conv2d_fwd_ref,
    _geometry,
    _grouped,
    _kernel_geometry,
    _weight_blocks,
    as_2d_geometry,
    conv_output_size,
    grouped_matmul,
    kernel_params,
    ntuple,
    weight_gradient,
)

__all__ = ["conv_transpose1d", "conv_transpose2d"]


def _conv_transpose2d_bwd_ref(xp, x, weight, gy, *, stride, padding, dilation, groups,
                              input_grad):
    """(gx or None, gw) of y = conv_transpose2d(x, weight): x (N, C_in, H, W), gy (N, C_out, OH,
    OW) whose convolution has size (H, W). Both gradients multiply the columns of gy."""
    col = _columns(gy, _kernel_geometry(weight, stride, padding, dilation), groups)
    gw = weight_gradient(_grouped(xp, x, groups), col).reshape(weight.shape)
    if not input_grad:
        return None, gw
    return grouped_matmul(_weight_blocks(weight, groups), col).reshape(x.shape), gw


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, W) + b: x (N, C_in, H, W), weight (C_in, C_out/G, KH, KW), bias
    (C_out,) -> (N, C_out, OH, OW) with (OH, OW) = out_size."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, params, out_size):
        geometry = _kernel_geometry(weight, params["stride"], params["padding"],
                                    params["dilation"])
        h, w = x.shape[2:]
        full = conv_output_size("conv_transpose2d", out_size, **geometry)
        if full != (h, w):  # output_padding >= stride: window positions that no input reaches
            x = array_module(x).pad(x, ((0, 0), (0, 0), (0, full[0] - h), (0, full[1] - w)))
        # gpu=False: on CuPy the reference is the fast path (CUDA im2col/col2im and cuBLAS)
        y = dispatch(x, weight, bias, ref=_conv2d_bwd_input_ref, native="conv2d_bwd_input",
                     gpu=False, size=out_size, **params)
        ctx.save_for_backward(weight, x if ctx.needs_input_grad[1] else None)
        ctx.params, ctx.in_size = params, (h, w)
        return y

    @staticmethod
    def backward(ctx, gy):
        weight, x = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gw = None
        if needs[1]:  # one pass over gy's columns for both gradients
            gx, gw = dispatch(x, weight, gy, ref=_conv_transpose2d_bwd_ref,
                              native="conv_transpose2d_bwd", gpu=False, input_grad=needs[0],
                              **ctx.params)
        else:
            gx = dispatch(gy, weight, None, ref=_conv2d_fwd_ref, native="conv2d_fwd", gpu=False,
                          **ctx.params) if needs[0] else None
        h, w = ctx.in_size
        if gx is not None and gx.shape[2:] != (h, w):  # drop the rows and columns padded on
            gx = gx[:, :, :h, :w]
        gb = gy.sum(axis=(0, 2, 3)) if needs[2:] == (True,) else None
        return (gx, gw, gb)[:len(needs)]


def _conv_transpose(op, spatial, input, weight, bias, stride, padding, output_padding,  # noqa: A002
                    groups, dilation):
    """Checks, then ConvTranspose2d on (N, C_in, H, W); 1-D ones run with a unit height."""
    x = _check_conv(op, input, weight, bias, groups, spatial)
    cin, cout_g = weight.shape[:2]
    if x.shape[1] != cin or cin % groups:
        raise ValueError(f"{op}: input {input.shape} does not match weight {weight.shape} with "
                         f"groups={groups}: expected {cin} input channels, divisible by groups")
    if bias is not None and bias.shape != (cout_g * groups,):
        raise ValueError(f"{op}: expected bias of shape ({cout_g * groups},), got {bias.shape}")
    geometry = _geometry(op, weight.shape[2:], stride, padding, dilation, spatial)
    extra = ntuple(op, "output_padding", output_padding, spatial, 0)
    if any(e >= max(s, d) for e, s, d in zip(extra, geometry["stride"], geometry["dilation"])):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than either stride "
                         f"{geometry['stride']} or dilation {geometry['dilation']}")
    out_size = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e in zip(
        x.shape[2:], geometry["stride"], geometry["padding"], geometry["dilation"],
        geometry["kernel"], extra))
    _check_int64(op, "the output size", out_size)
    if min(out_size) < 1:
        raise ValueError(f"{op}: the output size {out_size} for input {input.shape} is not "
                         f"positive (padding {geometry['padding']} too large)")
    if spatial == 1:
        geometry, out_size = as_2d_geometry(geometry), (1,) + out_size
        x = x.reshape(x.shape[:2] + (1, x.shape[2]))
        weight = weight.reshape(weight.shape[:2] + (1, weight.shape[2]))
    inputs = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTranspose2d.apply(*inputs, params=kernel_params(geometry, groups), out_size=out_size)
    shape = y.shape[:2] + y.shape[4 - spatial:]
    return y.reshape(shape if input.ndim == spatial + 2 else shape[1:])


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                     groups=1, dilation=1):
    """2-D transposed convolution (the gradient of conv2d with respect to its input).

    input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, KH, KW); bias (C_out,);
    output (N, C_out, OH, OW), OH = (H - 1) stride - 2 padding + dilation (KH - 1)
    + output_padding + 1.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                     groups=1, dilation=1):
    """1-D transposed convolution: input (N, C_in, L) or (C_in, L); weight (C_in, C_out/groups,
    K); bias (C_out,); output (N, C_out, OL), OL = (L - 1) stride - 2 padding + dilation (K - 1)
    + output_padding + 1."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)
