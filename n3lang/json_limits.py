"""What Python's json module raises besides syntax errors, as a message and a column.

``json.loads`` refuses integers of more than 4300 digits (ValueError, Python's guard against
quadratic conversions) and runs out of stack on values nested about a thousand deep
(RecursionError). Readers of outside JSON catch both next to JSONDecodeError and report them
with :func:`describe`.
"""

from __future__ import annotations

import json
import re
from typing import Any

ERRORS = (ValueError, RecursionError)  # catch json.JSONDecodeError (a ValueError) before these
_LONG_NUMBER = re.compile(r"\d{4301,}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# one decoder for every call: json.loads with a keyword builds a new one each time (a
# dataset reads tens of thousands of rows)
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def loads(text: str) -> Any:
    """``json.loads`` of text that refuses NaN and Infinity (Python accepts them; JSON has no
    such numbers, and they would turn into the text "nan" downstream)."""
    return _DECODER.decode(text)


def describe(exc: BaseException, text: str) -> tuple[str, int]:
    """(message, 1-based column in ``text``) for a ValueError or RecursionError of json.loads."""
    if isinstance(exc, RecursionError):
        return "the value is nested too deeply (about a thousand levels)", 1
    long_number = _LONG_NUMBER.search(text)
    if long_number:
        return "a number has more than 4300 digits", long_number.start() - text.rfind("\n", 0, long_number.start())
    constant = re.search(r"-?\b(?:NaN|Infinity)\b", text) if "is not a JSON number" in str(exc) else None
    if constant:
        return str(exc), constant.start() - text.rfind("\n", 0, constant.start())
    return str(exc), 1
