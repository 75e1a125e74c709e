"""Module: the base class of layers, with PyTorch's registration, traversal and state dict."""
from collections import OrderedDict, namedtuple

import numpy as np

from ... import dtypes
from ...backend import engine as _engine
from ...cuda import Device
from ...tensor import Tensor
from ..parameter import Parameter
from . import hooks

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _check_name(kind, name):
    """Names become state-dict key parts, so they must be non-empty and free of dots."""
    if not isinstance(name, str) or not name or "." in name:
        raise KeyError(f"{kind}: name must be a non-empty string without '.', got {name!r}")


class Module:
    """Base class of every layer and model.

    Assigning a Parameter, a Module or (through ``register_buffer``) a buffer Tensor to an
    attribute registers it, so ``parameters()``, ``state_dict()``, ``to()`` and ``train()`` see
    it. Subclasses call ``super().__init__()`` first and define ``forward``.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        for table in ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks",
                      "_backward_hooks"):
            object.__setattr__(self, table, hooks.new_table())

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes")
        if value is None:
            # Keep a registered slot registered (torch's ``self.bias = None``).
            for table in (self._parameters, self._buffers, self._modules):
                if name in table:
                    table[name] = None
                    return
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self.__dict__.get("_buffer_names", ()) and isinstance(value, Tensor):
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent optional one) as ``name``."""
        _check_name("register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name} must be a Parameter or None, got "
                            f"{type(param).__name__}")
        if param is None:
            self._parameters[name] = None
            self.__dict__.pop(name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Register a Tensor that is state but not a parameter (BatchNorm's running_mean).

        Persistent buffers are in ``state_dict``; non-persistent ones only move with ``to``.
        """
        _check_name("register_buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name} must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        self.__dict__.setdefault("_buffer_names", set()).add(name)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        _check_name("add_module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name} must be a Module, got {type(module).__name__}")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` ('' is self): ``get_submodule('0.conv')``."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                if not hasattr(module, part):
                    raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
                raise AttributeError(f"`{part}` is not an nn.Module")
            module = child
        return module

    def _get_member(self, target, table, kind):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        member = getattr(module, table).get(name)
        if member is not None:
            return member
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        raise AttributeError(f"`{name}` is not {kind}")

    def get_parameter(self, target):
        """The parameter at the dotted path ``target`` (a state-dict key: '0.weight')."""
        return self._get_member(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` ('bn.running_mean')."""
        return self._get_member(target, "_buffers", "a buffer")

    # ----------------------------------------------------------------- hooks
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Run ``hook(module, args)`` before each forward; a non-None result replaces ``args``
        (a single value is wrapped in a tuple). With ``with_kwargs``:
        ``hook(module, args, kwargs) -> None or (args, kwargs)``. Returns a handle
        (``handle.remove()``)."""
        return hooks.add_hook(self._forward_pre_hooks, hook, "register_forward_pre_hook",
                              prepend, with_kwargs=with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Run ``hook(module, args, output)`` after each forward (``hook(module, args, kwargs,
        output)`` with ``with_kwargs``); a non-None result replaces the output."""
        return hooks.add_hook(self._forward_hooks, hook, "register_forward_hook", prepend,
                              with_kwargs=with_kwargs)

    def register_full_backward_hook(self, hook, prepend=False):
        """Run ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        positional inputs have been computed; a non-None result (a tuple like ``grad_input``)
        replaces them. Entries are Tensors, or None for non-Tensor arguments."""
        return hooks.add_hook(self._backward_hooks, hook, "register_full_backward_hook",
                              prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Run ``hook(module, grad_output)`` when the gradients of the module's outputs have
        been computed; a non-None result (a tuple like ``grad_output``) replaces them."""
        return hooks.add_hook(self._backward_pre_hooks, hook,
                              "register_full_backward_pre_hook", prepend)

    # --------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks):
            return hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------- traversal
    def named_modules(self, prefix=""):
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()
                        if c is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for k, m in self._modules.items():
            if m is not None:
                yield k, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, table, prefix="", recurse=True):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, m in modules:
            for k, v in getattr(m, table).items():
                if v is None or id(v) in seen:
                    continue
                seen.add(id(v))
                yield (f"{mod_name}.{k}" if mod_name else k), v

    def named_parameters(self, prefix="", recurse=True):
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and on self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- modes
    def train(self, mode=True):
        """Set training mode (Dropout, BatchNorm). Never touches grad mode."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # --------------------------------------------------------------- devices
    def _apply_to_tensors(self, fn):
        for m in self.modules():
            for table in (m._parameters, m._buffers):
                for k, t in table.items():
                    if t is not None:
                        t.data = fn(t.data)
                        if t.grad is not None:
                            t.grad.data = fn(t.grad.data)
        return self

    def to(self, *args, device=None, dtype=None):
        """Move parameters and buffers to a device and/or floating dtype, in place:
        ``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(tensor)`` (its device and
        dtype). The dtype applies to floating parameters and buffers only, as in torch."""
        from ...cuda import to_device
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (Device, int)) or (isinstance(a, str) and
                                                  a.split(":")[0] in ("cpu", "cuda")):
                device = a
            else:
                dtype = a
        if dtype is not None and np.dtype(dtypes.resolve(dtype)).kind not in "fc":
            raise TypeError(f"Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={np.dtype(dtypes.resolve(dtype))}")
        if device is not None:
            target = Device(device)
            self._apply_to_tensors(lambda a: to_device(a, target))
        if dtype is not None:
            dt = np.dtype(dtypes.resolve(dtype))
            self._apply_to_tensors(lambda a: a.astype(dt) if a.dtype.kind == "f" else a)
        return self

    def cuda(self, device=None):
        return self.to(Device("cuda", 0 if device is None else device))

    def cpu(self):
        return self.to("cpu")

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    def half(self):
        return self.to(dtype=np.float16)

    # ------------------------------------------------------------ state dict
    def state_dict(self, prefix=""):
        """An ordered dict of parameter and persistent buffer name -> Tensor (PyTorch's keys)."""
        out = OrderedDict()
        for mod_name, m in self.named_modules(prefix.rstrip(".")):
            base = f"{mod_name}." if mod_name else ""
            for k, p in m._parameters.items():
                if p is not None:
                    out[base + k] = p
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent:
                    out[base + k] = b
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays or Tensors into the parameters and buffers with the same names.

        With ``strict`` a missing or unexpected key is an error; a shape mismatch always is.
        Nothing is copied when there is an error. Values may be Tensors, numpy arrays or
        anything ``numpy.asarray`` accepts (CPU torch tensors included).
        Returns ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        for k, t in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v.numpy() if isinstance(v, Tensor) else np.asarray(v)
            if tuple(arr.shape) != t.shape:
                problems.append(f"{k}: checkpoint shape {tuple(arr.shape)} != model shape "
                                f"{t.shape}")
        if strict and (missing or unexpected):
            problems.insert(0, f"missing keys {missing}, unexpected keys {unexpected}")
        if problems:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}: " +
                               "; ".join(problems))
        from ...cuda import to_device
        for k, t in own.items():
            if k in state_dict:
                v = state_dict[k]
                arr = v.numpy() if isinstance(v, Tensor) else np.asarray(v)
                t.data[...] = to_device(np.asarray(arr, dtype=t.dtype), t.device)
                _engine.note_inplace(t)  # in place, as torch: graphs that saved t see it
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for k, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({k}): {sub}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"{extra}" if extra else "")
        return head + "\n" + "\n".join(lines) + "\n)"
