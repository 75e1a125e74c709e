"""The autograd engine: grad mode, ``Function.apply`` (records a node) and ``backward``.

This file is plain Python that CMake compiles with Cython into the extension ``pydyfast._engine``;
``pydyfast.backend`` imports that, or this file itself when the extension is missing, so the
engine has one source and no second copy to keep in step.

Ownership runs one way: output Tensor -> Context (the node) -> input Tensors. Dropping the last
output frees the graph by reference counting; there is no global registry of nodes.
"""
import threading
import weakref

import numpy

_mode = threading.local()  # per-thread grad mode; absent attribute means enabled
_Tensor = None  # bound by pydyfast.tensor at import (the engine never imports the Tensor module)
_NO_GRAD_NEEDED = [(), (False,), (False, False), (False, False, False)]
# Bumped by every in-place Tensor operation; nodes created after the last bump skip the
# version check in backward, so the common case costs one integer comparison per node.
_inplace_epoch = [0]


def bind_tensor_class(cls):
    global _Tensor
    _Tensor = cls


def is_grad_enabled():
    """Whether operations on this thread record a graph."""
    return getattr(_mode, "enabled", True)


def set_grad_enabled(enabled):
    _mode.enabled = bool(enabled)


def note_inplace(t=None):
    """Record that ``t`` (or, without it, some tensor) was modified in place: bump its version
    counter, which its views share, and the epoch that tells backward to check versions."""
    if t is not None:
        t._version_counter[0] += 1
    _inplace_epoch[0] += 1


def keep_saved_values(node, array):
    """``array`` is about to be overwritten in place by a recorded write: every reference that
    ``node`` saved for backward becomes a copy of its current values (torch clones the original
    self of an in-place op whose backward needs it)."""
    copy = None
    saved = node.saved_tensors
    if saved and any(s is array for s in saved):
        copy = array.copy()
        node.saved_tensors = tuple([copy if s is array else s for s in saved])
    for name, value in list(node.__dict__.items()):
        if value is array:
            copy = array.copy() if copy is None else copy
            node.__dict__[name] = copy


def mark_view(out, base):
    """If ``out``'s array is a view of ``base``'s memory, make ``out`` a view of ``base`` as
    torch's are: the same version counter (a write through either is seen by every node that
    saved the other) and ``out._base``. A node that produced a view is marked, so backward can
    tell when the view was written through its base after it was made."""
    b = base.data
    if out.data.base is None or out.data.base is not (b if b.base is None else b.base):
        return out
    out._version_counter = base._version_counter
    out._base = base if base._base is None else base._base
    if out.grad_fn is not None:
        out.grad_fn.makes_view = True
    return out


class Context:
    """One recorded operation: what backward needs, and the inputs to send gradients to.

    Forward code stores arrays with ``save_for_backward`` and any other values as attributes
    (``ctx.stride = 2``), as in PyTorch. ``needs_input_grad[i]`` says whether input i needs a
    gradient, so backward can skip work.
    """

    __slots__ = ("__dict__", "function", "inputs", "needs_input_grad", "saved_tensors", "versions",
                 "epoch", "n_outputs", "output_meta", "retained", "hooks")

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


_ndarray = numpy.ndarray
_generic = numpy.generic


def init_tensor(t, data, requires_grad, grad_fn, output_nr):
    """Fill every slot of a new Tensor ``t``: the one place that knows a Tensor's fields
    (``Tensor.__init__``, ``Tensor._wrap`` and the engine's outputs all come through here)."""
    if type(data) is not _ndarray and isinstance(data, _generic):
        data = numpy.asarray(data)
    t.data = data
    t.grad = None
    t.requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._output_nr = output_nr
    t._version_counter = [0]
    t._base = None
    t._retains_grad = False


def _new_tensor(data, requires_grad, grad_fn, output_nr):
    t = _Tensor.__new__(_Tensor)
    init_tensor(t, data, requires_grad, grad_fn, output_nr)
    return t


def apply(cls, *inputs, **params):
    """Run ``cls.forward`` on the inputs' arrays and wrap the result(s) in Tensors.

    All positional arguments must be Tensors (public wrappers convert scalars); keyword
    arguments are passed to forward unchanged. A node is recorded only when grad mode is on
    and some input requires grad; otherwise the context is dropped at once.
    """
    ctx = Context()
    record = False
    if getattr(_mode, "enabled", True):
        needs = tuple([t.requires_grad for t in inputs])
        record = True in needs
        ctx.needs_input_grad = needs
    else:
        n = len(inputs)
        ctx.needs_input_grad = _NO_GRAD_NEEDED[n] if n < 4 else (False,) * n
    n = len(inputs)
    if n == 1:
        out = cls.forward(ctx, inputs[0].data, **params)
    elif n == 2:
        out = cls.forward(ctx, inputs[0].data, inputs[1].data, **params)
    else:
        out = cls.forward(ctx, *[t.data for t in inputs], **params)
    node = ctx if record else None
    if type(out) is tuple:
        results = []
        meta = []
        for i, o in enumerate(out):
            differentiable = record and o.dtype.kind == "f"
            results.append(_new_tensor(o, differentiable, node if differentiable else None, i))
            meta.append((o.shape, o.dtype, numpy if type(o) is numpy.ndarray else None))
        result = tuple(results)
        ctx.n_outputs = len(out)
        ctx.output_meta = meta
    else:
        result = _new_tensor(out, record, node, 0)
        ctx.n_outputs = 1
    if record:
        ctx.function = cls
        ctx.inputs = inputs
        ctx.retained = None
        ctx.hooks = None
        ctx.epoch = _inplace_epoch[0]
        ctx.versions = tuple([t._version_counter[0] for t in inputs])
        if not hasattr(ctx, "saved_tensors"):
            ctx.saved_tensors = ()
        elif ctx.n_outputs == 1:
            for saved in ctx.saved_tensors:
                if saved is out:  # backward reads the output: a later write into it must show
                    ctx.output_version = result._version_counter
                    break
    return result


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        # keepdims + reshape keeps an array even for a 0-d result (numpy would return a scalar)
        grad = grad.sum(axis=tuple(range(extra)), keepdims=True).reshape(grad.shape[extra:])
    stretched = tuple([i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1])
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != tuple(shape):
        raise RuntimeError(f"autograd: gradient of shape {grad.shape} cannot be reduced to the "
                           f"input's shape {tuple(shape)}")
    return grad


def _check_versions(node):
    """Raise if an input or the output whose array backward needs was modified in place after
    the forward."""
    written = node.__dict__.get("output_version")
    if written is not None and written[0] != 0:
        raise RuntimeError(
            f"autograd: the output of {node.function.__name__} was modified in place after it "
            f"was computed; its backward needs that value. Use an out-of-place operation or "
            f"clone() the output before writing into it.")
    saved = list(node.saved_tensors or ()) + list(node.__dict__.values())
    for t, version in zip(node.inputs, node.versions):
        if t._version_counter[0] != version and any(s is t.data for s in saved):
            raise RuntimeError(
                f"autograd: an input of {node.function.__name__} (shape {t.data.shape}) was "
                f"modified in place after it was used; backward needs its old value. Use an "
                f"out-of-place operation (x = x + y) or clone() it first.")


def _source_of(node, i, t):
    """Input ``i`` of ``node`` as the node saw it. An in-place write into a tensor of a graph
    moves the tensor onto a new node (``rebased``: the snapshot tensor that holds its earlier
    history, the version the write produced and the tensor's version counter); a node that used
    the tensor before the write follows that chain back to the snapshot."""
    seen = node.versions[i]
    src = t
    f = t.grad_fn
    counter = t._version_counter
    while f is not None and "rebased" in f.__dict__ and f.rebased[2] is counter \
            and seen < f.rebased[1]:
        src = f.rebased[0]
        f = src.grad_fn
    return src


def _check_view_use(node, t, f):
    """``t`` is a view made by ``f`` before the last in-place write. If its memory was written
    (through its base or another view) between its making and ``node`` using it, its values
    are not what its recorded history computes (torch would rebuild that history from the
    base): raise rather than return a wrong gradient."""
    for i, x in enumerate(node.inputs):
        if x is t and node.versions[i] != f.versions[0]:
            raise RuntimeError(
                f"autograd: a view (shape {t.data.shape}) made by {f.function.__name__} was "
                f"used by {node.function.__name__} after its base was modified in place; "
                f"pydyfast does not rebuild a view's history from its base. Make the view after "
                f"the write, or clone() it before.")


def _zeros_for(meta):
    shape, dtype, xp = meta
    if xp is None:
        import cupy
        xp = cupy
    return xp.zeros(shape, dtype)


def _accumulate_leaf(t, g, handed):
    """Add ``g`` to ``t.grad``. ``handed`` holds the ids of the arrays this backward already
    gave away (and the caller's own gradient): those, and views, are copied before a leaf keeps
    them, since backward may hand one array to several inputs (x + y) and optimisers and
    clip_grad_norm_ modify .grad in place. A fresh array (most gradients) is kept as it is."""
    if g.shape != t.data.shape:
        g = unbroadcast(g, t.data.shape)
    if t.grad is None:
        if g.base is not None or id(g) in handed:
            g = g.copy()
        handed.add(id(g))
        t.grad = _new_tensor(g, False, None, 0)
    else:
        t.grad = _new_tensor(t.grad.data + g, False, None, 0)


def backward(root, grad, retain_graph=False):
    """Propagate ``grad`` (an array shaped like ``root``) to every leaf that requires grad.

    One topological traversal from the root: a node runs once all of its consumers have sent
    their gradients. Saved arrays are released as each node finishes unless ``retain_graph``.
    """
    top = root.grad_fn
    if top is None:
        if root.requires_grad:
            hooked = id(root) in _leaf_hooks
            if hooked:
                grad = _run_leaf_pre_hooks(root, grad)
            _accumulate_leaf(root, grad, {id(grad)})
            if hooked:
                _run_post_accumulate_hooks(root)
        return
    # Pass 1: count, for every node reachable from the root, the edges that will feed it.
    epoch = _inplace_epoch[0]
    sources = {}  # node -> its inputs as they were when it ran, for nodes older than a write
    pending = {top: 0}
    stack = [top]
    while stack:
        node = stack.pop()
        if node.inputs is None:
            raise RuntimeError(
                "autograd: trying to backward through the graph a second time (or directly "
                "access saved tensors after they have already been freed). Saved intermediate "
                "values of the graph are freed when you call .backward(); specify "
                "retain_graph=True the first time if you need to backward twice.")
        inputs = node.inputs
        if node.epoch != epoch:
            inputs = sources[node] = [_source_of(node, i, t) for i, t in enumerate(inputs)]
        for t in inputs:
            f = t.grad_fn
            if f is not None:
                if f.epoch != epoch and "makes_view" in f.__dict__:
                    _check_view_use(node, t, f)
                if f in pending:
                    pending[f] += 1
                else:
                    pending[f] = 1
                    stack.append(f)
    # Hooked leaves wait for all their edges, so that their hooks see the summed gradient once.
    waiting = _count_hooked_leaf_edges(pending) if _leaf_hooks else None
    # Pass 2: run the nodes whose consumers are all done.
    grads = {top: [grad] if top.n_outputs == 1 else
             [grad if i == root._output_nr else None for i in range(top.n_outputs)]}
    ready = [top]
    handed = {id(grad)}  # arrays given to leaves so far; the caller's gradient is not ours
    while ready:
        node = ready.pop()
        inputs = node.inputs if node.epoch == epoch else sources[node]
        outs = grads.pop(node, None)
        in_grads = None
        if outs is not None:
            if node.hooks is not None:
                _run_node_hooks(node, outs)
            if node.n_outputs > 1:
                outs = [g if g is not None else _zeros_for(node.output_meta[i])
                        for i, g in enumerate(outs)]
            if node.retained is not None:
                _fill_retained(node, outs)
            if node.epoch != epoch:
                _check_versions(node)
            in_grads = node.function.backward(node, *outs)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if len(in_grads) != len(inputs):
                raise RuntimeError(f"autograd: {node.function.__name__}.backward returned "
                                   f"{len(in_grads)} gradients for {len(inputs)} inputs")
        if not retain_graph:
            node.saved_tensors = None
            node.inputs = None
            node.__dict__.clear()
        for i, t in enumerate(inputs):
            g = None if in_grads is None else in_grads[i]
            if g is not None:
                if type(g) is not _ndarray and isinstance(g, _generic):
                    g = numpy.asarray(g)
                if g.dtype != t.data.dtype:  # mixed-precision ops: the gradient follows its input
                    g = g.astype(t.data.dtype)
            f = t.grad_fn
            if f is None:
                if waiting is not None and t in waiting:
                    _hooked_leaf_edge(t, g, waiting, handed)
                elif g is not None and t.requires_grad:
                    _accumulate_leaf(t, g, handed)
                continue
            if g is not None:
                if g.shape != t.data.shape:
                    g = unbroadcast(g, t.data.shape)
                slot = grads.get(f)
                if slot is None:
                    slot = [None] * f.n_outputs
                    grads[f] = slot
                k = t._output_nr
                slot[k] = g if slot[k] is None else slot[k] + g
            left = pending[f] - 1
            pending[f] = left
            if left == 0:
                ready.append(f)


def _fill_retained(node, outs):
    for ref, k in node.retained:
        t = ref()
        if t is not None:
            g = outs[k]
            t.grad = _new_tensor(g.copy() if t.grad is None else t.grad.data + g, False, None, 0)


def retain_grad(t):
    """Keep the gradient of the non-leaf ``t`` in ``t.grad`` during backward."""
    node = t.grad_fn
    if node.retained is None:
        node.retained = []
    node.retained.append((weakref.ref(t), t._output_nr))


# ------------------------------------------------------------------------------------- hooks
# Gradient hooks as in torch: ``Tensor.register_hook(fn)`` calls ``fn(grad)`` with the gradient
# of the tensor once it is complete (a returned Tensor replaces it);
# ``register_post_accumulate_grad_hook(fn)`` calls ``fn(leaf)`` after ``leaf.grad`` is updated.
# A non-leaf's hooks live on its node, keyed by output index; a leaf's live in ``_leaf_hooks``
# (the leaf has no node). Without hooks the backward loop pays one ``is not None`` per node and
# per leaf edge, and nothing per recorded op beyond ``ctx.hooks = None``.
# Keyed by id: a WeakKeyDictionary would compare Tensors with their elementwise ``__eq__``.
# id(leaf) -> (pre hooks, post hooks, weak reference whose callback drops the entry)
_leaf_hooks = {}
_hook_keys = [0]


class RemovableHandle:
    """Returned by the hook registrations; ``remove()`` unregisters the hook (idempotent)."""

    __slots__ = ("_table_ref", "_key")

    def __init__(self, table, key):
        self._table_ref = weakref.ref(table)
        self._key = key

    def remove(self):
        table = self._table_ref()
        if table is not None:
            table.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class _HookTable(dict):
    """A dict of hooks that a weak reference can point to (plain dicts cannot)."""

    __slots__ = ("__weakref__",)


def _add_hook(table, fn):
    if not callable(fn):
        raise TypeError(f"register_hook: expected a callable, got {type(fn).__name__}")
    _hook_keys[0] += 1
    table[_hook_keys[0]] = fn
    return RemovableHandle(table, _hook_keys[0])


def register_hook(t, fn):
    """``fn(grad) -> Tensor or None`` runs when the gradient of ``t`` has been computed."""
    node = t.grad_fn
    if node is None:
        return _add_hook(_leaf_tables(t)[0], fn)
    if node.hooks is None:
        node.hooks = {}
    table = node.hooks.get(t._output_nr)
    if table is None:
        table = node.hooks[t._output_nr] = _HookTable()
    return _add_hook(table, fn)


def register_post_accumulate_grad_hook(t, fn):
    """``fn(t) -> None`` runs after the leaf ``t`` has accumulated its gradient into ``t.grad``."""
    return _add_hook(_leaf_tables(t)[1], fn)


def _leaf_tables(t):
    key = id(t)
    tables = _leaf_hooks.get(key)
    if tables is None:
        def forget(_, key=key):
            _leaf_hooks.pop(key, None)
        tables = _leaf_hooks[key] = (_HookTable(), _HookTable(), weakref.ref(t, forget))
    return tables


def _call_grad_hooks(table, g, what):
    for fn in list(table.values()):
        result = fn(_new_tensor(g, False, None, 0))
        if result is not None:
            new = result.data if isinstance(result, _Tensor) else result
            if new.shape != g.shape or new.dtype != g.dtype:
                raise RuntimeError(
                    f"register_hook: hook {getattr(fn, '__name__', fn)!r} on {what} returned a "
                    f"gradient of shape {new.shape} and dtype {new.dtype}; expected shape "
                    f"{g.shape} and dtype {g.dtype}")
            g = new
    return g


def _run_node_hooks(node, outs):
    for k, table in node.hooks.items():
        if table and outs[k] is not None:
            outs[k] = _call_grad_hooks(table, outs[k], f"an output of {node.function.__name__}")


def _run_leaf_pre_hooks(t, g):
    table = _leaf_hooks[id(t)][0]
    return _call_grad_hooks(table, g, "a leaf tensor") if table else g


def _run_post_accumulate_hooks(t):
    for fn in list(_leaf_hooks[id(t)][1].values()):
        fn(t)


def _count_hooked_leaf_edges(pending):
    """For each hooked leaf in the graph, the number of edges that will bring it a gradient."""
    waiting = {}
    for node in pending:
        for t in node.inputs:
            if t.grad_fn is None and t.requires_grad and id(t) in _leaf_hooks:
                entry = waiting.get(t)
                waiting[t] = [1, None] if entry is None else [entry[0] + 1, None]
    return waiting or None


def _hooked_leaf_edge(t, g, waiting, handed):
    """One edge of a hooked leaf arrived: sum it; on the last one run the hooks and accumulate."""
    entry = waiting[t]
    if g is not None:
        if g.shape != t.data.shape:
            g = unbroadcast(g, t.data.shape)
        entry[1] = g if entry[1] is None else entry[1] + g
    entry[0] -= 1
    if entry[0] == 0 and entry[1] is not None:
        _accumulate_leaf(t, _run_leaf_pre_hooks(t, entry[1]), handed)
        _run_post_accumulate_hooks(t)
