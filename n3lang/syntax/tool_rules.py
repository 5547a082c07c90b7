"""§9 tools in the front end: the transformer rules of ``tool "name":`` and of a tool call.

A mixin of :class:`n3lang.syntax.transformer.AstBuilder` (one method per grammar rule, as
there). The grammar accepts the lines of a tool block loosely (``ident is EXPR`` settings,
``implemented using WORD``, ``input:``/``output:`` blocks); the rules here give namel3ss's
parse-time messages (parser/decl/tool.py, parser/expr/calls.py) at namel3ss's positions.
"""

from __future__ import annotations

from decimal import Decimal

from n3lang import ast as A
from n3lang.span import Span
from n3lang.syntax.errors import SYNTAX_ERROR
from n3lang.syntax.lexer import Tok

#: The type words a tool field may use (namel3ss's TEXT and TYPE_* tokens) and what they mean.
TOOL_FIELD_TYPES = {
    "text": "text", "string": "text", "str": "text",
    "number": "number", "int": "number", "integer": "number",
    "boolean": "boolean", "bool": "boolean",
    "json": "json",
}
#: Lines of the tool syntax namel3ss retired (its KIND/ENTRY/INPUT_SCHEMA/OUTPUT_SCHEMA tokens).
_OLD_SYNTAX_WORDS = frozenset(("kind", "entry", "input_schema", "output_schema"))


def tool_decl_example(name: str) -> str:
    """namel3ss's example of a tool declaration (parser/decl/tool.py)."""
    return (f'tool "{name}":\n  implemented using python\n\n  input:\n    web address is text\n\n'
            "  output:\n    data is json")


OLD_SYNTAX_WHAT = "Old tool syntax is no longer supported."
OLD_SYNTAX_TEXTS = {
    "why": "Tools must be declared and called in English-first style.",
    "fix": "Rewrite tool declarations and calls using the English tool blocks.",
    "example": tool_decl_example("get data from a web address")
    + '\n\nlet response is get data from a web address:\n  web address is "https://example.com"',
}


def _tok_span(tok: Tok) -> Span:
    return Span(tok.line, tok.column, tok.end_line, tok.end_column)


def _start(tok: Tok) -> Span:
    """A one-character span at the start of a token (namel3ss reports line and column)."""
    return Span(tok.line, tok.column, tok.line, tok.column + 1)


class ToolRules:
    """The tool rules of the AST builder (it provides _error, _text and diagnostics)."""

    diagnostics: list

    def _error(self, code: str, message: str, span: Span, **texts) -> None:  # pragma: no cover
        raise NotImplementedError  # AstBuilder's

    def _text(self, tok: Tok) -> str:  # pragma: no cover
        raise NotImplementedError  # AstBuilder's

    # ------------------------------------------------------------------ declaration
    def phrase(self, c):
        """Words of a field name: (text, span)."""
        text = " ".join(self._text(t) if t.type == "STRING" else t.value for t in c)
        first, last = c[0], c[-1]
        return text, Span(first.line, first.column, last.end_line, last.end_column)

    def tool_field(self, c):
        (name, span), _is, optional, type_tok = c
        word = type_tok.value
        canonical = TOOL_FIELD_TYPES.get(word, word) if type_tok.type == "NAME" else word
        return A.ToolField(name, canonical, optional is None, span), type_tok

    def tool_impl(self, c):
        kind_tok = c[2]
        kind = self._text(kind_tok) if kind_tok.type == "STRING" else kind_tok.value
        return ("impl", c[0], kind.strip().lower(), _tok_span(kind_tok))

    def tool_setting(self, c):
        return ("setting", c[0], c[2], c[2].span)

    def tool_section(self, c):
        head = c[0]
        items = tuple(x for x in c[1:] if type(x) is tuple)
        end = _tok_span(items[-1][1]) if items else _tok_span(head)
        return ("section", head, items, end)

    def tool_decl(self, c: list) -> A.ToolDecl:
        tool_tok, name_tok = c[0], c[1]
        name = self._text(name_tok)
        kind: str | None = None
        purity = "impure"
        timeout: int | None = None
        sections: dict[str, tuple[A.ToolField, ...]] = {}
        for item in c[2:]:
            what, tok, value, _end = item
            if what == "impl":
                if kind is not None:
                    self._error(SYNTAX_ERROR, "Tool implementation is declared more than once",
                                _start(tok))
                kind = value
            elif what == "section":
                section = tok.value
                if section in sections:
                    self._error(SYNTAX_ERROR, f"Tool {section} is declared more than once",
                                _start(tok))
                    continue
                sections[section] = self._tool_fields(section, value)
            else:
                key = tok.value
                if key == "purity":
                    purity = self._tool_purity(value, purity)
                elif key == "timeout_seconds":
                    timeout = self._tool_timeout(value, timeout)
                elif key in _OLD_SYNTAX_WORDS:
                    self._error(SYNTAX_ERROR, OLD_SYNTAX_WHAT, _start(tok), **OLD_SYNTAX_TEXTS)
                else:
                    self._error(SYNTAX_ERROR, "Unknown field in tool declaration", _start(tok))
        last = c[-1][3]
        span = Span(tool_tok.line, tool_tok.column, last.end_line, last.end_column)
        # namel3ss stops at a block's first error: "missing" only when nothing else was wrong
        quiet = any(span.line <= d.span.line <= span.end_line for d in self.diagnostics)
        example = tool_decl_example(name)
        for missing, what, why, fix in (
            (kind is None, "is missing implementation.", "Tools must declare how they are implemented.",
             "Add an implementation line like `implemented using python`."),
            ("input" not in sections, "is missing an input section.",
             "Tools must declare input fields for validation.",
             "Add an input: block with field names and types."),
            ("output" not in sections, "is missing an output section.",
             "Tools must declare output fields for validation.",
             "Add an output: block with field names and types."),
        ):
            if missing and not quiet:
                self._error(SYNTAX_ERROR, f'Tool "{name}" {what}', _start(tool_tok),
                            why=why, fix=fix, example=example)
        return A.ToolDecl(name, kind or "", purity, timeout, sections.get("input", ()),
                          sections.get("output", ()), span, _tok_span(name_tok))

    def _tool_fields(self, section: str, items) -> tuple[A.ToolField, ...]:
        fields: list[A.ToolField] = []
        seen: set[str] = set()
        example = tool_decl_example("summarize a csv file")
        for field, type_tok in items:
            if field.type not in TOOL_FIELD_TYPES.values():
                self._error(SYNTAX_ERROR, f"Expected {section} field type.", _start(type_tok),
                            why="Tool fields must declare a type.",
                            fix="Use text, number, boolean, or json.", example=example)
            if field.name in seen:
                s = field.span
                self._error(SYNTAX_ERROR, f"Duplicate {section} field '{field.name}'.",
                            Span(s.line, s.column, s.line, s.column + 1),
                            why="Each field in a tool block must be unique.",
                            fix="Rename or remove the duplicate field.", example=example)
                continue
            seen.add(field.name)
            fields.append(field)
        return tuple(fields)

    def _tool_purity(self, value, current: str) -> str:
        if type(value) is A.Literal and isinstance(value.value, str):
            word = value.value
        elif type(value) is A.Name:
            word = value.name
        else:
            self._error(SYNTAX_ERROR, "Expected purity string", _first(value))
            return current
        word = word.strip().lower()
        if word not in ("pure", "impure"):
            self._error(SYNTAX_ERROR, "purity must be 'pure' or 'impure'", _first(value))
            return current
        return word

    def _tool_timeout(self, value, current: int | None) -> int | None:
        if type(value) is not A.Literal or type(value.value) is not Decimal:
            self._error(SYNTAX_ERROR, "timeout_seconds must be a number literal", _first(value))
            return current
        number = value.value
        if number != number.to_integral_value() or number <= 0:
            self._error(SYNTAX_ERROR, "timeout_seconds must be a positive integer", _first(value))
            return current
        return int(number)

    # ------------------------------------------------------------------ call
    def tool_arg(self, c):
        (name, span), _is, value = c
        v = value.span
        return A.ToolArg(name, value, Span(span.line, span.column, v.end_line, v.end_column))

    def tool_call(self, c: list) -> A.ToolCall:
        tok = c[0]
        args = tuple(a for a in c[1:] if type(a) is A.ToolArg)
        seen: set[str] = set()
        for arg in args:
            if arg.name in seen:
                s = arg.span
                self._error(SYNTAX_ERROR, f"Duplicate tool field '{arg.name}'.",
                            Span(s.line, s.column, s.line, s.column + 1),
                            why="Tool call fields must be unique.",
                            fix="Remove or rename the duplicate field.",
                            example='let result is summarize a csv file:\n  file path is "sales.csv"')
            seen.add(arg.name)
        span = _tok_span(tok)
        if args:
            end = args[-1].span
            span = Span(tok.line, tok.column, end.end_line, end.end_column)
        return A.ToolCall(tok.value, args, span, _tok_span(tok))


def _first(node) -> Span:
    s = node.span
    return Span(s.line, s.column, s.line, s.column + 1)
