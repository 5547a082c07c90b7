"""The symbol index of a program: where each name is declared and where it is used.

Editors ask for it (go to definition, find references, rename, outline, hover, completion);
it is built from the AST and the source text only. Spans here cover the name itself, without
the quotes around it, so a rename replaces exactly the name.

Declared kinds: record, field (of a record: ``container`` names it), flow, function, tool,
ai, model, prompt. References are found where the AST names a declaration: ``call function``,
``call flow`` (orchestration branches too), tool calls, ``predict``, the record statements and
steps, ``ask ai``, record types of fields, function inputs and a declarative flow's ``input``
lines, exposed tools, an ai's ``model is "…"`` when it names a model, ``contract flow``, the
flows and records an app-surface declaration names; and fields of a record (``container``) where
a record statement names them: the keys of ``create "R" with map:``, bare names in a ``where``
of ``find``/``update``/``delete`` that are fields of that record, an update's ``set:`` lines and
the field lines of the declarative ``create``/``update`` steps.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from n3lang import ast as A
from n3lang.span import Span

__all__ = ["Reference", "Symbol", "SymbolIndex", "build_index", "children"]

_DECLARED = {A.RecordDecl: "record", A.FlowDecl: "flow", A.FunctionDecl: "function", A.ToolDecl: "tool",
             A.AIDecl: "ai", A.ModelDecl: "model", A.PromptDecl: "prompt"}
_RECORD_STATEMENTS = (A.Create, A.Find, A.Update, A.Delete, A.Save, A.StepCreate, A.StepUpdate, A.StepDelete)


@dataclass(frozen=True, slots=True)
class Symbol:
    """A declared name: name, kind, file, span (the whole declaration), name_span, container
    (the record of a field), detail (the declaration's first line, as written)."""

    name: str
    kind: str
    file: str
    span: Span
    name_span: Span
    container: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Reference:
    """A use of a declared name: name, kind, file, span (the name, without quotes), container
    (the record, for a field)."""

    name: str
    kind: str
    file: str
    span: Span
    container: str | None = None


def _contains(span: Span, line: int, column: int) -> bool:
    """Is (line, column) inside ``span``, its end included (a cursor just after a name is on it)?"""
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


@dataclass
class SymbolIndex:
    """Declarations and references of one program (every file of it)."""

    declarations: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)

    def lookup(self, kind: str, name: str, container: str | None = None) -> Symbol | None:
        """The declaration of ``name`` of ``kind`` (the first, when declared twice)."""
        for symbol in self.declarations:
            if symbol.kind == kind and symbol.name == name and symbol.container == container:
                return symbol
        return None

    def names(self, kind: str) -> list[str]:
        """Every declared name of one kind, in source order, each once."""
        return list(dict.fromkeys(s.name for s in self.declarations if s.kind == kind))

    def at(self, file: str, line: int, column: int) -> Symbol | None:
        """The declared symbol named at a position: by its declaration or by a reference to it."""
        for symbol in self.declarations:
            if symbol.file == file and _contains(symbol.name_span, line, column):
                return symbol
        for ref in self.references:
            if ref.file == file and _contains(ref.span, line, column):
                return self.lookup(ref.kind, ref.name, ref.container)
        return None

    def references_to(self, symbol: Symbol, include_declaration: bool = True) -> list[tuple[str, Span]]:
        """(file, span) of every use of ``symbol``, its declaration first when asked."""
        found = [(symbol.file, symbol.name_span)] if include_declaration else []
        found += [(r.file, r.span) for r in self.references
                  if r.kind == symbol.kind and r.name == symbol.name and r.container == symbol.container]
        return found


class _Finder:
    """Finds a name's own span in the source, from the span of the node that names it."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = sources
        self.lines: dict[str, list[str]] = {}

    def line(self, file: str, number: int) -> str:
        if file not in self.lines:
            self.lines[file] = self.sources.get(file, "").split("\n")
        lines = self.lines[file]
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def name(self, file: str, name: str, within: Span) -> Span | None:
        """The first ``"name"`` or bare ``name`` (a whole word) from the start of ``within``."""
        pattern = re.compile(r'"(%s)"|(?<![\w.`])(%s)(?![\w`])' % (re.escape(name), re.escape(name)))
        for number in range(within.line, within.end_line + 1):
            text = self.line(file, number)
            start = within.column - 1 if number == within.line else 0
            match = pattern.search(text, start)
            if match:
                group = 1 if match.group(1) is not None else 2
                return Span(number, match.start(group) + 1, number, match.end(group) + 1)
        return None

    def unquoted(self, file: str, span: Span) -> Span:
        """A name span without the quotes the parser's name spans include."""
        text = self.line(file, span.line)
        if span.line == span.end_line and text[span.column - 1:span.column] == '"' \
                and text[span.end_column - 2:span.end_column - 1] == '"':
            return Span(span.line, span.column + 1, span.end_line, span.end_column - 1)
        return span


_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: Any) -> Iterator[Any]:
    """The AST nodes directly under ``node`` (its fields' nodes and tuples of nodes; not spans)."""
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(node))
    for name in names:
        value = getattr(node, name)
        if value.__class__ is tuple:
            for item in value:
                if hasattr(item, "__dataclass_fields__"):
                    yield item
        elif hasattr(value, "__dataclass_fields__") and value.__class__ is not Span:
            yield value


def build_index(program: A.Program, sources: Mapping[str, str]) -> SymbolIndex:
    """The symbol index of ``program``; ``sources`` maps each file of it to its text."""
    finder = _Finder(sources)
    index = SymbolIndex()
    origins = program.origins or (program.path,) * len(program.declarations)
    placed = list(zip(program.declarations, origins))
    for decl, file in placed:
        kind = _DECLARED.get(type(decl))
        if kind is not None:
            _declare(index, finder, decl, kind, file)
    known = _Known(index)
    for decl, file in placed:
        stack = [decl]
        while stack:
            node = stack.pop()
            _reference(index, finder, node, file, known)
            stack.extend(children(node))
    index.references.sort(key=lambda r: (r.file, r.span.line, r.span.column))
    return index


class _Known:
    """The declared names a reference may point at: records (with their fields) and models."""

    def __init__(self, index: SymbolIndex) -> None:
        self.records = set(index.names("record"))
        self.models = set(index.names("model"))
        self.fields: dict[str, set[str]] = {}
        for symbol in index.declarations:
            if symbol.kind == "field" and symbol.container is not None:
                self.fields.setdefault(symbol.container, set()).add(symbol.name)


def _declare(index: SymbolIndex, finder: _Finder, decl: Any, kind: str, file: str) -> None:
    name_span = finder.unquoted(file, decl.name_span) if decl.name_span != A.UNKNOWN else (
        finder.name(file, decl.name, decl.span) or decl.span)
    detail = finder.line(file, decl.span.line).strip()
    index.declarations.append(Symbol(decl.name, kind, file, decl.span, name_span, None, detail))
    if kind == "record":
        for f in decl.fields:
            span = finder.name(file, f.name, f.span) or f.span
            text = finder.line(file, f.span.line).strip()
            index.declarations.append(Symbol(f.name, "field", file, f.span, span, decl.name, text))


def _reference(index: SymbolIndex, finder: _Finder, node: Any, file: str, known: _Known) -> None:
    kind = span = name = None
    if isinstance(node, (A.CallFunction, A.CallFlow, A.ToolCall)):
        kind = {A.CallFunction: "function", A.CallFlow: "flow", A.ToolCall: "tool"}[type(node)]
        name, span = node.name, finder.unquoted(file, node.name_span)
    elif isinstance(node, A.Predict):
        kind, name, span = "model", node.model, finder.unquoted(file, node.model_span)
    elif isinstance(node, _RECORD_STATEMENTS):
        kind, name = "record", node.record
        span = finder.name(file, name, node.span)
        if name in known.fields:
            _field_references(index, finder, node, file, known.fields[name])
    elif isinstance(node, A.AskAI):
        kind, name = "ai", node.ai
        span = finder.name(file, name, node.span)
    elif isinstance(node, A.ExposedTool):
        kind, name = "tool", node.name
        span = finder.name(file, name, node.span)
    elif isinstance(node, A.TypeRef) and node.name in known.records:
        kind, name = "record", node.name
        span = finder.name(file, name, node.span)
    elif isinstance(node, A.InputField) and node.type in known.records and node.type_span != A.UNKNOWN:
        kind, name = "record", node.type
        span = finder.name(file, name, node.type_span)
    elif isinstance(node, A.ContractDecl) and node.name_span != A.UNKNOWN:
        kind, name, span = "flow", node.name, finder.unquoted(file, node.name_span)
    elif isinstance(node, A.SurfaceRef) and node.kind in ("flow", "record"):
        kind, name, span = node.kind, node.name, finder.unquoted(file, node.span)
    elif isinstance(node, A.Setting) and node.key == "model" and isinstance(node.value, A.Literal) \
            and node.value.value in known.models:
        kind, name = "model", str(node.value.value)
        span = finder.name(file, name, node.value.span)
    if kind is not None and name is not None and span is not None and span != A.UNKNOWN:
        index.references.append(Reference(name, kind, file, span))


def _field_references(index: SymbolIndex, finder: _Finder, node: Any, file: str, fields: set[str]) -> None:
    """The fields of record ``node.record`` that a record statement or step names."""
    found: list[tuple[str, Span]] = []
    if isinstance(node, A.Create) and isinstance(node.value, A.MapExpr):
        found += [(e.key, e.span) for e in node.value.entries]
    if isinstance(node, A.Update):
        found += [(a.field, a.span) for a in node.assignments]
    if isinstance(node, (A.StepCreate, A.StepUpdate)):
        found += [(f.name, f.span) for f in node.fields]
    # a step's `where "..."` is parsed from the string alone: its spans are not the file's
    predicate = node.predicate if isinstance(node, (A.Find, A.Update, A.Delete)) else None
    if predicate is not None:
        stack = [predicate]
        while stack:
            part = stack.pop()
            if isinstance(part, A.Name):
                found.append((part.name, part.span))
            elif not isinstance(part, A.Attribute):  # `x.total`: a variable's field, not the record's
                stack.extend(children(part))
    for name, where in found:
        if name in fields and where != A.UNKNOWN:
            span = finder.name(file, name, where)
            if span is not None:
                index.references.append(Reference(name, "field", file, span, node.record))
