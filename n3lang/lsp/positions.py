"""Positions between n3 and an editor.

n3's spans are 1-based lines and columns counted in code points (Python string indices), with
the end exclusive. LSP positions are 0-based and count columns in the client's encoding:
UTF-16 code units unless the client offers another (``general.positionEncodings``); pygls's
PositionCodec converts between code points and those units on one line.

The parser reads text without a leading byte-order mark and with CRLF as LF, so line 1 of a
file that starts with a BOM is one code point longer in the editor than in our spans.
"""

from __future__ import annotations

from lsprotocol import types as T
from pygls.workspace.position_codec import PositionCodec

from n3lang.span import UNKNOWN, Span

_BOM = "\ufeff"


class Lines:
    """One file's lines as the editor holds them, and the conversions that need them."""

    def __init__(self, text: str, codec: PositionCodec) -> None:
        self.lines = text.split("\n")
        self.codec = codec
        self.bom = text.startswith(_BOM)

    def position(self, line: int, column: int) -> T.Position:
        """The client position of our 1-based (line, column)."""
        index = line - 1
        if index >= len(self.lines):
            return T.Position(line=max(len(self.lines) - 1, 0), character=self.codec.client_num_units(self.lines[-1]))
        character = column - 1 + (1 if self.bom and index == 0 else 0)
        text = self.lines[index].rstrip("\r")
        character = min(max(character, 0), len(text))
        return T.Position(line=index, character=self.codec.client_num_units(text[:character]))

    def point(self, position: T.Position) -> tuple[int, int]:
        """Our 1-based (line, column) of a client position (clamped to the text)."""
        if position.line >= len(self.lines):
            last = self.lines[-1] if self.lines else ""
            return len(self.lines), len(last) + 1
        text = self.lines[position.line].rstrip("\r")
        units = 0
        column = 0
        for char in text:
            if units >= position.character:
                break
            units += self.codec.client_num_units(char)
            column += 1
        if position.line == 0 and self.bom:
            column = max(column - 1, 0)
        return position.line + 1, column + 1


def to_range(lines: Lines, span: Span) -> T.Range:
    """The client range of a span (an unknown span is the start of the file)."""
    if span == UNKNOWN:
        return T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
    return T.Range(start=lines.position(span.line, span.column), end=lines.position(span.end_line, span.end_column))
