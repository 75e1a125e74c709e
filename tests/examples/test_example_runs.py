"""Each example run briefly on its offline data: it reaches its stated result and writes its PNG.

The stated results are in each example's docstring; the settings here are those (or shorter).
"""
import importlib
import os

import numpy as np
import pytest

FRAMEWORKS = ["pydyfast", "torch"]
def run(name, framework, tmp_path, *argv):
    plot = tmp_path / f"{name}.png"
    module = importlib.import_module(f"examples.{name}")
    result = module.main([*argv, "--quiet", "--threads", "1", "--plot", str(plot)],
                         framework=framework)
    assert plot.exists() and os.path.getsize(plot) > 1000
    return result


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_autodiff1d_reaches_the_minimum(framework, tmp_path, capsys):
    path, gradient = run("autodiff1d", framework, tmp_path)
    assert abs(gradient) < 1e-4
    # f'(x) = 2 (x - 1) - exp(-x) / 2 vanishes at the minimum
    assert abs(2 * (path[-1] - 1) - np.exp(-path[-1]) / 2) < 1e-4
    assert f"plot: {tmp_path}" in capsys.readouterr().out


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_autodiff2d_reaches_the_minimum(framework, tmp_path):
    path, gradient = run("autodiff2d", framework, tmp_path)
    assert np.linalg.norm(gradient) < 1e-4
    x, y = path[-1]
    e = np.exp((x - y) / 2) / 8  # the numpy gradient at the end point, as an independent check
    assert np.hypot(2 * x + y - 1 + e, 6 * y + x - e) < 1e-4
    assert len(path) == 101


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_mnist_mlp(framework, tmp_path, capsys):
    histories = run("mnist", framework, tmp_path, "--model", "mlp", "--epochs", "3")
    assert histories["mlp"]["test"][-1] >= 0.90
    assert histories["mlp"]["loss"][-1] < histories["mlp"]["loss"][0]
    assert "data: scikit-learn's bundled digits" in capsys.readouterr().out


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_mnist_lenet(framework, tmp_path):
    histories = run("mnist", framework, tmp_path, "--model", "lenet", "--epochs", "2",
                    "--lr", "3e-3", "--batch-size", "64", "--limit", "1000")
    assert histories["lenet"]["test"][-1] >= 0.85


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_dropout_bn(framework, tmp_path):
    histories = run("dropout_bn", framework, tmp_path, "--epochs", "5")
    for kind in ("plain", "dropout", "batchnorm"):
        assert histories[kind]["test"][-1] >= 0.90, kind


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_ts_prediction(framework, tmp_path):
    history = run("ts_prediction", framework, tmp_path, "--epochs", "10")
    assert history["test"][-1] < 0.02


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_transformer(framework, tmp_path, capsys):
    history = run("transformer", framework, tmp_path, "--dim", "64", "--epochs", "10",
                  "--lr", "3e-3", "--batch-size", "64")
    assert history["test"][-1] >= 0.85
    assert "generated acceptability task" in capsys.readouterr().out


def test_transformer_rejects_indivisible_heads(tmp_path):
    from examples import transformer
    with pytest.raises(SystemExit):
        transformer.main(["--dim", "30", "--heads", "4", "--plot", str(tmp_path / "t.png")])


def test_unknown_framework_and_missing_cuda():
    from examples.frameworks import Framework
    with pytest.raises(ValueError, match="unknown framework 'jax'"):
        Framework("jax")
    import torch
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="torch: --device cuda asked for"):
            Framework("torch", "cuda")
