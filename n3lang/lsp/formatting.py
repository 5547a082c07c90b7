"""Formatting through `n3 fmt`: one whole-document edit with the canonical layout.

No edit when the text does not parse (the formatter keeps such text as it is) or is already
formatted.
"""

from __future__ import annotations

from lsprotocol import types as T

from n3lang.lsp.positions import Lines
from n3lang.lsp.server import N3Server, path_of
from n3lang.syntax.format import format_or_diagnostics


def whole_document_edit(ls: N3Server, text: str, formatted: str) -> T.TextEdit:
    """Replace everything: from the start to the end of the last line (in the client's units)."""
    end = Lines(text, ls.workspace.position_codec).position(text.count("\n") + 2, 1)  # past the last line
    return T.TextEdit(range=T.Range(start=T.Position(line=0, character=0), end=end), new_text=formatted)


def register(server: N3Server) -> None:
    @server.feature(T.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: N3Server, params: T.DocumentFormattingParams) -> list[T.TextEdit]:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        formatted, _ = format_or_diagnostics(text, path_of(uri))
        if formatted is None or formatted == text:
            return []
        return [whole_document_edit(ls, text, formatted)]
