"""pydyfast.pydynet's top-level functions and creation functions behave as PyDyNet 1.1's:
values, dtypes and gradients, float32 and float64, edge shapes and bad inputs."""
import numpy as np
import pytest
from pydynet_reference import assert_same, pdf, pdn, run

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"]
# (shape a, shape b) pairs: broadcasting, 0-d against n-d (NumPy promotes by the 0-d array's
# dtype too), size-1 and empty dimensions.
PAIRS = [((2, 3), (2, 3)), ((2, 1, 3), (4, 1)), ((), (3,)), ((3,), ()), ((1,), (2, 1)),
         ((0, 3), (1, 3))]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("dtypes", [(np.float32, np.float32), (np.float64, np.float64),
                                    (np.float32, np.float64), (np.float64, np.float32)],
                         ids=lambda d: f"{np.dtype(d[0])}-{np.dtype(d[1])}")
def test_binary(name, shapes, dtypes):
    a, b = randn(*shapes[0], dtype=dtypes[0]), randn(*shapes[1], dtype=dtypes[1])
    if name == "pow":
        a = np.abs(a) + 0.5
    # Gradients against torch: PyDyNet 1.1 reduces broadcast gradients over the wrong axes, and
    # its minimum compares its output with a Tensor instead of an array (all gradients 0).
    assert_same(lambda fw, x, y: getattr(fw, name)(x, y), a, b, rtol=2e-5,
                torch_fn=lambda fw, x, y: getattr(fw, name)(x, y))


def test_minimum_gradient_goes_to_the_smaller_input():
    x = pdf.Tensor([1.0, 5.0, -2.0], requires_grad=True)
    y = pdf.Tensor([3.0, 4.0, -1.0], requires_grad=True)
    pdf.minimum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 0, 1])
    np.testing.assert_array_equal(y.grad.data, [0, 1, 0])


@pytest.mark.parametrize("name", ["add", "mul", "div"])
def test_binary_integer_tensors_promote_as_numpy(name):
    a, b = np.arange(1, 7).reshape(2, 3), np.array([2, 4, 5], dtype=np.int32)
    assert_same(lambda fw, x, y: getattr(fw, name)(x, y), a, b, grad=False)


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((5, 2, 3), (3, 2)), ((3,), (3, 2)),
                                    ((2, 1, 2, 3), (4, 3, 1))], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul(shapes, dtype):
    assert_same(lambda fw, x, y: fw.matmul(x, y), randn(*shapes[0], dtype=dtype),
                randn(*shapes[1], dtype=dtype), rtol=1e-4,
                torch_fn=lambda fw, x, y: fw.matmul(x, y))


@pytest.mark.parametrize("name", ["abs", "exp", "log", "sign", "sigmoid", "tanh", "sqrt",
                                  "square"])
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 2), (1,)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary(name, shape, dtype):
    x = randn(*shape, dtype=dtype)
    if name in ("log", "sqrt"):
        x = np.abs(x) + 0.1
    # Gradients against torch: PyDyNet 1.1's abs gradient fails on its own arrays.
    assert_same(lambda fw, t: getattr(fw, name)(t), x,
                torch_fn=lambda fw, t: getattr(fw, name)(t))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), (-1, True),
                                           ((0, 2), False), ((0, 2), True)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reduction(name, axis, keepdims, dtype):
    assert_same(lambda fw, t: getattr(fw, name)(t, axis=axis, keepdims=keepdims),
                randn(2, 3, 4, dtype=dtype))


@pytest.mark.parametrize("name", ["max", "min", "sum"])
def test_reduction_positional_axis_gives_values(name):
    assert_same(lambda fw, t: getattr(fw, name)(t, 1), randn(3, 4))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_arg_reductions(name, axis):
    assert_same(lambda fw, t: getattr(fw, name)(t, axis=axis), randn(3, 4), grad=False)


SHAPE_CASES = {
    "reshape": lambda fw, t: fw.reshape(t, (4, 6)),
    "reshape -1": lambda fw, t: fw.reshape(t, (-1, 3)),
    "transpose": lambda fw, t: fw.transpose(t, (2, 0, 1)),
    "transpose reversed": lambda fw, t: fw.transpose(t),
    "swapaxes": lambda fw, t: fw.swapaxes(t, 0, -1),
    "unsqueeze int": lambda fw, t: fw.unsqueeze(t, 1),
    "unsqueeze tuple": lambda fw, t: fw.unsqueeze(t, (0, 2)),
    "unsqueeze negative tuple": lambda fw, t: fw.unsqueeze(t, (0, -1)),
    "squeeze": lambda fw, t: fw.squeeze(fw.unsqueeze(t, (0, 2)), axis=(0, 2)),
    "split sections": lambda fw, t: fw.split(t, 2, axis=0),
    "split points": lambda fw, t: fw.split(t, [1, 3], axis=1),
    "split negative axis": lambda fw, t: fw.split(t, 4, axis=-1),
    "vsplit": lambda fw, t: fw.vsplit(t, 2),
    "hsplit": lambda fw, t: fw.hsplit(t, [1]),
    "dsplit": lambda fw, t: fw.dsplit(t, 2),
    "concat": lambda fw, t: fw.concat([t, t * 2], axis=1),
    "concat split": lambda fw, t: fw.concat(fw.split(t, 3, axis=1), axis=-1),
}


@pytest.mark.parametrize("case", SHAPE_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_ops(case, dtype):
    assert_same(SHAPE_CASES[case], randn(2, 3, 4, dtype=dtype))


def test_shape_ops_on_non_contiguous_input():
    x = randn(4, 6)[:, ::2]
    assert not x.flags.c_contiguous
    assert_same(lambda fw, t: fw.concat(fw.split(t, 2, axis=0), axis=1), x)


@pytest.mark.parametrize("call,message", [
    (lambda fw, t: fw.split(t, 4, axis=0), "split: axis 0 of size 2 cannot be split into 4"),
    (lambda fw, t: fw.unsqueeze(t, (0, 0)), "unsqueeze: repeated dim"),
    (lambda fw, t: fw.unsqueeze(t, 5), "unsqueeze: dim 5 is out of range"),
    (lambda fw, t: fw.dsplit(t, 2), "dsplit: needs at least 3 dimensions"),
])
def test_bad_shape_arguments(call, message):
    """PyDyNet raises too (an AssertionError from its split); pydyfast names the op and sizes."""
    with pytest.raises((ValueError, IndexError), match=message):
        call(pdf, pdf.Tensor(randn(2, 3)))
    with pytest.raises(Exception):
        call(pdn, pdn.Tensor(randn(2, 3)))


@pytest.mark.parametrize("data", [2.0, [1.0, 2.5], [1, 2], True, np.float32(1.5),
                                  np.arange(3, dtype=np.int16), [[1.0], [2.0]]], ids=repr)
def test_tensor_dtype_inference(data):
    ours, ref = pdf.Tensor(data), pdn.Tensor(data)
    assert ours.dtype == ref.dtype and ours.shape == ref.shape


def test_tensor_keywords():
    for fw in (pdf, pdn):
        t = fw.Tensor([1, 2], dtype=np.float32, device="cpu", requires_grad=True)
        assert t.dtype == np.float32 and t.requires_grad
        assert fw.Tensor(np.array([1.7]), dtype=int).dtype == np.int64


@pytest.mark.parametrize("name,args", [("zeros", ((2, 3),)), ("ones", (4,)),
                                       ("empty", ((2, 2),)), ("rand", (2, 3)),
                                       ("randn", (3,)), ("uniform", (0, 1, (2, 3)))])
@pytest.mark.parametrize("dtype", [None, np.float32])
def test_creation(name, args, dtype):
    ours, ref = (getattr(fw, name)(*args, dtype=dtype) for fw in (pdf, pdn))
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert getattr(pdf.special, name) is getattr(pdf, name)
    if name in ("zeros", "ones"):
        np.testing.assert_array_equal(ours.data, ref.data)
    if name in ("rand", "uniform"):
        assert 0 <= ours.data.min() and ours.data.max() < 1


def test_creation_requires_grad():
    for fw in (pdf, pdn):
        assert fw.zeros((2,), requires_grad=True).requires_grad


def test_backward_of_non_scalar_raises_value_and_runtime_error():
    x = pdf.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()


def test_grad_mode_switches():
    for fw in (pdf, pdn):
        x = fw.Tensor([1.0], requires_grad=True)
        with fw.no_grad():
            assert not (x * 2).requires_grad and not fw.autograd.is_grad_enable()
            with fw.enable_grad():
                assert (x * 2).requires_grad
        assert fw.autograd.is_grad_enable()


def test_device_and_cuda_queries():
    for fw in (pdf, pdn):
        assert fw.Device("cpu") == fw.Device("cpu")
        assert fw.cuda.is_available() in (True, False)
    assert pdf.cuda.is_available() == pdn.cuda.is_available()
    if not pdf.cuda.is_available():
        assert pdf.cuda.device_count() == 0


def test_harness_sees_a_wrong_gradient():
    """A check that can fail: the harness tells a wrong gradient from a right one."""
    _, grads = run(pdf, lambda fw, t: t * 2, randn(3))
    _, ref = run(pdn, lambda fw, t: t * 3, randn(3))
    assert not np.allclose(grads[0], ref[0])
    with pytest.raises(AssertionError):
        assert_same(lambda fw, t: t * 2 if fw is pdf else t * 3, randn(3))
