"""Go to definition, find references, document symbols and rename, through the real server.

Each case names a cursor with ``‸`` inside a snippet of one of the two files below (the snippet
without the marker occurs once in its file), and expected ranges with ``«…»`` the same way.
Positions are converted here independently of the server (the client's encoding: UTF-16 for
VS Code, UTF-8 or UTF-16 for Neovim), and the app has non-ASCII text before some names.
"""

from __future__ import annotations

import pytest
from lsprotocol import types as T
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

APP = '''spec is "1.0"

capabilities:
  composition.includes
  training

include "lib.ai"

record "Order":
  total number
  note text

model "spam":
  dataset is "data/spam.jsonl"
  epochs is 2

ai "helper":
  model is "spam"

define function "double":
  input:
    x is number
  output:
    y is number
  return map:
    "y" is x * 2

contract flow "audit":
  input:
    total is number
  output:
    result is text

flow "main":
  create "Order" with map:
    total is 3
    note is "é😀 café"
  as order
  let d is call function "double":
    x is 2
  let r is predict "spam" with "text ünïcode 😀"
  find "Order" where total is greater than 1
  let c is call flow "audit":
    input:
      total is 1
    output:
      result
  return d
'''

LIB = '''record "Audit":
  result text

flow "audit":
  create "Audit" with map:
    result is "ok"
  as a
  return a
'''

MARK = "‸"


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def position(text: str, offset: int, encoding: str) -> T.Position:
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return T.Position(line=line, character=units(text[start:offset], encoding))


def cursor(text: str, snippet: str, encoding: str) -> T.Position:
    """The position of ``‸`` in ``snippet``, which occurs once in ``text`` (without the marker)."""
    plain = snippet.replace(MARK, "")
    assert text.count(plain) == 1, snippet
    return position(text, text.index(plain) + snippet.index(MARK), encoding)


def marked(text: str, snippet: str, encoding: str) -> T.Range:
    """The range of ``«…»`` in ``snippet``, which occurs once in ``text`` (without the marks)."""
    plain = snippet.replace("«", "").replace("»", "")
    assert text.count(plain) == 1, snippet
    at = text.index(plain)
    start, end = at + snippet.index("«"), at + snippet.index("»") - 1
    return T.Range(start=position(text, start, encoding), end=position(text, end, encoding))


@pytest.fixture(scope="module")
async def docs(client: LanguageClient):
    """app.ai and lib.ai written to the workspace and opened: {name: (uri, text)}."""
    out = {}
    for name, text in (("lib.ai", LIB), ("app.ai", APP)):
        path = client.root / name  # type: ignore[attr-defined]
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        client.text_document_did_open(T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=uri, language_id="n3", version=1, text=text)))
        out[name] = (uri, text)
    return out


def where(docs, client, name: str, snippet: str) -> T.Location:
    uri, text = docs[name]
    return T.Location(uri=uri, range=marked(text, snippet, client.encoding))


DEFINITIONS = [
    # (file, cursor, file of the declaration, its name)
    ("app.ai", 'call function "dou‸ble"', "app.ai", 'define function "«double»"'),
    ("app.ai", 'call function "‸double"', "app.ai", 'define function "«double»"'),
    ("app.ai", 'call function "double‸"', "app.ai", 'define function "«double»"'),
    ("app.ai", 'create "Or‸der" with', "app.ai", 'record "«Order»"'),
    ("app.ai", 'find "Order" where to‸tal', "app.ai", '  «total» number'),
    ("app.ai", '    to‸tal is 3', "app.ai", '  «total» number'),
    ("app.ai", 'predict "sp‸am"', "app.ai", 'model "«spam»"'),
    ("app.ai", 'model is "sp‸am"', "app.ai", 'model "«spam»"'),
    ("app.ai", 'call flow "au‸dit"', "lib.ai", 'flow "«audit»"'),
    ("app.ai", 'contract flow "au‸dit"', "lib.ai", 'flow "«audit»"'),
    ("lib.ai", 'create "Aud‸it"', "lib.ai", 'record "«Audit»"'),
    ("app.ai", 'flow "ma‸in"', "app.ai", 'flow "«main»"'),  # on a declaration: itself
]


@pytest.mark.parametrize("file, snippet, target, declaration", DEFINITIONS)
async def test_definition(client: LanguageClient, docs, file, snippet, target, declaration):
    uri, text = docs[file]
    found = await client.text_document_definition_async(T.DefinitionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=cursor(text, snippet, client.encoding)))
    assert found == where(docs, client, target, declaration)


@pytest.mark.parametrize("snippet", ['sp‸ec is', '"data/sp‸am.jsonl"', 'let ‸d is', '"é😀 ca‸fé"', 'retu‸rn d'])
async def test_no_definition_off_a_declared_name(client: LanguageClient, docs, snippet):
    uri, text = docs["app.ai"]
    found = await client.text_document_definition_async(T.DefinitionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=cursor(text, snippet, client.encoding)))
    assert found is None


REFERENCES = [
    # (file, cursor, [(file, range)...] without the declaration; the declaration)
    ("app.ai", 'record "Or‸der"', [("app.ai", 'create "«Order»" with'), ("app.ai", 'find "«Order»" where')],
     ("app.ai", 'record "«Order»"')),
    ("app.ai", 'predict "sp‸am"', [("app.ai", 'model is "«spam»"'), ("app.ai", 'predict "«spam»"')],
     ("app.ai", 'model "«spam»"')),
    ("lib.ai", 'flow "au‸dit"', [("app.ai", 'contract flow "«audit»"'), ("app.ai", 'call flow "«audit»"')],
     ("lib.ai", 'flow "«audit»"')),
    ("app.ai", '  tot‸al number', [("app.ai", '    «total» is 3'), ("app.ai", 'where «total» is')],
     ("app.ai", '  «total» number')),
    ("app.ai", 'flow "ma‸in"', [], ("app.ai", 'flow "«main»"')),
]


@pytest.mark.parametrize("include", [True, False])
@pytest.mark.parametrize("file, snippet, uses, declaration", REFERENCES)
async def test_references(client: LanguageClient, docs, file, snippet, uses, declaration, include):
    uri, text = docs[file]
    found = await client.text_document_references_async(T.ReferenceParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=cursor(text, snippet, client.encoding),
        context=T.ReferenceContext(include_declaration=include)))
    expected = [where(docs, client, f, s) for f, s in ([declaration] if include else []) + uses]
    key = lambda loc: (loc.uri, loc.range.start.line, loc.range.start.character)  # noqa: E731
    assert sorted(found, key=key) == sorted(expected, key=key)


async def test_document_symbols_are_the_outline(client: LanguageClient, docs):
    uri, text = docs["app.ai"]
    found = await client.text_document_document_symbol_async(T.DocumentSymbolParams(
        text_document=T.TextDocumentIdentifier(uri=uri)))
    lines = text.split("\n")

    def line_range(first: int, last: int) -> T.Range:  # whole lines, 1-based
        return T.Range(start=T.Position(line=first - 1, character=0),
                       end=T.Position(line=last - 1, character=units(lines[last - 1], client.encoding)))

    outline = [(s.name, s.kind, s.detail, s.range, s.selection_range,
                [(c.name, c.kind, c.range, c.selection_range) for c in s.children or []]) for s in found]
    enc = client.encoding
    assert outline == [
        ("Order", T.SymbolKind.Class, "record", line_range(9, 11), marked(text, 'record "«Order»"', enc), [
            ("total", T.SymbolKind.Field, T.Range(start=T.Position(line=9, character=2), end=T.Position(line=9, character=14)),
             marked(text, "  «total» number", enc)),
            ("note", T.SymbolKind.Field, T.Range(start=T.Position(line=10, character=2), end=T.Position(line=10, character=11)),
             marked(text, "  «note» text", enc))]),
        ("spam", T.SymbolKind.Module, "model", line_range(13, 15), marked(text, 'model "«spam»"', enc), []),
        ("helper", T.SymbolKind.Object, "ai", line_range(17, 18), marked(text, 'ai "«helper»"', enc), []),
        ("double", T.SymbolKind.Function, "function", line_range(20, 26), marked(text, 'define function "«double»"', enc), []),
        ("main", T.SymbolKind.Function, "flow", line_range(34, 48), marked(text, 'flow "«main»"', enc), []),
    ]
    # the included file's declarations are its own outline
    lib_uri, lib = docs["lib.ai"]
    found = await client.text_document_document_symbol_async(T.DocumentSymbolParams(
        text_document=T.TextDocumentIdentifier(uri=lib_uri)))
    assert [(s.name, s.detail, [c.name for c in s.children or []]) for s in found] == [
        ("Audit", "record", ["result"]), ("audit", "flow", [])]


RENAMES = [
    # (file, cursor, new name, the places renamed)
    ("app.ai", 'create "Or‸der"', "Purchase",
     [("app.ai", 'record "«Order»"'), ("app.ai", 'create "«Order»" with'), ("app.ai", 'find "«Order»" where')]),
    ("app.ai", 'call flow "au‸dit"', "audit_all",
     [("lib.ai", 'flow "«audit»"'), ("app.ai", 'contract flow "«audit»"'), ("app.ai", 'call flow "«audit»"')]),
    ("app.ai", 'define function "‸double"', "twice é",
     [("app.ai", 'define function "«double»"'), ("app.ai", 'call function "«double»"')]),
    ("app.ai", 'model "spam‸"', "ham.v2",
     [("app.ai", 'model "«spam»"'), ("app.ai", 'model is "«spam»"'), ("app.ai", 'predict "«spam»"')]),
    ("app.ai", 'ai "hel‸per"', "assistant", [("app.ai", 'ai "«helper»"')]),
]


@pytest.mark.parametrize("file, snippet, new, places", RENAMES)
async def test_rename(client: LanguageClient, docs, file, snippet, new, places):
    uri, text = docs[file]
    at = cursor(text, snippet, client.encoding)
    prepared = await client.text_document_prepare_rename_async(T.PrepareRenameParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=at))
    name_here = snippet.replace(MARK, "").split('"')[1]
    assert isinstance(prepared, T.PrepareRenamePlaceholder) and prepared.placeholder == name_here
    assert prepared.range == marked(text, snippet.replace(MARK, "").replace(f'"{name_here}"', f'"«{name_here}»"'),
                                    client.encoding)
    edit = await client.text_document_rename_async(T.RenameParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=at, new_name=new))
    expected: dict[str, list[T.TextEdit]] = {}
    for f, s in places:
        expected.setdefault(docs[f][0], []).append(T.TextEdit(range=marked(docs[f][1], s, client.encoding), new_text=new))
    key = lambda e: (e.range.start.line, e.range.start.character)  # noqa: E731
    assert {u: sorted(e, key=key) for u, e in (edit.changes or {}).items()} == {
        u: sorted(e, key=key) for u, e in expected.items()}


REFUSED = [
    # (cursor, new name, the error message)
    ('‸flow "main"', "x", "'flow' is a keyword of the language, not a declared name: only the names of records, "
                         "flows, functions, models and ais can be renamed."),
    ('let ‸d is', "x", "There is no declared name here: put the cursor on the name of a record, flow, function, "
                       "model or ai (where it is declared or used)."),
    ('  tot‸al number', "sum", "A field cannot be renamed here: n3 does not know every place a field's name is "
                               "used. Only records, flows, functions, models and ais can be renamed."),
    ('flow "ma‸in"', 'say "hi"', "'say \"hi\"' is not a valid flow name: a name is written between double quotes, "
                                  "so it cannot be empty, start or end with a space, or hold a quote, a backslash or "
                                  "a control character."),
    ('flow "ma‸in"', "", "'' is not a valid flow name: a name is written between double quotes, so it cannot be "
                         "empty, start or end with a space, or hold a quote, a backslash or a control character."),
    ('call function "dou‸ble"', "main", None),  # a flow may share a function's name: no collision
    ('flow "ma‸in"', "audit", 'A flow named "audit" is already declared (line 4 of {lib}): choose another name.'),
    ('record "Or‸der"', "Audit", 'A record named "Audit" is already declared (line 1 of {lib}): choose another name.'),
]


@pytest.mark.parametrize("snippet, new, message", REFUSED)
async def test_rename_refused_with_a_reason(client: LanguageClient, docs, snippet, new, message):
    uri, text = docs["app.ai"]
    params = T.RenameParams(text_document=T.TextDocumentIdentifier(uri=uri),
                            position=cursor(text, snippet, client.encoding), new_name=new)
    if message is None:
        assert (await client.text_document_rename_async(params)).changes
        return
    with pytest.raises(JsonRpcException) as caught:
        await client.text_document_rename_async(params)
    assert caught.value.code == -32803  # RequestFailed
    assert caught.value.message == message.format(lib=client.root / "lib.ai")  # type: ignore[attr-defined]


async def test_prepare_rename_refuses_a_keyword(client: LanguageClient, docs):
    uri, text = docs["app.ai"]
    with pytest.raises(JsonRpcException) as caught:
        await client.text_document_prepare_rename_async(T.PrepareRenameParams(
            text_document=T.TextDocumentIdentifier(uri=uri), position=cursor(text, 'ret‸urn d', client.encoding)))
    assert caught.value.message.startswith("'return' is a keyword of the language")


async def test_a_bare_record_type_takes_only_a_word(client: LanguageClient, tmp_path_factory):
    text = 'spec is "1.0"\n\nrecord "Item":\n  name text\n\nrecord "Cart":\n  items list<Item>\n'
    path = client.root / "types.ai"  # type: ignore[attr-defined]
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=path.as_uri(), language_id="n3", version=1, text=text)))
    params = T.RenameParams(text_document=T.TextDocumentIdentifier(uri=path.as_uri()),
                            position=cursor(text, 'record "It‸em"', client.encoding), new_name="Line item")
    with pytest.raises(JsonRpcException) as caught:
        await client.text_document_rename_async(params)
    assert caught.value.message == ("'Line item' is not a valid record name here: \"Item\" is written without quotes "
                                    f"on line 7 of {path}, where a name is one word of letters, digits and "
                                    "underscores that is not a keyword.")
    params.new_name = "LineItem"
    edit = await client.text_document_rename_async(params)
    assert sorted((e.range.start.line, e.range.start.character) for e in edit.changes[path.as_uri()]) == [
        (2, 8), (6, 13)]
