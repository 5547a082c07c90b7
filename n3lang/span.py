"""Span: where a piece of source text is. The bottom of the package (imports nothing of it),
so diagnostics and training can name a position without importing the AST."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """Source range, 1-based: line, column, end_line, end_column (end is exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int


UNKNOWN = Span(1, 1, 1, 1)
