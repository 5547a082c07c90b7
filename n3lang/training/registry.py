"""models_registry.yaml: the append-only, hash-chained list of trained models.

The file is a YAML list; each entry is a block mapping appended as text (earlier bytes are
never rewritten, so a ``# yaml-language-server: $schema=...`` first line survives). Each entry
carries ``previous_sha256``: the sha256 of the previous entry's canonical JSON (sorted keys,
compact, UTF-8) with its ``status`` left out (status is the one field a person may edit, e.g.
to ``deprecated``); the first entry's is 64 zeros.

Appending happens under an exclusive ``fcntl.flock`` on the project directory: read and check
the file (corrupted -> error naming the line, file untouched), check the name is free, then
write old bytes + new entry to a temporary file, fsync, and rename it over the registry.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from pathlib import Path

import yaml

from n3lang.training import errors
from n3lang.training.artifacts import fsync_dir

REGISTRY_FILE = "models_registry.yaml"
GENESIS = "0" * 64
MAX_REGISTRY_BYTES = 64 << 20
HEADER = ("# n3 model registry: append-only; each entry holds the sha256 of the previous one.\n"
          "# Schema: `n3 schema registry`. Do not edit entries (except `status`).\n")
REQUIRED = ("name", "version", "base_model", "domain", "status", "artifact_uri", "artifact_sha256",
            "dataset_snapshot", "training_seed", "created_at", "metrics", "previous_sha256")
ENTRY_ORDER = ("name", "version", "base_model", "domain", "status", "artifact_uri", "artifact_sha256",
               "metadata_sha256", "dataset", "dataset_snapshot", "training_seed", "created_at",
               "metrics", "config", "previous_sha256")


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_compose_load(text: str):
    """(node tree, data) of one YAML document with the safe loader (libyaml when available)."""
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data


def registry_path(project_dir: Path) -> Path:
    return Path(project_dir) / REGISTRY_FILE


def entry_sha256(entry: dict) -> str:
    """sha256 of the entry's canonical JSON without ``status``."""
    body = {k: v for k, v in entry.items() if k != "status"}
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------- reading
def _parse(raw: bytes, display: str) -> list[dict]:
    def corrupt(message: str, line: int = 1, column: int = 1):
        return errors.fail(errors.REGISTRY_CORRUPTED, message, display, errors.span_at(line, column))

    if len(raw) > MAX_REGISTRY_BYTES:
        raise corrupt(f"{display} is larger than {MAX_REGISTRY_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise corrupt(f"{display} line {line} is not valid UTF-8 (byte {exc.start})", line)
    try:
        node, data = safe_compose_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise corrupt(f"{display} is corrupted at line {line}: {problem}", line, col)
    if data is None:
        return []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        line = node.start_mark.line + 1 if node is not None else 1
        raise corrupt(f"{display} is corrupted at line {line}: expected a list of model entries", line)
    entries: list[dict] = []
    previous = GENESIS
    for item, item_node in zip(data, node.value):
        line = item_node.start_mark.line + 1
        col = item_node.start_mark.column + 1
        if not isinstance(item, dict):
            raise corrupt(f"{display} is corrupted at line {line}: an entry must be a mapping", line, col)
        missing = [k for k in REQUIRED if k not in item]
        if missing:
            raise corrupt(f"{display} is corrupted at line {line}: entry lacks {', '.join(missing)}", line, col)
        if item.get("previous_sha256") != previous:
            raise corrupt(f"{display} is corrupted at line {line}: the hash chain is broken "
                          f"(entry {item.get('name')!r} does not follow the entry before it)", line, col)
        previous = entry_sha256(item)
        item = dict(item)
        item["_line"] = line
        entries.append(item)
    return entries


def read_entries(project_dir: Path) -> list[dict]:
    """Every registry entry in order (each with ``_line``); [] when there is no registry.
    Raises DiagnosticError (registry-corrupted) naming the line."""
    path = registry_path(project_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise errors.fail(errors.REGISTRY_CORRUPTED, f"{REGISTRY_FILE} cannot be read: {exc.strerror}", REGISTRY_FILE)
    return _parse(raw, REGISTRY_FILE)


def parse_ref(ref: str) -> tuple[str, str | None]:
    name, _, version = ref.partition("@")
    return name, (version or None)


def find(entries: list[dict], name: str, version: str | None = None) -> dict | None:
    """The entry for name (latest appended when version is None)."""
    hits = [e for e in entries if e.get("name") == name and (version is None or str(e.get("version")) == version)]
    return hits[-1] if hits else None


# ------------------------------------------------------------------------------- writing
def _yaml_str(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif 32 <= o < 127:
            out.append(ch)
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


def _yaml_scalar(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("registry values must be finite")
        r = repr(v)
        if "e" in r:
            mant, exp = r.split("e")
            if "." not in mant:
                mant += ".0"
            r = mant + "e" + exp
        elif "." not in r:
            r += ".0"
        return r
    if isinstance(v, str):
        return _yaml_str(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_yaml_str(str(k))}: {_yaml_scalar(v[k])}" for k in sorted(v)) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_yaml_scalar(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to the registry")


def entry_text(entry: dict) -> str:
    """The YAML text of one list item (keys in a fixed order)."""
    keys = [k for k in ENTRY_ORDER if k in entry] + sorted(k for k in entry if k not in ENTRY_ORDER)
    lines = []
    for i, k in enumerate(keys):
        prefix = "- " if i == 0 else "  "
        lines.append(f"{prefix}{k}: {_yaml_scalar(entry[k])}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def locked(project_dir: Path):
    """An exclusive lock on the project directory (held for the registry commit)."""
    fd = os.open(project_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def check_name_free(entries: list[dict], name: str) -> None:
    hit = find(entries, name)
    if hit is not None:
        raise errors.fail(
            errors.OUTPUT_NAME_EXISTS,
            f"output_name {name!r} is already registered (version {hit.get('version')}, "
            f"{REGISTRY_FILE} line {hit.get('_line')}); registered models are never overwritten",
            REGISTRY_FILE, errors.span_at(int(hit.get("_line", 1))))


def append(project_dir: Path, entry: dict) -> dict:
    """Append ``entry`` (previous_sha256 is filled in) atomically; the caller holds ``locked``.
    Returns the entry as written."""
    path = registry_path(project_dir)
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        old = b""
    entries = _parse(old, REGISTRY_FILE)
    check_name_free(entries, entry["name"])
    entry = dict(entry)
    entry["previous_sha256"] = entry_sha256({k: v for k, v in entries[-1].items() if k != "_line"}) if entries else GENESIS
    prefix = old if old.strip() else old + HEADER.encode("utf-8")
    if prefix and not prefix.endswith(b"\n"):
        prefix += b"\n"
    new = prefix + entry_text(entry).encode("utf-8")
    # the written entry must read back identically (hash chain relies on it)
    back = safe_compose_load(entry_text(entry))[1][0]
    if entry_sha256(back) != entry_sha256(entry):
        raise RuntimeError("registry entry does not round-trip through YAML")
    fd, tmp = tempfile.mkstemp(prefix=".models_registry.", suffix=".tmp", dir=project_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, os.stat(path).st_mode & 0o777 if path.exists() else 0o644)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(Path(project_dir))
    return entry


def verify_chain(project_dir: Path) -> list[dict]:
    """Entries after checking the chain (read_entries already checks it)."""
    return read_entries(project_dir)
