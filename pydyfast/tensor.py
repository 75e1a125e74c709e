"""Tensor: a thin handle on a numpy (CPU) or cupy (CUDA) array that autograd can track."""
import numpy as np

from . import dtypes
from .backend import engine as _engine
from .cuda import CPU, Device, device_of


class _Size(int):
    """``t.size`` is the element count (numpy/PyDyNet); ``t.size(dim)`` works as in PyTorch."""


    def __new__(cls, shape):
        obj = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        obj._shape = shape
        return obj

    def __call__(self, dim=None):
        return self._shape if dim is None else self._shape[dim]


class NonScalarBackwardError(RuntimeError, ValueError):
    """``backward()`` without ``grad`` on a tensor of more than one element: a RuntimeError as in
    PyTorch and a ValueError as in PyDyNet, so handlers written for either catch it."""


class Tensor:
    """A multi-dimensional array with automatic differentiation.

    Parameters
    ----------
    data : array_like, Tensor, numpy or cupy array
        Copied, as ``torch.tensor`` does (``pydyfast.from_numpy`` shares memory instead).
    dtype : numpy dtype or name, optional
        Python floats default to ``get_default_dtype()`` (float32), as in PyTorch. Integer or
        boolean data with ``requires_grad=True`` and no dtype becomes the default float dtype.
    device : 'cpu', 'cuda', 'cuda:N', Device or int, optional
    requires_grad : bool
        Record operations on this tensor so that ``backward`` computes ``.grad`` for it.
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "_output_nr", "_version_counter",
                 "_base", "_retains_grad", "__weakref__")
    # numpy hands its ufuncs on Tensors to ``__array_ufunc__`` (tensor_methods.py).
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        _engine.init_tensor(self, dtypes.as_array(data, dtype, requires_grad, device),
                            bool(requires_grad), None, 0)

    # ----------------------------------------------------------------- metadata
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return _Size(self.data.shape)

    def numel(self):
        return int(self.data.size)

    @property
    def _version(self):
        """How many times this tensor's memory was written in place (torch's ``_version``)."""
        return self._version_counter[0]

    @_version.setter
    def _version(self, value):
        self._version_counter[0] = value

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def device(self):
        return device_of(self.data)

    @property
    def is_cuda(self):
        return type(self.data) is not np.ndarray

    @property
    def T(self):
        return self.permute(*range(self.ndim - 1, -1, -1))

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    __hash__ = object.__hash__

    # --------------------------------------------------------- conversion
    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a "
                             f"Python scalar, got shape {self.shape}")
        return self.data.item()

    def numpy(self):
        """The data as a numpy array (a copy from the GPU; the array itself on the CPU)."""
        return self.data if type(self.data) is np.ndarray else self.data.get()

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        data = self.numpy()
        if copy:
            data = data.copy()
        return data if dtype is None else data.astype(dtype, copy=False)

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is "
                               f"ambiguous; use .any() or .all()")
        return bool(self.item())

    def to(self, *args, dtype=None, device=None):
        """``to(device)``, ``to(dtype)`` or both; returns ``self`` when nothing changes.

        A dtype change is differentiable (gradients flow back in the source dtype)."""
        for a in args:
            if isinstance(a, (str, Device, int)) and not _is_dtype_like(a):
                device = a
            else:
                dtype = a
        out = self
        if device is not None:
            device = Device(device)
            if device != self.device:
                out = _ops().to_device(out, device)
        if dtype is not None and np.dtype(dtypes.resolve(dtype)) != out.dtype:
            out = _ops().astype(out, dtypes.resolve(dtype))
        return out

    def cpu(self):
        return self.to(CPU)

    def cuda(self, device=None):
        return self.to(Device("cuda", 0 if device is None else device))

    def astype(self, dtype):
        return self.to(dtype=dtype)

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    def long(self):
        return self.to(dtype=np.int64)

    def int(self):
        return self.to(dtype=np.int32)

    def bool(self):
        return self.to(dtype=np.bool_)

    def detach(self):
        """A tensor on the same data that is cut out of the graph (no grad). It shares the
        version counter, as in torch, so writing into it is seen by the graph's checks."""
        out = Tensor._wrap(self.data)
        out._version_counter = self._version_counter
        return out

    def copy(self):
        return self.clone()

    @classmethod
    def _wrap(cls, data, requires_grad=False):
        """Wrap an array without copying or checking (library-internal)."""
        t = cls.__new__(cls)
        _engine.init_tensor(t, data, requires_grad, None, 0)
        return t

    # ------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind not in "fc":
            raise TypeError(f"requires_grad_(): only floating-point tensors can require "
                            f"gradients, got dtype {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False): this tensor is the output of a recorded "
                               "operation; use detach() to cut it out of the graph")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor in the next backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): the tensor does not require grad")
        if self.grad_fn is not None and not self._retains_grad:
            _engine.retain_grad(self)
            self._retains_grad = True
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` each time the gradient of this tensor is computed in backward.

        The hook may return a Tensor of the same shape and dtype that replaces the gradient
        (for a leaf, before it is accumulated into ``.grad``). Returns a handle with ``remove()``.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook(): cannot register a hook on a tensor that does "
                               "not require grad")
        return _engine.register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after backward has accumulated this leaf's gradient into ``.grad``.

        Returns a handle with ``remove()``. Only leaf tensors that require grad accept one.
        """
        if not self.requires_grad or self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook(): only leaf tensors that "
                               "require grad accept a post-accumulate-grad hook")
        return _engine.register_post_accumulate_grad_hook(self, hook)

    def zero_grad(self):
        """Reset ``.grad`` to None (PyDyNet's Tensor.zero_grad)."""
        self.grad = None

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``grad`` is the gradient of some scalar with respect to ``self``; it may be omitted
        only when ``self`` has one element. The graph is freed afterwards unless
        ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): the tensor does not require grad and has no "
                               "grad_fn (did you create it under no_grad, or forget "
                               "requires_grad=True on the leaves?)")
        if grad is None:
            if self.data.size != 1:
                raise NonScalarBackwardError(f"backward(): grad can be implicitly created only for "
                                   f"scalar outputs; this tensor has shape {self.shape}, so "
                                   f"pass grad= of that shape")
            grad = _ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else dtypes.as_array(
                grad, self.dtype, False, self.device)
            if grad.shape != self.shape:
                raise RuntimeError(f"backward(): grad has shape {grad.shape} but the tensor "
                                   f"has shape {self.shape}")
            if type(grad) is not type(self.data):
                raise RuntimeError(f"backward(): grad is on {device_of(grad)} but the tensor "
                                   f"is on {self.device}")
        _engine.backward(self, grad, retain_graph)

    # --------------------------------------------------------------- repr
    def __repr__(self):
        data = self.numpy()
        body = np.array2string(data, separator=", ", prefix="tensor(", precision=4,
                               threshold=200, edgeitems=3)
        extras = []
        if self.device != CPU:
            extras.append(f"device='{self.device}'")
        if data.dtype not in (np.dtype(dtypes.get_default_dtype()), np.dtype(np.int64),
                              np.dtype(np.bool_)) or data.size == 0:
            extras.append(f"dtype={data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.function.__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__


def _ones_like(a):
    out = a.__class__(a.shape, a.dtype)  # works for numpy and cupy alike
    out.fill(1)
    return out


def _is_dtype_like(a):
    if isinstance(a, str):
        return a.strip().lower().split(":")[0] not in ("cpu", "cuda")
    return False


def _ops():
    from .ops import shape
    return shape


_engine.bind_tensor_class(Tensor)
from . import tensor_methods  # noqa: E402,F401  (attaches the operator methods)
