"""Optimizer: parameter groups, per-parameter state, zero_grad and state dicts (torch.optim's)."""
import inspect

import numpy as np

from .. import backend
from ..backend import engine as _engine
from ..cuda import device_of, to_device
from ..tensor import Tensor


class Optimizer:
    """Base class of the optimizers.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The tensors to optimise, or parameter groups: dicts with a ``"params"`` list and any
        per-group options (``[{"params": a}, {"params": b, "lr": 1e-3}]``); options missing
        from a group take the optimizer's defaults.
    defaults : dict
        Option name -> default value.

    Subclasses implement ``_init_state(param, state, group)`` (the state of a parameter at its
    first step: Tensors aliasing the arrays the updates write, as torch's ``state[p]``), and
    two updates with one meaning: ``_update(param, grad, state, group)``, the NumPy/CuPy
    reference for one parameter, and ``_fused_update(kernel, group, batch)``, one call of the
    compiled kernel named by ``_fused_kernel_name`` for every parameter of a group and dtype
    (torch's ``fused=True``). ``step`` takes the fused path on numpy float32/float64 arrays
    when the compiled kernels are in use, unless the group says ``fused=False`` or names a
    ``foreach`` choice; the rest (cupy arrays, float16, a parameter whose array is a strided
    view, which only numpy's in-place ufuncs update through) takes the reference. Either way
    the parameter keeps its array, dtype and device.
    """

    _fused_kernel_name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A subclass that changes the reference update but not the fused one (pydynet's SGD)
        # would be bypassed by the kernel without a word: it keeps to its own update.
        if "_update" in vars(cls) and not {"_fused_update", "_fused_kernel_name"} & set(vars(cls)):
            cls._fused_kernel_name = None

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        # Keyed by the parameter itself, as in torch: Tensors hash by identity, and two live
        # objects never share a hash, so the overloaded ``==`` is never consulted.
        self.state = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or "
                            f"dicts, got a single Tensor (wrap it in a list)")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict with ``"params"`` and options; unset options take the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}.add_param_group: expected a dict with a "
                            f"'params' entry, got {group!r}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimise Tensors, got "
                                f"{type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: can only optimise floating-point "
                                f"Tensors, got dtype {p.dtype}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: a parameter appears in more than one "
                             f"place in the parameter groups")
        full = dict(self.defaults)
        full.update(group)
        full["params"] = params
        self._check_option_types(full)
        self._check_options(full)
        self.param_groups.append(full)

    def _check_option_types(self, group):
        """A non-number where the default is a number, and a NaN option (which torch accepts,
        to fill the parameters with NaN at the first step), are refused, naming the option."""
        name = type(self).__name__
        # numeric options: lr, and those whose default in the constructor is a number
        numeric = {"lr"} | {k for k, p in inspect.signature(type(self).__init__).parameters.items()
                            if isinstance(p.default, (int, float))
                            and not isinstance(p.default, bool)}
        for key in numeric & set(group):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"{name}: option {key} must be a number, got {value!r}")
            if np.isnan(value):
                raise ValueError(f"{name}: option {key} is NaN")

    def _check_options(self, group):
        """Raise ValueError for options out of range; subclasses extend."""
        for key in ("fused", "foreach"):
            if group.get(key) is not None and not isinstance(group[key], bool):
                raise TypeError(f"{type(self).__name__}: option {key} must be None, True or "
                                f"False, got {group[key]!r}")
        if group.get("fused") and group.get("foreach"):
            raise RuntimeError(f"{type(self).__name__}: `fused` and `foreach` cannot be `True` "
                               f"together")
        if group["lr"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']} "
                             f"(expected >= 0)")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid weight_decay "
                             f"{group['weight_decay']} (expected >= 0)")

    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (default, frees memory) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data[...] = 0
                    _engine.note_inplace(p.grad)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            from ..autograd import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            kernel = self._fused_kernel(group)
            batches = {}  # dtype -> [(param, grad, state)] for one fused call each
            for p in group["params"]:
                if p.grad is None:
                    continue
                param, grad = p.data, p.grad.data
                if grad.dtype != param.dtype:
                    grad = grad.astype(param.dtype)
                state = self.state.setdefault(p, {})
                if not state:
                    self._init_state(param, state, group)
                if "step" in state:
                    state["step"] += 1
                if kernel is not None and _fusable(param, state):
                    if not grad.flags.c_contiguous:  # (ascontiguousarray would make 0-d 1-d)
                        grad = np.array(grad, order="C")
                    batches.setdefault(param.dtype, []).append((param, grad, state))
                else:
                    self._update(param, -grad if group.get("maximize") else grad, state, group)
                _engine.note_inplace(p)  # a graph that saved p's old value must not backward
            for batch in batches.values():
                self._fused_update(kernel, group, batch)
        return loss

    def _fused_kernel(self, group):
        """The compiled kernel for this group's fused step, or None for the reference path."""
        if self._fused_kernel_name is None or group.get("fused") is False or (
                group.get("fused") is None and group.get("foreach") is not None):
            return None
        native = backend.native_module()
        return None if native is None else getattr(native, self._fused_kernel_name)

    def _init_state(self, param, state, group):
        """Fill the empty ``state`` of ``param`` before its first step (none by default)."""

    def _update(self, param, grad, state, group):
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    def _fused_update(self, kernel, group, batch):
        raise NotImplementedError(f"{type(self).__name__} has no fused update")

    # ------------------------------------------------------------ state dict
    def state_dict(self):
        """``{"state": {index: {name: Tensor or number}}, "param_groups": [options + "params":
        [index, ...]]}`` with parameters numbered in group order (torch's layout). The Tensors
        are the live state, as torch's; ``pydyfast.save`` copies them."""
        index, groups = 0, []
        state = {}
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                if self.state.get(p):
                    state[index] = dict(self.state[p])
                packed["params"].append(index)
                index += 1
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore options and state saved by ``state_dict`` for the same parameter layout.

        State arrays are copied onto each parameter's device and floating dtype. Everything is
        checked before anything changes (torch would fail later, inside ``step``): the layout,
        each state array's shape against its parameter, and each option's type against the
        optimizer's; a ValueError names the parameter or group and the entry.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict) \
                or not isinstance(state_dict.get("param_groups"), (list, tuple)):
            raise TypeError(f"{name}.load_state_dict: expected a dict with a 'state' dict and "
                            f"a 'param_groups' list, got {type(state_dict).__name__}")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(groups)} "
                             f"parameter groups, the optimizer has {len(self.param_groups)}")
        if not all(isinstance(g, dict) and isinstance(g.get("params"), (list, tuple))
                   for g in groups):
            raise ValueError(f"{name}.load_state_dict: every parameter group must be a dict "
                             f"with a 'params' list")
        sizes = [(len(g["params"]), len(own["params"])) for g, own in zip(groups,
                                                                          self.param_groups)]
        if any(a != b for a, b in sizes):
            raise ValueError(f"{name}.load_state_dict: group sizes {[a for a, _ in sizes]} in "
                             f"the state dict differ from the optimizer's "
                             f"{[b for _, b in sizes]}")
        saved_state = {_index(name, k): v for k, v in state_dict["state"].items()}
        state, options = {}, []
        for number, (saved, own) in enumerate(zip(groups, self.param_groups)):
            for idx, p in zip(saved["params"], own["params"]):
                entry = saved_state.pop(_index(name, idx), None)
                if entry is None:
                    continue
                if not isinstance(entry, dict):
                    raise TypeError(f"{name}.load_state_dict: state of parameter {idx} must be "
                                    f"a dict, got {type(entry).__name__}")
                state[p] = {k: _to_param(f"{name}.load_state_dict: state '{k}' of parameter "
                                         f"{idx}", v, p, k == "step") for k, v in entry.items()}
            options.append({k: _as_option(f"{name}.load_state_dict: option '{k}' of group "
                                          f"{number}", v, own.get(k),
                                          optional_flag=k in ("fused", "foreach"))
                            for k, v in saved.items() if k != "params"})
        if saved_state:
            raise ValueError(f"{name}.load_state_dict: state for parameters "
                             f"{sorted(saved_state)} that no group lists")
        self.state = state
        for own, loaded in zip(self.param_groups, options):
            own.update(loaded)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _index(name, key):
    """A parameter number of a state dict (an int, or its string after a JSON round trip)."""
    try:
        return int(key)
    except (TypeError, ValueError):
        raise ValueError(f"{name}.load_state_dict: parameter number {key!r} is not an "
                         f"integer") from None


def _to_param(where, value, param, is_step=False):
    """A saved state entry as a Tensor on ``param``'s device, floating arrays in its dtype; an
    array must be a number (0-d) or of the parameter's shape. The step count becomes an int
    (torch saves it as a float tensor)."""
    if isinstance(value, Tensor):
        value = value.data
    if is_step:
        return _step_count(where, value)
    if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
        if value.dtype.kind not in "biufc":
            raise ValueError(f"{where}: dtype {value.dtype} is not numeric")
        if value.ndim and tuple(value.shape) != tuple(param.shape):
            raise ValueError(f"{where}: shape {tuple(value.shape)} does not match the "
                             f"parameter's {tuple(param.shape)}")
        if value.ndim == 0 and value.dtype.kind in "iu":
            return int(value)
        dtype = param.dtype if value.dtype.kind == "f" else value.dtype
        return Tensor._wrap(to_device(np.asarray(value.get() if hasattr(value, "get") else value,
                                                 dtype=dtype).copy(), device_of(param.data)))
    if value is not None and not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{where}: expected an array or a number, got {type(value).__name__}")
    return value


def _step_count(where, value):
    """A saved step count (an int, a float, or a 0-d array of either) as a non-negative int."""
    if hasattr(value, "__cuda_array_interface__"):
        value = value.get()
    try:
        number = float(np.asarray(value).reshape(()))
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected a step count, got {value!r}") from None
    if not number.is_integer() or number < 0:
        raise ValueError(f"{where}: expected a non-negative whole step count, got {value!r}")
    return int(number)


def _fusable(param, state):
    """Whether the compiled kernels can update ``param`` and ``state`` in place: numpy
    float32/float64, C-contiguous (a strided view is left to numpy's in-place ufuncs) and every
    state array of the parameter's dtype and layout."""
    if type(param) is not np.ndarray or param.dtype not in _FUSED_DTYPES \
            or not param.flags.c_contiguous or not param.flags.writeable:
        return False
    for value in state.values():
        if isinstance(value, Tensor):
            array = value.data
            if type(array) is not np.ndarray or array.dtype != param.dtype \
                    or not array.flags.c_contiguous or not array.flags.writeable:
                return False
    return True


_FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _as_option(where, value, current, optional_flag=False):
    """An option from a state dict, of the same kind as the optimizer's ``current`` value.
    Options come back from save/load as lists; betas and friends are tuples. An optional flag
    (fused, foreach) is None, True or False whatever the current value, and, as in torch, the
    saved one replaces it."""
    if isinstance(value, list):
        value = tuple(value)
    if optional_flag:
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{where}: got {value!r}, expected None, True or False")
        return value
    if current is None:
        return value
    if isinstance(current, bool) or isinstance(value, bool):
        ok = isinstance(value, bool) and isinstance(current, bool)
    elif isinstance(current, (int, float)):
        ok = isinstance(value, (int, float))
    elif isinstance(current, tuple):
        ok = isinstance(value, tuple) and len(value) == len(current)
    else:
        ok = True  # an option of a kind we do not know (a str mode, a callable): torch's way
    if not ok:
        raise ValueError(f"{where}: got {value!r}, expected a value like {current!r}")
    return value
