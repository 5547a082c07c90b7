"""models_registry.yaml: the append-only, hash-chained list of trained models.

The file is a YAML list; each entry is a block mapping appended as text (earlier bytes are
never rewritten, so a ``# yaml-language-server: $schema=...`` first line survives). Each entry
carries ``previous_sha256``: the sha256 of the previous entry's canonical JSON (sorted keys,
compact, UTF-8); the first entry's is 64 zeros.

Two kinds of entry share the chain:

* a model entry (written by ``n3 train``): name, version, base_model, ..., status "active";
* a status event (written by ``n3 models deprecate NAME@VERSION --reason TEXT``)::

      - event: "status"
        name: "supportbot.faq_model_v2"
        version: "2.0.0"
        status: "deprecated"
        reason: "superseded by faq_model_v3"
        created_at: "1970-01-01T00:00:00Z"
        previous_sha256: "..."

  It must name a model entry earlier in the chain. Readers fold events into the model
  entries (:func:`read_entries`): the latest status wins, and the folded entry also carries
  ``status_reason`` (when the event gave one) and ``_status_line``. Deprecating therefore
  appends, like training: same lock, same temp file + fsync + rename.

Editing ``status`` of a model entry in place (the older way to deprecate) still works: a
model entry's ``status`` is left out of its hash, so the edit does not break the chain. A
status event's hash covers every field, its status included. ``read_chain`` returns the raw
entries (model entries and events, as written) for code that needs the chain itself.

The chain alone cannot tell that its end was cut off or that its last entry was edited (a
hash chain protects what comes *before* an entry). So each append also writes
``models_registry.head`` beside the registry: ``{"entries": N, "head_sha256": ...}``, and every
read checks the chain ends there (:func:`check_head` says what is and is not detected).
Registries without a head file (written by older versions) are read as they are; the next
append writes one.

Appending happens under an exclusive ``fcntl.flock`` on the project directory: read and check
the file (corrupted -> error naming the line, file untouched), check the name is free (or, for
an event, that the model exists), then write old bytes + new entry to a temporary file, fsync,
and rename it over the registry.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from n3lang.training import errors, files, shape
from n3lang.training.artifacts import fsync_dir
from n3lang.training.interface import parse_ref as parse_ref  # re-exported: registry.parse_ref
from n3lang.yaml_safe import _LOADER, safe_compose_load

REGISTRY_FILE = "models_registry.yaml"
HEAD_FILE = "models_registry.head"  # {"entries": N, "head_sha256": ...}: where the chain must end
GENESIS = "0" * 64
MAX_REGISTRY_BYTES = 64 << 20
# Line 1 ties the file to its schema for yaml-language-server (a path relative to this file,
# there after `n3 schema --write .n3/schemas`); appends keep every earlier byte, line 1 included.
MODELINE = "# yaml-language-server: $schema=.n3/schemas/registry.schema.json\n"
HEADER = (MODELINE +
          "# n3 model registry: append-only; each entry holds the sha256 of the previous one.\n"
          "# Schema: `n3 schema registry`. Do not edit entries (deprecate with `n3 models deprecate`).\n")
REQUIRED = ("name", "version", "base_model", "domain", "status", "artifact_uri", "artifact_sha256",
            "dataset_snapshot", "training_seed", "created_at", "metrics", "previous_sha256")
STATUS_EVENT = "status"
EVENT_REQUIRED = ("event", "name", "version", "status", "created_at", "previous_sha256")
STATUSES = ("active", "deprecated")
ENTRY_ORDER = ("event", "name", "version", "base_model", "domain", "status", "reason", "artifact_uri", "artifact_sha256",
               "metadata_sha256", "dataset", "dataset_snapshot", "training_seed", "created_at",
               "metrics", "config", "previous_sha256")


def _first_alias(text: str) -> tuple[int, int, str] | None:
    """(line, column, "alias"/"anchor") of the first YAML alias or anchor in ``text``, else
    None. Parser events only (no node is built or expanded); skipped when neither ``&`` nor
    ``*`` occurs anywhere. A YAMLError is left for the composer to report."""
    if "&" not in text and "*" not in text:
        return None
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            mark: Any = event.start_mark  # the parser sets it on every event
            if isinstance(event, yaml.AliasEvent):
                return mark.line + 1, mark.column + 1, "alias (*name)"
            if getattr(event, "anchor", None) is not None:
                return mark.line + 1, mark.column + 1, "anchor (&name)"
    except yaml.YAMLError:
        return None
    return None


def registry_path(project_dir: Path) -> Path:
    return Path(project_dir) / REGISTRY_FILE


def is_event(entry: dict) -> bool:
    return "event" in entry


def entry_sha256(entry: dict) -> str:
    """sha256 of the entry's canonical JSON: a model entry without ``status`` (editable in
    place), a status event with every field."""
    body = {k: v for k, v in entry.items() if (k != "status" or "event" in entry) and not k.startswith("_")}
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _entry_schema(event: bool) -> dict:
    from n3lang.resources import load_schema

    return load_schema("registry")["definitions"]["status_event" if event else "model"]


def _node_line(node, path: tuple) -> tuple[int, int]:
    """(line, column) of ``path`` inside a YAML node (as far as the node tree follows it)."""
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    child = value_node
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1, node.start_mark.column + 1


# ------------------------------------------------------------------------------- reading
def _shape_error(bad: tuple[tuple, str], item_node, line: int, display: str) -> errors.DiagnosticError:
    """registry-corrupted for a json_problem / schema_problem of the entry at ``line``."""
    path, problem = bad
    at, at_col = _node_line(item_node, path)
    what = f"field {shape.where(path)} of the entry at line {line}" if path else f"the entry at line {line}"
    return errors.fail(errors.REGISTRY_CORRUPTED, f"{display} is corrupted at line {at}: {what} {problem}",
                       display, errors.span_at(at, at_col))


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
    alias = _first_alias(text)
    if alias is not None:
        line, col, what = alias
        raise corrupt(f"{display} is corrupted at line {line}: it holds a YAML {what}, which the registry never "
                      "uses (n3 writes every value in full; an alias can make a small file expand without bound)",
                      line, col)
    try:
        node, data = safe_compose_load(text)
    except RecursionError:
        raise corrupt(f"{display} is corrupted: it is nested too deeply to read")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise corrupt(f"{display} is corrupted at line {line}: {problem}", line, col)
    except ValueError:  # an integer of over 4300 digits (Python's int() guard)
        raise corrupt(f"{display} is corrupted: it holds a number of over 4300 digits")
    if data is None:
        return []
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        line = node.start_mark.line + 1 if node is not None else 1
        raise corrupt(f"{display} is corrupted at line {line}: expected a list of model entries", line)
    entries: list[dict] = []
    models: set[tuple[str, str]] = set()
    previous = GENESIS
    for item, item_node in zip(data, node.value):
        line = item_node.start_mark.line + 1
        col = item_node.start_mark.column + 1

        if not isinstance(item, dict):
            raise corrupt(f"{display} is corrupted at line {line}: an entry must be a mapping", line, col)
        event = is_event(item)
        bad = shape.json_problem(item)
        if bad is None:
            missing = [k for k in (EVENT_REQUIRED if event else REQUIRED) if k not in item]
            if missing:
                raise corrupt(f"{display} is corrupted at line {line}: entry lacks {', '.join(missing)}", line, col)
        if bad is not None:
            raise _shape_error(bad, item_node, line, display)
        if item.get("previous_sha256") != previous:
            raise corrupt(f"{display} is corrupted at line {line}: the hash chain is broken "
                          f"(entry {item.get('name')!r} does not follow the entry before it)", line, col)
        key = (str(item.get("name")), str(item.get("version")))
        if event:
            if item.get("event") != STATUS_EVENT:
                raise corrupt(f"{display} is corrupted at line {line}: unknown event {item.get('event')!r} "
                              f"(the registry knows {STATUS_EVENT!r} events)", line, col)
            if item.get("status") not in STATUSES:
                raise corrupt(f"{display} is corrupted at line {line}: status must be one of "
                              f"{', '.join(STATUSES)}, not {item.get('status')!r}", line, col)
            if key not in models:
                raise corrupt(f"{display} is corrupted at line {line}: the status event names "
                              f"{key[0]}@{key[1]}, which no earlier entry registers", line, col)
        # fields n3 does not know are kept (they are hashed like the rest); known ones are typed
        bad = shape.schema_problem(item, _entry_schema(event), strict=False)
        if bad is not None:
            raise _shape_error(bad, item_node, line, display)
        if not event:
            for field in ("artifact_uri", "dataset"):
                if "\0" in item.get(field, ""):
                    at, at_col = _node_line(item_node, (field,))
                    raise corrupt(f"{display} is corrupted at line {at}: field {field} of the entry at line {line} "
                                  f"holds a NUL character, which no file path can contain", at, at_col)
        if not event:
            models.add(key)
        previous = entry_sha256(item)
        item = dict(item)
        item["_line"] = line
        entries.append(item)
    return entries


def fold(chain: list[dict]) -> list[dict]:
    """Model entries of a raw chain with status events applied in order (latest wins)."""
    models: list[dict] = []
    by_key: dict[tuple[str, str], dict] = {}
    for item in chain:
        key = (str(item.get("name")), str(item.get("version")))
        if is_event(item):
            target = by_key.get(key)
            if target is not None:
                target["status"] = item["status"]
                target["_status_line"] = item.get("_line")
                if item.get("reason"):
                    target["status_reason"] = item["reason"]
                else:
                    target.pop("status_reason", None)
            continue
        entry = dict(item)
        by_key[key] = entry
        models.append(entry)
    return models


def read_chain(project_dir: Path) -> list[dict]:
    """Every raw entry (model entries and status events) in order, each with ``_line``; []
    when there is no registry. Raises DiagnosticError (registry-corrupted) naming the line,
    also when the registry does not end where the head file says (see check_head)."""
    head = read_head(project_dir)  # before the registry: a head newer than the file read cannot be seen
    raw = _read_registry(registry_path(project_dir))
    if raw is None:
        return []
    chain = _parse(raw, REGISTRY_FILE)
    check_head(head, chain)
    return chain


# ------------------------------------------------------------------------------- head
def head_path(project_dir: Path) -> Path:
    return Path(project_dir) / HEAD_FILE


def read_head(project_dir: Path) -> dict | None:
    """The head file's record ``{"entries": N, "head_sha256": ...}``, or None when there is
    none (a registry written before n3 kept one: its end is not protected until the next
    append). A head file that is not one is registry-corrupted."""
    path = head_path(project_dir)

    def corrupt(problem: str):
        return errors.fail(errors.REGISTRY_CORRUPTED, f"{HEAD_FILE} {problem}", HEAD_FILE,
                           fix=f"Restore {HEAD_FILE} and {REGISTRY_FILE} together from version control or a "
                               f"backup (deleting {HEAD_FILE} makes n3 trust the registry's end as it is).")
    try:
        raw = files.read_limited(path, 4096)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise corrupt(f"cannot be read: {exc.strerror or exc}")
    try:
        head = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise corrupt("is not the JSON record n3 writes")
    if (not isinstance(head, dict) or not isinstance(head.get("entries"), int) or isinstance(head["entries"], bool)
            or head["entries"] < 1 or not isinstance(head.get("head_sha256"), str)):
        raise corrupt('is not the record n3 writes ({"entries": N, "head_sha256": "..."})')
    return head


def check_head(head: dict | None, chain: list[dict]) -> None:
    """The chain must end where the head file (written after each append) says: N entries,
    the last one hashing to head_sha256 (the chain hash: a model entry's ``status`` is not in
    it). One entry more is an append whose head update a crash cut off, and is accepted.

    Detected: an edit of the last entry (any field but a model entry's status), removed
    trailing entries, entries appended by hand beyond one. Not detected: one well-formed entry
    appended by hand (its hash is computable by anyone), the head file deleted or edited along
    with the registry, and in-place edits of a model entry's ``status`` (allowed: the older way
    to deprecate; `n3 models deprecate` appends a hashed status event instead)."""
    if head is None:
        return
    n, want = head["entries"], head["head_sha256"]
    if len(chain) == n and entry_sha256(chain[-1]) == want:
        return
    if len(chain) == n + 1 and entry_sha256(chain[n - 1]) == want:
        return  # the last append's head update was cut off
    last = chain[-1]["_line"] if chain else 1
    if len(chain) < n:
        problem = (f"ends after {len(chain)} entries, but {HEAD_FILE} records {n}: entries were removed "
                   "from its end")
    elif len(chain) == n:
        problem = f"its last entry (line {last}) was changed after n3 wrote it (its hash differs from {HEAD_FILE})"
    else:
        problem = (f"holds {len(chain)} entries, but {HEAD_FILE} records {n}: entries were added by something "
                   f"other than n3, or {HEAD_FILE} is older than the registry")
    raise errors.fail(errors.REGISTRY_CORRUPTED, f"{REGISTRY_FILE} is corrupted: {problem}", REGISTRY_FILE,
                      errors.span_at(last),
                      fix=f"Restore {REGISTRY_FILE} and {HEAD_FILE} together from version control or a backup; "
                          f"if you changed the registry on purpose, delete {HEAD_FILE} (n3 writes a new one at "
                          "the next append).")


def _write_head(project_dir: Path, n: int, last: dict) -> None:
    data = json.dumps({"entries": n, "head_sha256": entry_sha256(last)}, sort_keys=True).encode("utf-8") + b"\n"
    with contextlib.suppress(OSError):  # the entry is committed; a stale head by one is accepted on read
        from n3lang.training.artifacts import atomic_write

        atomic_write(head_path(project_dir), data)


def _read_registry(path: Path) -> bytes | None:
    """The registry's bytes (None when there is none); registry-corrupted for a FIFO, a
    device, a directory, a file over MAX_REGISTRY_BYTES or one that cannot be read."""
    try:
        return files.read_limited(path, MAX_REGISTRY_BYTES)
    except FileNotFoundError:
        return None
    except files.TooLarge as exc:
        raise errors.fail(errors.REGISTRY_CORRUPTED, f"{REGISTRY_FILE} is {exc.size} bytes, larger than the "
                          f"{MAX_REGISTRY_BYTES}-byte limit of a registry", REGISTRY_FILE)
    except files.NotRegularFile as exc:
        raise errors.fail(errors.REGISTRY_CORRUPTED, f"{REGISTRY_FILE} {exc.strerror}; n3 reads the registry only "
                          "from a regular file", REGISTRY_FILE,
                          fix=f"Remove {REGISTRY_FILE} (it holds no registry) and restore the real file "
                              "from version control or a backup.")
    except OSError as exc:
        raise errors.fail(errors.REGISTRY_CORRUPTED, f"{REGISTRY_FILE} cannot be read: {exc.strerror or exc}",
                          REGISTRY_FILE)


def read_entries(project_dir: Path) -> list[dict]:
    """Every registered model in order (each with ``_line``), status events folded in (the
    latest status wins; see the module docstring); [] when there is no registry.
    Raises DiagnosticError (registry-corrupted) naming the line."""
    return fold(read_chain(project_dir))


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
    head = read_head(project_dir)
    old = _read_registry(path) or b""
    chain = _parse(old, REGISTRY_FILE)
    if old:
        check_head(head, chain)
    if is_event(entry):
        if find(fold(chain), entry["name"], str(entry["version"])) is None:
            raise errors.fail(errors.MODEL_NOT_FOUND, f"model {entry['name']}@{entry['version']} is not registered "
                              f"in {REGISTRY_FILE}", REGISTRY_FILE)
    else:
        check_name_free(fold(chain), entry["name"])
    entry = dict(entry)
    entry["previous_sha256"] = entry_sha256(chain[-1]) if chain else GENESIS
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
    _write_head(Path(project_dir), len(chain) + 1, entry)
    return entry


def set_status(project_dir: Path, name: str, version: str | None, status: str, *, reason: str | None = None,
               created_at: str) -> tuple[dict, dict | None]:
    """Append a status event for name[@version] (latest version when None) under the
    registry lock. Returns (the model entry as it was, the event written or None when the
    model already had that status: nothing is appended then)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    project_dir = Path(project_dir)
    with locked(project_dir):
        models = read_entries(project_dir)
        entry = find(models, name, version)
        if entry is None:
            ref = name if version is None else f"{name}@{version}"
            known = ", ".join(sorted({f"{e['name']}@{e['version']}" for e in models})) or "(none registered)"
            raise errors.fail(errors.MODEL_NOT_FOUND, f"model {ref!r} is not registered in {REGISTRY_FILE}; "
                              f"known models: {known}", REGISTRY_FILE)
        if str(entry.get("status")) == status:
            return entry, None
        event = {"event": STATUS_EVENT, "name": entry["name"], "version": str(entry["version"]), "status": status}
        if reason:
            event["reason"] = reason
        event["created_at"] = created_at
        return entry, append(project_dir, event)


def verify_chain(project_dir: Path) -> list[dict]:
    """Entries after checking the chain (read_entries already checks it)."""
    return read_entries(project_dir)
