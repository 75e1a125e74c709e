"""The compiled decode step (csrc/llama.cpp) against the reference path of pydyfast's ops, int8
quantization (llama/quant.py), and the llama2.c writer/reader round trips (llama/export.py)."""
import numpy as np
import pytest

from llama import quant
from llama.export import write_checkpoint
from llama.loaders import load_checkpoint
from llama.model import Llama, LlamaConfig, random_weights
from pydyfast import backend

IDS = [1, 5, 7, 3, 9, 11, 30, 2]


def q8_config(shared=False):
    """dim and hidden multiples of 32, so that the SIMD int8 kernels apply at group size 32."""
    return LlamaConfig(dim=64, hidden_dim=160, n_layers=2, n_heads=4, n_kv_heads=2,
                       vocab_size=37, seq_len=32, shared_classifier=shared)


def step_by_step(model, ids):
    model.reset()
    return np.stack([model.logits(np.array([i]))[0] for i in ids])


def reference_steps(model, ids):
    previous = backend.get_kernels()
    backend.set_kernels("numpy")
    try:
        assert model.compiled is False
        return step_by_step(model, ids)
    finally:
        backend.set_kernels(previous)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "unshared"])
def test_compiled_step_equals_reference(small_config, small_weights, dtype, shared):
    small_config.shared_classifier = shared
    if shared:
        del small_weights["output"]
    model = Llama(small_config, small_weights, dtype)
    assert model.compiled is True
    compiled = step_by_step(model, IDS)
    assert compiled.dtype == dtype and compiled.shape == (len(IDS), small_config.vocab_size)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(compiled, reference_steps(model, IDS), **tol)
    model.reset()  # the prompt as one matrix product (prefill), then compiled steps
    prefill = model.logits(np.array(IDS[:5]))
    np.testing.assert_allclose(np.concatenate([prefill, step_by_step_from(model, IDS[5:])]),
                               compiled, **tol)


def test_prefill_products_run_on_pydyfast_gemm(small_config, small_weights, monkeypatch):
    """The prompt's weight products go through _C.gemm (csrc/gemm.h) with W as a transpose flag,
    not numpy's BLAS."""
    from pydyfast import _C
    model = Llama(small_config, small_weights)
    expected = reference_steps(model, IDS[:5])[-1]
    shapes = []
    gemm = _C.gemm

    def spy(a, b, **flags):
        shapes.append((a.shape, b.shape, flags))
        return gemm(a, b, **flags)
    monkeypatch.setattr(_C, "gemm", spy)
    model.reset()
    logits = model.logits(np.array(IDS[:5]))
    c = small_config
    per_layer = [((5, c.dim), (c.dim + 2 * c.kv_dim, c.dim)), ((5, c.dim), (c.dim, c.dim)),
                 ((5, c.dim), (2 * c.hidden_dim, c.dim)),
                 ((5, c.hidden_dim), (c.dim, c.hidden_dim))]
    classifier = ((5, c.dim), (c.vocab_size, c.dim))
    dense = [s for s in shapes if len(s[0]) == 2]  # the 3-D ones are attention's, per head
    assert [s[:2] for s in dense] == per_layer * c.n_layers + [classifier]
    assert all(s[2]["trans_b"] and not s[2]["trans_a"] for s in dense)
    np.testing.assert_allclose(logits[-1], expected, rtol=1e-5, atol=1e-5)


def step_by_step_from(model, ids):
    return np.stack([model.logits(np.array([i]))[0] for i in ids])


@pytest.mark.parametrize("kernel", ["vnni", "avx2", "scalar"])
@pytest.mark.parametrize("shared", [True, False], ids=["shared", "unshared"])
def test_int8_kernels_equal_the_reference(kernel, shared):
    from pydyfast import _C
    config = q8_config(shared)
    model = Llama.random(config, seed=2, group_size=32)
    reference = reference_steps(model, IDS)
    a = model._arrays()
    c = config
    decoder = _C.llama_decoder((c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads,
                                c.vocab_size, c.seq_len, c.norm_eps), a["weights"], a["k"],
                               a["v"], a["cos"], a["sin"], 32, kernel)
    available = _C.q8_kernel(32)
    # a kernel the CPU lacks falls back to the next one down (vnni -> avx2 -> scalar)
    order = ["vnni", "avx2", "scalar"]
    assert order.index(decoder.kernel) >= max(order.index(kernel), order.index(available))
    logits = np.stack([decoder.step(i, pos) for pos, i in enumerate(IDS)])
    # same integer sums and the same float order over groups: only activation roundings that
    # sit on a tie can differ between C's and NumPy's arithmetic
    np.testing.assert_allclose(logits, reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("group_size", [0, 32], ids=["float32", "int8"])
def test_logits_do_not_depend_on_the_thread_count(group_size):
    """Teams of 1 and 2 threads own whole kv-head groups; 3 and 4 threads (more than the two kv
    heads) split the q/k/v rows and the heads instead. Every output keeps its float order."""
    import pydyfast
    model = Llama.random(q8_config(), seed=3, group_size=group_size)
    previous = pydyfast.get_num_threads()
    try:
        runs = []
        for threads in (1, 2, 3, 4):
            pydyfast.set_num_threads(threads)
            runs.append(step_by_step(model, IDS))
    finally:
        pydyfast.set_num_threads(previous)
    for run in runs[1:]:
        np.testing.assert_array_equal(run, runs[0])


def test_float32_rotary_tables_are_llama2c_float32_angles():
    """The compiled tables (the C library's powf/cosf/sinf on float32 angles, as runq.c) and the
    NumPy fallback (float64 rounded) agree to a last bit; both stay within float32 angle error
    of the exact tables. float64 models keep the exact ones."""
    from pydyfast import _C
    from pydyfast.ops.attention import rope_tables
    from llama.model import rotary_tables
    config = LlamaConfig(dim=96, n_heads=2, n_kv_heads=2, seq_len=256)
    compiled = rotary_tables(config, np.float32)
    previous = backend.get_kernels()
    backend.set_kernels("numpy")
    try:
        fallback = rotary_tables(config, np.float32)
    finally:
        backend.set_kernels(previous)
    exact = rope_tables(48, 256)
    for got, ref, fell_back in zip(compiled, exact, fallback):
        assert got.dtype == np.float32 and got.shape == (256, 24)
        ulps = np.abs(got.view(np.int32).astype(np.int64) - fell_back.view(np.int32))
        assert ulps.max() <= 1 and np.mean(ulps == 0) > 0.97  # glibc: < 1 ulp, not always exact
        np.testing.assert_allclose(got, ref, atol=3e-5)  # angles up to 255 rad in float32
        assert not np.array_equal(got, ref)  # not the float64 angles rounded
    assert rotary_tables(config, np.float64)[0].dtype == np.float64
    with pytest.raises(ValueError, match="llama_rope_tables: expected a positive even head_dim"):
        _C.llama_rope_tables(7, 4, 10000.0)


def test_int8_group_size_not_a_multiple_of_32_runs_the_scalar_kernel():
    config = LlamaConfig(dim=48, hidden_dim=96, n_layers=1, n_heads=4, n_kv_heads=2,
                         vocab_size=20, seq_len=16, shared_classifier=False)
    model = Llama.random(config, seed=1, group_size=16)
    assert model.compiled == "scalar"
    np.testing.assert_allclose(step_by_step(model, IDS[:4]), reference_steps(model, IDS[:4]),
                               rtol=1e-5, atol=1e-5)


def test_int8_greedy_ids_match_float_on_a_small_model():
    """int8 changes logits a little: the greedy path of a small model stays the float one for
    its first tokens, and the logits stay within the quantization error."""
    config = q8_config()
    weights = random_weights(config, seed=5)
    f32, q8 = Llama(config, weights), Llama(config, weights, group_size=32)
    a, b = step_by_step(f32, IDS), step_by_step(q8, IDS)
    assert np.abs(a - b).max() < 0.05 * np.abs(a).max()


def test_quantize_round_trip_error_is_within_half_a_step():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((7, 96)).astype(np.float32)
    w[3, :32] = 0  # an all-zero group stays zero, without 0 / 0
    q, s = quant.quantize(w, 32)
    assert q.dtype == np.int8 and s.shape == (7, 3) and np.abs(q).max() <= 127
    back = quant.dequantize(q, s)
    step = np.repeat(s, 32, axis=1)
    assert np.all(np.abs(back - w) <= step / 2 + 1e-7)
    assert not np.any(back[3, :32])
    assert np.array_equal(q, quant.quantize(back, 32)[0])  # quantizing again changes nothing
    assert quant.default_group_size(288, 768) == 32 and quant.default_group_size(64, 256) == 64
    with pytest.raises(ValueError, match="not a multiple of the group size 32"):
        quant.quantize(w[:, :40], 32)


def test_ties_round_as_export_py_and_runq_c():
    x = np.array([[0.5, 1.5, -0.5, -2.5, 127.0] + [0.0] * 3], np.float32)  # scale 1
    assert quant.quantize(x, 8)[0][0, :4].tolist() == [0, 2, 0, -2]  # torch.round: to even
    assert quant.quantize(x, 8, ties_away=True)[0][0, :4].tolist() == [1, 2, -1, -3]  # round()


@pytest.mark.parametrize("version", [0, 1, 2])
@pytest.mark.parametrize("shared", [True, False], ids=["shared", "unshared"])
def test_exported_checkpoint_reloads_and_generates_the_same(tmp_path, version, shared):
    config = q8_config(shared)
    weights = random_weights(config, seed=4)  # has "output" only when unshared
    path = write_checkpoint(tmp_path / "m.bin", config, weights, version=version)
    loaded = load_checkpoint(path)
    assert loaded.config == config
    assert loaded.group_size == (32 if version == 2 else 0)
    if version == 1:  # a float file quantized at load equals the int8 file of the same weights
        q8 = load_checkpoint(path, quantize="int8")
        assert q8.group_size == 32 and q8.compiled in ("vnni", "avx2", "scalar")
    original = Llama(config, weights, group_size=loaded.group_size)
    np.testing.assert_array_equal(step_by_step(loaded, IDS), step_by_step(original, IDS))


def test_int8_file_rejects_truncation_and_a_different_group_size(tmp_path):
    config = q8_config()
    path = write_checkpoint(tmp_path / "m.bin", config, random_weights(config), version=2)
    with pytest.raises(ValueError, match="cannot requantize them in groups of 16"):
        load_checkpoint(path, quantize="int8", group_size=16)
    assert load_checkpoint(path, quantize="int8").group_size == 32
    data = path.read_bytes()
    (tmp_path / "short.bin").write_bytes(data[:-3])
    with pytest.raises(ValueError, match="truncated"):
        load_checkpoint(tmp_path / "short.bin")
    (tmp_path / "long.bin").write_bytes(data + b"\0")
    with pytest.raises(ValueError, match="extra data"):
        load_checkpoint(tmp_path / "long.bin")


def test_int8_needs_float32_and_a_dividing_group_size():
    config = q8_config()
    with pytest.raises(ValueError, match="int8 weights decode in float32"):
        Llama.random(config, dtype=np.float64, group_size=32)
    with pytest.raises(ValueError, match="not a multiple of the group size 48"):
        Llama.random(config, group_size=48)


def test_decoder_rejects_bad_tokens_positions_and_arrays(small_config, small_weights):
    from pydyfast import _C
    model = Llama(small_config, small_weights)
    decoder = model._decoder()
    with pytest.raises(ValueError, match=r"token 37 is not in \[0, 37\)"):
        decoder.step(37, 0)
    with pytest.raises(ValueError, match=r"position 32 is not in \[0, 32\)"):
        decoder.step(1, 32)
    a = model._arrays()
    c = small_config
    shape = (c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len,
             c.norm_eps)
    weights = dict(a["weights"], norm=a["weights"]["norm"][:-1])
    with pytest.raises(ValueError, match=r"norm has shape \(47,\), expected \(48,\)"):
        _C.llama_decoder(shape, weights, a["k"], a["v"], a["cos"], a["sin"])
    with pytest.raises(ValueError, match="k_cache must be C-contiguous"):
        _C.llama_decoder(shape, a["weights"], a["k"][:, :, ::2], a["v"], a["cos"], a["sin"])
    with pytest.raises(ValueError, match="weight 'layers.0.wo' is missing"):
        _C.llama_decoder(shape, {k: v for k, v in a["weights"].items()
                                 if k != "layers.0.wo"}, a["k"], a["v"], a["cos"], a["sin"])
    with pytest.raises(ValueError, match="config must be"):
        _C.llama_decoder(shape[:3], a["weights"], a["k"], a["v"], a["cos"], a["sin"])
    with pytest.raises(ValueError, match="sizes must be positive"):
        _C.llama_decoder((48, 100, 2, 5, 2, 37, 32, 1e-5), a["weights"], a["k"], a["v"],
                         a["cos"], a["sin"])
