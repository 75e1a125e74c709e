"""Fault scenarios, one per launch: ``python worker_faults.py SCENARIO``.

raise: rank 1 raises before a collective that rank 0 is already waiting in.
skip: rank 1 never makes the collective (it waits for much longer than the timeout).
"""
import sys
import time

import numpy as np

import pydyfast as pdf
import pydyfast.distributed as dist

scenario = sys.argv[1]
dist.init_process_group("mpi", timeout=3)
if dist.get_rank() == 1:
    if scenario == "raise":
        raise ValueError("rank 1 failed while preparing its batch")
    time.sleep(60)
dist.all_reduce(pdf.Tensor(np.ones(4)))
