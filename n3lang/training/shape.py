"""Is parsed YAML or JSON data plain JSON, and does it fit one of n3's schemas?

The registry is read on every model load, and importing jsonschema alone takes about 130 ms
(the load budget is 50 ms), so :func:`schema_problem` checks the small subset of JSON Schema
that n3's own schemas use on their fields. Both checks return (path, what is wrong) for the
first problem, for messages like ``field metrics.accuracy must be a number, not a string``.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

MAX_DEPTH = 64  # nesting of lists/mappings inside one entry (n3 writes at most 2)


# in order: bool before int, datetime before date (each is a subclass of the next)
_KINDS = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
          (dict, "a mapping"), (list, "a list"), (datetime, "an unquoted timestamp"),
          (date, "an unquoted date"), ((bytes, bytearray), "binary data (!!binary)"),
          ((set, frozenset), "a set (!!set)"), (tuple, "an ordered mapping (!!omap / !!pairs)"))


def kind_of(value) -> str:
    """How a YAML/JSON value is named in messages (YAML's words: a mapping, an integer).

    Kept apart from dataset.json_type_name on purpose: a YAML file can hold dates, sets and
    binary data that JSON cannot, and its messages say "mapping" as YAML does."""
    if value is None:
        return "null"
    return next((name for types, name in _KINDS if isinstance(value, types)), type(value).__name__)


def where(path: tuple) -> str:
    """``metrics.accuracy`` / ``deep[0][1]`` for a path of keys and indexes (a long path is
    cut short)."""
    out = ""
    if len(path) > 8:
        path = path[:6]
        tail = "..."
    else:
        tail = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) and not isinstance(part, bool) else (f".{part}" if out else str(part))
    return out + tail


def json_problem(value, max_depth: int = MAX_DEPTH) -> tuple[tuple, str] | None:
    """(path, what is wrong) for the first part of ``value`` that is not plain JSON data
    (mappings with string keys, lists, strings, finite numbers, booleans, null), or None.
    Iterative, so deep nesting cannot exhaust the stack."""
    stack: list[tuple[tuple, object, int]] = [((), value, 0)]
    while stack:
        path, v, depth = stack.pop()
        if v is None or isinstance(v, (bool, int)):
            continue
        if isinstance(v, float):
            if not math.isfinite(v):
                return path, f"is {'NaN' if math.isnan(v) else 'infinite'}; JSON has no such number"
            continue
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return path, "holds an unpaired UTF-16 surrogate (an escape like \\ud800), which is not text"
            continue
        if isinstance(v, (dict, list)):
            if depth >= max_depth:
                return path, f"is nested more than {max_depth} levels deep"
            if isinstance(v, dict):
                for k, item in v.items():
                    if not isinstance(k, str):
                        return path, f"has the key {k!r}, which is {kind_of(k)}; keys must be strings"
                    stack.append((path + (k,), item, depth + 1))
            else:
                for i, item in enumerate(v):
                    stack.append((path + (i,), item, depth + 1))
            continue
        return path, f"is {kind_of(v)}, which is not JSON data (write it as a quoted string or a number)"
    return None


_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}
_TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
               "object": "a mapping", "array": "a list", "null": "null"}


def schema_problem(value, schema: dict, path: tuple = (), *, strict: bool = True) -> tuple[tuple, str] | None:
    """(path, what is wrong) for the first place ``value`` breaks ``schema``, else None.

    A small, fast subset of JSON Schema (the keywords n3's own schemas use on their fields):
    type, const, enum, pattern, required, properties, additionalProperties, items,
    minItems, minimum, maximum. With ``strict`` False, keys the schema does not name are
    not judged (additionalProperties: false is ignored at this level)."""
    want = schema.get("type")
    if want is not None:
        kinds = want if isinstance(want, list) else [want]
        if not any(_TYPES[k](value) for k in kinds):
            return path, f"must be {' or '.join(_TYPE_NAMES[k] for k in kinds)}, not {kind_of(value)} ({short(value)})"
    if "const" in schema and value != schema["const"]:
        return path, f"must be {schema['const']!r}, not {short(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return path, f"must be one of {', '.join(map(str, schema['enum']))}, not {short(value)}"
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        return path, f"is not in the expected form ({short(value)} does not match {schema['pattern']})"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return path, f"must be at least {schema['minimum']}, not {short(value)}"
        if "maximum" in schema and value > schema["maximum"]:
            return path, f"must be at most {schema['maximum']}, not {short(value)}"
    if isinstance(value, dict):
        missing = [k for k in schema.get("required", ()) if k not in value]
        if missing:
            return path, f"lacks {', '.join(missing)}"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                found = schema_problem(v, props[k], path + (k,))
            elif extra is False:
                if not strict:
                    continue
                return path + (k,), "is not a known field"
            elif isinstance(extra, dict):
                found = schema_problem(v, extra, path + (k,))
            else:
                continue
            if found:
                return found
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return path, f"must hold at least {schema['minItems']} item(s)"
        if "items" in schema:
            for i, v in enumerate(value):
                found = schema_problem(v, schema["items"], path + (i,))
                if found:
                    return found
    return None


def short(value) -> str:
    """repr() for a message, cut to 60 characters (an int of over 4300 digits has no repr)."""
    try:
        text = repr(value)
    except ValueError:
        return "a number of over 4300 digits"
    return text if len(text) <= 60 else text[:57] + "..."
