"""Testing helpers for users and for pydyfast's own tests: gradcheck and assert_close."""
import numpy as np

from .autograd import no_grad
from .tensor import Tensor


def assert_close(actual, expected, rtol=None, atol=None, msg=""):
    """Assert two tensors/arrays agree, with tolerances that follow the dtype (float32:
    rtol 1e-5, atol 1e-6; float64: 1e-10, 1e-12), and that dtype and shape agree too."""
    a = actual.numpy() if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected.numpy() if isinstance(expected, Tensor) else np.asarray(expected)
    if hasattr(expected, "detach") and not isinstance(expected, Tensor):  # a torch tensor
        e = expected.detach().cpu().numpy()
    if a.shape != e.shape:
        raise AssertionError(f"{msg} shape {a.shape} != expected {e.shape}")
    single = np.float32 in (a.dtype.type, e.dtype.type)
    rtol = rtol if rtol is not None else (1e-5 if single else 1e-10)
    atol = atol if atol is not None else (1e-6 if single else 1e-12)
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=msg)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare the gradients of ``fn`` from backward with central finite differences.

    fn: maps the Tensors ``inputs`` to a Tensor. Inputs that require grad must be float64.
    The check differentiates ``sum(fn(*inputs) * w)`` for a fixed random ``w``, so every
    output element is tested. Returns True, or raises AssertionError naming the input and the
    element that disagree (False with ``raise_exception=False``).
    """
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {t.dtype}; finite differences need "
                            f"float64")
    out = fn(*inputs)
    w = np.random.default_rng(0).standard_normal(out.shape)
    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None
    (out * Tensor(w, dtype=out.dtype)).sum().backward()
    for i, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        analytic = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        numeric = np.zeros(t.shape)
        flat = t.data.reshape(-1)
        with no_grad():
            for k in range(flat.size):
                old = flat[k]
                flat[k] = old + eps
                plus = float((fn(*inputs).numpy() * w).sum())
                flat[k] = old - eps
                minus = float((fn(*inputs).numpy() * w).sum())
                flat[k] = old
                numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            k = int(np.argmax(np.abs(analytic - numeric)))
            detail = (f"gradcheck: input {i} (shape {t.shape}): analytic and numerical "
                      f"gradients differ; worst element {np.unravel_index(k, t.shape)}: "
                      f"analytic {analytic.reshape(-1)[k]:.6g}, numeric "
                      f"{numeric.reshape(-1)[k]:.6g}")
            if raise_exception:
                raise AssertionError(detail)
            return False
    return True
