"""Benchmark cases of each kernel family (see pydyfast/bench/kernel_case.py)."""
