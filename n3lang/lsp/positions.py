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
    """One file's lines as the editor holds them, and the conversions that need them.

    The editor breaks lines at LF, CRLF and a lone CR; the parser only at LF (CRLF read as LF),
    so a lone CR is a character of our line (an error the parser reports) but a line break in
    the editor: every line after it is one further down there."""

    def __init__(self, text: str, codec: PositionCodec) -> None:
        self.lines = text.split("\n")
        if "\r" in text:  # CRLF: the CR belongs to the line break
            self.lines = [line[:-1] if line.endswith("\r") else line for line in self.lines]
        self.codec = codec
        self.bom = text.startswith(_BOM)
        #: per line of ours with a lone CR: its pieces (editor lines); and the editor line of each line of ours
        self.pieces: dict[int, list[str]] = {}
        self.first: list[int] | None = None
        if "\r" in text and any("\r" in line for line in self.lines):
            first, editor_line = [], 0
            for index, line in enumerate(self.lines):
                first.append(editor_line)
                if "\r" in line:
                    self.pieces[index] = line.split("\r")
                    editor_line += len(self.pieces[index])
                else:
                    editor_line += 1
            self.first = first

    def position(self, line: int, column: int) -> T.Position:
        """The client position of our 1-based (line, column)."""
        index = line - 1
        if index >= len(self.lines):
            last = len(self.lines) - 1
            pieces = self.pieces.get(last)
            text = pieces[-1] if pieces else self.lines[-1]
            return T.Position(line=self._editor_line(last, len(pieces) - 1 if pieces else 0),
                              character=self.codec.client_num_units(text))
        character = max(column - 1 + (1 if self.bom and index == 0 else 0), 0)
        pieces = self.pieces.get(index)
        if pieces is None:
            text = self.lines[index]
            character = min(character, len(text))
            return T.Position(line=self._editor_line(index, 0), character=self.codec.client_num_units(text[:character]))
        for number, piece in enumerate(pieces):
            if character <= len(piece) or number == len(pieces) - 1:
                piece = piece[:character]
                return T.Position(line=self._editor_line(index, number), character=self.codec.client_num_units(piece))
            character -= len(piece) + 1
        raise AssertionError("unreachable")  # pragma: no cover

    def _editor_line(self, index: int, piece: int) -> int:
        return index + piece if self.first is None else self.first[index] + piece

    def point(self, position: T.Position) -> tuple[int, int]:
        """Our 1-based (line, column) of a client position (clamped to the text)."""
        index, before = position.line, 0
        if self.first is not None:  # the line of ours that holds this editor line, and the pieces before it
            index = max(i for i, first in enumerate(self.first) if first <= position.line) \
                if position.line >= 0 else 0
            pieces = self.pieces.get(index, [self.lines[index]])
            piece = min(position.line - self.first[index], len(pieces) - 1)
            before = sum(len(p) + 1 for p in pieces[:piece])
            text = pieces[piece]
        elif position.line >= len(self.lines):
            last = self.lines[-1] if self.lines else ""
            return len(self.lines), len(last) + 1
        else:
            text = self.lines[index]
        units = 0
        column = 0
        for char in text:
            if units >= position.character:
                break
            units += self.codec.client_num_units(char)
            column += 1
        column += before
        if index == 0 and self.bom:
            column = max(column - 1, 0)
        return index + 1, column + 1


def to_range(lines: Lines, span: Span) -> T.Range:
    """The client range of a span (an unknown span is the start of the file)."""
    if span == UNKNOWN:
        return T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
    return T.Range(start=lines.position(span.line, span.column), end=lines.position(span.end_line, span.end_column))
