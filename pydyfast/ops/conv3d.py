"""3-D convolution as a sum of 2-D ones over the depth taps of the kernel.

conv3d(x, W)[:, :, od] = sum_kd conv2d(x[:, :, od*s + kd*d], W[:, :, kd]): each depth tap is one
2-D convolution of every output depth slice at once (the slices folded into the batch), on the
compiled im2col kernels. Everything is a composite of differentiable ops, so the gradients come
from theirs; the loop is over the KD taps only.
"""
from .conv import _geometry, check_conv_args, conv2d, conv_output_size, string_padding
from .padding import pad

__all__ = ["conv3d"]


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """3-D convolution (cross-correlation, as in PyTorch).

    input (N, C, D, H, W) or (C, D, H, W); weight (O, C/groups, KD, KH, KW); bias (O,);
    output (N, O, OD, OH, OW), OD = (D + 2 padding - dilation (KD - 1) - 1) // stride + 1.
    padding may be an int, three ints, 'valid' or 'same'.
    """
    op = "conv3d"
    x = check_conv_args(op, 3, input, weight, bias, groups)
    if isinstance(padding, str):
        x, padding = string_padding(op, x, padding, weight.shape[2:], stride, dilation, 3)
    g = _geometry(op, weight.shape[2:], stride, padding, dilation, 3)
    (kd, sd, pd, dd) = (g[k][0] for k in ("kernel", "stride", "padding", "dilation"))
    out_depth = conv_output_size(op, x.shape[2:], **g)[0]
    if pd:
        x = pad(x, (0, 0, 0, 0, pd, pd))
    n, c, _, h, w = x.shape
    y = None
    for tap in range(kd):
        start = tap * dd
        slab = x[:, :, start:start + sd * (out_depth - 1) + 1:sd]  # (N, C, OD, H, W)
        slab = slab.permute(0, 2, 1, 3, 4).reshape(n * out_depth, c, h, w)
        part = conv2d(slab, weight[:, :, tap], None, g["stride"][1:], g["padding"][1:],
                      g["dilation"][1:], groups)
        y = part if y is None else y + part
    y = y.reshape((n, out_depth) + y.shape[1:]).permute(0, 2, 1, 3, 4)
    if bias is not None:
        y = y + bias.reshape(-1, 1, 1, 1)
    return y if input.ndim == 5 else y.reshape(y.shape[1:])
