"""Reading, validating, normalising and splitting a JSONL dataset.

Every row is validated and EVERY problem is reported at once (``data/x.jsonl:17:5: ...``)
before anything is written. After validation the data is held as the targets, line numbers
and each row's split fraction (from its canonical row, computed while reading), plus the list
of normalised inputs unless the reader is told not to keep them (sharded training: its tasks
read their own rows, so the driver's memory does not grow with the inputs). No per-row dicts
or canonical rows are kept: the split digests are computed while reading.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from n3lang import json_limits, surrogates
from n3lang.diagnostics import Diagnostic, DiagnosticError, sort_key
from n3lang.training import errors, files
from n3lang.training.modes import RowContext

TARGET_FIELDS = ("target", "label", "output", "transcript")
MAX_PROBLEMS = 200
MAX_DATASET_BYTES = 512 << 20
MAX_LINE_BYTES = 32 << 20


@dataclass
class Dataset:
    """A validated dataset: display name, snapshot (sha256 of the bytes), targets (strings,
    one object per distinct target), source line numbers, each row's split fraction and the
    normalised inputs (None when not kept: ``inputs_at`` reads them again)."""

    display: str
    snapshot: str
    targets: list
    lines: np.ndarray
    fractions: np.ndarray
    n_bytes: int
    source: "Source"
    inputs: list | None = None
    # (validation_split, train digest, validation digest) of the split as read: rows whose
    # fraction is below validation_split (what split() gives unless a side was empty)
    digests: tuple = ()

    def __len__(self) -> int:
        return len(self.lines)

    def inputs_at(self, rows) -> list:
        """The normalised inputs of ``rows`` (row numbers, ascending)."""
        rows = [int(r) for r in rows]
        if self.inputs is not None:
            return [self.inputs[r] for r in rows]
        return [value for value, _ in self.source.reread(self.lines[rows], self.snapshot)]

    def split_digests(self, mask: np.ndarray, validation_split: float) -> tuple[str, str]:
        """(train digest, validation digest): sha256 over the canonical rows of each side, one
        per line, in dataset order. Computed while reading; read again only when split() moved
        a row across (one side would have been empty)."""
        if self.digests and self.digests[0] == validation_split and np.array_equal(
                mask, self.fractions < validation_split if validation_split > 0 else np.zeros(len(mask), bool)):
            return self.digests[1], self.digests[2]
        sides = (hashlib.sha256(), hashlib.sha256())
        for (value, target), val in zip(self.source.reread(self.lines, self.snapshot), mask):
            sides[int(val)].update(canonical_row(value, target).encode("utf-8") + b"\n")
        return sides[0].hexdigest(), sides[1].hexdigest()


@dataclass(frozen=True)
class Source:
    """Where a dataset was read from and for which mode: what reading a row again needs
    (plain values: a sharded run's tasks receive it)."""

    path: Path
    display: str
    mode: str
    allow_absolute: bool

    @property
    def handler(self):
        from n3lang.training.modes import get_handler

        return get_handler(self.mode)

    def changed(self, what: str | None = None) -> DiagnosticError:
        """training-failed: the file is not the one read and planned (``what`` says how)."""
        what = what or f"dataset {self.display} changed since training started"
        return errors.fail(errors.TRAINING_FAILED, f"{what}; nothing was written", self.display,
                           fix="Leave the dataset file alone while a model trains on it, then train again.")

    def reread(self, lines: np.ndarray, snapshot: str):
        """(input, target) of the rows at ``lines`` (ascending line numbers), in order. The
        file must still be the one read: a changed row or snapshot is training-failed."""
        wanted = iter(np.asarray(lines, dtype=np.int64).tolist())
        nxt = next(wanted, None)
        hasher = hashlib.sha256()
        changed = self.changed()
        try:
            with open(self.path, "rb") as fh:
                for lineno, line in enumerate(iter(fh.readline, b""), 1):
                    hasher.update(line)
                    if lineno != nxt:
                        continue
                    nxt = next(wanted, None)
                    row = reparse(line, lineno, self)
                    if row is None:
                        raise changed
                    yield row
        except (OSError, UnicodeDecodeError, ValueError):
            raise changed from None
        if nxt is not None or hasher.hexdigest() != snapshot:
            raise changed


def reparse(line: bytes, lineno: int, source: Source) -> tuple | None:
    """(input, target) of one line (bytes, with or without its newline) that the reader
    accepted, or None when it no longer passes. Raises ValueError when it is no longer JSON."""
    if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    text = line.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8")
    ctx = RowContext(source.display, lineno, text, source.path.parent, source.allow_absolute)
    row = loads_row(text)
    if not isinstance(row, dict):
        return None
    handler = source.handler
    target, p1 = _target(row, ctx, handler)
    value, p2 = handler.check_input(row, ctx)
    return None if p1 or p2 else (value, target)


class DuplicateKey(ValueError):
    """A JSON object of a row names the same key twice (Python's json keeps the last)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {json.dumps(key, ensure_ascii=False)} appears twice in one object")
        self.key = key


def _unique_keys(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set = set()
        for k, _ in pairs:
            if k in seen:
                raise DuplicateKey(k)
            seen.add(k)
    return d


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")  # worded as json_limits.describe expects


_ROW_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)


def loads_row(text: str):
    """One dataset line as JSON, like json_limits.loads, but a key given twice in an object
    raises DuplicateKey (silently keeping the last value would train on half a row)."""
    return _ROW_DECODER.decode(text)


def duplicate_column(text: str, key: str) -> int:
    """1-based column of the second ``"key":`` in ``text`` (1 when it cannot be found: the key
    may be spelled with escapes)."""
    import re

    quoted = re.escape(json.dumps(key, ensure_ascii=False))
    hits = [m.start() for m in re.finditer(quoted + r"\s*:", text)]
    return hits[1] + 1 if len(hits) > 1 else 1


def canonical_row(input_value, target: str) -> str:
    """The normalised row as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return json.dumps({"input": input_value, "target": target}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


def _target(row: dict, ctx: RowContext, handler) -> tuple[str | None, list[Diagnostic]]:
    key = next((k for k in TARGET_FIELDS if k in row), None)
    if key is None:
        return None, [ctx.problem(
            'missing field "target" (or one of its aliases "label", "output", "transcript"): '
            "each row needs the answer to learn",
            fix='Add a "target" string to the row.',
            example='{"' + handler.input_fields[0] + '": ..., "target": "account"}')]
    value = row[key]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None, [ctx.problem(f'field "{key}" must be a string, got {json_type_name(value)}', key=key,
                                  fix=f'Write "{key}" as a JSON string, e.g. "{key}": "account".')]
    text = unicodedata.normalize("NFC", str(value)).strip()
    if not text:
        return None, [ctx.problem(f'field "{key}" is empty', key=key, fix=f'Give "{key}" a value, or delete the line.')]
    return text, []


def json_type_name(value) -> str:
    """How a JSON value's type reads in a message: "a number", "an object", "null"...

    Kept apart from shape.kind_of (YAML's words: an integer, a mapping) and runtime
    values.type_name (the language's words: number, map): a dataset row is JSON, and its
    messages use JSON's own names."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _limit(env: str, default: int) -> int:
    """A byte limit from the environment variable ``env`` (a positive whole number), else the default."""
    value = os.environ.get(env, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


def max_dataset_bytes() -> int:
    """The largest dataset file read (N3_MAX_DATASET_BYTES, default 512 MiB)."""
    return _limit("N3_MAX_DATASET_BYTES", MAX_DATASET_BYTES)


def max_line_bytes() -> int:
    """The longest dataset line read (N3_MAX_LINE_BYTES, default 32 MiB: room for a
    1024x1024 RGB `pixels` row)."""
    return _limit("N3_MAX_LINE_BYTES", MAX_LINE_BYTES)


def _lines(fh, limit: int):
    """(line number, byte offset, bytes or None when longer than ``limit``) of each line; a
    line over the limit is skipped in chunks, never held whole. Feeds ``fh.hasher``."""
    offset = 0
    lineno = 0
    while True:
        chunk = fh.readline(limit + 1)
        if not chunk:
            return
        lineno += 1
        start = offset
        offset += len(chunk)
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # the rest of the long line
                chunk = fh.readline(1 << 20)
                offset += len(chunk)
            yield lineno, start, None
            continue
        yield lineno, start, chunk[:-1] if chunk.endswith(b"\n") else chunk


class _HashingReader:
    """A binary file whose bytes are hashed (sha256) and counted as they are read."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.hasher = hashlib.sha256()
        self.n = 0

    def readline(self, size: int) -> bytes:
        data = self.fh.readline(size)
        self.hasher.update(data)
        self.n += len(data)
        return data


def read(path: Path, display: str, handler, *, allow_absolute: bool = False, seed: int = 0,
         validation_split: float = 0.0, keep_inputs: bool = True) -> Dataset:
    """Read and validate the dataset at ``path`` (shown as ``display``) for ``handler``'s mode.

    The file is streamed line by line (never held whole), within max_dataset_bytes(); a line
    longer than max_line_bytes() is a located problem, skipped without being read into memory.
    ``seed`` and ``validation_split`` give each row's split fraction and the split digests;
    without ``keep_inputs`` the inputs are checked and dropped (``Dataset.inputs_at`` reads
    them again)."""
    size_limit, line_limit = max_dataset_bytes(), max_line_bytes()
    try:  # never read a directory, a device or a pipe
        fh = files.open_regular(path)
    except files.NotRegularFile as exc:
        raise errors.fail(errors.DATASET_MISSING, f"dataset {display} {exc.strerror}", display,
                          why="A dataset is a JSONL file: n3 reads it only from a regular file, never from a "
                              "device, a pipe or a directory, which could block or never end.",
                          fix="Point the dataset setting at a .jsonl file (copy a stream into one first).")
    except FileNotFoundError:
        raise errors.fail(errors.DATASET_MISSING, f"dataset {display} does not exist", display)
    except OSError as exc:  # a name too long, no permission, ...
        raise errors.fail(errors.DATASET_MISSING, f"dataset {display} cannot be read: {exc.strerror or exc}", display)
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size > size_limit:
            raise errors.fail(errors.DATASET_TOO_LARGE, f"dataset {display} is {size} bytes, over the "
                              f"{size_limit}-byte limit of one dataset file", display)
        reader = _HashingReader(fh)
        try:
            return _read_rows(reader, Source(path, display, handler.name, allow_absolute), handler, line_limit, size_limit,
                              seed, validation_split, keep_inputs)
        except OSError as exc:
            raise errors.fail(errors.DATASET_MISSING, f"dataset {display} cannot be read: {exc.strerror or exc}",
                              display)


def _read_rows(reader, source: "Source", handler, line_limit: int, size_limit: int, seed: int,
               validation_split: float, keep_inputs: bool) -> Dataset:
    display, dataset_dir, allow_absolute = source.display, source.path.parent, source.allow_absolute
    problems: list[Diagnostic] = []
    inputs: list | None = [] if keep_inputs else None
    targets: list[str] = []
    distinct: dict[str, str] = {}  # one str object per target: a row costs a pointer, not a string
    lines = array("q")
    fractions = array("d")
    sides = (hashlib.sha256(), hashlib.sha256())  # the canonical rows of each side of the split
    blank = True
    for lineno, line_start, raw_line in _lines(reader, line_limit):
        if reader.n > size_limit:  # the file grew while being read
            raise errors.fail(errors.DATASET_TOO_LARGE, f"dataset {display} holds more than the "
                              f"{size_limit}-byte limit of one dataset file", display)
        if raw_line is None:
            blank = False
            if len(problems) < MAX_PROBLEMS:
                problems.append(errors.error(
                    errors.DATASET_TOO_LARGE, f"line {lineno} is longer than the {line_limit}-byte limit of one "
                    "dataset line", display, errors.span_at(lineno),
                    fix="Keep each row short (media go in files named by the row), or raise the limit with "
                        "N3_MAX_LINE_BYTES=<bytes>."))
            continue
        if lineno == 1 and raw_line.startswith(b"\xef\xbb\xbf"):
            raw_line = raw_line[3:]
        if raw_line.endswith(b"\r"):
            raw_line = raw_line[:-1]
        if not raw_line.strip():
            continue
        blank = False
        if len(problems) >= MAX_PROBLEMS:
            break
        try:
            text = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            col = len(raw_line[: exc.start].decode("utf-8", errors="replace")) + 1
            problems.append(errors.error(
                errors.DATASET_ENCODING,
                f"line {lineno} is not valid UTF-8: byte 0x{raw_line[exc.start]:02x} at byte offset "
                f"{line_start + exc.start} of the file",
                display, errors.span_at(lineno, col)))
            continue
        ctx = RowContext(display, lineno, text, dataset_dir, allow_absolute)
        try:
            row = loads_row(text)
        except DuplicateKey as exc:
            problems.append(ctx.problem(f"the row names {json.dumps(exc.key, ensure_ascii=False)} twice; a key "
                                        "may appear once in an object", column=duplicate_column(text, exc.key),
                                        fix=f"Keep one {json.dumps(exc.key, ensure_ascii=False)} in the object."))
            continue
        except json.JSONDecodeError as exc:
            problems.append(ctx.problem(f"line is not valid JSON: {exc.msg}", column=exc.colno,
                                        fix="Write one complete JSON object per line."))
            continue
        except json_limits.ERRORS as exc:
            message, column = json_limits.describe(exc, text)
            problems.append(ctx.problem(f"line is not valid JSON: {message}", column=column,
                                        fix="Write one complete JSON object per line."))
            continue
        char = surrogates.find(row) if "\\u" in text else None  # only an escape can spell one here
        if char is not None:
            problems.append(ctx.problem(surrogates.describe(char), column=surrogates.locate(text, char)[1],
                                        fix=surrogates.FIX))
            continue
        if not isinstance(row, dict):
            problems.append(ctx.problem(f"row must be a JSON object, got {json_type_name(row)}",
                                        fix='Write the row as an object: {"input": ..., "target": ...}.'))
            continue
        target, p1 = _target(row, ctx, handler)
        value, p2 = handler.check_input(row, ctx)
        if p1 or p2:
            problems += p1 + p2
            continue
        assert target is not None  # _target gives a problem whenever it gives no target
        if inputs is not None:
            inputs.append(value)
        targets.append(distinct.setdefault(target, target))
        lines.append(lineno)
        if problems:  # the file will be refused: no need to hash its rows
            continue
        canonical = canonical_row(value, target).encode("utf-8")
        fraction = split_fraction(seed, canonical)
        fractions.append(fraction)
        sides[int(fraction < validation_split)].update(canonical + b"\n")
    if problems:
        raise DiagnosticError(sorted(problems, key=sort_key))
    if blank:
        raise errors.fail(errors.DATASET_EMPTY, f"dataset {display} is empty", display)
    while reader.readline(1 << 20):  # after MAX_PROBLEMS: the snapshot covers every byte
        pass
    snapshot = reader.hasher.hexdigest()
    if len(targets) < 2:
        raise errors.fail(errors.DATASET_TOO_SMALL,
                          f"dataset {display} has {len(targets)} usable row{'s' if len(targets) != 1 else ''}; "
                          "at least 2 are needed", display)
    if len(distinct) < 2:
        raise errors.fail(errors.DATASET_SINGLE_CLASS,
                          f"dataset {display} has a single target ({targets[0]!r}) in all {len(targets)} rows; "
                          "at least 2 different targets are needed", display)
    return Dataset(display, snapshot, targets, np.frombuffer(lines, dtype=np.int64).copy(),
                   np.frombuffer(fractions, dtype=np.float64).copy(), reader.n, source, inputs, (validation_split, sides[0].hexdigest(), sides[1].hexdigest()))


def split_fraction(seed: int, canonical: bytes) -> float:
    """sha256(f"{seed}:{canonical_row}") read as a fraction of 2^256 (the row's place in the split)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:".encode("ascii") + canonical).digest(), "big") / 2**256


def split_mask(fractions: np.ndarray, validation_split: float) -> np.ndarray:
    """Boolean mask, True = validation row.

    A row goes to validation iff sha256(f"{seed}:{canonical_row}") read as a fraction of 2^256
    is below ``validation_split`` (adding rows never moves other rows). If a side ends up empty,
    the row nearest to the threshold moves across; a ``validation_split`` of 0 asks for no
    validation rows at all (every row trains).
    """
    if validation_split <= 0:
        return np.zeros(len(fractions), dtype=bool)
    mask = fractions < validation_split
    if len(mask) >= 2:
        if not mask.any():
            mask[int(np.argmin(fractions))] = True
        elif mask.all():
            mask[int(np.argmax(fractions))] = False
    return mask
