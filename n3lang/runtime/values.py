"""Runtime values: exact decimals, English equality, type names and exact JSON output.

Values are plain Python objects: ``Decimal`` numbers, ``str`` text, ``bool``, ``None`` (null),
``list`` and ``dict`` (maps with text keys). A number never equals a boolean.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any

from n3lang import surrogates

#: The one arithmetic context: 28 significant digits, banker's rounding, errors trapped.
CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emin=-999999,
    Emax=999999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

ZERO = Decimal(0)
ONE = Decimal(1)


def is_number(value: Any) -> bool:
    return value.__class__ is Decimal


def type_name(value: Any) -> str:
    """The language's name for a value's type."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    cls = value.__class__
    if cls is Decimal:
        return "number"
    if cls is str:
        return "text"
    if cls is list:
        return "list"
    if cls is dict:
        return "map"
    return type(value).__name__


def values_equal(a: Any, b: Any) -> bool:
    """English equality: numbers by value, never equal to booleans; lists/maps item by item."""
    ca = a.__class__
    cb = b.__class__
    if ca is not cb:
        return False
    if ca is Decimal or ca is str or ca is bool or a is None:
        return a == b
    if ca is list:
        if len(a) != len(b):
            return False
        return all(values_equal(x, y) for x, y in zip(a, b))
    if ca is dict:
        if a.keys() != b.keys():
            return False
        return all(values_equal(a[k], b[k]) for k in a)
    return a == b


def is_integral(d: Decimal) -> bool:
    return d.is_finite() and d == d.to_integral_value()


def number_text(d: Decimal) -> str:
    """Exact decimal text without exponent: integers without ``.0``, no trailing zeros."""
    if not d.is_finite():
        return str(d)
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


#: the most digits of a number given back as a flow's result or state (`n3 run --json`):
#: Python's json refuses longer integers (int() stops at 4300 digits); longer fractions are
#: refused too, as no reader keeps them exactly
MAX_NUMBER_TEXT = 4300


def json_number_problem(d: Decimal) -> str | None:
    """Why a number cannot be given back as JSON, or None (its exact text is too long)."""
    if not d.is_finite():
        return f"holds the number {d}, which JSON cannot write"
    if not d:
        return None
    exp = d.as_tuple().exponent
    digits = len(d.as_tuple().digits)
    # the length of number_text(d), without building it: integer digits + fraction digits
    length = max(d.adjusted() + 1, 1) + max(-exp, 0) if isinstance(exp, int) else digits
    if length <= MAX_NUMBER_TEXT:
        return None
    return (f"holds the number {short_number(d)}, whose exact text has {length} digits; JSON "
            f"readers cannot read back numbers that long (Python's json stops at "
            f"{MAX_NUMBER_TEXT} digits)")


def short_number(d: Decimal) -> str:
    """A number for a message: exact when short, else in scientific form (``1E+5000``)."""
    if d.is_finite() and -40 <= d.adjusted() <= 40:
        return number_text(d)
    return format(d.normalize(CONTEXT) if d.is_finite() else d, "E")


def from_json(value: Any) -> Any:
    """A value parsed by ``json.loads(..., parse_float=Decimal, parse_int=Decimal)``, checked.

    Converts stray ints/floats to Decimal (exactly via their text)."""
    cls = value.__class__
    if cls is Decimal or cls is str or cls is bool or value is None:
        return value
    if cls is int:
        return Decimal(value)
    if cls is float:
        return Decimal(repr(value))
    if cls is list or cls is tuple:
        return [from_json(v) for v in value]
    if cls is dict:
        return {str(k): from_json(v) for k, v in value.items()}
    raise TypeError(f"unsupported value of type {type(value).__name__}")


def parse_json_text(text: str) -> Any:
    """Parse JSON text into runtime values with exact decimals (raises ValueError, also for a
    string holding an unpaired surrogate: it is not text this runtime can hold or print)."""
    value = _DECODER.decode(text)
    # only a \u escape, or a non-ASCII str from the command line, can hold a lone surrogate
    char = surrogates.find(value) if "\\u" in text or not text.isascii() else None
    if char is not None:
        line, column = surrogates.locate(text, char)
        raise ValueError(f"{surrogates.describe(char)} (line {line}, column {column})")
    return value


def _input_number(text: str) -> Decimal:
    """An input number, exactly; one beyond the runtime's range (about 1e999999) is refused
    here rather than printed as a billion digits later."""
    number = Decimal(text)
    if number and not CONTEXT.Etiny() <= number.adjusted() <= CONTEXT.Emax:
        raise ValueError(f"the number {text[:20]}{'...' if len(text) > 20 else ''} is beyond what this runtime "
                         f"holds (magnitudes from 1e{CONTEXT.Etiny()} to 1e{CONTEXT.Emax})")
    return number


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number in this language")


# one decoder (json.loads with keywords builds one per call; the record store parses every row)
_DECODER = json.JSONDecoder(parse_float=_input_number, parse_int=_input_number, parse_constant=_reject_constant)


class _Raw(str):
    """Text to splice into JSON output verbatim (an exact number)."""


_MAX_INT_TEXT = 4000


def to_json_value(value: Any) -> Any:
    """A JSON-ready copy of a runtime value; numbers become ints, or exact ``_Raw`` markers.

    Use :func:`dumps` to write it: the markers print as bare JSON numbers."""
    cls = value.__class__
    if cls is Decimal:
        text = number_text(value)
        if len(text) <= _MAX_INT_TEXT and "." not in text and "E" not in text and "N" not in text and "I" not in text:
            return int(text)
        return _JsonNumber(text)  # also a long integer: Python refuses int() of over 4300 digits
    if cls is list or cls is tuple:
        return [to_json_value(v) for v in value]
    if cls is dict:
        return {str(k): to_json_value(v) for k, v in value.items()}
    return value


class _JsonNumber(float):
    """A float subclass carrying its exact decimal text, so json.dumps prints it verbatim."""

    text: str

    def __new__(cls, text: str) -> "_JsonNumber":
        obj = float.__new__(cls, text)
        obj.text = text
        return obj

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def dumps(value: Any, *, indent: int | None = 2, sort_keys: bool = True) -> str:
    """JSON text with exact decimal numbers (accepts runtime values or to_json_value output)."""
    return _encode(to_json_value(value), indent, sort_keys)


def _encode(value: Any, indent: int | None, sort_keys: bool) -> str:
    # json's C encoder calls float.__repr__ directly; the pure-Python encoder honours
    # the subclass's repr. Force the Python path with a custom floatstr.
    encoder = json.JSONEncoder(indent=indent, sort_keys=sort_keys, ensure_ascii=False)
    return "".join(_iterencode(encoder, value))


def _iterencode(encoder: json.JSONEncoder, value: Any):
    def floatstr(o, allow_nan=True, _repr=float.__repr__):
        if isinstance(o, _JsonNumber):
            return o.text
        return _repr(o)

    markers: dict | None = {} if encoder.check_circular else None
    indent = encoder.indent
    if indent is not None and not isinstance(indent, str):
        indent = " " * indent
    _iter = json.encoder._make_iterencode(  # type: ignore[attr-defined]
        markers, encoder.default, json.encoder.py_encode_basestring, indent, floatstr,
        encoder.key_separator, encoder.item_separator, encoder.sort_keys, encoder.skipkeys,
        True,
    )
    return _iter(value, 0)


def display(value: Any) -> str:
    """A readable one-value rendering for people (`n3 run` without --json)."""
    cls = value.__class__
    if cls is Decimal:
        return number_text(value)
    if cls is str:
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return dumps(value)
