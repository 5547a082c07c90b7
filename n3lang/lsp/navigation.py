"""Navigation: go to definition, find references, the outline (document symbols) and rename.

Everything comes from the analysis' symbol index (n3lang.frontend.symbols): a position is a
symbol when it is on a declared name or on a reference to one. Rename edits every place the
index knows, in the app file and the files it includes, and refuses what it cannot do safely:
a position that is no symbol, a kind whose uses the index does not all know (fields, tools,
prompts), a new name that is not a name where the old one is written, or one already declared.
"""

from __future__ import annotations

import re

from lsprotocol import types as T
from pygls.exceptions import JsonRpcException

from n3lang.frontend import Analysis, Symbol
from n3lang.lsp.positions import to_range
from n3lang.lsp.server import N3Server, path_of, uri_of
from n3lang.span import Span

#: the kinds rename handles: every use of them is in the index
RENAMABLE = ("record", "flow", "function", "model", "ai")

_SYMBOL_KIND = {
    "record": T.SymbolKind.Class, "field": T.SymbolKind.Field, "flow": T.SymbolKind.Function,
    "function": T.SymbolKind.Function, "tool": T.SymbolKind.Interface, "ai": T.SymbolKind.Object,
    "model": T.SymbolKind.Module, "prompt": T.SymbolKind.String,
}
_IDENTIFIER = re.compile(r"[^\W\d]\w*\Z")
_WORD = re.compile(r"\w+")


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed: the request was valid, but the server cannot do it (a clear why)."""

    CODE = -32803


def _keywords() -> frozenset[str]:
    from n3lang.syntax.parser import get_parser

    return frozenset(get_parser()[2]["keywords"])


def uri_for(uri: str, file: str) -> str:
    """The URI of one file of the analysis of document ``uri`` (the document itself keeps its own)."""
    return uri if file == path_of(uri) else uri_of(file)


def symbol_at(ls: N3Server, uri: str, position: T.Position) -> tuple[Analysis, Symbol | None]:
    analysis = ls.including(uri)
    path = path_of(uri)
    line, column = ls.lines(analysis, path).point(position)
    return analysis, analysis.symbols.at(path, line, column)


def location(ls: N3Server, analysis: Analysis, uri: str, file: str, span: Span) -> T.Location:
    return T.Location(uri=uri_for(uri, file), range=to_range(ls.lines(analysis, file), span))


def word_at(ls: N3Server, uri: str, position: T.Position) -> str:
    """The word under the cursor (for the messages of a refused rename)."""
    analysis = ls.analysis(uri)
    line, column = ls.lines(analysis, path_of(uri)).point(position)
    lines = analysis.source.split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    for match in _WORD.finditer(text):
        if match.start() <= column - 1 <= match.end():
            return match.group()
    return ""


def prepare(ls: N3Server, uri: str, position: T.Position) -> tuple[Analysis, Symbol]:
    """The symbol to rename at ``position``, or RequestFailed saying why there is none."""
    analysis, symbol = symbol_at(ls, uri, position)
    if symbol is None:
        word = word_at(ls, uri, position)
        if word in _keywords():
            raise RequestFailed(f"'{word}' is a keyword of the language, not a declared name: "
                                "only the names of records, flows, functions, models and ais can be renamed.")
        raise RequestFailed("There is no declared name here: put the cursor on the name of a record, flow, "
                            "function, model or ai (where it is declared or used).")
    if symbol.kind not in RENAMABLE:
        raise RequestFailed(f"A {symbol.kind} cannot be renamed here: n3 does not know every place a "
                            f"{symbol.kind}'s name is used. Only records, flows, functions, models and ais can be renamed.")
    return analysis, symbol


def check_new_name(analysis: Analysis, symbol: Symbol, new: str) -> list[tuple[str, Span]]:
    """The places to edit, after checking that ``new`` can replace the name in each of them."""
    places = analysis.symbols.references_to(symbol)
    if not new or new != new.strip() or any(c in new for c in '"\\') or not new.isprintable():
        raise RequestFailed(f"{new!r} is not a valid {symbol.kind} name: a name is written between double "
                            "quotes, so it cannot be empty, start or end with a space, or hold a quote, a "
                            "backslash or a control character.")
    bare = [(file, span) for file, span in places if not _quoted(analysis, file, span)]
    if bare and (not _IDENTIFIER.match(new) or new in _keywords()):
        file, span = bare[0]
        raise RequestFailed(f"{new!r} is not a valid {symbol.kind} name here: \"{symbol.name}\" is written "
                            f"without quotes on line {span.line} of {file}, where a name is one word of letters, "
                            "digits and underscores that is not a keyword.")
    other = analysis.symbols.lookup(symbol.kind, new, symbol.container)
    if other is not None and new != symbol.name:
        raise RequestFailed(f"A {symbol.kind} named \"{new}\" is already declared (line {other.name_span.line} "
                            f"of {other.file}): choose another name.")
    return places


def _quoted(analysis: Analysis, file: str, span: Span) -> bool:
    lines = analysis.sources.get(file, "").split("\n")
    text = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    return text[span.column - 2:span.column - 1] == '"'


def _outline(ls: N3Server, analysis: Analysis, path: str) -> list[T.DocumentSymbol]:
    lines = ls.lines(analysis, path)
    out: list[T.DocumentSymbol] = []
    parents: dict[str, T.DocumentSymbol] = {}
    for symbol in analysis.symbols.declarations:
        if symbol.file != path:
            continue
        whole = _union(symbol.span, symbol.name_span)
        item = T.DocumentSymbol(name=symbol.name, kind=_SYMBOL_KIND[symbol.kind], range=to_range(lines, whole),
                                selection_range=to_range(lines, symbol.name_span), detail=symbol.kind, children=[])
        if symbol.kind == "field" and symbol.container in parents:
            parents[symbol.container].children.append(item)  # type: ignore[union-attr]
            continue
        if symbol.kind == "record":
            parents[symbol.name] = item
        out.append(item)
    return out


def _union(a: Span, b: Span) -> Span:
    start = min((a.line, a.column), (b.line, b.column))
    end = max((a.end_line, a.end_column), (b.end_line, b.end_column))
    return Span(start[0], start[1], end[0], end[1])


def register(server: N3Server) -> None:
    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: N3Server, params: T.DefinitionParams) -> T.Location | None:
        uri = params.text_document.uri
        analysis, symbol = symbol_at(ls, uri, params.position)
        if symbol is None:
            return None
        return location(ls, analysis, uri, symbol.file, symbol.name_span)

    @server.feature(T.TEXT_DOCUMENT_REFERENCES)
    def references(ls: N3Server, params: T.ReferenceParams) -> list[T.Location] | None:
        uri = params.text_document.uri
        analysis, symbol = symbol_at(ls, uri, params.position)
        if symbol is None:
            return None
        places = analysis.symbols.references_to(symbol, params.context.include_declaration)
        return [location(ls, analysis, uri, file, span) for file, span in places]

    @server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: N3Server, params: T.DocumentSymbolParams) -> list[T.DocumentSymbol]:
        uri = params.text_document.uri
        return _outline(ls, ls.analysis(uri), path_of(uri))

    @server.feature(T.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls: N3Server, params: T.PrepareRenameParams) -> T.PrepareRenamePlaceholder:
        uri = params.text_document.uri
        analysis, symbol = prepare(ls, uri, params.position)
        # the place under the cursor: the declaration or the reference it is on
        path = path_of(uri)
        line, column = ls.lines(analysis, path).point(params.position)
        span = next((s for f, s in analysis.symbols.references_to(symbol)
                     if f == path and (s.line, s.column) <= (line, column) <= (s.end_line, s.end_column)),
                    symbol.name_span)
        return T.PrepareRenamePlaceholder(range=to_range(ls.lines(analysis, path), span), placeholder=symbol.name)

    @server.feature(T.TEXT_DOCUMENT_RENAME, T.RenameOptions(prepare_provider=True))
    def rename(ls: N3Server, params: T.RenameParams) -> T.WorkspaceEdit:
        uri = params.text_document.uri
        analysis, symbol = prepare(ls, uri, params.position)
        changes: dict[str, list[T.TextEdit]] = {}
        for file, span in check_new_name(analysis, symbol, params.new_name):
            edit = T.TextEdit(range=to_range(ls.lines(analysis, file), span), new_text=params.new_name)
            changes.setdefault(uri_for(uri, file), []).append(edit)
        return T.WorkspaceEdit(changes=changes)
