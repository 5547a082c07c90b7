"""The diagnostics the server publishes are those of `n3 check --json`.

The expected lists come from `n3 check --json` itself (in process, through click), and their
ranges are converted here, independently of the server: lines break at LF, CRLF and a lone CR
as in the editor, a leading byte-order mark is one character of line 0, columns count the
client's units (UTF-16 code units: ``len(s.encode('utf-16-le')) // 2``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lsprotocol import types as T
from pytest_lsp import LanguageClient

from n3lang.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
APP = 'spec is "1.0"\n\nflow "main":\n  return "é😀" + nope\n'
SEVERITY = {"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning,
            "note": T.DiagnosticSeverity.Information}


def corpus() -> list[Path]:
    """Every file of the check corpus: test programs, examples and the conformance programs."""
    files = [p for folder in ("valid", "invalid", "syntax_errors") for p in sorted((REPO / "tests/data" / folder).glob("*.ai"))]
    files += sorted(REPO.glob("examples/*/app.ai"))
    files += sorted((REPO / "tests/conformance/programs").rglob("*.ai"))
    return files


def units(text: str, encoding: str) -> int:
    return {"utf-8": len(text.encode("utf-8")), "utf-32": len(text)}.get(encoding, len(text.encode("utf-16-le")) // 2)


def editor_range(text: str, item: dict, encoding: str) -> T.Range:
    """The client range of a `n3 check --json` item (1-based code points of the parser's lines,
    which break at LF only, after the byte-order mark, CRLF read as LF)."""
    bom = 1 if text.startswith("\ufeff") else 0
    ours = text.split("\n")

    def convert(line: int, column: int) -> T.Position:
        if line > len(ours):
            line, column = len(ours), len(ours[-1]) + 1
        before = sum(len(re.split(r"\r(?!$)", ln)) for ln in ours[:line - 1])  # editor lines above
        here = ours[line - 1]
        here = here[:-1] if here.endswith("\r") else here
        offset = min(column - 1 + (bom if line == 1 else 0), len(here))
        head = here[:offset]
        return T.Position(line=before + head.count("\r"), character=units(head.rsplit("\r", 1)[-1], encoding))

    return T.Range(start=convert(item["line"], item["column"]), end=convert(item["end_line"], item["end_column"]))


def check_json(path: Path) -> list[dict]:
    result = CliRunner().invoke(cli, ["check", "--json", str(path)])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def expected(path: Path, text: str, encoding: str, items: list[dict] | None = None) -> dict[str, list[tuple]]:
    """uri -> [(code, range, message, severity)] of `n3 check --json`, the app's own uri always there."""
    by_uri: dict[str, list[tuple]] = {path.as_uri(): []}
    for item in check_json(path) if items is None else items:
        file = Path(item["file"])
        source = text if file == path else file.read_bytes().decode("utf-8")
        by_uri.setdefault(file.absolute().as_uri(), []).append(
            (item["code"], editor_range(source, item, encoding), item["message"], SEVERITY[item["severity"]]))
    return by_uri


def published(found) -> list[tuple]:
    return [(d.code, d.range, d.message, d.severity) for d in found]


class Log(dict):
    """client.diagnostics that also keeps every publication, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, list]] = []

    def __setitem__(self, uri, diagnostics) -> None:
        self.log.append((uri, list(diagnostics)))
        super().__setitem__(uri, diagnostics)


async def barrier(client: LanguageClient, uri: str) -> None:
    """Answered after every notification the server sent for what came before (one stream, in order)."""
    await client.text_document_document_symbol_async(T.DocumentSymbolParams(text_document=T.TextDocumentIdentifier(uri=uri)))


async def opened(client: LanguageClient, uri: str, text: str, version: int = 1) -> dict[str, list[tuple]]:
    """Open a document: what was published because of it, uri -> diagnostics."""
    return await after(client, uri, lambda: client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=uri, language_id="n3", version=version, text=text))))


async def after(client: LanguageClient, uri: str, action) -> dict[str, list[tuple]]:
    if not isinstance(client.diagnostics, Log):
        client.diagnostics = Log()
    log = client.diagnostics.log  # type: ignore[attr-defined]
    mark = len(log)
    action()
    await barrier(client, uri)
    return {u: published(found) for u, found in log[mark:]}


async def test_unknown_name_after_non_ascii_text_is_ranged_in_utf16(client: LanguageClient):
    path = client.root / "app.ai"  # type: ignore[attr-defined]
    found = (await opened(client, path.as_uri(), APP))[path.as_uri()]
    assert [(code, message, severity) for code, _, message, severity in found] == [
        ("undefined-variable", "Unknown variable 'nope'", T.DiagnosticSeverity.Warning)]
    # `nope` starts at code point 16 of its line: "é" is 1 UTF-16 unit and 2 UTF-8 bytes, "😀" 2 and 4
    start = {"utf-16": 17, "utf-8": 20, "utf-32": 16}[client.encoding]  # type: ignore[attr-defined]
    assert found[0][1] == T.Range(start=T.Position(line=3, character=start), end=T.Position(line=3, character=start + 4))


async def test_the_whole_check_corpus(client: LanguageClient):
    """Every file of the corpus, opened in one server: each publication equals `n3 check --json`,
    its included files' problems published to their own URIs. The files are sent all at once,
    each followed by an empty document whose own publication ends the file's batch. As VS Code
    (UTF-16) every file; as Neovim (UTF-8) the files where the encoding changes a column."""
    files = corpus()
    assert len(files) > 700
    if client.encoding == "utf-8":  # type: ignore[attr-defined]
        files = [p for p in files if not p.read_bytes().isascii()]
        assert len(files) >= 4
    if not isinstance(client.diagnostics, Log):
        client.diagnostics = Log()
    log = client.diagnostics.log  # type: ignore[attr-defined]
    mark = len(log)
    texts = {}
    ends = []
    for number, path in enumerate(files):
        texts[path] = text = path.read_bytes().decode("utf-8")
        client.text_document_did_open(T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=path.as_uri(), language_id="n3", version=1, text=text)))
        end = (client.root / f"end_{number}.ai").as_uri()  # type: ignore[attr-defined]
        ends.append(end)
        client.text_document_did_open(T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=end, language_id="n3", version=1, text="")))
    wanted = {path: expected(path, texts[path], client.encoding) for path in files}  # type: ignore[attr-defined]
    await barrier(client, ends[-1])
    batches: list[dict] = [{}]
    ending = iter(ends)
    end = next(ending)
    for uri, found in log[mark:]:
        if uri == end:
            batches.append({})
            end = next(ending, "")
        else:
            batches[-1][uri] = published(found)
    assert len(batches) == len(files) + 1
    for path, found in zip(files, batches):
        assert found == wanted[path], path


# Texts with what moves columns and lines: non-ASCII names and strings before the error, a
# byte-order mark, CRLF line ends, a lone CR (a line break for the editor, not for the parser).
TEXTS = {
    "non_ascii_names": 'spec is "1.0"\n\nrecord "Café":\n  nom text\n\nflow "日本語":\n  let 名前 is "é😀"\n'
                       '  let x is 名前 + "🎉" + missing_été\n  return x\n',
    "emoji_before_syntax_error": 'spec is "1.0"\n\nflow "main":\n  let s is "😀😀😀"  let t is 2\n  return s\n',
    "cjk_unterminated": 'spec is "1.0"\n\nflow "main":\n  return "漢字 + 1\n',
    "bom": '\ufeffspec is "1.0"\n\nflow "main":\n  return nope\n',
    "bom_first_line_error": '\ufeffspec is "2.0"\n\nflow "main":\n  return 1\n',
    "crlf": 'spec is "1.0"\r\n\r\nflow "main":\r\n  let é is 1\r\n  return é + nope\r\n',
    "lone_cr": 'spec is "1.0"\rflow "x":\n  return 1\n  return nope\n',
}


@pytest.mark.parametrize("name", sorted(TEXTS))
async def test_texts_that_move_positions(client: LanguageClient, name: str):
    path = client.root / f"{name}.ai"  # type: ignore[attr-defined]
    text = TEXTS[name]
    path.write_bytes(text.encode("utf-8"))
    found = await opened(client, path.as_uri(), text)
    want = expected(path, text, client.encoding)  # type: ignore[attr-defined]
    assert want[path.as_uri()], "the text has a problem to place"
    assert found == want


def document(uri: str, version: int) -> T.VersionedTextDocumentIdentifier:
    return T.VersionedTextDocumentIdentifier(uri=uri, version=version)


async def test_changes_full_and_incremental_then_save_and_close(client: LanguageClient):
    path = client.root / "edit.ai"  # type: ignore[attr-defined]
    uri = path.as_uri()
    text = 'spec is "1.0"\n\nflow "main":\n  let café is 1\n  return café\n'
    path.write_text(text, encoding="utf-8")
    assert await opened(client, uri, text) == {uri: []}

    # a full change: the whole text
    broken = text.replace("return café", "return café + nope")
    found = await after(client, uri, lambda: client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=document(uri, 2), content_changes=[T.TextDocumentContentChangeWholeDocument(text=broken)])))
    assert found == expected(path, broken, client.encoding, check_items(path, broken))  # type: ignore[attr-defined]
    assert [code for code, *_ in found[uri]] == ["undefined-variable"]

    # an incremental change: replace `nope` (line 4, after "café", in the client's units) with `café`
    line = "  return café + nope"
    start = units(line[:line.index("nope")], client.encoding)  # type: ignore[attr-defined]
    fixed = broken.replace("café + nope", "café + café")
    found = await after(client, uri, lambda: client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=document(uri, 3), content_changes=[T.TextDocumentContentChangePartial(
            range=T.Range(start=T.Position(line=4, character=start), end=T.Position(line=4, character=start + 4)),
            text="café")])))
    assert found == {uri: []}

    # two incremental changes in one notification, one inserting a line
    found = await after(client, uri, lambda: client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=document(uri, 4), content_changes=[
            T.TextDocumentContentChangePartial(range=T.Range(start=T.Position(line=4, character=0),
                                                             end=T.Position(line=4, character=0)),
                                               text="  let 😀x is zzz\n"),
            T.TextDocumentContentChangePartial(range=T.Range(start=T.Position(line=0, character=9),
                                                             end=T.Position(line=0, character=12)),
                                               text="9.9")])))
    now = fixed.replace('"1.0"', '"9.9"').replace("  return", "  let 😀x is zzz\n  return")
    assert found == expected(path, now, client.encoding, check_items(path, now))  # type: ignore[attr-defined]
    assert len(found[uri]) >= 2

    # save publishes again (the text as it is now)
    path.write_text(now, encoding="utf-8")
    found = await after(client, uri, lambda: client.text_document_did_save(T.DidSaveTextDocumentParams(
        text_document=T.TextDocumentIdentifier(uri=uri))))
    assert found == expected(path, now, client.encoding)  # type: ignore[attr-defined]

    # close withdraws them
    found = await after(client, uri, lambda: client.text_document_did_close(T.DidCloseTextDocumentParams(
        text_document=T.TextDocumentIdentifier(uri=uri))))
    assert found == {uri: []}


def check_items(path: Path, text: str) -> list[dict]:
    """`n3 check --json` of an edited, unsaved text: the same command on a copy saved beside it."""
    copy = path.with_name("copy_of_" + path.name)
    copy.write_bytes(text.encode("utf-8"))
    items = check_json(copy)
    for item in items:
        if Path(item["file"]) == copy:
            item["file"] = str(path)
    copy.unlink()
    return items


async def test_included_file_problems_go_to_its_uri_and_are_cleared_when_fixed(client: LanguageClient):
    root = client.root  # type: ignore[attr-defined]
    lib = root / "inc" / "parts.ai"
    lib.parent.mkdir(exist_ok=True)
    lib.write_text('record "Nöte":\n  body text\n\nflow "helper":\n  return "😀" + missing\n', encoding="utf-8")
    app = root / "inc" / "app.ai"
    text = 'spec is "1.0"\n\ncapabilities:\n  composition.includes\n\ninclude "parts.ai"\n\nflow "main":\n  return 1\n'
    app.write_text(text, encoding="utf-8")
    found = await opened(client, app.as_uri(), text)
    want = expected(app, text, client.encoding)  # type: ignore[attr-defined]
    assert found == want
    assert [code for code, *_ in found[lib.as_uri()]] == ["undefined-variable"]
    assert found[lib.as_uri()][0][1].start.line == 4

    # fixed on disk, then the app is saved: the included file's list is published empty
    lib.write_text('record "Nöte":\n  body text\n\nflow "helper":\n  return "😀"\n', encoding="utf-8")
    found = await after(client, app.as_uri(), lambda: client.text_document_did_save(T.DidSaveTextDocumentParams(
        text_document=T.TextDocumentIdentifier(uri=app.as_uri()))))
    assert found == {app.as_uri(): [], lib.as_uri(): []}


async def test_capabilities(client: LanguageClient):
    capabilities = client.server_capabilities  # type: ignore[attr-defined]
    sync = capabilities.text_document_sync
    assert sync.change == T.TextDocumentSyncKind.Incremental and sync.open_close and sync.save
    assert capabilities.definition_provider and capabilities.references_provider
    assert capabilities.document_symbol_provider and capabilities.rename_provider.prepare_provider
    assert capabilities.semantic_tokens_provider.full and capabilities.document_formatting_provider
    assert capabilities.completion_provider and capabilities.hover_provider and capabilities.code_action_provider


async def test_saving_an_included_file_publishes_the_apps_that_include_it(client: LanguageClient):
    root = client.root  # type: ignore[attr-defined]
    folder = root / "saved"
    folder.mkdir(exist_ok=True)
    lib, app = folder / "lib.ai", folder / "app.ai"
    broken = 'flow "helper":\n  return missing\n'
    lib.write_text(broken, encoding="utf-8")
    text = 'spec is "1.0"\n\ncapabilities:\n  composition.includes\n\ninclude "lib.ai"\n'
    app.write_text(text, encoding="utf-8")
    found = await opened(client, app.as_uri(), text)
    assert [code for code, *_ in found[lib.as_uri()]] == ["undefined-variable"]
    await opened(client, lib.as_uri(), broken)

    fixed = 'flow "helper":\n  return 1\n'
    lib.write_text(fixed, encoding="utf-8")
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=document(lib.as_uri(), 2), content_changes=[T.TextDocumentContentChangeWholeDocument(text=fixed)]))
    found = await after(client, lib.as_uri(), lambda: client.text_document_did_save(T.DidSaveTextDocumentParams(
        text_document=T.TextDocumentIdentifier(uri=lib.as_uri()))))
    assert found == {lib.as_uri(): [], app.as_uri(): []}

