"""unfold/fold (on the compiled im2col/col2im and on their references) and pixel_shuffle /
pixel_unshuffle against PyTorch, forward and backward, both dtypes; bad arguments."""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.nn.functional as F
from op_table import Case, case_params, check

GEOMETRIES = [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=2),
              dict(kernel_size=3, padding=(0, 2), stride=(2, 1)), dict(kernel_size=1)]


def _fold_case(geometry, size=(6, 7), channels=2):
    """fold's input: the columns of an unfold of an image of ``size``."""
    col = F.unfold(pdf.Tensor(np.zeros((2, channels) + size)), **geometry)
    return Case("F.fold", [col.shape], args=(size,), kwargs=geometry)


TABLE = [Case("F.unfold", [(2, 3, 6, 7)], kwargs=g) for g in GEOMETRIES] + [
    Case("F.unfold", [(3, 5, 4)], kwargs=dict(kernel_size=2), id="unfold-unbatched"),
    Case("F.unfold", [(2, 3, 6, 7)], kwargs=dict(kernel_size=3), noncontig=True),
    Case("F.unfold", [(1, 1, 2, 2)], kwargs=dict(kernel_size=2), id="unfold-one-block"),
] + [_fold_case(g) for g in GEOMETRIES] + [
    Case("F.fold", [(12, 20)], args=((5, 6),), kwargs=dict(kernel_size=2), id="fold-unbatched"),
    Case("F.pixel_shuffle", [(2, 8, 3, 4)], args=(2,)),
    Case("F.pixel_shuffle", [(9, 2, 3)], args=(3,), id="pixel_shuffle-unbatched"),
    Case("F.pixel_shuffle", [(2, 2, 4, 1, 1)], args=(2,), id="pixel_shuffle-5d"),
    Case("F.pixel_shuffle", [(2, 4, 3, 5)], args=(1,), noncontig=True),
    Case("F.pixel_unshuffle", [(2, 2, 6, 4)], args=(2,)),
    Case("F.pixel_unshuffle", [(3, 3, 6)], args=(3,), id="pixel_unshuffle-unbatched"),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_patches_match_torch(case, dtype, kernels):
    check(case, dtype)


def test_pixel_unshuffle_inverts_pixel_shuffle(rng):
    x = pdf.Tensor(rng.standard_normal((2, 12, 3, 5)))
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).numpy(), x.numpy())


def test_pixel_shuffle_keeps_integer_dtypes():
    x = pdf.Tensor(np.arange(16).reshape(1, 4, 2, 2))
    assert F.pixel_shuffle(x, 2).dtype == np.int64


@pytest.mark.parametrize("call,error,match", [
    (lambda: F.unfold(pdf.Tensor(np.zeros((2, 3))), 2), ValueError, "3-D or 4-D"),
    (lambda: F.unfold(pdf.Tensor(np.zeros((1, 1, 2, 2))), 3), ValueError, "larger than"),
    (lambda: F.unfold(pdf.Tensor(np.zeros((1, 1, 3, 3))), 0), ValueError, "kernel_size"),
    (lambda: F.unfold(pdf.Tensor(np.zeros((1, 1, 3, 3), np.int64)), 2), TypeError, "floating"),
    (lambda: F.fold(pdf.Tensor(np.zeros((1, 5, 4))), (3, 3), 2), ValueError,
     r"expected input of shape \(N, C\*2\*2, 4\)"),
    (lambda: F.fold(pdf.Tensor(np.zeros((1, 4, 5))), (3, 3), 2), ValueError, "got"),
    (lambda: F.pixel_shuffle(pdf.Tensor(np.zeros((1, 3, 2, 2))), 2), ValueError,
     "divisible by upscale_factor"),
    (lambda: F.pixel_shuffle(pdf.Tensor(np.zeros((4, 2))), 2), ValueError, "3-D or higher"),
    (lambda: F.pixel_shuffle(pdf.Tensor(np.zeros((1, 4, 2, 2))), 0), ValueError, "positive"),
    (lambda: F.pixel_unshuffle(pdf.Tensor(np.zeros((1, 1, 3, 2))), 2), ValueError,
     "divisible by downscale_factor"),
])
def test_patches_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
