"""pydyfast.save / pydyfast.load: round trips, no pickle, atomic writes, clear errors."""
import io
import math
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import pydyfast
from pydyfast import nn
from pydyfast.serialization import load, save


def test_nested_round_trip_keeps_types_and_values(tmp_path, dtype):
    t = pydyfast.Tensor(np.arange(6, dtype=dtype).reshape(2, 3), requires_grad=True)
    obj = OrderedDict([
        ("z", t), ("a", np.array([1, 2], np.int64)), (3, [1.5, "s", None, True]),
        (None, (math.inf, -0.0)), ("scalar", np.float32(2.5)), ("empty", np.zeros((0, 4))),
        ("param", nn.Parameter(np.ones(2, dtype))), ("same", t),
    ])
    save(obj, tmp_path / "obj.npz")
    back = load(tmp_path / "obj.npz")
    assert list(back) == list(obj)  # order and key types (str, int, None) kept
    assert isinstance(back["z"], pydyfast.Tensor) and back["z"].requires_grad
    assert back["z"].dtype == dtype
    np.testing.assert_array_equal(back["z"].data, t.data)
    assert back["a"].dtype == np.int64 and back[3] == [1.5, "s", None, True]
    assert back[None] == (math.inf, -0.0) and isinstance(back[None], tuple)
    assert back["scalar"] == np.float32(2.5) and back["scalar"].dtype == np.float32
    assert back["empty"].shape == (0, 4)
    assert isinstance(back["param"], nn.Parameter)
    assert back["same"] is back["z"]  # one tensor saved twice loads as one


def test_file_is_npz_with_json_manifest_and_no_pickle(tmp_path):
    save({"w": np.ones(3)}, tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        assert sorted(z.namelist()) == ["__pydyfast__.npy", "a0.npy"]
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        assert b'"format": "pydyfast"' in bytes(npz["__pydyfast__"])


def test_file_objects_and_path_without_suffix(tmp_path):
    buf = io.BytesIO()
    save([np.arange(3)], buf)
    buf.seek(0)
    np.testing.assert_array_equal(load(buf)[0], np.arange(3))
    save({"k": 1}, str(tmp_path / "ckpt"))  # no .npz appended, unlike np.savez(path)
    assert load(str(tmp_path / "ckpt")) == {"k": 1}


def test_module_state_dict_round_trip(tmp_path):
    model = nn.Sequential(nn.ModuleDict({"a": nn.Module()}))
    model[0]["a"].weight = nn.Parameter(np.random.default_rng(0).standard_normal((3, 2)))
    model[0]["a"].register_buffer("running", pydyfast.Tensor(np.arange(3.0)))
    save(model.state_dict(), tmp_path / "model.npz")
    other = nn.Sequential(nn.ModuleDict({"a": nn.Module()}))
    other[0]["a"].weight = nn.Parameter(np.zeros((3, 2)))
    other[0]["a"].register_buffer("running", pydyfast.Tensor(np.zeros(3)))
    other.load_state_dict(load(tmp_path / "model.npz"))
    np.testing.assert_array_equal(other[0]["a"].weight.data, model[0]["a"].weight.data)
    np.testing.assert_array_equal(other[0]["a"].running.data, np.arange(3.0))


def test_save_is_atomic_on_failure(tmp_path):
    path = tmp_path / "keep.npz"
    save({"v": np.ones(2)}, path)
    with pytest.raises(TypeError, match="cannot store object"):
        save({"v": np.zeros(2), "bad": object()}, path)
    np.testing.assert_array_equal(load(path)["v"], np.ones(2))  # the old file is intact
    assert sorted(os.listdir(tmp_path)) == ["keep.npz"]  # no temporary file left


@pytest.mark.parametrize("bad,match", [
    ({1.5j: 1}, "dict key"),
    ({"f": lambda: 0}, "cannot store function"),
])
def test_unstorable_objects_raise(tmp_path, bad, match):
    with pytest.raises(TypeError, match=match):
        save(bad, tmp_path / "x.npz")


def test_truncated_and_corrupt_files_raise_clearly(tmp_path):
    path = tmp_path / "good.npz"
    save({"w": np.ones((50, 50))}, path)
    raw = path.read_bytes()
    (tmp_path / "short.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(RuntimeError, match="short.npz is not a valid pydyfast checkpoint"):
        load(tmp_path / "short.npz")
    (tmp_path / "noise.npz").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(RuntimeError, match="corrupt, truncated"):
        load(tmp_path / "noise.npz")
    np.savez(tmp_path / "plain.npz", w=np.ones(2))  # a valid npz, but not ours
    with pytest.raises(RuntimeError, match="not a valid pydyfast checkpoint"):
        load(tmp_path / "plain.npz")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


def test_pickled_object_arrays_are_refused(tmp_path):
    save({"w": np.ones(2)}, tmp_path / "ok.npz")
    with zipfile.ZipFile(tmp_path / "ok.npz") as z:
        manifest = z.read("__pydyfast__.npy")
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as z:
        z.writestr("__pydyfast__.npy", manifest)
        buf = io.BytesIO()
        np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
        z.writestr("a0.npy", buf.getvalue())
    with pytest.raises(RuntimeError, match="not a valid pydyfast checkpoint"):
        load(tmp_path / "evil.npz")
