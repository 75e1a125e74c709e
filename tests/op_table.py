"""The op-table harness: an op's torch comparison is one row.

A row (``Case``) names the op and its inputs; ``check`` builds the inputs, runs pydyfast and torch
through ``oracle.compare_with_torch`` (forward values/shapes/dtypes and every input gradient) and
``case_params`` turns a table into pytest parameters with readable ids::

    TABLE = [
        Case("cumsum", [(3, 4)], kwargs={"dim": -1}),
        Case("acos", [(5,)], low=-0.9, high=0.9),            # inputs inside the domain
        Case("F.pad", [(2, 3, 4)], args=((1, 2),), kwargs={"mode": "reflect"}),
        Case("Tensor.t", [(3, 4)], noncontig=True),
        Case("gather", [(3, 4), np.array([[0, 1], [2, 3], [1, 1]])], kwargs={"dim": 1}),
    ]

    @pytest.mark.parametrize("case,dtype", case_params(TABLE))   # one test per row and dtype
    def test_ops_match_torch(case, dtype):
        check(case, dtype)

``op`` is looked up the same way in both frameworks: ``"name"`` is ``pydyfast.name`` /
``torch.name``, ``"F.name"`` is ``nn.functional.name``, ``"Tensor.name"`` is the method called on
the first input. ``pdf_fn``/``torch_fn`` override the lookup for anything else (a lambda).
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import pytest

import pydyfast as pdf

from oracle import compare_with_torch, torch


@dataclass(frozen=True)
class Case:
    op: str
    shapes: tuple = ((3, 4),)  # one per tensor input: a shape (random floats) or an ndarray as is
    kwargs: dict = field(default_factory=dict)
    args: tuple = ()  # positional non-tensor arguments after the tensor inputs
    low: float = -2.0  # range of the random floating inputs (keep inside the op's domain)
    high: float = 2.0
    grad: bool = True  # compare input gradients too
    noncontig: bool = False  # pass floating inputs of ndim >= 2 as transposed (strided) views
    dtypes: tuple = ("float32", "float64")
    tol: Optional[dict] = None
    id: Optional[str] = None
    pdf_fn: Optional[Callable[..., Any]] = None
    torch_fn: Optional[Callable[..., Any]] = None
    requires_grad: Optional[tuple] = None  # per input, overriding "floating inputs require grad"


def _lookup(framework, op):
    """``op`` as a callable in ``framework`` (pydyfast or torch); see the module docstring."""
    if op.startswith("Tensor."):
        method = op[len("Tensor."):]
        return lambda first, *rest, **kw: getattr(first, method)(*rest, **kw)
    if op.startswith("F."):
        return getattr(framework.nn.functional, op[2:])
    return getattr(framework, op)


def _inputs(case, dtype, rng):
    arrays = []
    for spec in case.shapes:
        if isinstance(spec, np.ndarray):
            arrays.append(spec.astype(dtype) if spec.dtype.kind == "f" else spec)
            continue
        shape = tuple(spec)
        if case.noncontig and len(shape) >= 2:
            a = rng.uniform(case.low, case.high, shape[::-1]).astype(dtype).T
        else:
            a = rng.uniform(case.low, case.high, shape).astype(dtype)
        arrays.append(a)
    return arrays


def case_id(case):
    if case.id:
        return case.id
    shapes = "-".join("x".join(map(str, s.shape if isinstance(s, np.ndarray) else s)) or "0d"
                      for s in case.shapes)
    extra = ",".join(f"{k}={v}" for k, v in case.kwargs.items())
    return f"{case.op}[{shapes}{(',' + extra) if extra else ''}{',nc' if case.noncontig else ''}]"


def case_params(table):
    """pytest parameters ``(case, dtype)`` for a table: one per row and dtype the row allows."""
    return [pytest.param(c, np.dtype(d).type, id=f"{case_id(c)}-{d}")
            for c in table for d in c.dtypes]


def check(case, dtype, seed=0):
    """Compare one row with torch in ``dtype``; returns the pydyfast output."""
    arrays = _inputs(case, dtype, np.random.default_rng(seed))
    pd_op = case.pdf_fn or _lookup(pdf, case.op)
    th_op = case.torch_fn or _lookup(torch, case.op)
    return compare_with_torch(lambda *t: pd_op(*t, *case.args, **case.kwargs),
                              lambda *t: th_op(*t, *case.args, **case.kwargs),
                              arrays, dtype, grad=case.grad, tol=case.tol,
                              requires_grad=case.requires_grad)
