"""What a new user meets on the command line: full --help texts, plots in the working directory
(never the tracked docs/images), and one clear line when the examples' extra is missing."""
import importlib
import importlib.util
import os
import subprocess
import sys

import pytest

from examples import common

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = ["autodiff1d", "autodiff2d", "mnist", "dropout_bn", "ts_prediction", "transformer"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_help_shows_the_whole_docstring(name, capsys):
    module = importlib.import_module(f"examples.{name}")
    with pytest.raises(SystemExit):
        module.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert " ".join(module.__doc__.split()) in out
    assert "Stated result" in out


def test_default_plot_goes_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from examples import autodiff1d
    before = sorted(os.listdir(os.path.join(ROOT, "docs", "images")))
    autodiff1d.main(["--epochs", "3", "--quiet"])
    assert (tmp_path / "autodiff1d.png").stat().st_size > 1000
    assert sorted(os.listdir(os.path.join(ROOT, "docs", "images"))) == before
    autodiff1d.main(["--epochs", "3", "--quiet"], framework="torch")
    assert (tmp_path / "autodiff1d_torch.png").exists()


def test_missing_extra_stops_with_one_line_before_any_output(monkeypatch, capsys):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real_find_spec(name, *a))
    from examples import autodiff1d
    with pytest.raises(SystemExit, match=r'need matplotlib: pip install "\.\[examples\]"'):
        autodiff1d.main(["--epochs", "3"])
    assert capsys.readouterr().out == ""  # nothing printed before stopping


def test_missing_extra_from_the_command_line(tmp_path):
    """A real run without matplotlib (hidden by a stub that makes its import fail)."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['matplotlib'] = None\n"
        "import importlib.util as u\n_f = u.find_spec\n"
        "u.find_spec = lambda n, *a: None if n == 'matplotlib' else _f(n, *a)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    proc = subprocess.run([sys.executable, "-m", "examples.autodiff1d"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        'the examples need matplotlib: pip install ".[examples]" (from the repository root)']


def test_titles_are_wrapped_to_the_figure():
    plt = common._pyplot()
    fig = plt.figure(figsize=(4.2, 3))
    title = common._fit("pydyfast: plain vs Dropout vs BatchNorm MLP, test accuracy", fig)
    plt.close(fig)
    assert all(len(line) <= 46 for line in title.splitlines()) and "\n" in title


def test_readme_images_rejects_unknown_names():
    from examples import readme_images
    with pytest.raises(SystemExit):
        readme_images.main(["nope"])
    assert set(readme_images.RUNS) == set(EXAMPLES)
