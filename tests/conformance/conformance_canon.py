"""One normalisation for conformance expectations, shared by the recorder and the test.

Values are JSON values. Numbers are JSON numbers written exactly, in one canonical form:
plain decimal notation, no exponent, no trailing zeros after the point, integers without
``.0`` (so ``2.50`` and ``2.5`` both become ``2.5``, ``3.0`` becomes ``3``, ``-0`` becomes
``0``). Comparison is therefore by exact decimal value, never through binary floats.
Booleans stay ``true``/``false`` (never numbers). A value that is not JSON-like is written
as ``{"$repr": "<type>: <text>"}``. Objects are written with sorted keys and two-space
indentation, so the files are stable and diff well.

This module imports only the standard library: it also runs in the reference venv.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

NUM = "$num"  # tag used on the wire between the oracle process and the recorder


def number_text(value) -> str:
    """The canonical exact text of a number (Decimal, int or float)."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    elif isinstance(value, int):
        value = Decimal(value)
    if not value.is_finite():
        return str(value)
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class Number:
    """A canonical exact number inside a canonical value (compares by its text)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other) -> bool:
        return isinstance(other, Number) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return self.text


def canon(value):
    """A canonical copy of a value: numbers become Number, tuples lists, keys text."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Number):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Number(number_text(value))
    if isinstance(value, dict):
        if len(value) == 1 and NUM in value and isinstance(value[NUM], str):
            try:
                return Number(number_text(Decimal(value[NUM])))
            except InvalidOperation:
                return Number(value[NUM])
        return {str(k): canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canon(v) for v in value]
    return {"$repr": f"{type(value).__name__}: {value}"}


def dumps(value, indent: int = 2) -> str:
    """Canonical JSON text of a value (after canon)."""
    out: list[str] = []
    _write(canon(value), out, indent, 0)
    return "".join(out)


def _write(value, out, indent, level):
    if isinstance(value, Number):
        out.append(value.text)
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        pad = "\n" + " " * (indent * (level + 1))
        out.append("{")
        for i, key in enumerate(sorted(value)):
            out.append(("," if i else "") + pad + json.dumps(key, ensure_ascii=False) + ": ")
            _write(value[key], out, indent, level + 1)
        out.append("\n" + " " * (indent * level) + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        pad = "\n" + " " * (indent * (level + 1))
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + pad)
            _write(item, out, indent, level + 1)
        out.append("\n" + " " * (indent * level) + "]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def loads(text: str):
    """Read canonical JSON text back (numbers as Number)."""
    return canon(json.loads(text, parse_float=Decimal, parse_int=Decimal))
