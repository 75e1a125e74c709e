"""llama.train: the loss of a tiny run falls, and its llama2.c export generates what it learned."""
import numpy as np
import pytest

import pydyfast as pdf
from llama import train
from llama.loaders import load_checkpoint
from llama.tokenizer import Llama2cTokenizer


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    args = train.parse_args(["--dim", "32", "--hidden-dim", "64", "--layers", "2", "--heads",
                             "4", "--kv-heads", "2", "--seq-len", "32", "--batch-size", "8",
                             "--steps", "60", "--warmup", "5", "--lr", "1e-2",
                             "--eval-every", "30", "--quiet"])
    model, config, history = train.train(args)
    folder = tmp_path_factory.mktemp("tiny")
    return model, config, history, train.save(model, config, str(folder))


def test_loss_falls(tiny_run):
    _, _, history, _ = tiny_run
    losses = [loss for _, loss in history["train"]]
    assert np.isfinite(losses).all()
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 1.0  # from ~5.5 (uniform over 259)
    assert [step for step, _ in history["valid"]] == [30, 60]


def test_export_reloads_with_the_same_logits_and_ids(tiny_run):
    model, config, _, (checkpoint, _) = tiny_run
    loaded = load_checkpoint(checkpoint)
    assert loaded.config == config and loaded.compiled is True
    ids = np.array([1, 87, 107, 104, 35, 100])
    with pdf.no_grad():
        trained = model(pdf.tensor(ids[None])).numpy()[0]
    loaded.reset()
    np.testing.assert_allclose(loaded.logits(ids), trained, rtol=1e-4, atol=1e-4)
    loaded.reset()  # and token by token, through the compiled decode step
    steps = np.stack([loaded.logits(ids[i:i + 1])[0] for i in range(len(ids))])
    np.testing.assert_allclose(steps, trained, rtol=1e-4, atol=1e-4)


def test_byte_tokenizer_round_trips_any_text(tiny_run):
    _, _, _, (_, tokenizer_path) = tiny_run
    tok = Llama2cTokenizer(tokenizer_path)
    assert tok.vocab_size == 259
    text = "def f(x):\n    return x ** 2  # ünïcödé ✓"
    ids = tok.encode(text, bos=True)
    assert ids[0] == 1 and all(3 <= i < 259 for i in ids[1:])
    assert tok.decode(ids) == text
    corpus = train.corpus()
    assert len(corpus) > 100_000 and corpus.min() >= 3 and corpus.max() < 259
