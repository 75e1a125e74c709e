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
checkpoint behind.
"""
import io
import json
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

_MANIFEST = "__pydyfast__"
_VERSION = 1
_KEY_TYPES = (str, int, float, bool, type(None))


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
    """
    writer = _Writer()
    manifest = {"format": "pydyfast", "version": _VERSION, "root": writer.encode(obj, "obj")}
    text = json.dumps(manifest, allow_nan=True).encode("utf-8")
    arrays = dict(writer.arrays)
    arrays[_MANIFEST] = np.frombuffer(text, dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".pydyfast-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class _Reader:
    def __init__(self, archive):
        self.archive = archive
        self.tensors = {}

    def decode(self, node):
        from .nn.parameter import Parameter
        if "tensor" in node:
            name = node["tensor"]
            if name not in self.tensors:
                cls = Parameter if node.get("parameter") else Tensor
                t = cls._wrap(self.archive[name], bool(node.get("requires_grad")))
                self.tensors[name] = t
            return self.tensors[name]
        if "array" in node:
            return self.archive[node["array"]]
        if "numpy_scalar" in node:
            return self.archive[node["numpy_scalar"]][()]
        if "dict" in node:
            return OrderedDict((k, self.decode(v)) for k, v in node["dict"])
        if "list" in node:
            return [self.decode(v) for v in node["list"]]
        if "tuple" in node:
            return tuple(self.decode(v) for v in node["tuple"])
        if "value" in node:
            return node["value"]
        raise ValueError(f"unknown manifest node {sorted(node)}")


def load(f):
    """Read an object written by ``save`` from a path or binary file object. Arrays come back
    on the CPU (``Module.load_state_dict`` moves them to the module's device).

    Raises
    ------
    RuntimeError
        When the file is not a pydyfast checkpoint, or is corrupt or truncated.
    """
    where = getattr(f, "name", None) or (f if isinstance(f, (str, os.PathLike)) else "<file>")
    source = open(f, "rb") if isinstance(f, (str, os.PathLike)) else f
    try:
        data = source.read()
    finally:
        if source is not f:
            source.close()
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            archive = {name: npz[name] for name in npz.files}
        manifest = json.loads(bytes(archive.pop(_MANIFEST)).decode("utf-8"))
        if manifest.get("format") != "pydyfast":
            raise ValueError("the manifest does not name the pydyfast format")
        if manifest.get("version") != _VERSION:
            raise ValueError(f"format version {manifest.get('version')} is not {_VERSION}")
        return _Reader(archive).decode(manifest["root"])
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, TypeError,
            UnicodeDecodeError) as err:
        raise RuntimeError(f"pydyfast.load: {where} is not a valid pydyfast checkpoint (corrupt, "
                           f"truncated or another format): {err}") from err


