"""The diagnostics the server publishes are those of `n3 check --json`."""

from __future__ import annotations

from lsprotocol import types as T
from pytest_lsp import LanguageClient

APP = 'spec is "1.0"\n\nflow "main":\n  return "é😀" + nope\n'


async def open_and_wait(client: LanguageClient, path, text: str) -> list[T.Diagnostic]:
    uri = path.as_uri()
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=uri, language_id="n3", version=1, text=text)))
    await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[uri])


async def test_unknown_name_after_non_ascii_text_is_ranged_in_utf16(client: LanguageClient):
    path = client.root / "app.ai"  # type: ignore[attr-defined]
    found = await open_and_wait(client, path, APP)
    assert [(d.code, d.severity, d.message) for d in found] == [
        ("undefined-variable", T.DiagnosticSeverity.Warning, "Unknown variable 'nope'")]
    # `nope` starts at code point 16 of its line: "é" is 1 UTF-16 unit and 2 UTF-8 bytes, "😀" 2 and 4
    start = {"utf-16": 17, "utf-8": 20, "utf-32": 16}[client.encoding]  # type: ignore[attr-defined]
    assert found[0].range == T.Range(start=T.Position(line=3, character=start),
                                     end=T.Position(line=3, character=start + 4))
