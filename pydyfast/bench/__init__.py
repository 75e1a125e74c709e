"""Benchmarks: ``python -m pydyfast.bench {overhead,kernels,llama,train} [options]``."""
