"""The checkout never runs stale compiled code.

1. With the development install (README, set-up: editable, rebuilt on import), an edit to
   engine.py takes effect in the next run, in the compiled engine.
2. A compiled module built from other sources than those beside it refuses to load, naming the
   changed file (checked on a copy of the package outside the checkout, without the editable
   import hook, which would rebuild it first).
"""
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from pydyfast import backend

ROOT = Path(__file__).resolve().parents[1]


def _run(code, env=None, flags=(), cwd=ROOT):
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True,
                          timeout=900, env=env, cwd=cwd)


def test_an_edit_to_engine_py_takes_effect_in_the_next_run():
    engine_py = ROOT / "pydyfast" / "engine.py"
    original = engine_py.read_bytes()
    token = uuid.uuid4().hex  # a value no earlier build can contain
    probe = "from pydyfast import backend; print(backend.engine.__name__, backend.engine._probe())"
    try:
        engine_py.write_bytes(original + f"\n\ndef _probe():\n    return {token!r}\n".encode())
        edited = _run(probe)
    finally:
        engine_py.write_bytes(original)
    assert engine_py.read_bytes() == original
    restored = _run("from pydyfast import backend; print(backend.engine.__name__, "
                    "hasattr(backend.engine, '_probe'))")  # rebuilds the unedited engine
    assert edited.returncode == 0, edited.stderr[-3000:]
    assert edited.stdout.split()[-2:] == ["pydyfast._engine", token], (
        f"the edit did not reach the compiled engine (got {edited.stdout!r}); develop in the "
        f"editable install with rebuild of README's set-up")
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert restored.stdout.split()[-2:] == ["pydyfast._engine", "False"], restored.stdout


@pytest.fixture
def package_copy(tmp_path):
    """The package, csrc/ and the built modules copied to tmp_path, and an environment that
    imports that copy (python -S: no site-packages .pth, so no editable hook; numpy from
    PYTHONPATH)."""
    if backend._C is None or backend.engine.__name__ != "pydyfast._engine":
        pytest.fail(f"the compiled modules are not loaded: {backend.info()}")
    shutil.copytree(ROOT / "pydyfast", tmp_path / "pydyfast",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "csrc", tmp_path / "csrc")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for module in (backend._C, backend.engine):
        shutil.copy(module.__file__, tmp_path / "pydyfast")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path), str(Path(np.__file__).parents[1])]), PYDYFAST_REQUIRE_NATIVE="1")
    return tmp_path, env


IMPORT = ("import pydyfast; from pydyfast import backend; "
          "print(backend.engine.__file__, backend._C.__file__)")


@pytest.mark.parametrize("edited", ["pydyfast/engine.py", "csrc/norm.cpp"])
def test_a_module_built_from_other_sources_is_an_import_error(package_copy, edited):
    root, env = package_copy
    unchanged = _run(IMPORT, env, flags=("-S",), cwd=root)
    assert unchanged.returncode == 0, unchanged.stderr[-3000:]
    assert all(str(root) in path for path in unchanged.stdout.split()), unchanged.stdout
    with open(root / edited, "a") as f:
        f.write("\n// edited\n" if edited.endswith(".cpp") else "\n# edited\n")
    stale = _run(IMPORT, env, flags=("-S",), cwd=root)
    assert stale.returncode != 0, f"a stale build loaded: {stale.stdout}"
    assert "ImportError" in stale.stderr and str(root / edited) in stale.stderr \
        and "stale" in stale.stderr, stale.stderr[-3000:]


@pytest.fixture
def checkout_over_installed(package_copy):
    """A checkout whose pydyfast/ holds no compiled modules (run from its root after a plain
    `pip install .`) and, further down the path, an installed copy that has them."""
    root, env = package_copy
    installed = root / "site" / "pydyfast"
    installed.mkdir(parents=True)
    for built in [*root.glob("pydyfast/_C*.so"), *root.glob("pydyfast/_engine*.so")]:
        shutil.move(str(built), installed / built.name)
    env = dict(env, PYTHONPATH=os.pathsep.join([str(root), str(root / "site"),
                                                 env["PYTHONPATH"].split(os.pathsep)[-1]]))
    return root, installed, env


def test_a_checkout_uses_the_shadowed_installed_build_when_it_matches(checkout_over_installed):
    root, installed, env = checkout_over_installed
    ran = _run(IMPORT + "; print(pydyfast.__file__)", env, flags=("-S",), cwd=root)
    assert ran.returncode == 0, ran.stderr[-3000:]
    engine, compiled, package = ran.stdout.split()[-3:]
    assert package == str(root / "pydyfast" / "__init__.py")  # the checkout's Python code
    assert engine.startswith(str(installed)) and compiled.startswith(str(installed))
    with open(root / "csrc" / "norm.cpp", "a") as f:  # the checkout moved on: refused, named
        f.write("\n// edited\n")
    stale = _run(IMPORT, env, flags=("-S",), cwd=root)
    assert stale.returncode != 0 and str(root / "csrc" / "norm.cpp") in stale.stderr \
        and "stale" in stale.stderr, stale.stderr[-3000:]
