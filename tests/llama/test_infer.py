"""The command line: missing checkpoint message, random-init run, streaming and the closing line."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from llama import infer
from llama.loaders import load_checkpoint
from llama.model import Llama
from llama.sampling import Sampler, generate_ids
from pydyfast.bench import llama as bench

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_without_checkpoint_says_where_to_get_it(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "llama.infer", "--checkpoint",
                           str(tmp_path / "stories15M.bin")], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert "stories15M.bin" in proc.stderr and "tokenizer.bin" in proc.stderr
    assert "llama2.c" in proc.stderr and "--random-init" in proc.stderr


def test_random_init_streams_and_reports(capsys, toy_tokenizer_file):
    rc = infer.main(["--random-init", "-n", "5", "--seed", "3", "--prompt", "Once upon",
                     "--tokenizer", toy_tokenizer_file])
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("Once upon")
    assert re.search(r"\nToken count: 5, elapsed: [0-9.]+ s, [0-9.]+ tokens/s\n$", out)


def test_random_init_without_tokenizer_says_why_it_prints_ids(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(infer, "HERE", str(tmp_path))  # no tokenizer.bin in the default place
    rc = infer.main(["--random-init", "-n", "3", "--seed", "1"])
    captured = capsys.readouterr()
    assert rc == 0 and "no tokenizer" in captured.err and "printing token ids" in captured.err
    assert len(captured.out.split("\n")[0].split()) == 3  # three ids, then the count line


def test_prompt_without_tokenizer_stops_with_the_reason(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(infer, "HERE", str(tmp_path))
    rc = infer.main(["--random-init", "-n", "3", "--prompt", "Once upon"])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot encode --prompt" in err and "--tokenizer" in err


def test_installed_entry_points_run_from_any_folder(tmp_path):
    """``python -m pydyfast.llama`` works outside the checkout (llama/ installs as it)."""
    proc = subprocess.run([sys.executable, "-m", "pydyfast.llama", "--random-init", "-n", "2"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Token count: 2" in proc.stdout


def test_checkpoint_run_prints_ids_without_matching_tokenizer(capsys, llama_data):
    rc = infer.main(["--checkpoint", os.path.join(llama_data, "stories260K.bin"), "-n", "4",
                     "-t", "0", "--tokenizer", os.path.join(llama_data, "tokenizer.bin")])
    captured = capsys.readouterr()
    assert rc == 0 and "printing token ids" in captured.err
    with open(os.path.join(llama_data, "stories260K_greedy_ids.txt")) as f:
        first = " ".join(f.read().split()[:4])
    assert captured.out.startswith(first + " ")


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "unshared"])
@pytest.mark.parametrize("baseline", ["numpy", "torch"])
def test_bench_baselines_match_model(small_config, small_weights, baseline, shared):
    """The benchmark's own NumPy and PyTorch decoders compute the same logits as llama.Llama."""
    small_config.shared_classifier = shared
    if shared:
        del small_weights["output"]
    other = getattr(bench, f"_{baseline}_decoder")(small_config, small_weights)
    model = Llama(small_config, small_weights)
    ids = [1, 7, 3, 30]
    for n in range(1, len(ids) + 1):
        np.testing.assert_allclose(other(ids[:n]), model.logits(np.array(ids[n - 1:n]))[0],
                                   rtol=1e-4, atol=1e-4)


def test_bench_model_files_load_and_never_choose_bos(tmp_path):
    config, weights = bench.write_model(tmp_path)
    f32 = load_checkpoint(tmp_path / bench.FLOAT32_FILE)
    q8 = load_checkpoint(tmp_path / bench.INT8_FILE)
    assert q8.group_size == bench.GROUP_SIZE and f32.group_size == 0
    assert not np.any(weights["output"][1])
    ids = list(generate_ids(f32, [1], 8, Sampler(0.0)))
    assert len(ids) == 8 and 1 not in ids


def test_quantize_int8_from_the_command_line(capsys):
    rc = infer.main(["--random-init", "--quantize", "int8", "-n", "4", "--seed", "2"])
    captured = capsys.readouterr()
    assert rc == 0 and "Token count: 4" in captured.out
