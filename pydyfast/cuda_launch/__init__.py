"""CUDA launchers, one module per kernel family (``pydyfast.cuda_launch.<family>``).

Each launcher has the name, arguments and results of the C++ function of ``pydyfast._C`` that
``backend.dispatch(..., cuda=(family, name))`` stands in for, on C-contiguous cupy arrays. It
casts every scalar to the C type of its kernel parameter (CuPy does not check kernel arguments:
a Python int goes in as a 64-bit integer, a float as a double) and states the grid/block of the
contract at the top of ``kernels/<family>.cu``.
"""
