"""Run PyDyNet 1.1's example scripts on pydyfast and on PyDyNet 1.1, on synthetic stand-in data.

    python tools/run_pydynet_examples.py FOLDER [--epochs 2] [--frameworks pydyfast,pydynet]

FOLDER holds PyDyNet's ``examples/pydynet/*.py`` (from the ver1.1 tag of WeltXing/PyDyNet).
Each script is copied with its import lines rewritten (``pydynet`` -> ``pydyfast.pydynet`` for
the pydyfast runs; ``matplotlib.pyplot`` -> a stand-in that draws nothing, so plots sized for the
full epoch count do not fail), plus one more change per script: its epoch count (a command-line
option for mnist, the constant otherwise). The data they download (MNIST, CoLA, Olivetti faces)
is replaced by random stand-ins with the same files, formats and per-sample shapes, in a
temporary folder that is the scripts' working directory. Each run is a fresh process; the table
gives whether it finished, the last training loss it computed and its wall time.
"""
import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools.pydynet_material import rewrite_imports  # noqa: E402

# name, script, command-line arguments, the epoch constant to set (None: --epochs), and the
# expression (in the script's globals, after it ran) giving its final training loss.
RUNS = [
    ("autograd1d", "autograd1d.py", [], None, "float(np.log((x1[-1] - 7) ** 2 + 6))"),
    ("autograd2d", "autograd2d.py", [], None, "float(auto_grad(x, .1, 30)[2][-1])"),
    ("mnist mlp", "mnist.py", ["--network", "mlp"], "--epochs", "loss.item()"),
    ("mnist conv", "mnist.py", ["--network", "conv"], "--epochs", "loss.item()"),
    ("dropout_bn", "dropout_bn.py", [], "EPOCHES", "(l1 + l2 + l3).item()"),
    ("ts_prediction", "ts_prediction.py", [], "EPOCHS", "train_loss.item()"),
    ("transformer", "transformer.py", [], "EPOCHES", "loss.item()"),
]

PACKAGES = {"pydyfast": "pydyfast.pydynet", "pydynet": "pydynet"}

NO_PLOT = '''"""Stands in for matplotlib.pyplot: accepts every call and draws nothing."""


class _Anything:
    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self

    def __setitem__(self, key, value):
        pass


import sys  # noqa: E402
sys.modules[__name__] = _Anything()
'''

# Runs the script in a fresh process and reports one JSON line. The framework is imported before
# the clock starts, so the time is the script's own work (the import time is reported apart).
BOOTSTRAP = '''
import importlib, json, runpy, sys, time
import numpy as np
script, package, loss_expr = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = [script] + sys.argv[4:]
start = time.perf_counter()
importlib.import_module(package)
import_seconds = time.perf_counter() - start
start = time.perf_counter()
scope = runpy.run_path(script, run_name="__main__")
seconds = time.perf_counter() - start
scope.setdefault("np", np)
print("RESULT " + json.dumps({"seconds": seconds, "import_seconds": import_seconds,
                             "loss": eval(loss_expr, scope)}))
'''


def make_mnist(root, rng, n_train, n_test):
    """MNIST's four idx files (gzip), random pixels and labels, 28x28 images."""
    root.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        header = np.array([2051, n, 28, 28], dtype=">i4").tobytes()
        with gzip.open(root / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(header + images.tobytes())
        with gzip.open(root / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(np.array([2049, n], dtype=">i4").tobytes() + labels.tobytes())


def make_cola(root, rng, n_sentences, vocabulary=500, max_words=44):
    """CoLA's tokenized in_domain_train.tsv: source, label, mark, sentence per line."""
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for _ in range(n_sentences):
        words = rng.integers(0, vocabulary, rng.integers(3, max_words + 1))
        lines.append(f"src\t{rng.integers(0, 2)}\t\t{' '.join(f'w{w}' for w in words)}\n")
    (root / "in_domain_train.tsv").write_text("".join(lines), encoding="utf-8")


def make_olivetti(data_home, rng):
    """scikit-learn's cache of the Olivetti faces (olivetti_py3.pkz): 400 faces of 64x64
    pixels; fetch_olivetti_faces reads it instead of downloading."""
    import joblib
    data_home.mkdir(parents=True, exist_ok=True)
    joblib.dump(rng.random((400, 4096)).astype(np.float32), data_home / "olivetti_py3.pkz",
                compress=6)


def prepare_script(source, package, epoch_constant, epochs):
    text = rewrite_imports(source, package)
    text = re.sub(r"^(\s*)import matplotlib\.pyplot as plt\s*$", r"\1import _no_plot as plt",
                  text, flags=re.MULTILINE)
    if epoch_constant and not epoch_constant.startswith("--"):
        text, n = re.subn(rf"^(\s*){epoch_constant} = \d+", rf"\g<1>{epoch_constant} = {epochs}",
                          text, flags=re.MULTILINE)
        if n != 1:
            raise ValueError(f"expected one '{epoch_constant} = N' line, found {n}")
    return text


def run_one(workdir, script, package, argv, loss_expr, timeout):
    env = dict(os.environ, TQDM_DISABLE="1", SCIKIT_LEARN_DATA=str(workdir / "sklearn"),
               PYTHONPATH=os.pathsep.join([str(workdir), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-c", BOOTSTRAP, str(script), package, loss_expr, *argv]
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"finished": False, "error": f"timed out after {timeout} s",
                "seconds": time.perf_counter() - start}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return {"finished": True, **json.loads(line[len("RESULT "):])}
    tail = (done.stderr or done.stdout).strip().splitlines()
    return {"finished": False, "error": tail[-1] if tail else f"exit {done.returncode}",
            "seconds": time.perf_counter() - start}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="PyDyNet's examples/pydynet folder")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--frameworks", default="pydyfast,pydynet")
    parser.add_argument("--only", default="", help="comma-separated run names (default: all)")
    parser.add_argument("--mnist-train", type=int, default=6000)
    parser.add_argument("--mnist-test", type=int, default=1000)
    parser.add_argument("--cola", type=int, default=1000, help="CoLA stand-in sentences")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per run")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    workdir = Path(tempfile.mkdtemp(prefix="pydynet-examples-"))
    make_mnist(workdir / "examples/data/MNIST/raw", rng, args.mnist_train, args.mnist_test)
    make_cola(workdir / "examples/data/CoLA/tokenized", rng, args.cola)
    make_olivetti(workdir / "sklearn", rng)
    (workdir / "imgs").mkdir()
    (workdir / "_no_plot.py").write_text(NO_PLOT)

    only = {s.strip() for s in args.only.split(",") if s.strip()}
    frameworks = [f.strip() for f in args.frameworks.split(",")]
    results = {}
    for name, script, run_argv, epoch_constant, loss_expr in RUNS:
        if only and name not in only:
            continue
        for framework in frameworks:
            target = workdir / framework / script
            target.parent.mkdir(exist_ok=True)
            source = (args.folder / script).read_text(encoding="utf-8")
            target.write_text(prepare_script(source, PACKAGES[framework], epoch_constant,
                                             args.epochs))
            extra = ["--epochs", str(args.epochs)] if epoch_constant == "--epochs" else []
            results[name, framework] = run_one(workdir, target, PACKAGES[framework],
                                               run_argv + extra, loss_expr, args.timeout)
            print(f"{name} on {framework}: {results[name, framework]}", file=sys.stderr)

    print(f"epochs {args.epochs}; MNIST {args.mnist_train}/{args.mnist_test} images, CoLA "
          f"{args.cola} sentences, Olivetti 400 faces (synthetic); data in {workdir}\n")
    header = "| run | " + " | ".join(f"{f} finished | {f} final loss | {f} wall s"
                                        for f in frameworks)
    print(header + " |")
    print("|" + "---|" * (1 + 3 * len(frameworks)))
    for name, *_ in RUNS:
        if only and name not in only:
            continue
        cells = []
        for f in frameworks:
            r = results[name, f]
            loss = f"{r['loss']:.6g}" if r["finished"] else r["error"][:60]
            cells += ["yes" if r["finished"] else "no", loss, f"{r['seconds']:.2f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    imports = {f: [r["import_seconds"] for (_, g), r in results.items()
                   if g == f and "import_seconds" in r] for f in frameworks}
    print("\nwall s: the script's own run, after the framework's import (import s, median: " +
          ", ".join(f"{f} {np.median(t):.2f}" for f, t in imports.items() if t) + ")")
    return 0 if all(r["finished"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
