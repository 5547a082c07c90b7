"""textDocument/formatting: one whole-document edit with `n3 fmt`'s layout, or none."""

from __future__ import annotations

import pytest
from lsprotocol import types as T
from pytest_lsp import LanguageClient

from n3lang.syntax.format import format_source

CASES = [
    # (name, text, formatted or None when no edit is expected)
    ("messy", 'spec is "1.0"\nflow "main":\n    let x is 1\n    return x\n', "format"),
    ("messy_non_ascii_crlf", 'spec is "1.0"\r\nflow "é😀":\r\n    return "日本"   # note\r\n', "format"),
    ("syntax_error", 'spec is "1.0"\nflow "main":\n    let x is (\n', None),
]


def units(text: str, encoding: str) -> int:
    return {"utf-8": len(text.encode("utf-8")), "utf-32": len(text)}.get(encoding, len(text.encode("utf-16-le")) // 2)


@pytest.mark.parametrize("name, text, formatted", CASES, ids=[c[0] for c in CASES])
async def test_formatting(client: LanguageClient, name, text, formatted):
    path = client.root / f"{name}.ai"  # type: ignore[attr-defined]
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=path.as_uri(), language_id="n3", version=1, text=text)))
    params = T.DocumentFormattingParams(text_document=T.TextDocumentIdentifier(uri=path.as_uri()),
                                        options=T.FormattingOptions(tab_size=2, insert_spaces=True))
    edits = await client.text_document_formatting_async(params)
    if formatted is None:
        assert list(edits) == []
        return
    new = format_source(text, str(path))
    assert new != text
    lines = text.replace("\r\n", "\n").split("\n")
    assert list(edits) == [T.TextEdit(range=T.Range(start=T.Position(line=0, character=0),
                                              end=T.Position(line=len(lines) - 1, character=units(lines[-1], client.encoding))),  # type: ignore[attr-defined]
                                new_text=new)]
    # the formatted text is already formatted: no edit
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=2),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text=new)]))
    assert list(await client.text_document_formatting_async(params)) == []
