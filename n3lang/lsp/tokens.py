"""Semantic tokens (full document): a declared name and a keyword used as a word look different.

Three sources, in order of precedence:
1. the symbol index: declared names and references to them, typed by their kind (a record is a
   ``class``, a flow or function a ``function``, a field a ``property``...), a declaration's
   own name with the ``declaration`` modifier;
2. the lexer as the parser drove it (``parser.shifted_tokens``): whether a word was read as a
   keyword or as a name at that point, so ``status`` is a variable in ``let status is 1``;
3. the token expression alone (``lexer._MASTER``), for what the parser never reached (after
   a syntax error): a word the grammar knows as a keyword is a keyword there.
Strings, numbers, comments and operators come from the token expression. The result depends on
the text alone (deterministic), and works on files with syntax errors.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from lsprotocol import types as T

from n3lang import ast as A
from n3lang.frontend import Analysis
from n3lang.frontend.symbols import children
from n3lang.lsp.positions import Lines
from n3lang.lsp.server import N3Server, path_of
from n3lang.span import Span
from n3lang.syntax.lexer import _MASTER  # the lexer's one token expression
from n3lang.syntax.parser import get_parser, shifted_tokens

TOKEN_TYPES = ["keyword", "string", "number", "comment", "operator", "class", "function", "property",
               "variable", "type", "method", "interface", "namespace", "enum"]
TOKEN_MODIFIERS = ["declaration"]
LEGEND = T.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS)

#: the token type of each kind of declared name
KIND_TYPE = {"record": "class", "field": "property", "flow": "function", "function": "function",
             "tool": "method", "ai": "interface", "model": "namespace", "prompt": "enum"}
_TYPE = {name: i for i, name in enumerate(TOKEN_TYPES)}
_DECLARATION = 1 << TOKEN_MODIFIERS.index("declaration")
_OPERATORS = frozenset("+-*/%<>=|") | {"**"}
_NAME, _PUNCT, _NL, _NUMBER, _STR, _STR3, _COMMENT, _BQ = range(1, 9)
_COMMENT_IN_NL = re.compile(r"#[^\r\n]*")

#: (line, column, end column, type index, modifier bits): one token on one line, our coordinates
Token = tuple[int, int, int, int, int]


def _keywords() -> frozenset[str]:
    return frozenset(get_parser()[2]["keywords"])


def _normalize(text: str) -> str:
    """The text the parser reads: no byte-order mark, LF line ends (lines and columns unchanged)."""
    return (text[1:] if text.startswith("\ufeff") else text).replace("\r\n", "\n")


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        stack.extend(children(item))


def _named(analysis: Analysis, file: str) -> list[Token]:
    """Declared names and references in ``file`` (the symbol index), and type names."""
    found: list[Token] = []
    lines = analysis.sources.get(file, "").split("\n")
    for symbol in analysis.symbols.declarations:
        if symbol.file == file:
            found += _split(lines, symbol.name_span, _TYPE[KIND_TYPE[symbol.kind]], _DECLARATION)
    for ref in analysis.symbols.references:
        if ref.file == file:
            found += _split(lines, ref.span, _TYPE[KIND_TYPE[ref.kind]], 0)
    program = analysis.program
    if program is not None:
        origins = program.origins or (program.path,) * len(program.declarations)
        for decl, origin in zip(program.declarations, origins):
            if origin != file:
                continue
            for node in _walk(decl):
                # a type's own word (`list` of `list<Order>`), when written bare where its span starts
                if isinstance(node, A.TypeRef) and 0 < node.span.line <= len(lines):
                    start = node.span.column
                    if lines[node.span.line - 1][start - 1:start - 1 + len(node.name)] == node.name:
                        found.append((node.span.line, start, start + len(node.name), _TYPE["type"], 0))
    return found


def _split(lines: list[str], span: Span, kind: int, modifiers: int) -> list[Token]:
    """A span as one token per line (a triple-quoted string spans lines; a client may not take that)."""
    if span == A.UNKNOWN:
        return []
    if span.line == span.end_line:
        return [(span.line, span.column, span.end_column, kind, modifiers)]
    out = [(span.line, span.column, len(lines[span.line - 1]) + 1, kind, modifiers)]
    out += [(n, 1, len(lines[n - 1]) + 1, kind, modifiers) for n in range(span.line + 1, span.end_line)]
    return out + [(span.end_line, 1, span.end_column, kind, modifiers)]


def _lexed(source: str) -> list[Token]:
    """Every token of the text by the token expression; words typed by the parser's lexer.
    (A character no token starts with is skipped: finditer searches on from it.)"""
    keywords = _keywords()
    typed = {(t.line, t.column): (t.type, t.value) for t in shifted_tokens(source)}
    lines = source.split("\n")
    out: list[Token] = []
    add = out.append
    line, line_start = 1, 0
    previous = ""
    keyword, variable, prop = _TYPE["keyword"], _TYPE["variable"], _TYPE["property"]
    operator, number, string, comment = _TYPE["operator"], _TYPE["number"], _TYPE["string"], _TYPE["comment"]
    for m in _MASTER.finditer(source):
        group = m.lastindex or 0
        if not group or group > _BQ:  # the end
            break
        start = m.start(group)
        col = start - line_start + 1
        value = m.group(group)
        if group == _NAME:
            kind, word = typed.get((line, col), (None, None))
            if word != value:  # never reached by the parser (after a syntax error)
                kind = "KEYWORD" if value in keywords else "NAME"
            if kind == "NAME" or kind == "BQ_NAME":
                add((line, col, col + len(value), prop if previous == "." else variable, 0))
            elif kind not in ("STRING", "NUMBER"):
                add((line, col, col + len(value), keyword, 0))
        elif group == _PUNCT:
            if value in _OPERATORS:
                add((line, col, col + len(value), operator, 0))
        elif group == _NUMBER:
            add((line, col, col + len(value), number, 0))
        elif group == _STR:
            add((line, col, col + len(value), string, 0))
        elif group == _STR3:
            breaks = value.count("\n")
            end_col = (len(value) - value.rfind("\n")) if breaks else col + len(value)
            out += _split(lines, Span(line, col, line + breaks, end_col), string, 0)
            if breaks:
                line += breaks
                line_start = start + value.rfind("\n") + 1
        elif group == _COMMENT:
            add((line, col, col + len(value), comment, 0))
        elif group == _BQ:
            add((line, col, col + len(value), variable, 0))
        else:  # _NL, with the comment-only lines it swallows
            for c in _COMMENT_IN_NL.finditer(value):
                at = start + c.start()
                at_col = at - source.rfind("\n", 0, at)
                add((line + value.count("\n", 0, c.start()), at_col, at_col + len(c.group()), comment, 0))
            line += value.count("\n")
            line_start = start + value.rfind("\n") + 1
            continue
        previous = value
    return out


def semantic_tokens(analysis: Analysis, file: str, text: str) -> list[Token]:
    """The tokens of ``text`` (the file as the editor holds it), sorted, none overlapping: a
    declared name wins over the string or word it is written in; what remains of a string
    (its quotes) stays a string."""
    source = _normalize(text)
    named = sorted(set(_named(analysis, file)))
    by_line: dict[int, list[Token]] = {}
    for token in named:
        spans = by_line.setdefault(token[0], [])
        if not any(token[1] < s[2] and s[1] < token[2] for s in spans):  # first (outermost) wins
            spans.append(token)
    out = [t for spans in by_line.values() for t in spans]
    for line, start, end, kind, mods in _lexed(source):
        taken = by_line.get(line, ())
        if kind != _TYPE["string"]:
            if not any(start < s[2] and s[1] < end for s in taken):
                out.append((line, start, end, kind, mods))
            continue
        pieces = [(start, end)]
        for s in taken:
            pieces = [p for a, b in pieces for p in ((a, min(b, s[1])), (max(a, s[2]), b)) if p[0] < p[1]]
        out += [(line, a, b, kind, mods) for a, b in pieces]
    out.sort()
    return out


def encode(tokens: list[Token], lines: Lines) -> list[int]:
    """LSP's relative encoding, positions in the client's units."""
    data: list[int] = []
    last_line = last_start = 0
    for line, start, end, kind, mods in tokens:
        a = lines.position(line, start)
        b = lines.position(line, end)
        length = b.character - a.character
        if length <= 0 or a.line != b.line:
            continue
        delta_line = a.line - last_line
        delta_start = a.character - (last_start if delta_line == 0 else 0)
        data += [delta_line, delta_start, length, kind, mods]
        last_line, last_start = a.line, a.character
    return data


def register(server: N3Server) -> None:
    done: dict[str, tuple[int | None, str, list[int]]] = {}  # uri -> (version, text, data): asked again, given again

    @server.feature(T.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, LEGEND)
    def full(ls: N3Server, params: T.SemanticTokensParams) -> T.SemanticTokens:
        uri = params.text_document.uri
        document = ls.workspace.get_text_document(uri)
        text = document.source
        cached = done.get(uri)
        if cached is not None and cached[0] == document.version and cached[1] == text:
            return T.SemanticTokens(data=cached[2])
        analysis = ls.analysis(uri)
        path = path_of(uri)
        data = encode(semantic_tokens(analysis, path, text), ls.lines(analysis, path))
        done[uri] = (document.version, text, data)
        return T.SemanticTokens(data=data)
