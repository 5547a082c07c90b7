"""Convert a state export (JSON) into a training dataset (JSONL with ``input`` and ``target``).

Used by ``scripts/convert_state_to_training_dataset.py`` and ``n3 dataset convert``:

    python scripts/convert_state_to_training_dataset.py \\
      --input data/state_records.json --output data/support_tickets.jsonl

The input is a JSON list of objects, or an object holding such a list under ``records`` or
``rows``. Each object becomes one line ``{"input": ..., "target": ...}`` (keys sorted, text
NFC-normalised and stripped), in the order of the export. The fields are found by name:
``input``/``target`` if present, else a common alias (question/answer, text/label,
message/category, ...), or the names given with ``input_field``/``target_field`` (dotted paths
such as ``data.question`` reach into nested objects; a record whose fields sit under
``data``/``fields``/``values``/``record`` is looked into as well). One field name is chosen for
the whole export, so every line means the same thing.

Every problem is reported at once, with the line of the record in the export; the output is
written (atomically) only when there is none.
"""

from __future__ import annotations

import json
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from n3lang import json_limits, surrogates
from n3lang.diagnostics import Diagnostic, DiagnosticError, make, register
from n3lang.span import UNKNOWN, Span
from n3lang.training.artifacts import atomic_write
from n3lang.training.dataset import json_type_name

INPUT_ALIASES = ("input", "question", "text", "message", "prompt", "query", "utterance", "body",
                 "content", "description", "ticket", "request", "subject")
TARGET_ALIASES = ("target", "label", "intent", "category", "class", "topic", "tag", "answer",
                  "output", "response", "reply", "transcript")
CONTAINER_KEYS = ("records", "rows")
NESTED_KEYS = ("data", "fields", "values", "record")
MAX_INPUT_BYTES = 512 * 1024 * 1024

_EXAMPLE_EXPORT = '[\n  {"question": "I forgot my password", "category": "password_reset"},\n' \
                  '  {"question": "Where is my parcel?", "category": "shipping"}\n]'

CONVERT_INPUT_MISSING = register(
    "convert-input-missing",
    why="The converter reads a state export: a JSON file written by your app or another tool.",
    fix="Check the --input path (it is relative to the current directory).",
    example="python scripts/convert_state_to_training_dataset.py \\\n"
    "  --input data/state_records.json --output data/support_tickets.jsonl",
)
CONVERT_INPUT_INVALID = register(
    "convert-input-invalid",
    why="A state export must be JSON: a list of objects, or an object with a `records` or `rows` list.",
    fix="Fix the JSON at the place shown, or export the records as a list.",
    example=_EXAMPLE_EXPORT,
)
CONVERT_RECORD_INVALID = register(
    "convert-record-invalid",
    why="Each record becomes one training row, so it needs a text input and a target; "
    "nothing is written until every record converts.",
    fix="Correct the record, or name the fields to use with --input-field and --target-field.",
    example="python scripts/convert_state_to_training_dataset.py --input data/state_records.json \\\n"
    "  --output data/support_tickets.jsonl --input-field question --target-field category",
)
CONVERT_OUTPUT_INVALID = register(
    "convert-output-invalid",
    why="The dataset is written as a new file beside a temporary one and renamed into place.",
    fix="Choose an --output path in a directory you can write to (it is created if missing).",
    example="--output data/support_tickets.jsonl",
)


@dataclass
class ConvertResult:
    """What a conversion did: rows written, the fields used, and the output path."""

    output: Path
    rows: int
    input_field: str
    target_field: str
    targets: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "ok": True,
            "output": self.output.as_posix(),
            "rows": self.rows,
            "input_field": self.input_field,
            "target_field": self.target_field,
            "targets": dict(sorted(self.targets.items())),
        }


# ----------------------------------------------------------------------------- parsing


class _Located:
    """The records of an export with the offset of each in the source text."""

    def __init__(self, records: list, offsets: list[int]) -> None:
        self.records = records
        self.offsets = offsets


_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _list_offsets(text: str, i: int) -> list[int]:
    """Offsets of the elements of the JSON array starting at text[i] == '['."""
    offsets: list[int] = []
    i = _skip_ws(text, i + 1)
    if i < len(text) and text[i] == "]":
        return offsets
    while i < len(text):
        offsets.append(i)
        _, i = _DECODER.raw_decode(text, i)
        i = _skip_ws(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip_ws(text, i + 1)
        else:
            break
    return offsets


def _member_offsets(text: str, i: int) -> dict[str, int]:
    """Offsets of the values of the JSON object starting at text[i] == '{' (last key wins)."""
    offsets: dict[str, int] = {}
    i = _skip_ws(text, i + 1)
    if i < len(text) and text[i] == "}":
        return offsets
    while i < len(text):
        key, i = _DECODER.raw_decode(text, i)
        i = _skip_ws(text, i)
        i = _skip_ws(text, i + 1)  # ':'
        offsets[key] = i
        _, i = _DECODER.raw_decode(text, i)
        i = _skip_ws(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip_ws(text, i + 1)
        else:
            break
    return offsets


def _span(text: str, offset: int) -> Span:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(line, column, line, column + 1)


def load_export(path: Path, display: str | None = None) -> tuple[str, _Located]:
    """Read and parse a state export; DiagnosticError naming the file (and line) if it is unusable."""
    display = display or str(path)
    p = Path(path)
    if not p.is_file():
        why = "it is a directory" if p.is_dir() else "it is not a regular file" if p.exists() else "no such file"
        raise DiagnosticError([make(CONVERT_INPUT_MISSING, f"cannot read state export {display}: {why}", file=display)])
    try:
        if p.stat().st_size > MAX_INPUT_BYTES:
            raise DiagnosticError([make(CONVERT_INPUT_INVALID, f"{display} is larger than 512 MiB", file=display)])
        raw = p.read_bytes()
    except OSError as exc:
        raise DiagnosticError([make(CONVERT_INPUT_MISSING, f"cannot read {display}: {exc.strerror}", file=display)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        span = _span(raw[: exc.start].decode("utf-8", "replace"), exc.start)
        raise DiagnosticError([make(CONVERT_INPUT_INVALID, f"{display} is not UTF-8 (byte {exc.start + 1})",
                                    span, display, fix="Re-save the export as UTF-8.")])
    try:
        data = json_limits.loads(text)
    except json.JSONDecodeError as exc:
        span = Span(exc.lineno, exc.colno, exc.lineno, exc.colno + 1)
        raise DiagnosticError([make(CONVERT_INPUT_INVALID, f"{display} is not valid JSON: {exc.msg}", span, display)])
    except json_limits.ERRORS as exc:
        message, _ = json_limits.describe(exc, text)
        raise DiagnosticError([make(CONVERT_INPUT_INVALID, f"{display} is not valid JSON: {message}", file=display)])
    char = surrogates.find(data)
    if char is not None:
        line, column = surrogates.locate(text, char)
        raise DiagnosticError([make(CONVERT_INPUT_INVALID, f"{display}: {surrogates.describe(char)}",
                                    Span(line, column, line, column + 6), display, fix=surrogates.FIX)])
    start = _skip_ws(text, 0)
    if isinstance(data, list):
        return text, _Located(data, _list_offsets(text, start))
    if isinstance(data, dict):
        members = _member_offsets(text, start)
        for key in CONTAINER_KEYS:
            if key in data and isinstance(data[key], list):
                return text, _Located(data[key], _list_offsets(text, members[key]))
        present = [k for k in CONTAINER_KEYS if k in data]
        if present:
            key = present[0]
            msg = f"`{key}` in {display} is {json_type_name(data[key])}, not a list of records"
            raise DiagnosticError([make(CONVERT_INPUT_INVALID, msg, _span(text, members[key]), display)])
        keys = ", ".join(sorted(data)[:8]) or "no keys"
        msg = f"{display} is a JSON object without a `records` or `rows` list (it has: {keys})"
        raise DiagnosticError([make(CONVERT_INPUT_INVALID, msg, _span(text, start), display)])
    msg = f"{display} holds {json_type_name(data)}, not a list of records"
    raise DiagnosticError([make(CONVERT_INPUT_INVALID, msg, _span(text, start), display)])


# ----------------------------------------------------------------------------- mapping


_MISSING = object()


def _lookup(record: dict, name: str) -> Any:
    """The value of field ``name`` (dotted path allowed), also looking into data/fields/values."""
    value: Any = record
    found = True
    for part in name.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            found = False
            break
    if found:
        return value
    if "." not in name:
        for nest in NESTED_KEYS:
            inner = record.get(nest)
            if isinstance(inner, dict) and name in inner:
                return inner[name]
    return _MISSING


def _choose_field(records: list, aliases: tuple[str, ...], exclude: str | None) -> str | None:
    """The alias present in the most records (earlier aliases win ties)."""
    best, best_count = None, 0
    for alias in aliases:
        if alias == exclude:
            continue
        count = sum(1 for r in records if isinstance(r, dict) and _lookup(r, alias) not in (_MISSING, None))
        if count > best_count:
            best, best_count = alias, count
    return best


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def convert_records(
    records: list,
    *,
    input_field: str | None = None,
    target_field: str | None = None,
    file: str = "<input>",
    text: str | None = None,
    offsets: list[int] | None = None,
) -> tuple[list[dict], str, str, list[Diagnostic]]:
    """Map records to ``{"input", "target"}`` rows; returns (rows, input_field, target_field, problems)."""
    problems: list[Diagnostic] = []

    def span(i: int) -> Span:
        if text is not None and offsets is not None and i < len(offsets):
            return _span(text, offsets[i])
        return UNKNOWN

    if not records:
        problems.append(make(CONVERT_INPUT_INVALID, f"{file} has no records to convert", file=file,
                             fix="Export at least two records (with different targets) and convert again."))
        return [], input_field or "input", target_field or "target", problems
    in_name = input_field or _choose_field(records, INPUT_ALIASES, None)
    out_name = target_field or _choose_field(records, TARGET_ALIASES, in_name)
    if in_name is None or out_name is None:
        sample = next((r for r in records if isinstance(r, dict)), {})
        keys = ", ".join(sorted(sample)[:12]) or "none"
        what = "an input" if in_name is None else "a target"
        aliases = INPUT_ALIASES if in_name is None else TARGET_ALIASES
        flag = "--input-field" if in_name is None else "--target-field"
        problems.append(make(
            CONVERT_RECORD_INVALID,
            f"cannot tell which field of the records is {what} (fields of the first record: {keys})",
            span(0), file,
            fix=f"Name it with {flag} FIELD, or call the field one of: {', '.join(aliases)}.",
        ))
        return [], in_name or "input", out_name or "target", problems
    if in_name == out_name:
        problems.append(make(CONVERT_RECORD_INVALID,
                             f"the input and target fields are both `{in_name}`", file=file,
                             fix="Give different fields to --input-field and --target-field."))
        return [], in_name, out_name, problems

    rows: list[dict] = []
    for i, record in enumerate(records):
        where = f"record {i + 1}"
        if not isinstance(record, dict):
            problems.append(make(CONVERT_RECORD_INVALID,
                                 f"{where} is {json_type_name(record)}, not an object", span(i), file))
            continue
        row: dict[str, str] = {}
        for key, name in (("input", in_name), ("target", out_name)):
            value = _lookup(record, name)
            if value is _MISSING or value is None:
                have = ", ".join(sorted(record)[:12]) or "no fields"
                problems.append(make(CONVERT_RECORD_INVALID,
                                     f"{where} has no `{name}` (used as the {key}; it has: {have})", span(i), file))
                continue
            converted = _text(value)
            if converted is None:
                problems.append(make(CONVERT_RECORD_INVALID,
                                     f"{where}: `{name}` is {json_type_name(value)}; the {key} must be text",
                                     span(i), file))
            elif not converted:
                problems.append(make(CONVERT_RECORD_INVALID,
                                     f"{where}: `{name}` is empty; the {key} must be non-empty text", span(i), file,
                                     fix="Fill in the field or remove the record from the export."))
            else:
                row[key] = converted
        if len(row) == 2:
            rows.append(row)
    return rows, in_name, out_name, problems


def dumps_jsonl(rows: list[dict]) -> bytes:
    """One JSON object per line, keys sorted, UTF-8 (not escaped), trailing newline."""
    return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def _output_refusal(out: Path, source: Path) -> str | None:
    """Why ``out`` must not be replaced (the rename would replace whatever is there), or None."""
    try:
        info = out.stat()
    except (OSError, ValueError):
        return None  # nothing there yet (or a name the write itself will refuse)
    if stat.S_ISDIR(info.st_mode):
        return "is a directory"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a device, pipe or socket would be replaced by the output)"
    try:
        if os.path.samefile(out, source):
            return "is the input export itself: write the dataset to another file"
    except OSError:
        pass
    return None


def convert_state_export(
    input_path: Path | str,
    output_path: Path | str,
    *,
    input_field: str | None = None,
    target_field: str | None = None,
) -> ConvertResult:
    """Convert the export at ``input_path`` to JSONL at ``output_path``.

    Raises DiagnosticError with every problem found; nothing is written then. On success the
    output is replaced atomically (temporary file in the same directory, fsync, rename).
    """
    display = str(input_path)
    text, located = load_export(Path(input_path), display)
    rows, in_name, out_name, problems = convert_records(
        located.records, input_field=input_field, target_field=target_field,
        file=display, text=text, offsets=located.offsets,
    )
    if problems:
        raise DiagnosticError(problems)
    out = Path(output_path)
    refusal = _output_refusal(out, Path(input_path))
    if refusal:
        raise DiagnosticError([make(CONVERT_OUTPUT_INVALID, f"--output {output_path} {refusal}", file=str(output_path))])
    try:
        atomic_write(out, dumps_jsonl(rows))
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise DiagnosticError([make(CONVERT_OUTPUT_INVALID, f"cannot write {output_path}: {getattr(exc, 'strerror', None) or exc}",
                                    file=str(output_path))])
    targets: dict[str, int] = {}
    for r in rows:
        targets[r["target"]] = targets.get(r["target"], 0) + 1
    return ConvertResult(Path(output_path), len(rows), in_name, out_name, targets)


# ----------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """``convert_state_to_training_dataset.py``: argparse front end; returns the exit code."""
    import argparse
    import sys

    from n3lang.diagnostics import render_all

    parser = argparse.ArgumentParser(
        prog="convert_state_to_training_dataset.py",
        description="Convert a state export (JSON list, or object with `records`/`rows`) to training JSONL.",
    )
    parser.add_argument("--input", required=True, help="state export, e.g. data/state_records.json")
    parser.add_argument("--output", required=True, help="dataset to write, e.g. data/support_tickets.jsonl")
    parser.add_argument("--input-field", help="record field holding the input text (default: found by name)")
    parser.add_argument("--target-field", help="record field holding the target (default: found by name)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    args = parser.parse_args(argv)
    try:
        result = convert_state_export(args.input, args.output, input_field=args.input_field,
                                      target_field=args.target_field)
    except DiagnosticError as err:
        if args.json:
            print(json.dumps({"ok": False, "diagnostics": [d.to_json() for d in err.diagnostics]},
                             indent=2, sort_keys=True, ensure_ascii=False))
        else:
            sources = {}
            try:
                sources[str(args.input)] = Path(args.input).read_text(encoding="utf-8-sig", errors="replace")
            except OSError:
                pass
            print(render_all(err.diagnostics, sources), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_json(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(summary(result), file=sys.stderr)
    return 0


def summary(result: ConvertResult) -> str:
    """One status line for people."""
    return (f"Wrote {result.rows} rows to {result.output} (input: `{result.input_field}`, "
            f"target: `{result.target_field}`, {len(result.targets)} distinct targets).")
