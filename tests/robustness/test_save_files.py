"""Issue 13 item 4: pdf.save's temporary files and file mode.

A save killed mid-write leaves its temporary behind (SIGKILL runs no cleanup); the next save to
the same path removes it. Temporaries have a recognizable name; a live process's is kept. The
checkpoint gets the mode a plain open() gives (0o666 minus the umask, or the old file's mode).
"""
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from robustness.capped import ROOT

import pydyfast

KILL_MID_WRITE = """
import os, signal, sys
import numpy as np
import pydyfast
os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # die after writing, before rename
pydyfast.save({"w": np.ones(1000)}, sys.argv[1])
"""


def temporaries(folder):
    return sorted(n for n in os.listdir(folder) if ".pydyfast-tmp-" in n)


def test_killed_save_leaves_a_named_temporary_that_the_next_save_removes(tmp_path):
    target = tmp_path / "model.npz"
    proc = subprocess.run([sys.executable, "-c", KILL_MID_WRITE, str(target)], cwd=ROOT,
                          check=False, capture_output=True, timeout=120)
    assert proc.returncode == -9
    left = temporaries(tmp_path)
    assert len(left) == 1 and left[0].startswith(".model.npz.pydyfast-tmp-")
    assert not target.exists()
    pydyfast.save({"w": np.zeros(2)}, target)
    assert temporaries(tmp_path) == []
    np.testing.assert_array_equal(pydyfast.load(target)["w"], np.zeros(2))


def test_a_live_process_temporary_and_other_targets_are_left_alone(tmp_path):
    live = tmp_path / f".model.npz.pydyfast-tmp-{os.getpid()}-abcd"
    other = tmp_path / ".other.npz.pydyfast-tmp-999999999-abcd"
    live.write_bytes(b"x")
    other.write_bytes(b"x")
    pydyfast.save({"w": np.zeros(2)}, tmp_path / "model.npz")
    assert live.exists() and other.exists()


def test_failed_or_interrupted_save_removes_its_temporary(tmp_path, monkeypatch):
    with pytest.raises(TypeError):
        pydyfast.save({"bad": object()}, tmp_path / "m.npz")
    pydyfast.save({"w": np.zeros(2)}, tmp_path / "m.npz")
    before = sorted(os.listdir(tmp_path))

    def interrupted(out, **arrays):
        out.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(pydyfast.serialization.np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pydyfast.save({"w": np.ones(2)}, tmp_path / "m.npz")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == before  # no temporary, the old file intact
    np.testing.assert_array_equal(pydyfast.load(tmp_path / "m.npz")["w"], np.zeros(2))


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_checkpoint_gets_the_mode_open_would_give(tmp_path, umask):
    old = os.umask(umask)
    try:
        pydyfast.save({"w": np.zeros(2)}, tmp_path / "m.npz")
        with open(tmp_path / "plain", "wb"):
            pass
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode) == 0o666 & ~umask


def test_overwritten_checkpoint_keeps_its_mode(tmp_path):
    path = tmp_path / "m.npz"
    pydyfast.save({"w": np.zeros(2)}, path)
    os.chmod(path, 0o640)
    pydyfast.save({"w": np.ones(2)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_load_from_a_stream_that_cannot_seek():
    import io
    buf = io.BytesIO()
    pydyfast.save({"w": np.arange(3.0)}, buf)

    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self.data = data

        def readable(self):
            return True

        def read(self, n=-1):
            data, self.data = self.data, b""
            return data

    np.testing.assert_array_equal(pydyfast.load(Pipe(buf.getvalue()))["w"], np.arange(3.0))
