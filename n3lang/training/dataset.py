"""Reading, validating, normalising and splitting a JSONL dataset.

Every row is validated and EVERY problem is reported at once (``data/x.jsonl:17:5: ...``)
before anything is written. After validation the data is held as the list of normalised
inputs (text or a small JSON value per row), the target ids (numpy int32) and line numbers;
no per-row dicts are kept.
"""

from __future__ import annotations

import hashlib
import json
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from n3lang import json_limits, surrogates
from n3lang.diagnostics import Diagnostic, DiagnosticError, sort_key
from n3lang.training import errors
from n3lang.training.modes import RowContext

TARGET_FIELDS = ("target", "label", "output", "transcript")
MAX_PROBLEMS = 200


@dataclass
class Dataset:
    """A validated dataset: display name, snapshot (sha256 of the bytes), normalised inputs,
    targets (strings), source line numbers and canonical-row digests."""

    display: str
    snapshot: str
    inputs: list
    targets: list
    lines: np.ndarray
    canonical: list
    n_bytes: int

    def __len__(self) -> int:
        return len(self.inputs)


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
    """How a JSON value's type reads in a message: "a number", "an object", "null"..."""
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


def read(path: Path, display: str, handler, *, allow_absolute: bool = False) -> Dataset:
    """Read and validate the dataset at ``path`` (shown as ``display``) for ``handler``'s mode."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # never read a directory, a device or a pipe
            what = "is a directory, not a file" if stat.S_ISDIR(info.st_mode) else "is not a regular file"
            raise errors.fail(errors.DATASET_MISSING, f"dataset {display} {what}", display)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise errors.fail(errors.DATASET_MISSING, f"dataset {display} does not exist", display)
    except OSError as exc:  # a name too long, no permission, ...
        raise errors.fail(errors.DATASET_MISSING, f"dataset {display} cannot be read: {exc.strerror or exc}", display)
    snapshot = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        raise errors.fail(errors.DATASET_EMPTY, f"dataset {display} is empty", display)
    problems: list[Diagnostic] = []
    inputs: list = []
    targets: list[str] = []
    lines: list[int] = []
    canon: list[str] = []
    dataset_dir = path.parent
    offset = 0
    for lineno, raw_line in enumerate(raw.split(b"\n"), 1):
        line_start = offset
        offset += len(raw_line) + 1
        if lineno == 1 and raw_line.startswith(b"\xef\xbb\xbf"):
            raw_line = raw_line[3:]
        if raw_line.endswith(b"\r"):
            raw_line = raw_line[:-1]
        if not raw_line.strip():
            continue
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
            row = json_limits.loads(text)
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
        inputs.append(value)
        targets.append(target)
        lines.append(lineno)
        canon.append(canonical_row(value, target))
    if problems:
        raise DiagnosticError(sorted(problems, key=sort_key))
    if len(inputs) < 2:
        raise errors.fail(errors.DATASET_TOO_SMALL,
                          f"dataset {display} has {len(inputs)} usable row{'s' if len(inputs) != 1 else ''}; "
                          "at least 2 are needed", display)
    distinct = sorted(set(targets))
    if len(distinct) < 2:
        raise errors.fail(errors.DATASET_SINGLE_CLASS,
                          f"dataset {display} has a single target ({distinct[0]!r}) in all {len(targets)} rows; "
                          "at least 2 different targets are needed", display)
    return Dataset(display, snapshot, inputs, targets, np.asarray(lines, dtype=np.int64), canon, len(raw))


def split(canonical: list[str], seed: int, validation_split: float) -> np.ndarray:
    """Boolean mask, True = validation row.

    A row goes to validation iff sha256(f"{seed}:{canonical_row}") read as a fraction of 2^256
    is below ``validation_split`` (adding rows never moves other rows). If a side ends up empty,
    the row nearest to the threshold moves across.
    """
    fractions = np.array([int(hashlib.sha256(f"{seed}:{c}".encode("utf-8")).hexdigest(), 16) / 2**256
                          for c in canonical], dtype=np.float64)
    mask = fractions < validation_split
    if len(mask) >= 2:
        if not mask.any():
            mask[int(np.argmin(fractions))] = True
        elif mask.all():
            mask[int(np.argmax(fractions))] = False
    return mask


def digest(items: list[str]) -> str:
    """sha256 over canonical rows, one per line (the split digests in metadata)."""
    h = hashlib.sha256()
    for c in items:
        h.update(c.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()
