"""The two process-wide settings pydyfast makes when it is imported, in one place.

Both change the whole process, not only pydyfast, so each can be turned off before import, and
``backend.info()["process_defaults"]`` reports what was applied:

``PYDYFAST_MALLOC_TUNING=0``
    leaves glibc's malloc alone. Otherwise large arrays stay on glibc's heap instead of fresh
    mmaps: glibc serves every allocation above 32 MB with mmap and unmaps it on free, so each
    large activation or gradient of a training step arrives as new pages that the kernel must
    fault in and zero (PyTorch avoids this with its caching allocator). The cost: freed memory
    stays with the process for reuse rather than going back to the OS at once.
``PYDYFAST_OMP_PASSIVE=0``
    leaves ``OMP_WAIT_POLICY`` unset. Otherwise it defaults to PASSIVE (a value the user set
    wins): an OpenMP thread sleeps as soon as its parallel region ends instead of spinning
    for the next one, so on a small machine shared with other work it gives its core back at
    once. Measured on a 2-core AMD EPYC (``bench train --contend``, seconds per step quiet /
    beside one busy process): MLP 0.0164 / 0.0303 passive, 0.0155 / 0.0358 with a short spin
    (GOMP_SPINCOUNT=20000), 0.0242 / 0.0360 with libgomp's default spin; LeNet-5 0.066 / 0.114,
    0.062 / 0.123, 0.066 / 0.171. libgomp reads it when pydyfast._C loads, so this runs before.

Measured on the training benchmark (README, "Process-wide settings").
"""
import os
import sys


def _enabled(variable):
    return os.environ.get(variable, "1") != "0"


def _tune_malloc():
    """M_MMAP_MAX = 0 and M_TRIM_THRESHOLD = 1 GiB; False where glibc's mallopt is missing."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt  # glibc only; other C libraries lack it
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4
    return bool(mallopt(m_mmap_max, 0)) and bool(mallopt(m_trim_threshold, 1 << 30))


# The environment variables this module set itself (not the user), so that a benchmark can start
# another framework's process without handing it pydyfast's defaults.
set_by_pydyfast = {}


def _passive_omp_wait():
    """OMP_WAIT_POLICY=PASSIVE unless the user chose a policy; True when ours is in effect."""
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ["OMP_WAIT_POLICY"] = set_by_pydyfast["OMP_WAIT_POLICY"] = "PASSIVE"
    return os.environ["OMP_WAIT_POLICY"].upper() == "PASSIVE"


def apply():
    """Apply both settings (each unless opted out); {setting: applied} for backend.info()."""
    return {
        "malloc_tuning": _enabled("PYDYFAST_MALLOC_TUNING") and _tune_malloc(),
        "omp_passive": _enabled("PYDYFAST_OMP_PASSIVE") and _passive_omp_wait(),
    }
