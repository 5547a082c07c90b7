"""Diagnostics: the code registry, the Diagnostic record and the one caret renderer.

Every error a user sees (syntax, check, runtime, training) is a Diagnostic with a stable code
and four parts: what happened (the message), why, how to fix it, and an example. Each module
that owns a family of errors registers its codes here with ``register`` at import time, so
there is one registry and one renderer; the texts live beside the code that raises them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Iterable

from n3lang.span import UNKNOWN, Span

ERROR = "error"
WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What a diagnostic code means: why it happens, how to fix it, an example of the fix."""

    code: str
    why: str
    fix: str
    example: str
    severity: str = ERROR


REGISTRY: dict[str, CodeInfo] = {}
REGISTERED_BY: dict[str, str] = {}  # code -> the module that registered it (n3lang/codes.py checks homes)


def register(code: str, *, why: str, fix: str, example: str, severity: str = ERROR) -> str:
    """Add a code to the registry (once) and return it, for use as a module constant."""
    info = CodeInfo(code, why, fix, example, severity)
    existing = REGISTRY.get(code)
    if existing is not None and existing != info:
        raise ValueError(f"diagnostic code {code!r} registered twice with different texts")
    REGISTRY[code] = info
    REGISTERED_BY.setdefault(code, sys._getframe(1).f_globals.get("__name__", "?"))
    return code


INTERNAL_ERROR = register(
    "internal-error",
    why="This is a bug in n3, not in your program.",
    fix="Please report it with the program that triggered it.",
    example="",
)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: code, severity, message (what happened), why, fix, example, file, span."""

    code: str
    message: str
    file: str = "<input>"
    span: Span = UNKNOWN
    severity: str = ERROR
    why: str = ""
    fix: str = ""
    example: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_json(self) -> dict:
        """The fields of schemas/diagnostics.schema.json."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "why": self.why,
            "fix": self.fix,
            "example": self.example,
            "file": self.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
        }


def make(
    code: str,
    message: str,
    span: Span = UNKNOWN,
    file: str = "<input>",
    *,
    severity: str | None = None,
    why: str | None = None,
    fix: str | None = None,
    example: str | None = None,
) -> Diagnostic:
    """A Diagnostic whose why/fix/example/severity default to the registered texts."""
    info = REGISTRY.get(code)
    if info is None:
        raise KeyError(f"unregistered diagnostic code {code!r}")
    return Diagnostic(
        code=code,
        message=message,
        file=file,
        span=span,
        severity=severity or info.severity,
        why=info.why if why is None else why,
        fix=info.fix if fix is None else fix,
        example=info.example if example is None else example,
    )


@dataclass
class DiagnosticError(Exception):
    """Raised where work must stop; carries every diagnostic collected so far."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(d.message for d in self.diagnostics)


def _source_line(source: str | None, line: int) -> str | None:
    if source is None:
        return None
    lines = source.splitlines()
    if 1 <= line <= len(lines):
        return lines[line - 1].replace("\t", " ")
    return None


def _marker(text: str, span: Span) -> str:
    """``^~~~`` under the span; a span running past its line is underlined to the line end."""
    start = max(span.column, 1)
    if span.end_line == span.line and span.end_column > span.column:
        stop = span.end_column
    else:
        stop = max(len(text) + 1, start + 1)
    width = max(stop - start, 1)
    return " " * (start - 1) + "^" + "~" * (width - 1)


NO_FILE = "<input>"  # the file of a diagnostic that belongs to no file at all
COMMAND_LINE = "<command line>"  # the file of a diagnostic about a command-line flag or argument


def place(diagnostic: Diagnostic) -> str:
    """Where a diagnostic is, as its header starts: ``app.ai:3:5: `` in a file, ``FILE: ``
    for a file without a position (``span`` is UNKNOWN), ``command line: `` (or
    ``command line (--flow): `` for a named option) for a flag, and nothing when the problem
    has no place at all. A place that is not in a file is never written as ``FILE:1:1``."""
    d = diagnostic
    if d.span != UNKNOWN:
        return f"{d.file}:{d.span.line}:{d.span.column}: "
    if d.file == COMMAND_LINE:
        return "command line: "
    if d.file.startswith("--"):  # an option of the command (n3 run --flow)
        return f"command line ({d.file}): "
    if d.file == NO_FILE or not d.file:
        return ""
    return f"{d.file}: "


def render(diagnostic: Diagnostic, source: str | None = None) -> str:
    """The one human rendering: header, source line, caret marker, then Why/Fix/Example."""
    d = diagnostic
    out = [f"{place(d)}{d.severity}: {d.message} [{d.code}]"]
    text = _source_line(source, d.span.line) if d.span != UNKNOWN else None
    if text is not None:
        gutter = f"{d.span.line:>4} | "
        out.append(gutter + text)
        out.append(" " * (len(gutter) - 2) + "| " + _marker(text, d.span))
    out.append(f"  What happened: {d.message}")
    if d.why:
        out.append(f"  Why: {d.why}")
    if d.fix:
        out.append(f"  Fix: {d.fix}")
    if d.example:
        out.append("  Example:")
        out.extend("      " + ln for ln in d.example.splitlines())
    return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    """Render several diagnostics, separated by blank lines, with a closing count line."""
    diagnostics = list(diagnostics)
    sources = sources or {}
    parts = [render(d, sources.get(d.file)) for d in diagnostics]
    errors = sum(d.is_error for d in diagnostics)
    warnings = sum(d.severity == WARNING for d in diagnostics)
    if diagnostics:
        parts.append(_count(errors, "error") + ", " + _count(warnings, "warning"))
    return "\n\n".join(parts)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def sort_key(d: Diagnostic) -> tuple:
    """Order diagnostics by file, then position, then code."""
    return (d.file, d.span.line, d.span.column, d.code)
