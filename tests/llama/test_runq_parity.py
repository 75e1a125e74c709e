"""pydyfast's int8 Llama gives runq.c's greedy ids on a checkpoint this test writes with
pydyfast's own exporter (llama/export.py, version 2, groups of 32).

The expected ids were produced by llama2.c's runq.c on exactly this file (its SHA-256 is checked
first), built both with ``gcc -O3 -march=native -ffp-contract=off -fopenmp`` and with
``gcc -Ofast -march=native -fopenmp`` on an AMD EPYC (Zen 4): both builds printed these 48
tokens. runq.c cannot be built here (its source is not available offline), so its output is
recorded. To regenerate: write the files as below, run
``runq m8.bin -z tok.bin -t 0 -n 49 -i ""`` and read the ids back from the ``|<id>`` pieces.
"""
import hashlib

import numpy as np

from llama.export import write_checkpoint, write_tokenizer
from llama.loaders import load_checkpoint
from llama.model import LlamaConfig, random_weights

CHECKPOINT_SHA256 = "72e6222f5f8787f705f1924680cb975a842934552e80a3dc65e556d47bfc0c03"
RUNQ_C_IDS = [242, 326, 242, 326, 242, 242, 261, 281, 175, 326, 96, 326, 390, 301, 189, 322, 477,
              189, 417, 492, 361, 66, 410, 261, 456, 241, 59, 322, 189, 164, 85, 452, 98, 55, 172,
              85, 335, 31, 179, 139, 435, 383, 254, 172, 415, 225, 302, 261]


def _write_model(folder):
    """A small model whose greedy ids vary (weights 10x the default scale, an unshared random
    classifier whose BOS row is zero), and a tokenizer whose piece i >= 3 is "|i"."""
    config = LlamaConfig(dim=64, hidden_dim=192, n_layers=2, n_heads=4, n_kv_heads=2,
                         vocab_size=512, seq_len=64, shared_classifier=False)
    weights = {k: (v * 10 if v.ndim > 1 else v) for k, v in random_weights(config, 7).items()}
    output = np.random.default_rng(8).standard_normal((config.vocab_size, config.dim)) * 0.3
    weights["output"] = output.astype(np.float32)
    weights["output"][1] = 0
    path = folder / "m8.bin"
    write_checkpoint(path, config, weights, version=2, group_size=32)
    pieces = [b"<unk>", b"<s>", b"</s>"] + [b"|%d" % i for i in range(3, config.vocab_size)]
    write_tokenizer(folder / "tok.bin", pieces, [0.0] * len(pieces))
    return path


def test_int8_greedy_ids_are_runq_c_ids(tmp_path, kernels):
    path = _write_model(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == CHECKPOINT_SHA256, (
        "the exporter or numpy's generator now writes another file than the one runq.c was run "
        "on; regenerate RUNQ_C_IDS as the module docstring says")
    model = load_checkpoint(str(path))
    model.reset()
    ids = [1]
    for _ in RUNQ_C_IDS:
        ids.append(int(np.argmax(model.logits(np.array(ids[-1:]))[-1])))
    assert ids[1:] == RUNQ_C_IDS
