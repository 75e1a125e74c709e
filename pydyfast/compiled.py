"""Loading the compiled modules (``pydyfast._C``, ``pydyfast._engine``) without ever running stale
code.

Each compiled module carries ``__source_hashes__``, the SHA-256 of every source file it was built
from, taken at build time (cmake/source_hashes.cmake). Where those sources sit beside the package
(engine.py always; csrc/ in a source checkout), a module built from other contents is refused with
an ImportError naming the changed files: an edit that a rebuild has not picked up must never run
the old code silently. The editable install with ``-Ceditable.rebuild=true`` (README, set-up)
rebuilds on import, so in development the hashes always match.

Run from the root of a checkout after a plain ``pip install .``, the source folder ``pydyfast/``
shadows the installed package and holds no compiled modules; they are then loaded from the
installed copy further down ``sys.path``, under the same hash check, so that the checkout runs
compiled code when the installed build matches its sources and refuses it when it does not.

A module that is missing or fails to load falls back to the pure-Python/NumPy path, unless
``PYDYFAST_REQUIRE_NATIVE=1`` (CI) makes that an error too.
"""
import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

REQUIRE_NATIVE = os.environ.get("PYDYFAST_REQUIRE_NATIVE", "") not in ("", "0")
_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _sources(name):
    """The source files beside the package that ``pydyfast.<name>`` is built from, or None where
    they are not shipped (csrc/ exists only in a source checkout)."""
    if name == "_engine":
        return [_PACKAGE / "engine.py"]
    csrc = _CHECKOUT / "csrc"
    if name == "_C" and csrc.is_dir() and (_CHECKOUT / "pyproject.toml").is_file():
        return sorted([*csrc.glob("*.cpp"), *csrc.glob("*.h")])
    return None


def check_built_from_sources(module, sources):
    """Raise ImportError unless ``module.__source_hashes__`` matches ``sources`` (paths)."""
    built = dict(getattr(module, "__source_hashes__", None) or {})
    current = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sources}
    changed = sorted(n for n in built.keys() | current.keys() if built.get(n) != current.get(n))
    if not changed:
        return
    where = {p.name: p for p in sources}
    files = ", ".join(str(where.get(n, n)) + ("" if n in current else " (removed)")
                      for n in changed)
    raise ImportError(f"pydyfast: {module.__file__} was built from other sources than {files}: "
                      f"it is stale. Rebuild: the editable install of README's set-up "
                      f"(pip install --no-build-isolation -e . -Cbuild-dir=build "
                      f"-Ceditable.rebuild=true) rebuilds on import, `pip install .` otherwise.")


def _installed_copy(name):
    """The file of ``pydyfast.<name>`` in an installed pydyfast elsewhere on ``sys.path``
    (one that this source folder shadows), or None."""
    for entry in sys.path:
        folder = Path(entry or ".").resolve() / "pydyfast"
        if folder == _PACKAGE or not folder.is_dir():
            continue
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            if (folder / (name + suffix)).is_file():
                return folder / (name + suffix)
    return None


def _import(name):
    """``pydyfast.<name>`` from this package, else from a shadowed installed copy."""
    try:
        return importlib.import_module(f"pydyfast.{name}")
    except ImportError:
        path = _installed_copy(name)
        if path is None:
            raise
    spec = importlib.util.spec_from_file_location(f"pydyfast.{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[spec.name] = module
    return module


def load(name):
    """(module, None), or (None, why) when ``pydyfast.<name>`` is not built or fails to load.
    A stale module raises (see the module docstring)."""
    try:
        module = _import(name)
    except ImportError as exc:  # a build without a compiler: fall back to the references
        if REQUIRE_NATIVE:
            raise ImportError(f"pydyfast: the compiled module pydyfast.{name} did not load "
                              f"({exc}), and PYDYFAST_REQUIRE_NATIVE=1 forbids the NumPy "
                              f"fallback. Reinstall with a C++ compiler (README, set-up).") from exc
        return None, str(exc)
    sources = _sources(name)
    if sources is not None:
        check_built_from_sources(module, sources)
    return module, None
