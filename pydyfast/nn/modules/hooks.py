"""Module hooks as in torch: forward pre-hooks, forward hooks, full backward (pre-)hooks.

``Module.__call__`` comes here only when a module has hooks, so a module without them pays one
truth test per call. Full backward hooks put two identity Functions around ``forward``: one on
the Tensor positional inputs and one on the Tensor outputs. Backward reaches the output identity
first (the backward pre-hooks run there and may replace ``grad_output``) and the input identity
last, once every gradient of the inputs is summed; that is where ``hook(module, grad_input,
grad_output)`` runs and may replace ``grad_input``. The handles are the engine's
(``handle.remove()``, or ``with handle:``).
"""
import itertools

from ...backend import array_module, engine as _engine
from ...ops.passthrough import Passthrough
from ...tensor import Tensor

_keys = itertools.count(1)


def add_hook(table, hook, op, prepend=False, **options):
    """Store ``(hook, options)`` in ``table`` (first when ``prepend``); returns its handle."""
    if not callable(hook):
        raise TypeError(f"{op}: expected a callable hook, got {type(hook).__name__}")
    key = next(_keys)
    table[key] = (hook, options)
    if prepend:
        rest = [(k, v) for k, v in table.items() if k != key]
        table.clear()
        table[key] = (hook, options)
        table.update(rest)
    return _engine.RemovableHandle(table, key)


def new_table():
    """An empty, ordered hook table that handles can refer to weakly."""
    return _engine._HookTable()


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with its pre-hooks, forward hooks and backward hooks."""
    for hook, options in list(module._forward_pre_hooks.values()):
        if options["with_kwargs"]:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"forward pre-hook {hook!r} with_kwargs=True must return "
                                       f"None or a tuple (args, kwargs), got {result!r}")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    backward = None
    if (module._backward_hooks or module._backward_pre_hooks) and _engine.is_grad_enabled():
        backward = _BackwardHooks(module)
        args = backward.wrap_inputs(args)
    output = module.forward(*args, **kwargs)
    for hook, options in list(module._forward_hooks.values()):
        if options["with_kwargs"]:
            result = hook(module, args, kwargs, output)
        else:
            result = hook(module, args, output)
        if result is not None:
            output = result
    if backward is not None:
        output = backward.wrap_outputs(output)
    return output


def _float_tensor_positions(values):
    return [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.dtype.kind == "f"]


class _BackwardHooks:
    """One forward call's backward-hook state: which inputs and outputs are tracked and the
    gradient of the outputs, kept until backward reaches the inputs."""

    def __init__(self, module):
        self.module = module
        self.n_inputs = 0
        self.input_positions = []
        self.grad_output = None

    def wrap_inputs(self, args):
        self.n_inputs = len(args)
        positions = [i for i in _float_tensor_positions(args) if args[i].requires_grad]
        if not positions:
            return args  # the hook runs from the output side with grad_input all None
        # torch reports zeros for the Tensor inputs that do not require grad
        self.constant_inputs = [(i, args[i]) for i in _float_tensor_positions(args)
                                if i not in positions]
        self.input_positions = positions
        wrapped = list(args)
        tracked = Passthrough.apply(*[args[i] for i in positions],
                                    on_backward=self.received_input_grads)
        for i, t in zip(positions, tracked):
            wrapped[i] = t
        return tuple(wrapped)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        values = (output,) if single else output
        if not isinstance(values, tuple):
            return output  # torch hooks only a Tensor or a tuple of Tensors
        positions = [i for i in _float_tensor_positions(values) if values[i].requires_grad]
        if not positions:
            return output
        self.output_positions, self.n_outputs = positions, len(values)
        wrapped = list(values)
        tracked = Passthrough.apply(*[values[i] for i in positions],
                                    on_backward=self.received_output_grads)
        for i, t in zip(positions, tracked):
            wrapped[i] = t
        return wrapped[0] if single else tuple(wrapped)

    def received_output_grads(self, grads):
        """Run the backward pre-hooks on ``grad_output``; returns the arrays to pass on."""
        self.grad_output = _chain(self.module, self.module._backward_pre_hooks, "grad_output",
                                  _spread(grads, self.output_positions, self.n_outputs),
                                  lambda grad_output: (grad_output,))
        if not self.input_positions:
            self.run((None,) * self.n_inputs)
        return _arrays(self.module, self.grad_output, self.output_positions)

    def received_input_grads(self, grads):
        """Run the backward hooks on ``grad_input`` (zeros for Tensor inputs that do not
        require grad, as torch); returns the arrays to pass on."""
        grad_input = list(_spread(grads, self.input_positions, self.n_inputs))
        for i, t in self.constant_inputs:
            grad_input[i] = Tensor._wrap(array_module(t.data).zeros_like(t.data))
        return _arrays(self.module, self.run(tuple(grad_input)), self.input_positions)

    def run(self, grad_input):
        """Call every backward hook; each may return a replacement for ``grad_input``."""
        return _chain(self.module, self.module._backward_hooks, "grad_input", grad_input,
                      lambda grad_input: (grad_input, self.grad_output))


def _chain(module, table, what, grads, hook_args):
    """Call each hook of ``table`` as ``hook(module, *hook_args(grads))``; a non-None result
    (a tuple as long as ``grads``) replaces ``grads`` for the next hook. Returns the last."""
    for hook, _ in list(table.values()):
        result = hook(module, *hook_args(grads))
        if result is None:
            continue
        result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if len(result) != len(grads):
            raise RuntimeError(f"backward hook {hook!r} of {type(module).__name__} returned "
                               f"{len(result)} gradients for {what}, expected {len(grads)}")
        grads = result
    return grads


def _arrays(module, grads, positions):
    """The arrays of the Tensors (or None) at ``positions`` of a hook-returned tuple."""
    out = []
    for i in positions:
        g = grads[i]
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"backward hook of {type(module).__name__}: gradients must be "
                            f"Tensors or None, got {type(g).__name__}")
        out.append(None if g is None else g.data)
    return tuple(out)


def _spread(grads, positions, n):
    """A tuple of n entries: Tensors wrapping ``grads`` at ``positions``, None elsewhere."""
    out = [None] * n
    for i, g in zip(positions, grads):
        out[i] = Tensor._wrap(g)
    return tuple(out)
