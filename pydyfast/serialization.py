"""``pydyfast.save`` / ``pydyfast.load``: state dicts and nested containers of arrays on disk.

Format (version 1): an uncompressed NumPy ``.npz`` archive (a zip of ``.npy`` files).

* ``__pydyfast__.npy`` holds, as uint8 bytes, the UTF-8 JSON manifest
  ``{"format": "pydyfast", "version": 1, "root": <node>}``.
* Every array is stored as ``a<N>.npy``, always on the CPU.
* A node is one of ``{"tensor": "aN", "requires_grad": bool, "parameter": bool}``,
  ``{"array": "aN"}``, ``{"numpy_scalar": "aN"}`` (a 0-d array), ``{"dict": [[key, node],
  ...]}`` (keys are str, int, float, bool or None, kept with their type; OrderedDict order is
  kept), ``{"list": [node, ...]}``, ``{"tuple": [node, ...]}``, or ``{"value": x}`` for str,
  int, float (inf and nan included), bool and None.

Nothing is pickled: loading uses ``allow_pickle=False``, so a file cannot run code. A Tensor
saved twice in one object is stored once and loads as one Tensor. Writes go to a temporary file
in the target directory, then ``os.replace``, so an interrupted save never leaves a truncated
checkpoint behind. ``load`` checks sizes before allocating and the manifest's structure before
building, so a crafted file gives the documented RuntimeError, never a crash or a huge allocation.
"""
import contextlib
import io
import json
import math
import os
import secrets
import stat
import zipfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

_MANIFEST = "__pydyfast__"
_VERSION = 1
_KEY_TYPES = (str, int, float, bool, type(None))
_MAX_DEPTH = 100  # manifest nesting; deeper is a crafted file, not a real checkpoint


class _Writer:
    def __init__(self):
        self.arrays = {}
        self.names_by_id = {}

    def _store(self, obj, array):
        name = self.names_by_id.get(id(obj))
        if name is None:
            name = f"a{len(self.arrays)}"
            self.arrays[name] = array.get() if hasattr(array, "get") else np.asarray(array)
            self.names_by_id[id(obj)] = name
        return name

    def encode(self, obj, where):
        from .nn.parameter import Parameter
        if isinstance(obj, Tensor):
            return {"tensor": self._store(obj, obj.data), "requires_grad": obj.requires_grad,
                    "parameter": isinstance(obj, Parameter)}
        if isinstance(obj, np.ndarray) or hasattr(obj, "__cuda_array_interface__"):
            return {"array": self._store(obj, obj)}
        if isinstance(obj, np.generic):
            return {"numpy_scalar": self._store(obj, np.asarray(obj))}
        if isinstance(obj, dict):
            for k in obj:
                if not isinstance(k, _KEY_TYPES):
                    raise TypeError(f"pydyfast.save: dict key {k!r} at {where} has type "
                                    f"{type(k).__name__}; keys must be str, int, float, bool "
                                    f"or None")
            return {"dict": [[k, self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {kind: [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, _KEY_TYPES):
            return {"value": obj}
        raise TypeError(f"pydyfast.save: cannot store {type(obj).__name__} at {where}; "
                        f"save stores Tensors, arrays, numbers, strings, None and dicts, lists "
                        f"and tuples of them (use state_dict() for Modules and Optimizers)")


def save(obj, f):
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of Tensors, arrays and
    scalars) to the path or binary file object ``f``. See the module docstring for the format.

    A path is written through a temporary file ``.<name>.pydyfast-tmp-<pid>-<random>`` beside
    it, then renamed over it; the temporary is removed on every exit Python sees, and one left
    by a killed process (whose pid is gone) is removed by the next save to the same path. The
    file gets the mode a plain ``open(path, "wb")`` would give (the umask, or the old file's).
    """
    writer = _Writer()
    manifest = {"format": "pydyfast", "version": _VERSION, "root": writer.encode(obj, "obj")}
    text = json.dumps(manifest, allow_nan=True).encode("utf-8")
    arrays = dict(writer.arrays)
    arrays[_MANIFEST] = np.frombuffer(text, dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    path = os.path.abspath(os.fspath(f))
    directory, name = os.path.split(path)
    _remove_stale_temporaries(directory, name)
    tmp = os.path.join(directory, f"{_temporary_prefix(name)}{os.getpid()}-"
                                  f"{secrets.token_hex(4)}")
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666 & ~umask, as open()
    try:
        with os.fdopen(fd, "wb") as out:
            if mode is not None:
                os.fchmod(out.fileno(), mode)
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _temporary_prefix(name):
    return f".{name}.pydyfast-tmp-"


def _remove_stale_temporaries(directory, name):
    """Delete temporaries of ``name`` left by processes that no longer exist (a save killed
    mid-write); a live process's temporary (a concurrent save) is left alone."""
    prefix = _temporary_prefix(name)
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not entry.startswith(prefix):
            continue
        pid = entry[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, entry))


def _process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or we cannot tell: keep its file
    return True


def _fail(where, what):
    """The loader's one error: a ValueError the caller turns into the documented RuntimeError."""
    raise ValueError(f"{what} (at {where})")


class _Reader:
    """Turns a manifest node back into objects, checking every node's type on the way: the
    manifest comes from the file, so it may be anything JSON can say."""

    def __init__(self, archive):
        self.archive = archive
        self.tensors = {}

    def _array(self, name, where):
        if not isinstance(name, str) or name not in self.archive:
            _fail(where, f"the manifest names array {name!r}, which the archive does not hold")
        return self.archive[name]

    def decode(self, node, where="root", depth=0):
        from .nn.parameter import Parameter
        if depth > _MAX_DEPTH:
            _fail(where, f"the manifest nests deeper than {_MAX_DEPTH} levels")
        if not isinstance(node, dict) or len(node) == 0:
            _fail(where, f"a manifest node must be a non-empty object, got {type(node).__name__}")
        if "tensor" in node:
            name = node["tensor"]
            if name not in self.tensors:
                cls = Parameter if node.get("parameter") is True else Tensor
                array = self._array(name, where)
                self.tensors[name] = cls._wrap(array, node.get("requires_grad") is True)
            return self.tensors[name]
        if "array" in node:
            return self._array(node["array"], where)
        if "numpy_scalar" in node:
            return self._array(node["numpy_scalar"], where)[()]
        if "value" in node:
            if not isinstance(node["value"], _KEY_TYPES):
                _fail(where, f"a value node holds {type(node['value']).__name__}")
            return node["value"]
        kind = next((k for k in ("dict", "list", "tuple") if k in node), None)
        if kind is None:
            _fail(where, f"unknown manifest node {sorted(map(str, node))}")
        items = node[kind]
        if not isinstance(items, list):
            _fail(where, f"a {kind} node must hold a list, got {type(items).__name__}")
        if kind != "dict":
            values = [self.decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(items)]
            return values if kind == "list" else tuple(values)
        out = OrderedDict()
        for item in items:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], _KEY_TYPES)):
                _fail(where, "a dict node must hold [key, node] pairs with str, int, float, "
                             "bool or None keys")
            out[item[0]] = self.decode(item[1], f"{where}[{item[0]!r}]", depth + 1)
        return out


def _read_member(archive, info, where, max_expansion):
    """One ``.npy`` member, read only after its header is checked against the bytes it holds,
    so a header claiming 1 TiB cannot make numpy allocate 1 TiB."""
    if info.file_size > max_expansion * max(info.compress_size, 1):
        _fail(where, f"member {info.filename} expands from {info.compress_size} to "
                     f"{info.file_size} bytes, more than the {max_expansion}x allowed")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0), (3, 0)):
            _fail(where, f"member {info.filename} has unknown .npy version {version}")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(member)
        if dtype.hasobject:
            _fail(where, f"member {info.filename} holds Python objects (pickle), which load "
                         f"refuses")
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes != info.file_size - member.tell():
            _fail(where, f"member {info.filename} claims shape {shape} of {dtype} "
                         f"({nbytes} bytes) but holds {info.file_size - member.tell()} bytes")
        data = bytearray(member.read(nbytes))  # writable, so the array needs no second copy
    if len(data) != nbytes:
        _fail(where, f"member {info.filename} is truncated")
    order = "F" if fortran_order else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order)


def read_npz_arrays(source, where, max_expansion=1):
    """Every array of the ``.npz`` (zip of ``.npy``) at the path or binary file ``source``, each
    member's sizes checked before anything is allocated: the declared sizes must fit the file
    (a member may expand at most ``max_expansion`` times: 1 means stored, as ``save`` writes,
    which stops zip bombs), and each array header must match its bytes. Pickled (object) arrays
    are refused. Raises ValueError, zipfile.BadZipFile or OSError naming ``where``."""
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
        size = archive.fp.seek(0, os.SEEK_END)
        if sum(info.compress_size for info in infos) > size:
            _fail(where, "the archive's members claim more bytes than the file holds")
        arrays = {}
        for info in infos:
            if not info.filename.endswith(".npy"):
                _fail(where, f"unexpected member {info.filename!r}")
            arrays[info.filename[:-4]] = _read_member(archive, info, where, max_expansion)
        return arrays


def load(f):
    """Read an object written by ``save`` from a path or binary file object. Arrays come back
    on the CPU (``Module.load_state_dict`` moves them to the module's device).

    The file is checked before anything is built from it: members must be stored uncompressed,
    every array's header must match its bytes (no allocation beyond the file's size), and the
    manifest must be the documented structure, at most 100 levels deep.

    Raises
    ------
    RuntimeError
        When the file is not a pydyfast checkpoint, or is corrupt, truncated or crafted.
    """
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as source:  # a missing file stays FileNotFoundError
            return _load_from(source, f)
    return _load_from(f, getattr(f, "name", None) or "<file>")


def _load_from(f, where):
    if not (hasattr(f, "seekable") and f.seekable()):  # a pipe or socket: zip needs to seek
        f = io.BytesIO(f.read())
    try:
        archive = read_npz_arrays(f, where)
        if _MANIFEST not in archive:
            _fail(where, "the archive has no pydyfast manifest")
        manifest = json.loads(bytes(archive.pop(_MANIFEST)).decode("utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != "pydyfast":
            raise ValueError("the manifest does not name the pydyfast format")
        if manifest.get("version") != _VERSION:
            raise ValueError(f"format version {manifest.get('version')} is not {_VERSION}")
        if "root" not in manifest:
            raise ValueError("the manifest has no root")
        return _Reader(archive).decode(manifest["root"])
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, TypeError,
            UnicodeDecodeError, RecursionError, MemoryError, OverflowError,
            NotImplementedError) as err:
        raise RuntimeError(f"pydyfast.load: {where} is not a valid pydyfast checkpoint (corrupt, "
                           f"truncated or another format): {type(err).__name__}: {err}") from None
