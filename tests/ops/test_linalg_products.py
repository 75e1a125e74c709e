"""Matrix products and contractions (mm, bmm, mv, dot, outer, addmm, cross in
pydyfast/ops/linalg.py; einsum, tensordot in pydyfast/ops/einsum.py) against torch."""
import pytest
from oracle import torch  # skips this module when PyTorch is missing

import pydyfast as pdf

from op_table import Case, case_params, check

TABLE = [
    Case("mm", [(3, 4), (4, 5)], noncontig=True), Case("mm", [(0, 4), (4, 2)]),
    Case("bmm", [(2, 3, 4), (2, 4, 5)]), Case("mv", [(3, 4), (4,)], noncontig=True),
    # larger than one micro-tile and one K slice of csrc/gemm.cpp, with ragged edges
    Case("mm", [(37, 411), (411, 45)], noncontig=True, id="mm-tiles"),
    Case("bmm", [(9, 17, 33), (9, 33, 40)], noncontig=True, id="bmm-stack"),
    Case("matmul", [(2, 3, 17, 9), (2, 3, 9, 20)], noncontig=True, id="matmul-4d-stack"),
    Case("matmul", [(2, 3, 17, 9), (9, 20)], noncontig=True, id="matmul-rows"),
    Case("matmul", [(2, 1, 5, 9), (3, 9, 4)], id="matmul-broadcast-batch"),
    Case("dot", [(5,), (5,)]), Case("vdot", [(0,), (0,)]), Case("inner", [(3,), (3,)]),
    Case("outer", [(3,), (4,)]), Case("ger", [(1,), (2,)]),
    Case("addmm", [(3, 5), (3, 4), (4, 5)]),
    Case("addmm", [(5,), (3, 4), (4, 5)], kwargs={"beta": 0.5, "alpha": 2.0}, id="addmm-scaled"),
    Case("addmm", [(1, 5), (3, 4), (4, 5)], kwargs={"beta": 0}, id="addmm-beta0"),
    Case("Tensor.mm", [(2, 3), (3, 2)]), Case("Tensor.dot", [(4,), (4,)]),
    Case("cross", [(4, 3), (4, 3)], kwargs={"dim": -1}),
    Case("cross", [(3, 5), (3, 1)], kwargs={"dim": 0}, id="cross-broadcast"),
    Case("cross", [(2, 3, 3), (2, 3, 3)], kwargs={"dim": 1}, noncontig=True),
    Case("einsum", [(3, 4), (4, 5)], pdf_fn=lambda a, b: pdf.einsum("ij,jk->ik", a, b),
         torch_fn=lambda a, b: torch.einsum("ij,jk->ik", a, b), id="einsum-matmul"),
    Case("einsum", [(2, 3, 4), (2, 4, 5)], pdf_fn=lambda a, b: pdf.einsum("bij,bjk", a, b),
         torch_fn=lambda a, b: torch.einsum("bij,bjk", a, b), id="einsum-implicit"),
    Case("einsum", [(4, 4)], pdf_fn=lambda a: pdf.einsum("ii->i", a),
         torch_fn=lambda a: torch.einsum("ii->i", a), id="einsum-diagonal"),
    Case("einsum", [(4, 4)], pdf_fn=lambda a: pdf.einsum("ii", a),
         torch_fn=lambda a: torch.einsum("ii", a), id="einsum-trace"),
    Case("einsum", [(3, 4)], pdf_fn=lambda a: pdf.einsum("ij->", a),
         torch_fn=lambda a: torch.einsum("ij->", a), id="einsum-sum"),
    Case("einsum", [(2, 3, 4), (4,)], pdf_fn=lambda a, b: pdf.einsum("...j,j->...", a, b),
         torch_fn=lambda a, b: torch.einsum("...j,j->...", a, b), id="einsum-ellipsis"),
    Case("einsum", [(3,), (4,), (5,)], pdf_fn=lambda a, b, c: pdf.einsum("i,j,k->kji", [a, b, c]),
         torch_fn=lambda a, b, c: torch.einsum("i,j,k->kji", [a, b, c]), id="einsum-three"),
    Case("einsum", [(2, 3), (3, 2)], noncontig=True, pdf_fn=lambda a, b: pdf.einsum("ij,ji", a, b),
         torch_fn=lambda a, b: torch.einsum("ij,ji", a, b), id="einsum-nc-scalar"),
    Case("tensordot", [(2, 3, 4), (3, 4, 5)], kwargs={"dims": 2}),
    Case("tensordot", [(2, 3, 4), (4, 2)], kwargs={"dims": ([0, 2], [1, 0])}, id="tensordot-lists"),
    Case("tensordot", [(2, 3), (4,)], kwargs={"dims": 0}, id="tensordot-outer"),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_products_match_torch(case, dtype):
    check(case, dtype)


@pytest.mark.parametrize("call,message", [
    (lambda: pdf.mm(pdf.ones(3), pdf.ones(3, 2)), r"mm: expected input with 2 dimensions, got "
                                                    r"input \(3,\), mat2 \(3, 2\)"),
    (lambda: pdf.bmm(pdf.ones(2, 3, 4), pdf.ones(3, 4, 5)), r"bmm: batch sizes differ"),
    (lambda: pdf.dot(pdf.ones(3), pdf.ones(4)), r"dot: expected 1-d tensors of one length"),
    (lambda: pdf.cross(pdf.ones(4, 2), pdf.ones(4, 2)), r"cross: no dimension of size 3"),
    (lambda: pdf.cross(pdf.ones(3, 4), pdf.ones(3, 4), dim=1), r"cross: dim 1 must have size 3"),
    (lambda: pdf.einsum("ij,jk->ik", pdf.ones(2, 3), pdf.ones(4, 5)),
     r"einsum: subscript 'j' has sizes 3 and 4"),
    (lambda: pdf.einsum("ij->ik", pdf.ones(2, 3)), r"einsum: output subscripts 'ik'"),
    (lambda: pdf.einsum("ijk", pdf.ones(2, 3)), r"einsum: subscripts 'ijk' do not fit"),
    (lambda: pdf.tensordot(pdf.ones(2, 3), pdf.ones(4, 5), dims=1), r"tensordot: axis 1"),
])
def test_bad_shapes_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_einsum_refuses_mixed_dtypes():
    with pytest.raises(TypeError, match="einsum: expected operands of one dtype"):
        pdf.einsum("i,i", pdf.ones(2), pdf.ones(2, dtype=pdf.float64))
