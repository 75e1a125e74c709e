"""Issue 13 item 1: sizes near 2**31..2**63 in the C++ kernels and the CUDA launchers raise a
ValueError naming the op (they used to segfault or die of SIGFPE). Run in a capped child, so a
regression fails the test instead of killing pytest."""
import numpy as np
import pytest
from robustness.capped import assert_no_signal, run_capped

from pydyfast.cuda_launch import gather as cuda_gather
from pydyfast.cuda_launch import im2col as cuda_im2col
from pydyfast.cuda_launch import pool as cuda_pool
from pydyfast.cuda_launch import rnn as cuda_rnn
from pydyfast.cuda_launch import sort as cuda_sort
from pydyfast.cuda_launch.checks import checked_sizes

# (expression on _C with x (1, 1, 4, 4) float32, the op named in the error)
HOSTILE_CALLS = [
    ("_C.im2col(x, (2**62, 2**62), (1, 1), (0, 0), (1, 1))", "im2col"),
    ("_C.im2col(x, (3, 3), (1, 1), (2**62, 2**62), (1, 1))", "im2col"),
    ("_C.im2col(x, (1, 1), (2**63 - 1, 1), (2**62 - 1, 0), (1, 1))", "im2col"),
    ("_C.im2col(x, (2, 2), (1, 1), (0, 0), (2**62, 2**62))", "im2col"),
    ("_C.col2im(np.zeros((1, 4, 1), np.float32), (4, 4), (2**32, 2**32), (1, 1), (0, 0), (1, 1))",
     "col2im"),
    ("_C.col2im(np.zeros((1, 1, 1), np.float32), (2**40, 2**40), (1, 1), (1, 1), (0, 0), (1, 1))",
     "col2im"),
    ("_C.col2im(np.zeros((1, 1, 1), np.float32), (-4, 4), (1, 1), (1, 1), (0, 0), (1, 1))",
     "col2im"),
    ("_C.max_pool2d_fwd(x, (2, 2), (2**62, 2**62), (0, 0), (1, 1), (4, 4))", "max_pool2d"),
    ("_C.max_pool2d_fwd(x, (2**62, 2), (1, 1), (0, 0), (2**62, 1), (1, 1))", "max_pool2d"),
    ("_C.max_pool2d_fwd(x, (2, 2), (1, 1), (0, 0), (1, 1), (2**40, 2**40))", "max_pool2d"),
    ("_C.max_pool2d_bwd(g, np.zeros((1, 1, 1, 1), np.int64), (2**62, 4))", "max_pool2d backward"),
    ("_C.max_pool2d_bwd(g, np.zeros((1, 1, 1, 1), np.int64), (-1, 4))", "max_pool2d backward"),
    ("_C.max_pool2d_bwd(g, np.full((1, 1, 1, 1), 2**62, np.int64), (2, 2))", None),
    ("_C.avg_pool2d_bwd(g, (-3, 4), *windows)", "avg_pool2d backward"),
    ("_C.avg_pool2d_fwd(x, np.array([0]), np.array([2**40]), np.ones(1), *windows[3:])",
     "avg_pool2d"),
    ("_C.cross_entropy_fwd(np.zeros((3, 0), np.float32), np.zeros(3, np.int64), None, 0, 0)",
     None),
]

CHILD = """
import sys
import numpy as np
from pydyfast import _C
x = np.zeros((1, 1, 4, 4), np.float32)
g = np.zeros((1, 1, 1, 1), np.float32)
windows = (np.array([0]), np.array([1]), np.ones(1), np.array([0]), np.array([1]), np.ones(1))
try:
    eval(sys.argv[1])
    print("RESULT")
except Exception as exc:
    print(type(exc).__name__ + ": " + str(exc)[:300])
"""


@pytest.mark.parametrize("call,op", HOSTILE_CALLS, ids=[c for c, _ in HOSTILE_CALLS])
def test_hostile_kernel_sizes_raise_naming_the_op(call, op):
    proc = run_capped(CHILD, call)
    assert_no_signal(proc)
    out = proc.stdout.strip()
    if op is None:  # a valid call: any result is fine, as long as nothing was written astray
        assert out == "RESULT" or out.startswith(("ValueError", "MemoryError")), out
    else:
        assert out.startswith("ValueError: " + op + ":"), out


def test_pool_backward_ignores_an_argmax_outside_its_plane():
    from pydyfast import _C
    gx = _C.max_pool2d_bwd(np.ones((1, 1, 1, 2), np.float32),
                           np.array([[[[2**40, 3]]]], np.int64), (2, 2))
    np.testing.assert_array_equal(gx.reshape(-1), [0, 0, 0, 1])


# The CUDA launchers check on the host, before cupy is imported: testable without a GPU.
@pytest.mark.parametrize("call", [
    lambda x: cuda_im2col.im2col(x, (2**62, 2**62), (1, 1), (0, 0), (1, 1)),
    lambda x: cuda_im2col.im2col(x, (3, 3), (1, 1), (2**62, 2**62), (1, 1)),
    lambda x: cuda_im2col.im2col(x, (3, 3), (1.5, 1), (0, 0), (1, 1)),
    lambda x: cuda_im2col.col2im(np.zeros((1, 4, 1), np.float32), (4, 4), (2**32, 2**32),
                                 (1, 1), (0, 0), (1, 1)),
    lambda x: cuda_pool.max_pool2d_fwd(x, (2, 2), (2**62, 2**62), (0, 0), (1, 1), (4, 4)),
    lambda x: cuda_pool.max_pool2d_bwd(np.zeros((1, 1, 1, 1), np.float32),
                                       np.zeros((1, 1, 1, 1), np.int64), (2**62, 4)),
    lambda x: cuda_pool.avg_pool2d_fwd(x, [0], [9], [1.0], [0], [1], [1.0]),
    lambda x: cuda_pool.avg_pool2d_bwd(np.zeros((1, 1, 1, 1), np.float32), (4, 4), [0], [1],
                                       [1.0], [-1], [1], [1.0]),
    lambda x: cuda_rnn.gru_gates_fwd(np.zeros((2, 5)), np.zeros((2, 6)), np.zeros((2, 2))),
    lambda x: cuda_rnn.lstm_gates_bwd(np.zeros((2, 9)), np.zeros((2, 2)), np.zeros((2, 2)),
                                      np.zeros((2, 2))),
    lambda x: cuda_gather.gather_fwd(np.zeros((2, 3, 4)), np.zeros((3, 3, 4), np.int64)),
    lambda x: cuda_gather.scatter_add_fwd(np.zeros((2, 3, 4)), np.zeros((2, 3, 4), np.int64),
                                          np.zeros((2, 2, 4))),
    lambda x: cuda_gather.index_add_fwd(np.zeros((2, 3, 4)), np.zeros(5, np.int64),
                                        np.zeros((2, 4, 4)), 1.0),
    lambda x: cuda_sort.topk_indices(np.zeros((2, 3)), 5, True),
], ids=["im2col-kernel", "im2col-padding", "im2col-float-stride", "col2im-kernel",
        "maxpool-stride", "maxpool-bwd-size", "avgpool-window", "avgpool-bwd-window",
        "gru-gates", "lstm-saved", "gather-index", "scatter-src", "index-add-src", "topk-k"])
def test_cuda_launchers_check_sizes_and_shapes_before_launch(call):
    with pytest.raises((ValueError, TypeError), match=r"^(im2col|col2im|max_pool2d|avg_pool2d|"
                                                      r"gru_cell|lstm_cell|gather|scatter_add|"
                                                      r"index_add|topk)"):
        call(np.zeros((1, 1, 4, 4), np.float32))


@pytest.mark.parametrize("values,ok", [((0, 1, 2**62), True), ((2**63,), False), ((-1,), False),
                                       ((2**32, 2**32), False), ((True,), False)])
def test_checked_sizes_mirrors_the_cpp_helper(values, ok):
    if ok:
        assert checked_sizes("op", *values) == int(np.prod(values, dtype=object))
    else:
        with pytest.raises((ValueError, TypeError), match="^op: "):
            checked_sizes("op", *values)
