"""Rearranging ops (pydyfast/ops/rearrange.py) against torch."""
import numpy as np
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf

from op_table import Case, case_params, check

TABLE = [
    Case("tril", [(4, 5)]), Case("tril", [(2, 4, 5)], args=(1,), noncontig=True),
    Case("triu", [(4, 5)], args=(-1,)), Case("triu", [(0, 3)]),
    Case("Tensor.triu", [(3, 3)], kwargs={"diagonal": 2}),
    Case("diagonal", [(4, 5)]), Case("diagonal", [(3, 4, 5)], kwargs={"offset": 1, "dim1": 0,
                                                                       "dim2": 2}),
    Case("diagonal", [(3, 4, 5)], kwargs={"offset": -2, "dim1": -1, "dim2": 1}, noncontig=True),
    Case("diagonal", [(2, 3)], kwargs={"offset": 5}, id="diagonal-past-the-end"),
    Case("diag", [(4,)]), Case("diag", [(3,)], args=(-2,)), Case("diag", [(3, 5)], args=(1,)),
    Case("diag", [(4, 4)], noncontig=True),
    Case("trace", [(4, 5)]), Case("trace", [(3, 3)], noncontig=True),
    Case("flip", [(3, 4, 5)], args=((0, -1),), noncontig=True), Case("flip", [(3,)], args=((0,),)),
    Case("flip", [()], args=((),)), Case("fliplr", [(3, 4)]), Case("flipud", [(3, 4)]),
    Case("roll", [(3, 4, 5)], args=((1, -2), (0, 2))), Case("roll", [(3, 4)], args=(5,)),
    Case("roll", [(3, 4)], args=(-1, 1), noncontig=True), Case("roll", [(0, 2)], args=(1, 0)),
    Case("Tensor.repeat", [(2, 3)], args=(2, 1, 3)),
    Case("Tensor.repeat", [(2, 3)], args=((1, 2),)),
    Case("Tensor.repeat", [()], args=(3,)), Case("Tensor.repeat", [(2, 3)], args=(0, 2)),
    Case("tile", [(2, 3)], args=((2,),)), Case("tile", [(2, 3)], args=((2, 1, 2),),
                                               noncontig=True),
    Case("repeat_interleave", [(2, 3)], args=(2,)),
    Case("repeat_interleave", [(2, 3)], args=(3,), kwargs={"dim": -1}),
    Case("repeat_interleave", [(4, 3), np.array([0, 2, 1, 3])], kwargs={"dim": 0},
         noncontig=True),
    Case("repeat_interleave", [(3,), np.array([2])], kwargs={"dim": 0}, id="ri-one-count"),
    Case("Tensor.repeat_interleave", [()], args=(3,)),
    Case("narrow", [(4, 5)], args=(1, 2, 3)), Case("narrow", [(4, 5)], args=(-2, -3, 2)),
    Case("narrow", [(4, 5)], args=(0, 4, 0), id="narrow-empty"),
    Case("movedim", [(2, 3, 4)], args=(0, -1)), Case("movedim", [(2, 3, 4, 5)],
                                                     args=((0, 1), (3, 0)), noncontig=True),
    Case("moveaxis", [(2, 3)], args=(1, 0)),
    *[Case("meshgrid", [(3,), (4,), (2,)], kwargs={"indexing": i}, id=f"meshgrid-{i}")
      for i in ("ij", "xy")],
    Case("meshgrid", [(3,)], kwargs={"indexing": "xy"}, id="meshgrid-one"),
    *[Case(op, [np.arange(12).reshape(3, 4)], args=args, grad=False, dtypes=("float64",),
           id=f"{op}-int") for op, args in (("tril", ()), ("flip", ((0,),)), ("roll", (1,)),
                                            ("diagonal", ()), ("Tensor.repeat", (2, 1)))],
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_rearranging_matches_torch(case, dtype):
    check(case, dtype)


@pytest.mark.parametrize("call,error,message", [
    (lambda: pdf.tril(pdf.ones(3)), ValueError, r"tril: expected at least 2 dimensions, got "
                                                r"shape \(3,\)"),
    (lambda: pdf.diagonal(pdf.ones(3, 3), 0, 1, -1), ValueError, r"diagonal: dim1 and dim2"),
    (lambda: pdf.diag(pdf.ones(2, 2, 2)), ValueError, r"diag: expected a 1-d or 2-d tensor"),
    (lambda: pdf.trace(pdf.ones(3)), ValueError, r"trace: expected a 2-d tensor"),
    (lambda: pdf.roll(pdf.ones(3, 3), (1, 2), 0), ValueError, r"roll: 2 shifts for 1 dims"),
    (lambda: pdf.ones(2, 3).repeat(2), ValueError, r"repeat: 1 repeat counts for a tensor with 2"),
    (lambda: pdf.repeat_interleave(pdf.ones(3), pdf.Tensor([1, 2])), ValueError,
     r"repeat_interleave: repeats must be an int or a 1-d integer tensor with one count per "
     r"element \(3\)"),
    (lambda: pdf.narrow(pdf.ones(4), 0, 3, 2), ValueError, r"narrow: start 3 and length 2"),
    (lambda: pdf.movedim(pdf.ones(2, 3), (0, 0), (1, 0)), ValueError, r"movedim: repeated"),
    (lambda: pdf.meshgrid(pdf.ones(2, 2)), ValueError, r"meshgrid: expected 0-d or 1-d"),
    (lambda: pdf.flip(pdf.ones(2), 3), IndexError, r"flip: axis 3 is out of range"),
])
def test_bad_arguments_name_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_meshgrid_accepts_a_list_and_defaults_to_ij():
    a, b = pdf.meshgrid([pdf.arange(3), pdf.arange(2)])
    ta, tb = torch.meshgrid([torch.arange(3), torch.arange(2)], indexing="ij")
    np.testing.assert_array_equal(a.numpy(), ta.numpy())
    np.testing.assert_array_equal(b.numpy(), tb.numpy())
