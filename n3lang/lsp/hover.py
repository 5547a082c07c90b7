"""Hover: what the word under the cursor is, and the problems reported there.

``hover_at(analysis, file, text, line, column)`` is pure: it returns Markdown and the span it
describes, or None. In order: the diagnostics whose span holds the cursor (code, message, why,
fix, example), then the word itself: a declared name (its declaration's lines), a key of a
`model` block (its description from the training-config JSON Schema), or a keyword where the
parser reads it as one (one paragraph and an example, n3lang.lsp.keyword_docs). A keyword used
as a name (`let list is 1`) is a name, as the parser has it.
"""

from __future__ import annotations

import re

from n3lang.diagnostics import REGISTRY, Diagnostic
from n3lang.frontend import Analysis
from n3lang.frontend.symbols import Symbol
from n3lang.lsp.expected import reads_as_keyword
from n3lang.lsp.keyword_docs import keyword_markdown
from n3lang.lsp.model_keys import key_markdown
from n3lang.span import Span
from n3lang.syntax.words import KEYWORD_OF_WORD

#: Longest declaration shown whole; longer ones are cut with a marker line.
MAX_LINES = 12
_WORD = re.compile(r"\w+")
_LEXER_TERMS = {"map": "MAP_EACH", "filter": "FILTER", "reduce": "REDUCE"}


def _word_at(line_text: str, column: int) -> tuple[str, int, int] | None:
    """The word holding the cursor (or just before it): (word, start, end), 1-based, end exclusive."""
    for match in _WORD.finditer(line_text):
        if match.start() + 1 <= column <= match.end() + 1:
            return match.group(), match.start() + 1, match.end() + 1
    return None


def _in_string_or_comment(line_text: str, column: int) -> bool:
    quote = None
    for char in line_text[: column - 1]:
        if quote is None and char == "#":
            return True
        if quote is None and char in "\"'":
            quote = char
        elif char == quote:
            quote = None
    return quote is not None


def diagnostic_markdown(diagnostic: Diagnostic) -> str:
    """A problem as Markdown: code and message, then why, fix and example (the code's own
    texts from the registry where the diagnostic has none)."""
    info = REGISTRY.get(diagnostic.code)
    why = diagnostic.why or (info.why if info else "")
    fix = diagnostic.fix or (info.fix if info else "")
    example = diagnostic.example or (info.example if info else "")
    parts = [f"**{diagnostic.code}** ({diagnostic.severity}): {diagnostic.message}"]
    if why:
        parts.append(f"Why: {why}")
    if fix:
        parts.append(f"Fix: {fix}")
    if example:
        parts.append(f"Example:\n```n3\n{example}\n```")
    return "\n\n".join(parts)


def symbol_markdown(symbol: Symbol, source: str) -> str:
    """A declared name: its kind and name, and its declaration's lines as written."""
    lines = source.split("\n")
    first = symbol.span.line
    last = max(symbol.span.end_line, first)
    if symbol.span.end_column == 1 and last > first:
        last -= 1  # a span that ends at the start of the next line
    shown = lines[first - 1: min(last, first + MAX_LINES - 1)]
    while shown and not shown[-1].strip():
        shown.pop()
    if last - first + 1 > MAX_LINES:
        shown.append(f"{_indent_of(shown[-1]) if shown else ''}# … {last - first + 1 - MAX_LINES} more lines")
    title = f"**{symbol.kind}** `{symbol.name}`"
    if symbol.container:
        title += f" of record `{symbol.container}`"
    body = "\n".join(shown)
    return f"{title}\n\n```n3\n{body}\n```"


def _indent_of(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" "))]


def _is_keyword_here(text: str, word: str, line: int, start: int, end: int) -> bool:
    """Does the parser read ``word`` at (line, start) as its keyword?"""
    for term in (KEYWORD_OF_WORD.get(word), _LEXER_TERMS.get(word)):
        if term is None:
            continue
        found = reads_as_keyword(text, line, start, end, term)
        if found is None:  # the text before it does not parse: trust the spelling
            return True
        if found:
            return True
    return False


def _model_key(text: str, line: int, start: int, word: str) -> str | None:
    lines = text.split("\n")
    line_text = lines[line - 1]
    if start == 1 or line_text[: start - 1].strip():
        return None
    for index in range(line - 2, -1, -1):
        above = lines[index]
        if above[:1] not in ("", " ", "#"):
            return key_markdown(word) if re.match(r'model\s+"', above) else None
    return None


def hover_at(analysis: Analysis, file: str, text: str, line: int, column: int) -> tuple[str, Span] | None:
    """Markdown for the cursor at (line, column) of ``file`` (whose text is ``text``) and the
    span it is about; None when there is nothing to say."""
    sections: list[str] = []
    span: Span | None = None
    for diagnostic in analysis.diagnostics:
        found = diagnostic.span
        if diagnostic.file == file and (found.line, found.column) <= (line, column) \
                and (line, column) <= (found.end_line, found.end_column):
            sections.append(diagnostic_markdown(diagnostic))
            span = span or found
    lines = text.split("\n")
    line_text = lines[line - 1] if 0 < line <= len(lines) else ""
    symbol = analysis.symbols.at(file, line, column)
    if symbol is not None:
        source = analysis.sources.get(symbol.file, text if symbol.file == file else "")
        sections.insert(0, symbol_markdown(symbol, source))
        name_span = next((r.span for r in analysis.symbols.references
                          if r.file == file and r.span.line == line and r.span.column <= column <= r.span.end_column),
                         symbol.name_span if symbol.file == file else None)
        span = name_span or span
    else:
        word = _word_at(line_text, column)
        if word is not None and not _in_string_or_comment(line_text, word[1]):
            name, start, end = word
            doc = _model_key(text, line, start, name)
            if doc is None and _is_keyword_here(text, name, line, start, end):
                doc = keyword_markdown(name)
            if doc is not None:
                sections.insert(0, doc)
                span = Span(line, start, line, end)
    if not sections or span is None:
        return None
    return "\n\n---\n\n".join(sections), span


def register(server) -> None:  # pragma: no cover - exercised through tests/lsp
    from lsprotocol import types as T

    from n3lang.lsp.positions import Lines, to_range
    from n3lang.lsp.server import path_of

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: T.HoverParams) -> T.Hover | None:
        uri = params.text_document.uri
        source = ls.workspace.get_text_document(uri).source
        lines = Lines(source, ls.workspace.position_codec)
        text = source.removeprefix("\ufeff").replace("\r\n", "\n")
        line, column = lines.point(params.position)
        found = hover_at(ls.analysis(uri), path_of(uri), text, line, column)
        if found is None:
            return None
        markdown, span = found
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=markdown),
                       range=to_range(lines, span))
