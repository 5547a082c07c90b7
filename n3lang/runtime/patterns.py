"""`must match pattern "..."`: patterns in Python's syntax, matched in linear time by RE2.

Python's backtracking engine takes exponential time on patterns such as ``^(a+)+$`` (41
characters of input hang it), so patterns are matched by RE2 (``google-re2``), whose time is
linear in the text. The pattern is first read by Python's ``re`` (so what it refuses is
refused as before, with its message), then translated to RE2's syntax with Python's meaning:

- ``\\d`` is a Unicode decimal digit, ``\\w`` a Unicode letter, digit or ``_``, ``\\s`` Python's
  whitespace (RE2's own are ASCII only); ``\\Z`` is ``\\z``; ``{,n}`` is ``{0,n}``;
  ``\\uXXXX``, ``\\UXXXXXXXX``, ``\\N{NAME}`` and octal escapes become ``\\x{...}``; ``[`` inside a
  class is a plain character (RE2 would read ``[:alpha:]`` there).
- What RE2 cannot match in linear time is refused with a :class:`PatternProblem`:
  backreferences (``\\1``, ``(?P=name)``), lookahead and lookbehind, atomic groups, possessive
  quantifiers, conditionals, and the ``(?x)`` / ``(?a)`` flags.

Matching is a full match, as before. Known differences, all rare: ``\\b`` and ``\\B`` see word
characters as RE2 does (ASCII), and characters assigned in a Unicode version newer than
Python's may count as letters or digits.

``compile_pattern`` is pure and cached: the checker can call it on a literal pattern to report
the problem at ``n3 check`` time, and the interpreter calls it at run time.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import warnings
from dataclasses import dataclass

try:  # google-re2: a wheel for every common platform; see pyproject.toml
    import re2 as _re2  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
    _re2 = None


@dataclass(frozen=True)
class PatternProblem:
    """Why a pattern cannot be used: the message (names the pattern), why, and a fix."""

    message: str
    why: str
    fix: str


class Pattern:
    """A compiled pattern; ``fullmatch(text)`` returns a match or None, in linear time."""

    __slots__ = ("text", "_compiled")

    def __init__(self, text: str, compiled) -> None:
        self.text = text
        self._compiled = compiled

    def fullmatch(self, value: str):
        try:
            return self._compiled.fullmatch(value)
        except (UnicodeEncodeError, TypeError):  # a lone surrogate: text no pattern matches
            return None


_FIX = ("Write the pattern without it: list the alternatives, or check the text in two steps "
        "(for example with two `must match pattern` constraints).")


def _problem(text: str, what: str) -> PatternProblem:
    return PatternProblem(
        f'Pattern "{_short(text)}" uses {what}, which this runtime does not support',
        why="Patterns are matched by a linear-time engine (RE2), so that no pattern can make a "
            "run hang; it cannot match " + what + ".",
        fix=_FIX,
    )


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


class _Unsupported(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


# Python's \s: the characters str.isspace() accepts (all below U+3001)
_SPACE_CODES = [c for c in range(0x3001) if chr(c).isspace()]


def _ranges(codes: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for c in codes:
        if out and out[-1][1] == c - 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


def _class_text(ranges: list[tuple[int, int]]) -> str:
    return "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)


_SPACE = _class_text(_ranges(_SPACE_CODES))
_NOT_SPACE_RANGES = []
_prev = 0
for _a, _b in _ranges(_SPACE_CODES):
    if _a > _prev:
        _NOT_SPACE_RANGES.append((_prev, _a - 1))
    _prev = _b + 1
_NOT_SPACE_RANGES.append((_prev, 0x10FFFF))
_NOT_SPACE = _class_text(_NOT_SPACE_RANGES)
_WORD = r"\p{L}\p{N}_"

#: escape letter -> (outside a class, inside a class or None when it cannot be written there)
_CLASSES = {
    "d": (r"\p{Nd}", r"\p{Nd}"),
    "D": (r"\P{Nd}", r"\P{Nd}"),
    "w": (f"[{_WORD}]", _WORD),
    "W": (f"[^{_WORD}]", None),
    "s": (f"[{_SPACE}]", _SPACE),
    "S": (f"[^{_SPACE}]", _NOT_SPACE),
}
_OCT = "01234567"


def _translate(p: str) -> str:
    """Python pattern syntax (already accepted by ``re``) -> RE2 syntax with the same meaning."""
    out: list[str] = []
    i = 0
    n = len(p)
    in_class = False
    class_start = -1  # index in p just after '[' or '[^'
    while i < n:
        c = p[i]
        if c == "\\":
            e = p[i + 1] if i + 1 < n else ""
            i += 2
            if e in _CLASSES:
                outside, inside = _CLASSES[e]
                if in_class and inside is None:
                    raise _Unsupported(f"\\{e} inside [...] (write a negated class [^...] instead)")
                out.append(inside if in_class and inside is not None else outside)
            elif e == "Z":
                out.append(r"\z")
            elif e == "u" or e == "U":
                width = 4 if e == "u" else 8
                out.append(f"\\x{{{int(p[i:i + width], 16):x}}}")
                i += width
            elif e == "N":
                end = p.index("}", i)
                out.append(f"\\x{{{ord(unicodedata.lookup(p[i + 1:end])):x}}}")
                i = end + 1
            elif e == "0" or (in_class and e in _OCT):
                j = i
                while j < n and j < i + 2 and p[j] in _OCT:
                    j += 1
                out.append(f"\\x{{{int(e + p[i:j], 8):x}}}")
                i = j
            elif e.isdigit():
                if (i + 1 < n and e in _OCT and p[i] in _OCT and p[i + 1] in _OCT):
                    out.append(f"\\x{{{int(p[i - 1:i + 2], 8):x}}}")
                    i += 2
                else:
                    raise _Unsupported(f"a backreference (\\{e})")
            else:
                out.append("\\" + e)
            continue
        if in_class:
            if c == "]" and i != class_start:
                in_class = False
            elif c == "[":
                c = "\\["
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            i += 1
            if i < n and p[i] == "^":
                out.append("[^")
                i += 1
            else:
                out.append("[")
            class_start = i
            continue
        if c == "(" and p.startswith("(?", i):
            rest = p[i + 2:i + 4]
            if rest.startswith("P="):
                raise _Unsupported("a backreference ((?P=name))")
            if rest[:1] in ("=", "!") or rest in ("<=", "<!"):
                raise _Unsupported("lookahead or lookbehind ((?=, (?!, (?<=, (?<!)")
            if rest[:1] == ">":
                raise _Unsupported("an atomic group ((?>...))")
            if rest[:1] == "(":
                raise _Unsupported("a conditional group ((?(1)...))")
            if rest[:1] == "#":
                i = p.index(")", i) + 1
                continue
            m = re.match(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])", p[i:])
            if m and (m.group(1) or m.group(2)):
                flags = (m.group(1) or "") + (m.group(2) or "")
                for f in flags:
                    if f in "xa":
                        raise _Unsupported(f"the (?{f}) flag")
                on = m.group(1).replace("u", "")
                off = (m.group(2) or "").replace("u", "")
                text = on + ("-" + off if off else "")
                if text:
                    out.append(f"(?{text}{m.group(3)}")
                elif m.group(3) == ":":
                    out.append("(?:")
                i += m.end()
                continue
        if c == "{":
            if re.match(r"\{\d*,?\d*\}\+", p[i:]) and re.match(r"\{(\d+,?\d*|,\d+)\}", p[i:]):
                raise _Unsupported("a possessive quantifier (*+, ++, ?+, {n}+)")
            m = re.match(r"\{,(\d+)\}", p[i:])
            if m:
                out.append("{0," + m.group(1) + "}")
                i += m.end()
                continue
        if c in "*+?" and i + 1 < n and p[i + 1] == "+":
            raise _Unsupported("a possessive quantifier (*+, ++, ?+, {n}+)")
        out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def compile_pattern(text: str) -> Pattern | PatternProblem:
    """A pattern for full matches, or the reason it cannot be used (never raises)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "possible nested set": a note, not an error
            re.compile(text)
    except re.error as exc:
        return PatternProblem(f'Invalid pattern "{_short(text)}": {exc}',
                              why="The pattern is not a valid regular expression.",
                              fix="Correct the pattern; escape special characters with \\\\.")
    except (RecursionError, OverflowError, MemoryError):
        return PatternProblem(f'Pattern "{_short(text)}" is too complex',
                              why="The pattern nests or repeats more than a regular expression here may.",
                              fix="Write a simpler pattern.")
    if _re2 is None:  # pragma: no cover
        return PatternProblem("Patterns need the google-re2 package, which is not installed",
                              why="Patterns are matched by RE2 so that none can make a run hang.",
                              fix="pip install google-re2")
    try:
        translated = _translate(text)
    except _Unsupported as exc:
        return _problem(text, exc.what)
    except (ValueError, KeyError, IndexError):
        return _problem(text, "an escape it cannot read")
    options = _re2.Options()
    options.log_errors = False
    try:
        compiled = _re2.compile(translated, options)
    except Exception as exc:  # re2.error: what RE2 cannot take (e.g. a repeat over 1000)
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return PatternProblem(
            f'Pattern "{_short(text)}" cannot be matched by this runtime: {reason}',
            why="Patterns are matched by a linear-time engine (RE2), so that no pattern can make "
                "a run hang; it refuses this one.",
            fix="Write a simpler pattern (repeat counts up to 1000, no backreferences or lookaround).")
    return Pattern(text, compiled)


__all__ = ["compile_pattern", "Pattern", "PatternProblem"]
