"""Optimizer: parameter groups, per-parameter state, zero_grad and state dicts (torch.optim's)."""
import numpy as np

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

    Subclasses implement ``_update(p, grad, state, group)`` for one parameter with a gradient;
    ``step`` loops over the groups. Updates are vectorised numpy/cupy expressions written in
    place on ``p.data``, so the parameter keeps its array, dtype and device.
    """

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
        self._check_options(full)
        self.param_groups.append(full)

    def _check_options(self, group):
        """Raise ValueError for options out of range; subclasses extend."""
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
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if grad.dtype != p.data.dtype:
                    grad = grad.astype(p.data.dtype)
                if group.get("maximize", False):
                    grad = -grad
                state = self.state.setdefault(p, {})
                self._update(p.data, grad, state, group)
                _engine.note_inplace(p)  # a graph that saved p's old value must not backward
        return loss

    def _update(self, param, grad, state, group):
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # ------------------------------------------------------------ state dict
    def state_dict(self):
        """``{"state": {index: {name: array or number}}, "param_groups": [options + "params":
        [index, ...]]}`` with parameters numbered in group order (torch's layout). The arrays
        are the live state; ``pydyfast.save`` copies them."""
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

        State arrays are copied onto each parameter's device and floating dtype.
        """
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(groups)} "
                             f"parameter groups, the optimizer has {len(self.param_groups)}")
        sizes = [(len(g["params"]), len(own["params"])) for g, own in zip(groups,
                                                                          self.param_groups)]
        if any(a != b for a, b in sizes):
            raise ValueError(f"{name}.load_state_dict: group sizes {[a for a, _ in sizes]} in "
                             f"the state dict differ from the optimizer's "
                             f"{[b for _, b in sizes]}")
        saved_state = {int(k): v for k, v in state_dict["state"].items()}
        self.state = {}
        for saved, own in zip(groups, self.param_groups):
            for idx, p in zip(saved["params"], own["params"]):
                if int(idx) in saved_state:
                    self.state[p] = {k: _to_param(v, p) for k, v in
                                         saved_state[int(idx)].items()}
            own.update({k: _as_option(v) for k, v in saved.items() if k != "params"})

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _to_param(value, param):
    """A saved state entry moved to ``param``'s device, floating arrays in its dtype."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
        if value.ndim == 0 and value.dtype.kind in "iu":
            return int(value)
        dtype = param.dtype if value.dtype.kind == "f" else value.dtype
        return to_device(np.asarray(value.get() if hasattr(value, "get") else value,
                                    dtype=dtype).copy(), device_of(param.data))
    return value


def _as_option(value):
    """Options come back from save/load as lists; betas and friends are tuples."""
    return tuple(value) if isinstance(value, list) else value
