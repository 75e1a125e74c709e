"""F.interpolate against PyTorch: every mode, size and scale_factor, align_corners both ways,
1-, 2- and 3-D, down- and upsampling, forward and backward in both dtypes, on the compiled
resampling kernel and on its NumPy reference; bad arguments."""
import numpy as np
import pytest

import pydyfast as pdf
import pydyfast.nn.functional as F
from op_table import Case, case_params, check

SHAPES = {1: (2, 3, 7), 2: (2, 3, 5, 7), 3: (1, 2, 3, 4, 5)}
LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
SIZES = [dict(scale_factor=2), dict(scale_factor=0.5), dict(scale_factor=1.7), dict(size=9),
         dict(size=2), dict(size=1)]

TABLE = []
for spatial, shape in SHAPES.items():
    for sizing in SIZES:
        for mode in ("nearest", "nearest-exact"):
            TABLE.append(Case("F.interpolate", [shape], kwargs=dict(sizing, mode=mode)))
        for corners in (False, True):
            TABLE.append(Case("F.interpolate", [shape],
                              kwargs=dict(sizing, mode=LINEAR[spatial], align_corners=corners)))
        if spatial < 3:
            TABLE.append(Case("F.interpolate", [shape], kwargs=dict(sizing, mode="area")))
        if spatial == 2:
            TABLE += [Case("F.interpolate", [shape],
                           kwargs=dict(sizing, mode="bicubic", align_corners=corners))
                      for corners in (False, True)]
TABLE += [
    Case("F.interpolate", [(2, 3, 5, 7)], kwargs=dict(size=(4, 11), mode="bilinear"),
         noncontig=True),
    Case("F.interpolate", [(2, 3, 5, 7)], kwargs=dict(scale_factor=(1.5, 0.6), mode="nearest")),
    Case("F.interpolate", [(2, 3, 5, 7)], kwargs=dict(scale_factor=1.7, mode="bilinear",
                                                       recompute_scale_factor=True)),
    Case("F.interpolate", [(1, 1, 1, 1)], kwargs=dict(size=(3, 2), mode="bilinear"),
         id="bilinear-from-1x1"),
]


@pytest.mark.parametrize("case,dtype", case_params(TABLE))
def test_interpolate_matches_torch(case, dtype, kernels):
    check(case, dtype)


def test_upsample_nearest_by_two_repeats_pixels():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    y = F.interpolate(pdf.Tensor(x), scale_factor=2).numpy()
    np.testing.assert_array_equal(y[0, 0], np.repeat(np.repeat(x[0, 0], 2, 0), 2, 1))


@pytest.mark.parametrize("shape,kwargs,error,match", [
    ((1, 2, 4, 4), dict(), ValueError, "exactly one of size and scale_factor"),
    ((1, 2, 4, 4), dict(size=3, scale_factor=2), ValueError, "exactly one"),
    ((1, 2, 4, 4), dict(size=(3, 3, 3)), ValueError, "size must be a positive int or 2"),
    ((1, 2, 4, 4), dict(size=0), ValueError, "size must be a positive"),
    ((1, 2, 4, 4), dict(scale_factor=0.1), ValueError, "empty output"),
    ((1, 2, 4, 4), dict(size=3, mode="bicube"), ValueError, "mode must be one of"),
    ((1, 2, 4), dict(size=3, mode="bicubic"), ValueError, "expects a 4-D input"),
    ((1, 2, 4, 4), dict(size=3, mode="linear"), ValueError, "expects a 3-D input"),
    ((1, 2, 4, 4), dict(size=3, align_corners=True), ValueError, "align_corners can only be set with the interpolating"),
    ((2, 4), dict(size=3), ValueError, r"3-D, 4-D or 5-D input"),
    ((1, 2, 0, 4), dict(size=3), ValueError, "non-empty spatial axes"),
    ((1, 2, 2, 2, 2), dict(size=3, mode="area"), ValueError, "5-D inputs are not supported"),
], ids=str)
def test_interpolate_rejects_bad_arguments(shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        F.interpolate(pdf.Tensor(np.zeros(shape, np.float32)), **kwargs)


def test_interpolate_says_antialias_is_not_implemented():
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(pdf.Tensor(np.zeros((1, 1, 4, 4))), size=2, mode="bilinear", antialias=True)


def test_interpolate_rejects_integer_input():
    with pytest.raises(TypeError, match="floating-point"):
        F.interpolate(pdf.Tensor(np.zeros((1, 1, 2, 2), np.int64)), size=3)
