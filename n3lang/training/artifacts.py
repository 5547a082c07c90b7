"""Model files: safetensors writing/reading (no pickle), canonical JSON, durable writes.

model.bin uses the safetensors layout: an 8-byte little-endian header length, a JSON header
(tensor name -> dtype, shape, data_offsets; plus a ``__metadata__`` string map), padded with
spaces to a multiple of 8 bytes, then the raw little-endian tensors in header order (sorted
by name). Written by hand so the bytes are fully determined by the tensors and metadata.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

_DTYPES: dict[np.dtype, str] = {
    np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("float16"): "F16",
    np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("int16"): "I16", np.dtype("int8"): "I8",
    np.dtype("uint8"): "U8", np.dtype("uint16"): "U16", np.dtype("uint32"): "U32", np.dtype("uint64"): "U64",
    np.dtype("bool"): "BOOL",
}
_NP: dict[str, np.dtype] = {v: k for k, v in _DTYPES.items()}


def safetensors_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors encoding of ``tensors`` (deterministic: sorted names, compact JSON)."""
    header: dict = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        code = _DTYPES.get(np.dtype(arr.dtype.name))
        if code is None:
            raise ValueError(f"tensor {name!r} has unsupported dtype {arr.dtype}")
        blob = np.ascontiguousarray(arr, dtype=np.dtype(arr.dtype.name).newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    head = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + b"".join(blobs)


def read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors, metadata) of a safetensors file (read-only arrays over the file's bytes)."""
    raw = Path(path).read_bytes()
    return parse_safetensors(raw)


def parse_safetensors(raw: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    if len(raw) < 8:
        raise ValueError("file too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError("safetensors header length exceeds the file")
    header = json.loads(raw[8: 8 + n].decode("utf-8"))
    base = 8 + n
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        dt = _NP[info["dtype"]].newbyteorder("<")
        out[name] = np.frombuffer(raw, dtype=dt, count=(b - a) // dt.itemsize, offset=base + a).reshape(info["shape"])
    return out, meta


def _clean(value):
    """JSON data with floats made stable (12 significant digits; no NaN/inf)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v != v or v in (float("inf"), float("-inf")):
            return None
        v = float(f"{v:.12g}")
        return 0.0 if v == 0 else v
    if hasattr(value, "tolist"):
        return _clean(value.tolist())
    if isinstance(value, os.PathLike):
        return Path(value).as_posix()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def canonical_json(obj, indent: int | None = 2) -> bytes:
    """Sorted keys, stable floats, UTF-8, trailing newline (indent=None: compact, no newline)."""
    if indent is None:
        return json.dumps(_clean(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    return (json.dumps(_clean(obj), sort_keys=True, indent=indent, ensure_ascii=False, allow_nan=False)
            + "\n").encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def map_file(path: Path):
    """The file's bytes as a read-only memory map (an empty file as ``b""``): hashing and
    parsing a model need no copy of it (reading a 28 MB model.bin into bytes cost 5-25 ms).
    numpy arrays made from the map keep it alive; model files are never rewritten in place (a
    new version is a new directory), so the map stays valid."""
    from n3lang.training.files import open_regular

    with open_regular(path) as fh:  # a FIFO in a model's place must not block
        if os.fstat(fh.fileno()).st_size == 0:
            return b""
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_durable(path: Path, data: bytes) -> None:
    """Write a new file and fsync it."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` all at once: temp file beside it, fsync, rename, fsync dir.

    A crash leaves the old file or the new one, never a mix. The file gets ``mode`` (default:
    the existing file's mode, else 0o644 less the umask) since mkstemp creates files as 0o600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            mode = 0o644 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
