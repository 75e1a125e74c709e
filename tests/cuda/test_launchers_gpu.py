"""Every CUDA launcher (kernels/*.cu) against PyTorch, forward and backward, float32 and float64.

Skipped without a GPU (fixture ``cp``). torch runs on CUDA when it has it, else on the CPU; the
launchers' results are compared on the host.
"""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

from pydyfast.cuda_launch import attention, im2col, norm, pool, rnn, softmax
from pydyfast.ops.pool import _adaptive_windows, _avg_windows

TF = torch.nn.functional

DEV = "cuda" if torch.cuda.is_available() else "cpu"


def tt(a, grad=False):
    return torch.tensor(np.asarray(a), device=DEV, requires_grad=grad)


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (5, 1000), (2, 3, 2049)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax(cp, close, dtype, rng, shape, log):
    x = rng.standard_normal(shape).astype(dtype) * 5
    gy = rng.standard_normal(shape).astype(dtype)
    fwd, bwd = ((softmax.log_softmax_fwd, softmax.log_softmax_bwd) if log
                else (softmax.softmax_fwd, softmax.softmax_bwd))
    y = fwd(cp.asarray(x))
    xt = tt(x, True)
    yt = (TF.log_softmax if log else TF.softmax)(xt, dim=-1)
    yt.backward(tt(gy))
    close(y, yt, dtype, "forward")
    close(bwd(y, cp.asarray(gy)), xt.grad, dtype, "backward")


def test_softmax_of_a_row_of_minus_inf_is_zero(cp, dtype):
    x = cp.full((2, 5), -cp.inf, dtype=dtype)
    x[1] = 0
    y = softmax.softmax_fwd(x).get()
    assert (y[0] == 0).all() and np.allclose(y[1], 0.2)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy(cp, close, dtype, rng, smoothing, weighted):
    N, C = 37, 1001
    x = rng.standard_normal((N, C)).astype(dtype) * 3
    target = rng.integers(0, C, N)
    target[3] = -100
    weight = rng.random(C).astype(dtype) + 0.5 if weighted else None
    w = np.ones(C, dtype) if weight is None else weight
    gloss = rng.standard_normal(N).astype(dtype)
    wg = None if weight is None else cp.asarray(weight)
    nll, smooth, row_max, log_sum = softmax.cross_entropy_fwd(
        cp.asarray(x), cp.asarray(target), wg, -100, smoothing > 0)
    xt = tt(x, True)
    lt = TF.cross_entropy(xt, tt(target), weight=None if weight is None else tt(weight),
                          ignore_index=-100, reduction="none", label_smoothing=smoothing)
    lt.backward(tt(gloss))
    close((1 - smoothing) * nll + smoothing / C * smooth, lt, dtype, "loss")
    close(row_max + log_sum, torch.logsumexp(xt, dim=1), dtype, "logsumexp")
    kept = target != -100
    a = np.where(kept, gloss * (1 - smoothing) * w[np.where(kept, target, 0)], 0).astype(dtype)
    b = np.where(kept, gloss * smoothing / C, 0).astype(dtype)
    gx = softmax.cross_entropy_bwd(cp.asarray(x), cp.asarray(target), row_max, log_sum,
                                   cp.asarray(a), cp.asarray(b), wg)
    close(gx, xt.grad, dtype, "gradient")


@pytest.mark.parametrize("rows, n", [(1, 1), (7, 33), (300, 512), (3, 5000)])
@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm(cp, close, dtype, rng, rows, n, affine):
    x = (rng.standard_normal((rows, n)) * 3 + 2).astype(dtype)
    gy = rng.standard_normal((rows, n)).astype(dtype)
    w = rng.standard_normal(n).astype(dtype) if affine else None
    b = rng.standard_normal(n).astype(dtype) if affine else None
    wg, bg = (None if v is None else cp.asarray(v) for v in (w, b))
    y, mean, rstd = norm.layer_norm_fwd(cp.asarray(x), wg, bg, 1e-5)
    xt = tt(x, True)
    wt = tt(np.ones(n, dtype) if w is None else w, True)
    bt = tt(np.zeros(n, dtype) if b is None else b, True)
    yt = TF.layer_norm(xt, (n,), wt, bt, 1e-5)
    yt.backward(tt(gy))
    close(y, yt, dtype, "forward")
    gx, gw, gb = norm.layer_norm_bwd(cp.asarray(gy), cp.asarray(x), mean, rstd, wg, affine, affine)
    close(gx, xt.grad, dtype, "input gradient")
    if affine:
        close(gw, wt.grad, dtype, "weight gradient")
        close(gb, bt.grad, dtype, "bias gradient")
    else:
        assert gw is None and gb is None


@pytest.mark.parametrize("rows, n", [(1, 1), (7, 33), (300, 288)])
def test_rms_norm(cp, close, dtype, rng, rows, n):
    x = rng.standard_normal((rows, n)).astype(dtype)
    gy = rng.standard_normal((rows, n)).astype(dtype)
    w = rng.standard_normal(n).astype(dtype)
    y, mean, rstd = norm.rms_norm_fwd(cp.asarray(x), cp.asarray(w), 1e-6)
    xt, wt = tt(x, True), tt(w, True)
    yt = TF.rms_norm(xt, (n,), wt, 1e-6)
    yt.backward(tt(gy))
    close(y, yt, dtype, "forward")
    assert not mean.any()
    gx, gw, gb = norm.rms_norm_bwd(cp.asarray(gy), cp.asarray(x), mean, rstd, cp.asarray(w),
                                   True, False)
    close(gx, xt.grad, dtype, "input gradient")
    close(gw, wt.grad, dtype, "weight gradient")
    assert gb is None


# (N, C, H, W), (kh, kw), stride, padding, dilation
CONV_CASES = [((1, 1, 5, 5), (3, 3), (1, 1), (0, 0), (1, 1)),
              ((2, 3, 7, 9), (3, 2), (2, 1), (1, 0), (1, 2)),
              ((3, 4, 8, 8), (5, 5), (1, 1), (2, 2), (1, 1)),
              ((1, 2, 6, 6), (2, 2), (3, 3), (0, 0), (1, 1))]


@pytest.mark.parametrize("shape, k, s, p, d", CONV_CASES)
def test_im2col_col2im(cp, close, dtype, rng, shape, k, s, p, d):
    x = rng.standard_normal(shape).astype(dtype)
    cols = im2col.im2col(cp.asarray(x), k, s, p, d)
    ref = TF.unfold(tt(x), k, dilation=d, padding=p, stride=s)
    close(cols, ref, dtype, "im2col")
    g = rng.standard_normal(ref.shape).astype(dtype)
    back = im2col.col2im(cp.asarray(g), shape[2:], k, s, p, d)
    close(back, TF.fold(tt(g), shape[2:], k, dilation=d, padding=p, stride=s), dtype, "col2im")


POOL_CASES = [((1, 1, 4, 4), (2, 2), (2, 2), (0, 0), False),
              ((2, 3, 7, 9), (3, 3), (2, 2), (1, 1), True),
              ((2, 2, 6, 5), (3, 2), (1, 2), (1, 0), False),
              ((1, 1, 5, 5), (2, 2), (2, 2), (0, 0), True)]


@pytest.mark.parametrize("shape, k, s, p, ceil", POOL_CASES)
def test_max_pool(cp, close, dtype, rng, shape, k, s, p, ceil):
    x = rng.standard_normal(shape).astype(dtype)
    xt = tt(x, True)
    yt = TF.max_pool2d(xt, k, s, p, ceil_mode=ceil)
    y, argmax = pool.max_pool2d_fwd(cp.asarray(x), k, s, p, (1, 1), tuple(yt.shape[2:]))
    gy = rng.standard_normal(yt.shape).astype(dtype)
    yt.backward(tt(gy))
    close(y, yt, dtype, "forward")
    close(pool.max_pool2d_bwd(cp.asarray(gy), argmax, shape[2:]), xt.grad, dtype, "backward")


def _check_avg(cp, close, dtype, x, yt, xt, windows, rng):
    gy = rng.standard_normal(yt.shape).astype(dtype)
    yt.backward(tt(gy))
    close(pool.avg_pool2d_fwd(cp.asarray(x), *windows), yt, dtype, "forward")
    close(pool.avg_pool2d_bwd(cp.asarray(gy), x.shape[2:], *windows), xt.grad, dtype, "backward")


@pytest.mark.parametrize("shape, k, s, p, ceil", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool(cp, close, dtype, rng, shape, k, s, p, ceil, count_include_pad):
    x = rng.standard_normal(shape).astype(dtype)
    xt = tt(x, True)
    yt = TF.avg_pool2d(xt, k, s, p, ceil_mode=ceil, count_include_pad=count_include_pad)
    (hs, he, hw), (ws, we, ww) = [_avg_windows(*a, count_include_pad)
                                  for a in zip(shape[2:], k, s, p, yt.shape[2:])]
    _check_avg(cp, close, dtype, x, yt, xt, (hs, he, hw, ws, we, ww), rng)


@pytest.mark.parametrize("shape, out", [((2, 3, 7, 9), (3, 4)), ((1, 1, 2, 3), (5, 7)),
                                        ((1, 2, 8, 8), (1, 1))])
def test_adaptive_avg_pool(cp, close, dtype, rng, shape, out):
    x = rng.standard_normal(shape).astype(dtype)
    xt = tt(x, True)
    yt = TF.adaptive_avg_pool2d(xt, out)
    (hs, he, hw), (ws, we, ww) = [_adaptive_windows(n, o) for n, o in zip(shape[2:], out)]
    _check_avg(cp, close, dtype, x, yt, xt, (hs, he, hw, ws, we, ww), rng)


@pytest.mark.parametrize("B, H", [(1, 1), (5, 33), (256, 128)])
def test_gru_gates(cp, close, dtype, rng, B, H):
    gi, gh = (rng.standard_normal((B, 3 * H)).astype(dtype) for _ in range(2))
    h = rng.standard_normal((B, H)).astype(dtype)
    g = rng.standard_normal((B, H)).astype(dtype)
    h_new, saved = rnn.gru_gates_fwd(cp.asarray(gi), cp.asarray(gh), cp.asarray(h))
    git, ght, ht = tt(gi, True), tt(gh, True), tt(h, True)
    r = torch.sigmoid(git[:, :H] + ght[:, :H])
    z = torch.sigmoid(git[:, H:2 * H] + ght[:, H:2 * H])
    n = torch.tanh(git[:, 2 * H:] + r * ght[:, 2 * H:])
    ref = (1 - z) * n + z * ht
    ref.backward(tt(g))
    close(h_new, ref, dtype, "forward")
    dgi, dgh, dh = rnn.gru_gates_bwd(saved, cp.asarray(h), cp.asarray(g))
    close(dgi, git.grad, dtype, "dgi")
    close(dgh, ght.grad, dtype, "dgh")
    close(dh, ht.grad, dtype, "dh")


@pytest.mark.parametrize("B, H", [(1, 1), (5, 33), (64, 256)])
def test_lstm_gates(cp, close, dtype, rng, B, H):
    gi, gh = (rng.standard_normal((B, 4 * H)).astype(dtype) for _ in range(2))
    c = rng.standard_normal((B, H)).astype(dtype)
    g_h, g_c = (rng.standard_normal((B, H)).astype(dtype) for _ in range(2))
    h_new, c_new, saved = rnn.lstm_gates_fwd(cp.asarray(gi), cp.asarray(gh), cp.asarray(c))
    git, ght, ct = tt(gi, True), tt(gh, True), tt(c, True)
    i, f, gg, o = (git + ght).chunk(4, dim=1)
    cn = torch.sigmoid(f) * ct + torch.sigmoid(i) * torch.tanh(gg)
    hn = torch.sigmoid(o) * torch.tanh(cn)
    torch.autograd.backward([hn, cn], [tt(g_h), tt(g_c)])
    close(h_new, hn, dtype, "h")
    close(c_new, cn, dtype, "c")
    dgates, dc = rnn.lstm_gates_bwd(saved, cp.asarray(c), cp.asarray(g_h), cp.asarray(g_c))
    close(dgates, git.grad, dtype, "dgates")
    close(dc, ct.grad, dtype, "dc")


def _rotate_ref(x, cos, sin, interleaved):
    if interleaved:
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


@pytest.mark.parametrize("shape", [(1, 1, 2), (2, 6, 17, 48), (3, 256, 64)])
@pytest.mark.parametrize("interleaved", [True, False])
def test_rotary(cp, close, dtype, rng, shape, interleaved):
    S, D = shape[-2:]
    angles = np.arange(S)[:, None] * 10000.0 ** (-np.arange(0, D, 2) / D)
    cos, sin = np.cos(angles).astype(dtype), np.sin(angles).astype(dtype)
    x = rng.standard_normal(shape).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    y = attention.rotary(cp.asarray(x), cp.asarray(cos), cp.asarray(sin), interleaved, False)
    xt = tt(x, True)
    yt = _rotate_ref(xt, tt(cos), tt(sin), interleaved)
    yt.backward(tt(gy))
    close(y, yt, dtype, "forward")
    close(attention.rotary(cp.asarray(gy), cp.asarray(cos), cp.asarray(sin), interleaved, True),
          xt.grad, dtype, "backward")


@pytest.mark.parametrize("N, R, S, causal_rows", [(1, 1, 1, 0), (6, 7, 7, 7), (4, 10, 300, 5),
                                                  (2, 3, 2000, 0)])
def test_attention_softmax(cp, close, dtype, rng, N, R, S, causal_rows):
    scores = rng.standard_normal((N, R, S)).astype(dtype) * 4
    gp = rng.standard_normal((N, R, S)).astype(dtype)
    scale = 0.3
    st = tt(scores, True)
    z = st * scale
    if causal_rows:
        keep = torch.arange(S, device=DEV)[None, :] <= (torch.arange(R, device=DEV)
                                                         % causal_rows)[:, None]
        z = z.masked_fill(~keep, float("-inf"))
    pt = torch.softmax(z, dim=-1)
    pt.backward(tt(gp))
    p = attention.attention_softmax_fwd(cp.asarray(scores), scale, causal_rows)
    close(p, pt, dtype, "forward")
    close(attention.attention_softmax_bwd(p, cp.asarray(gp), scale), st.grad, dtype, "backward")


@pytest.mark.parametrize("B, H, Hkv, D, max_len, length",
                         [(1, 1, 1, 8, 4, 1), (2, 6, 6, 48, 256, 200), (3, 8, 2, 64, 64, 64),
                          (1, 4, 1, 32, 20000, 15000)])  # the last one: scores exceed 48 KiB
def test_decode_attention(cp, close, dtype, rng, B, H, Hkv, D, max_len, length):
    q = rng.standard_normal((B, H, D)).astype(dtype)
    k, v = (rng.standard_normal((B, Hkv, max_len, D)).astype(dtype) for _ in range(2))
    out = attention.decode_attention(cp.asarray(q), cp.asarray(k), cp.asarray(v), length,
                                     D ** -0.5)
    kt = tt(k[:, :, :length]).repeat_interleave(H // Hkv, dim=1)
    vt = tt(v[:, :, :length]).repeat_interleave(H // Hkv, dim=1)
    ref = TF.scaled_dot_product_attention(tt(q)[:, :, None], kt, vt)[:, :, 0]
    close(out, ref, dtype)


def test_decode_attention_rejects_bad_length(cp):
    q = cp.zeros((1, 2, 4), dtype=cp.float32)
    k = cp.zeros((1, 2, 8, 4), dtype=cp.float32)
    with pytest.raises(ValueError, match=r"length 9 is not in \[1, 8\]"):
        attention.decode_attention(q, k, k, 9, None)
