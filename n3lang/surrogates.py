"""Unpaired UTF-16 surrogates in text that comes in from outside.

JSON and YAML can spell one (``"\\ud800"``) and a command-line argument with bytes that are not
UTF-8 decodes to one (U+DC80-U+DCFF), and Python keeps it in a ``str``; but it is not a
character, cannot be written as UTF-8, and would fail far from its source (in a hash, in
printed output). Every place that reads such text checks it with :func:`find` and reports the
first one with :func:`describe` and :func:`locate`.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
FIX = "Write the character itself; one beyond U+FFFF may also be written as a pair, e.g. \\ud83d\\ude00."


def find(value: Any) -> str | None:
    """The first unpaired surrogate in the strings (map keys included) of a parsed JSON or
    YAML value, or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return found.group()
        elif isinstance(item, dict):
            stack.extend(reversed([*item.keys(), *item.values()]))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
    return None


def describe(char: str) -> str:
    """``\\ud800 is an unpaired UTF-16 surrogate, not a character``."""
    return f"\\u{ord(char):04x} is an unpaired UTF-16 surrogate, not a character"


def locate(text: str, char: str) -> tuple[int, int]:
    """(line, column), 1-based, of the first spelling of ``char`` in ``text``: its ``\\uXXXX``
    escape or the character itself; (1, 1) when neither is there."""
    escape = re.search(re.escape(f"\\u{ord(char):04x}"), text, re.IGNORECASE)
    at = escape.start() if escape else text.find(char)
    if at < 0:
        return 1, 1
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
