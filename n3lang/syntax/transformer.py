"""Build n3lang.ast nodes from the parse, one method per grammar rule (or alias).

The transformer runs inside the LALR parser (the driver calls it on each reduction), so no parse
tree is ever built: each method receives the children of its rule (AST nodes, keyword tokens kept
for positions, ``None`` for an absent ``[optional]`` item) and returns a node. Spans run from
the first to the last child: 1-based, end exclusive. Problems found here (bad escapes,
reserved words used as names, unknown built-ins) are collected in ``self.diagnostics``.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace
from decimal import Decimal
from types import MemberDescriptorType

from n3lang import ast as A
from n3lang.diagnostics import make
from n3lang.syntax.errors import (
    ESCAPED_IDENTIFIER,
    LEGACY_FIELD,
    RESERVED_WORD,
    SYNTAX_ERROR,
    UNSUPPORTED_ESCAPE,
)
from n3lang.syntax.lexer import Tok, surface_refs
from n3lang.syntax.tool_rules import ToolRules
from n3lang.syntax.words import RESERVED_WORDS, VALUE_WORDS
from n3lang.vocabulary import LIST_BUILTINS, TYPE_ALIASES


def _fast(cls):
    """A constructor that does what ``cls(*all_fields)`` does, about twice as fast.

    The AST classes are frozen slotted dataclasses; their ``__init__`` stores each field
    through ``object.__setattr__``, which is most of the cost of building the tree. This
    makes the same object (same class, same slots, nothing else) by setting the slots with
    their descriptors. Every call below passes all fields positionally. Falls back to the
    class itself if it is not a plain frozen slotted dataclass (say, one with __post_init__).
    """
    try:
        found = fields(cls)
        slots = [vars(cls)[f.name] for f in found]
    except (TypeError, KeyError):
        return cls
    if (
        not cls.__dataclass_params__.frozen
        or hasattr(cls, "__post_init__")
        or any(not f.init for f in found)
        or any(type(d) is not MemberDescriptorType for d in slots)
        or not 2 <= len(slots) <= 6
    ):
        return cls
    new = object.__new__
    sets = [d.__set__ for d in slots]
    if len(sets) == 2:
        s0, s1 = sets

        def make2(a, b):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            return o

        make = make2
    elif len(sets) == 3:
        s0, s1, s2 = sets

        def make3(a, b, c):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            return o

        make = make3
    elif len(sets) == 4:
        s0, s1, s2, s3 = sets

        def make4(a, b, c, d):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            return o

        make = make4
    elif len(sets) == 5:
        s0, s1, s2, s3, s4 = sets

        def make5(a, b, c, d, e):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            s4(o, e)
            return o

        make = make5
    else:
        s0, s1, s2, s3, s4, s5 = sets

        def make6(a, b, c, d, e, f):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            s4(o, e)
            s5(o, f)
            return o

        make = make6
    make.__name__ = make.__qualname__ = cls.__name__
    return make


class _Nodes:
    """Fast constructors of the AST classes (see _fast), by class name: ``N.Name(...)``."""

    def __getattr__(self, name):
        make = _fast(getattr(A, name))
        setattr(self, name, make)
        return make


N = _Nodes()
Span = _fast(A.Span)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
_ESCAPE_RE = re.compile(r"\\(.)", re.S)
#: The name of an app-surface declaration: the first string of its header line.
_SURFACE_NAME = re.compile(r"""("(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*')""")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")


def _type_words(t) -> str:
    """A type as written (text, list<text>, text | null), for messages."""
    if isinstance(t, A.UnionType):
        return " | ".join(_type_words(o) for o in t.options)
    if t.args:
        return f"{t.name}<{', '.join(_type_words(a) for a in t.args)}>"
    return t.name


def _span(first, last) -> A.Span:
    """Span from the start of ``first`` to the end of ``last`` (tokens or nodes)."""
    if type(first) is Tok:
        line, col = first.line, first.column
    else:
        s = first.span
        line, col = s.line, s.column
    if type(last) is Tok:
        return Span(line, col, last.end_line, last.end_column)
    s = last.span
    return Span(line, col, s.end_line, s.end_column)


def _tok_span(tok: Tok) -> A.Span:
    return Span(tok.line, tok.column, tok.end_line, tok.end_column)


def _last(items, default):
    """The last non-None item of a sequence (for span ends), else ``default``."""
    for item in reversed(items):
        if item is not None:
            if type(item) is tuple:
                if item:
                    return _last(item, default)
                continue
            return item
    return default


class _TenantKey:
    """A record's ``tenant_key is EXPR`` line, until record_decl takes it: expr, span."""

    __slots__ = ("expr", "span")

    def __init__(self, expr, span) -> None:
        self.expr = expr
        self.span = span


class Seq:
    """The children of an inlined helper rule (``_x``, ``x*``, ``x+``); lark splices them."""

    __slots__ = ("data", "children")

    def __init__(self, data, children) -> None:
        self.data = data
        self.children = children



def _is_match_pattern(expr) -> bool:
    """namel3ss's match patterns: a literal, a name, or a state path."""
    if type(expr) in (A.Literal, A.Name):
        return True
    while type(expr) is A.Attribute:
        expr = expr.obj
    return type(expr) is A.Name and expr.name == "state"


def _ends_in_block(expr) -> bool:
    """Whether an expression ends with an indented block (map:, list: + block, call function)."""
    if type(expr) in (A.MapExpr, A.CallFunction, A.CallFlow, A.CallPipeline):
        return True
    if type(expr) is A.ListExpr:
        return expr.span.end_line > expr.span.line or (
            bool(expr.items) and _ends_in_block(expr.items[-1])
        )
    return False


def _binary(op: str):
    """The callback of one arithmetic rule: ``left OP right`` spanning both operands."""

    def build(self, c):
        left, tok, right = c
        a, b = left.span, right.span
        return N.Binary(op, left, right, Span(a.line, a.column, b.end_line, b.end_column),
                        Span(tok.line, tok.column, tok.end_line, tok.end_column))

    build.__name__ = f"binary_{op}"
    return build

_USE_CATEGORIES = {w: plural for plural in ("functions", "records", "tools", "pages", "jobs")
                   for w in (plural, plural[:-1])}
_INPUT_TYPES = frozenset({"text", "number", "boolean", "json", "list", "map"})
# The first word(s) of a statement, as namel3ss names them when one stands in a declarative flow
_STATEMENT_WORDS = {
    A.Let: "let", A.LetBlock: "let", A.Set: "set", A.SetBlock: "set", A.Return: "return",
    A.If: "if", A.Match: "match", A.RepeatTimes: "repeat", A.RepeatWhile: "repeat",
    A.ForEach: "for each", A.Try: "try", A.AskAI: "ask", A.Find: "find", A.Save: "save",
    A.Calc: "calc", A.OrderList: "order", A.KeepFirst: "keep", A.Log: "log", A.Metric: "metric",
    A.Create: "create", A.Update: "update", A.Delete: "delete",
    A.Orchestration: "orchestration",
}
_IMPERATIVE_HINTS = frozenset({"let", "set", "return", "if", "match", "repeat", "for each", "try",
                               "ask", "run", "parallel", "orchestration", "find", "save"})


class _DroppedStep:
    """A statement that stood where a declarative step belongs (reported, then dropped)."""

    __slots__ = ("span",)

    def __init__(self, span) -> None:
        self.span = span


_STEP_TYPES = (A.StepInput, A.StepRequire, A.StepCreate, A.StepUpdate, A.StepDelete,
               A.StepCallForeign, _DroppedStep)


def _is_step(item) -> bool:
    return isinstance(item, _STEP_TYPES)


def _word_span(span: A.Span, width: int) -> A.Span:
    """The first ``width`` characters of a span (the keyword that starts a line)."""
    return Span(span.line, span.column, span.line, span.column + width)


def include_path_ok(path: str) -> bool:
    """An include path as namel3ss's parser accepts it: relative, no '.' or '..' part, .ai."""
    text = path.strip().replace("\\", "/")
    if not text or text.startswith("/") or re.match(r"[A-Za-z]:", text):
        return False
    parts = [p for p in text.split("/") if p]
    return bool(parts) and not any(p in (".", "..") for p in parts) and parts[-1].endswith(".ai") \
        and parts[-1] != ".ai"


class AstBuilder(ToolRules):
    """One method per rule; see the module docstring."""

    def __init__(self) -> None:
        self.diagnostics: list = []
        self.path = "<input>"
        self._and_tokens: dict = {}

    def __default__(self, data, children, meta):
        # Only lark's helper rules get here (every rule of the grammar has a method).
        return Seq(data, children)

    # ------------------------------------------------------------------ helpers
    def _error(self, code: str, message: str, span: A.Span, **texts) -> None:
        self.diagnostics.append(make(code, message, span, self.path, **texts))

    def _text(self, tok: Tok) -> str:
        """The value of a STRING token, escapes resolved (bad escapes are reported)."""
        raw = tok.value
        q = 3 if raw.startswith('"""') else 1
        body = raw[q:-q]
        if "\\" not in body:
            return body
        return _ESCAPE_RE.sub(lambda m: self._escape(m, tok, body, q), body)

    def _escape(self, m, tok: Tok, body: str, q: int) -> str:
        ch = m.group(1)
        out = _ESCAPES.get(ch)
        if out is not None:
            return out
        start = m.start()
        before = body[:start]
        nl = before.count("\n")
        if nl:
            line = tok.line + nl
            col = start - before.rfind("\n")
        else:
            line = tok.line
            col = tok.column + q + start
        shown = ch if ch.isprintable() else repr(ch)[1:-1]
        self._error(
            UNSUPPORTED_ESCAPE,
            f"Unsupported escape sequence '\\{shown}'.",
            Span(line, col, line, col + 2),
        )
        return m.group(0)

    def _name(self, tok: Tok) -> str:
        """An identifier's text (backticks removed)."""
        if tok.type == "BQ_NAME":
            return self._escaped(tok)
        return tok.value

    def _escaped(self, tok: Tok) -> str:
        """The name inside backticks, which must itself be a plain identifier."""
        inner = tok.value[1:-1]
        if _IDENTIFIER.fullmatch(inner) is None:
            self._error(ESCAPED_IDENTIFIER, "Escaped identifier contains invalid characters.",
                        _tok_span(tok))
        return inner

    def _var(self, tok: Tok) -> str:
        """An identifier used as a variable: reserved words must be escaped (namel3ss's rule)."""
        name = tok.value
        if tok.type == "BQ_NAME":
            return self._escaped(tok)
        if name in RESERVED_WORDS:
            self._error(RESERVED_WORD, f"Identifier '{name}' is reserved.", _tok_span(tok),
                        fix=f"Use another name, or escape the word with backticks: `{name}`.")
        return name

    # ------------------------------------------------------------------ program
    def start(self, c):
        self._and_tokens.clear()
        for node in getattr(self, "_bare_state", {}).values():
            self._error(SYNTAX_ERROR, "Expected state path after 'state'", node.span)
        self._bare_state = {}
        return c

    def spec_decl(self, c):
        return N.SpecDecl(self._text(c[2]), _span(c[0], c[2]))

    def capabilities_block(self, c):
        return N.CapabilitiesDecl(tuple(c[1:]), _span(c[0], c[-1]))

    def capabilities_inline(self, c):
        return N.CapabilitiesDecl(tuple(x for x in c[1:-1] if x is not None),
                                  _span(c[0], c[-1]))

    def capability(self, c):
        first, last = c[0], c[-1]
        if first.type == "STRING":
            name = self._text(first).strip()
        else:
            name = ".".join(self._name(t) for t in c)
        return N.Capability(name.lower(), _span(first, last))

    # ------------------------------------------------------------------ records
    def record_decl(self, c):
        # RECORD STRING [VERSION STRING] [SHARED] then the fields; version and shared are
        # accepted and have no effect here (namel3ss's persistence hints).
        fields, tenant_keys = [], []
        for item in c[2:]:
            if type(item) is tuple:
                fields.extend(item)
            elif isinstance(item, A.FieldDecl):
                fields.append(item)
            elif type(item) is _TenantKey:
                tenant_keys.append(A.Setting("tenant_key", item.expr, item.span))
        return N.RecordDecl(
            self._text(c[1]), tuple(fields),
            _span(c[0], _last(c, c[1])),
            _tok_span(c[1]), tuple(tenant_keys),
        )

    def tenant_key(self, c):
        return _TenantKey(c[2], _span(c[0], c[2]))

    def identity_decl(self, c):
        fields = []
        trust = None
        for item in c[2:]:
            if type(item) is tuple:
                fields.extend(item)
            elif isinstance(item, A.FieldDecl):
                fields.append(item)
            elif isinstance(item, list):
                if trust is not None:  # namel3ss's words
                    self._error(SYNTAX_ERROR, "Identity trust_level is declared more than once.",
                                item[0])
                trust = tuple(item[1:])
        return N.IdentityDecl(self._text(c[1]), tuple(fields), trust,
                              _span(c[0], _last([x for x in c if not isinstance(x, list)], c[1])),
                              _tok_span(c[1]))

    def _trust(self, c):
        # a list (not a tuple, which is a fields block): the line's span, then the values
        if self._name(c[0]) != "trust_level":
            self._error(SYNTAX_ERROR, f"Expected 'trust_level' before 'is one of', found "
                                      f"'{self._name(c[0])}'", _span(c[0], c[0]))
        strings = [self._text(t) for t in c if type(t) is Tok and t.type == "STRING"]
        if not strings:
            self._error(SYNTAX_ERROR, "trust_level list cannot be empty.", _span(c[0], c[-1]))
        return [_span(c[0], c[-1]), *strings]

    trust_inline = trust_bracket = trust_block = _trust

    def record_braced(self, c):
        fields = tuple(x for x in c if isinstance(x, A.FieldDecl))
        return N.RecordDecl(self._text(c[1]), fields, _span(c[0], c[-1]), _tok_span(c[1]), ())

    def fields_block(self, c):
        return tuple(c[1:])

    def field_decl(self, c):
        name, _is, type_, constraints = c
        last = type_ if constraints is None else constraints[-1]
        return N.FieldDecl(self._name(name), type_, constraints or (), _span(name, last))

    field_inline = field_decl

    def field_quoted(self, c):
        name, _is, type_, constraints = c
        last = type_ if constraints is None else constraints[-1]
        return N.FieldDecl(self._text(name), type_, constraints or (), _span(name, last))

    def field_legacy(self, c):
        word, name, _is, type_, constraints = c
        last = type_ if constraints is None else constraints[-1]
        self._error(LEGACY_FIELD, f"Field '{self._text(name)}' uses the legacy form "
                    f"`field \"{self._text(name)}\" is {_type_words(type_)}`.", _span(word, last))
        return N.FieldDecl(self._text(name), type_, constraints or (), _span(word, last))

    def constraints(self, c):
        return tuple(x for x in c if type(x) is A.Constraint)

    def _constraint(self, kind, c, args=()):
        return N.Constraint(kind, args, _span(c[0], c[-1]))

    def c_present(self, c):
        return self._constraint("present", c)

    def c_unique(self, c):
        return self._constraint("unique", c)

    def c_greater_than(self, c):
        return self._constraint("greater_than", c, (c[3],))

    def c_less_than(self, c):
        return self._constraint("less_than", c, (c[3],))

    def c_at_least(self, c):
        return self._constraint("at_least", c, (c[3],))

    def c_at_most(self, c):
        return self._constraint("at_most", c, (c[3],))

    def c_between(self, c):
        return self._constraint("between", c, (c[2], c[4]))

    def c_integer(self, c):
        return self._constraint("integer", c)

    def c_pattern(self, c):
        tok = c[2]
        return self._constraint("pattern", c, (N.Literal(self._text(tok), _tok_span(tok)),))

    def c_length_at_least(self, c):
        return self._constraint("length_at_least", c, (c[4],))

    def c_length_at_most(self, c):
        return self._constraint("length_at_most", c, (c[4],))

    def type_ref(self, c):
        tok = c[0]
        kind = tok.type
        if kind == "STRING":
            name = self._text(tok)
        elif kind == "BQ_NAME":
            name = tok.value[1:-1]
        else:
            name = tok.value
        if len(c) == 1:
            return N.TypeRef(name, (), _tok_span(tok))
        return N.TypeRef(name, tuple(c[1:-1]), _span(tok, c[-1]))

    def union_type(self, c):
        return N.UnionType(tuple(c), _span(c[0], c[-1]))

    # ------------------------------------------------------------------ flows, functions
    def flow_requires(self, c):
        return ("requires", c[1], c[0])

    def flow_audited(self, c):
        return ("audited", None, c[0])

    def flow_purity(self, c):
        return ("purity", self._text(c[2]), c[0])

    def flow_decl(self, c):
        requires = None
        audited = False
        purity = None
        body = []
        name_tok = c[1]
        name = self._text(name_tok)
        if name in RESERVED_WORDS:
            self._error(RESERVED_WORD, f"Flow name '{name}' is reserved.", _span(c[0], name_tok),
                        fix="Choose another flow name.")
        for item in c[2:]:
            if type(item) is Tok:
                continue  # EMPTY_BLOCK: a flow with no body
            if type(item) is tuple:
                kind, value, tok = item
                if kind == "purity":
                    purity = value
                    continue
                if kind == "requires":
                    if requires is not None:
                        self._error(
                            SYNTAX_ERROR,
                            "A flow may declare 'requires' only once",
                            _span(tok, value),
                        )
                    requires = value
                else:
                    audited = True
            else:
                body.append(item)
        return A.FlowDecl(name, tuple(body), requires, audited, _span(c[0], _last(c, c[1])),
                          _tok_span(c[1]), purity)

    def override_decl(self, c):
        # c: OVERRIDE FLOW STRING, then the statements (or the EMPTY_BLOCK token)
        body = tuple(x for x in c[3:] if type(x) is not Tok)
        return A.OverrideFlowDecl(self._text(c[2]), body, _span(c[0], c[2]), _tok_span(c[2]))

    # ---- §9 modules
    def use_decl(self, c):
        return A.UseDecl(self._text(c[1]), self._name(c[3]), False, _span(c[0], c[3]), _tok_span(c[1]))

    def use_module_decl(self, c):
        blocks: dict[str, tuple] = {}
        for label, header, categories in c[5:]:
            if label in blocks:
                self._error(SYNTAX_ERROR, f"Use module has more than one {label} block.", _tok_span(header),
                            why=f"Each use module statement can declare {label} once.",
                            fix=f"Keep a single {label} block after the use statement.")
                continue
            blocks[label] = categories
        return A.UseDecl(self._text(c[2]), self._name(c[4]), True, _span(c[0], c[4]), _tok_span(c[2]),
                         blocks.get("only", ()), blocks.get("allow override", ()))

    def _use_block(self, label: str, header, names) -> tuple:
        # namel3ss's parser/decl/use.py: categories, their words and messages
        categories: list[str] = []
        for tok in names:
            word = _USE_CATEGORIES.get(self._name(tok))
            if word is None:
                self._error(SYNTAX_ERROR, "Use module block has an unknown category.", _tok_span(tok),
                            why="Only functions, records, tools, pages, and jobs are supported.",
                            fix="Use one of the supported categories.", example="only:\n  functions\n  records")
            elif word in categories:
                self._error(SYNTAX_ERROR, f"Duplicate category in {label}.", _tok_span(tok),
                            why="Each category can appear once.", fix="Keep each category once in the list.")
            else:
                categories.append(word)
        if not names:
            self._error(SYNTAX_ERROR, f"{label} block is empty.", _tok_span(header),
                        why="Each block must list at least one category.", fix="Add one or more categories.",
                        example=f"{label}:\n  functions")
        return (label, header, tuple(categories))

    def use_only(self, c):
        return self._use_block("only", c[0], [t for t in c[1:] if type(t) is Tok and t.type != "RSQB"])

    def use_allow(self, c):
        return self._use_block("allow override", c[0],
                               [t for t in c[2:] if type(t) is Tok and t.type != "RSQB"])

    def include_decl(self, c):
        path = self._text(c[1])
        if not include_path_ok(path):  # namel3ss's parser/decl/includes.py
            self._error(SYNTAX_ERROR, "include paths must be relative .ai files without '..'.",
                        _tok_span(c[1]), why="An included file is named by a path relative to the "
                        "app's folder, and cannot leave it.",
                        fix="Name a .ai file inside the app's folder.",
                        example='include "modules/flows.ai"')
        return A.IncludeDecl(path, _span(c[0], c[1]), _tok_span(c[1]))

    # ---- §9 declarative flows (namel3ss's parser/decl/flow_steps.py, its messages)
    def flow_declarative(self, c):
        flow = self.flow_decl([t for t in c if not _is_step(t)])
        steps = tuple(t for t in c if _is_step(t) and type(t) is not _DroppedStep)
        inputs = [s for s in steps if type(s) is A.StepInput]
        for extra in inputs[1:]:
            self._error(SYNTAX_ERROR, "Flow declares input more than once.", _word_span(extra.span, 5),
                        why="Declarative flows may only declare a single input block.",
                        fix="Combine the input fields into one input block.",
                        example='flow "demo"\n  input\n    name is text')
        return replace(flow, span=_span(c[0], _last(c, c[1])), steps=steps, declarative=True)

    def step_input(self, c):
        fields = tuple(c[1:])
        seen: set = set()
        for f in fields:
            if f.name in seen:
                self._error(SYNTAX_ERROR, f"Input field '{f.name}' is duplicated.",
                            _word_span(f.span, len(f.name)), why="Input fields must be unique.",
                            fix="Remove the duplicate or rename it.",
                            example="input\n  name is text\n  email is text")
            seen.add(f.name)
        return A.StepInput(fields, _span(c[0], c[-1]))

    def input_field(self, c):
        name, _is, type_tok = c
        word = type_tok.value if type_tok.type != "STRING" else self._text(type_tok)
        canonical = TYPE_ALIASES.get(word, word)
        if canonical not in _INPUT_TYPES:
            self._error(SYNTAX_ERROR, "Expected input field type", _tok_span(type_tok),
                        why="An input field's type is text, number, boolean, json, list or map.",
                        fix="Write the field as `<name> is <type>`.", example="input\n  name is text")
        return A.InputField(self._name(name), canonical, _span(name, type_tok), _tok_span(type_tok))

    def step_require(self, c):
        return A.StepRequire(self._text(c[1]), _span(c[0], c[1]))

    def step_field(self, c):
        name, _is, value = c
        return A.StepField(self._name(name), value, _span(name, value))

    def _step_fields(self, fields, section: str) -> tuple:
        seen: set = set()
        for f in fields:
            if f.name in seen:
                self._error(SYNTAX_ERROR, f"Field '{f.name}' is duplicated.",
                            _word_span(f.span, len(f.name)),
                            why="Each field may only be assigned once per step.",
                            fix="Remove the duplicate assignment.", example=f'{f.name} is "value"')
            seen.add(f.name)
        return tuple(fields)

    def step_create(self, c):
        fields = self._step_fields([t for t in c[2:] if type(t) is A.StepField], "create")
        return A.StepCreate(self._text(c[1]), fields, _span(c[0], c[-1]))

    def step_where(self, c):
        return ("where", self._text(c[1]), c[0])

    def step_set(self, c):
        return ("set", tuple(c[1:]), c[0])

    def _where(self, parts, kind: str, span: A.Span):
        wheres = [p for p in parts if p[0] == "where"]
        if len(wheres) > 1:
            example = ('update "Order"\n  where "id is 1"\n  set\n    status is "shipped"'
                       if kind == "Update" else 'delete "Order"\n  where "id is 1"')
            self._error(SYNTAX_ERROR, f"{kind} step declares where more than once.",
                        _word_span(span, 6), why=f"Declarative {kind.lower()} steps only allow one selector.",
                        fix="Keep a single where line.", example=example)
        return wheres[0][1] if wheres else None

    def step_update(self, c):
        parts = [t for t in c[2:] if type(t) is tuple]
        span = _span(c[0], c[1])
        selector = self._where(parts, "Update", span)
        sets = [p for p in parts if p[0] == "set"]
        if len(sets) > 1:
            self._error(SYNTAX_ERROR, "Update step declares set more than once.", _word_span(span, 6),
                        why="Update assignments belong in a single set block.",
                        fix="Keep one set block with all assignments.",
                        example='update "Order"\n  set\n    status is "shipped"')
        if not sets:
            self._error(SYNTAX_ERROR, "Update step is missing a set block.", _word_span(span, 6),
                        why="Update assignments must be declared under set.",
                        fix="Add a set block with one or more assignments.",
                        example='update "Order"\n  set\n    status is "shipped"')
        fields = self._step_fields([f for p in sets[:1] for f in p[1]], "set")
        return A.StepUpdate(self._text(c[1]), selector, None, fields, span)

    def step_delete(self, c):
        span = _span(c[0], c[1])
        selector = self._where([t for t in c[2:] if type(t) is tuple], "Delete", span)
        return A.StepDelete(self._text(c[1]), selector, None, span)

    def step_call_foreign(self, c):
        fields = self._step_fields([t for t in c[3:] if type(t) is A.StepField], "call foreign")
        return A.StepCallForeign(self._text(c[2]), fields, _span(c[0], _last(c, c[2])))

    def step_statement(self, c):
        # namel3ss's words for a statement in a declarative flow (flow_steps._raise_unknown_step)
        stmt = c[0]
        word = _STATEMENT_WORDS.get(type(stmt), "")
        at = _word_span(stmt.span, len(word.split()[0]) if word else 1)
        why = "Declarative flows only allow input, require, create, update, delete, and call foreign."
        if word in ("create", "update", "delete"):  # the statement form, e.g. `create "X" with ...`
            self._error(SYNTAX_ERROR, f"Expected newline after {word} header", at,
                        why=f"In a declarative flow, `{word} \"Record\"` ends its line; its fields "
                            "follow, indented.",
                        fix='Use a flow with ":" for the statement form, or write the step form.',
                        example='flow "demo" requires true\n  create "Note"\n    title is "x"')
        elif word in _IMPERATIVE_HINTS:
            self._error(SYNTAX_ERROR, f"Declarative flows do not support '{word}' steps.", at, why=why,
                        fix='Use a legacy flow with ":" for imperative statements or rewrite the flow steps.',
                        example='flow "demo":\n  let count is 1')
        else:
            self._error(SYNTAX_ERROR, f"Unknown flow step '{word}'.", at, why=why,
                        fix="Use one of the supported steps.", example='flow "demo"\n  input\n    name is text')
        return _DroppedStep(stmt.span)

    def function_decl(self, c):
        inputs = c[3]
        outputs = c[4] or ()
        body = tuple(c[5:])
        return N.FunctionDecl(
            self._text(c[2]),
            inputs,
            outputs,
            body,
            _span(c[0], _last(c, c[2])),
            _tok_span(c[2]),
        )

    def input_block(self, c):
        return tuple(c[1:])

    output_block = input_block

    def param(self, c):
        name, _is, optional, type_ = c
        return N.Param(self._name(name), type_, optional is not None, _span(name, type_))

    def contract_decl(self, c):
        return N.ContractDecl(
            self._text(c[2]), c[3], c[4], _span(c[0], _last(c, c[2])), _tok_span(c[2])
        )

    def contract_input(self, c):
        return c[0] if type(c[0]) is tuple else ()

    contract_output = contract_input

    def ai_decl(self, c):
        settings, tools, memory = [], [], None
        for item in c[2:]:
            if type(item) is A.Setting:
                settings.append(item)
            elif item[0] == "tools":
                tools.extend(item[1])
            else:  # ("memory", settings): the last block counts, as in namel3ss
                memory = item[1] if memory is None else memory + item[1]
        return N.AIDecl(
            self._text(c[1]), tuple(settings), _span(c[0], _last(c, c[1])), _tok_span(c[1]),
            tuple(tools), memory,
        )

    def ai_tools(self, c):
        return ("tools", tuple(x for x in c[1:] if type(x) is A.ExposedTool))

    def ai_expose(self, c):
        parts = c[1:]
        if len(parts) == 1 and parts[0].type == "STRING":
            return N.ExposedTool(self._text(parts[0]), _tok_span(parts[0]))
        return N.ExposedTool(".".join(self._name(p) for p in parts), _span(parts[0], parts[-1]))

    def ai_memory(self, c):
        return ("memory", tuple(x for x in c[1:] if type(x) is A.Setting))

    def prompt_decl(self, c):
        return N.PromptDecl(
            self._text(c[1]), tuple(c[2:]), _span(c[0], _last(c, c[1])), _tok_span(c[1])
        )

    def model_decl(self, c):
        return N.ModelDecl(
            self._text(c[1]), tuple(c[2:]), _span(c[0], c[-1]), _tok_span(c[1])
        )

    # ---- §10 the app surface
    def surface_decl(self, c):
        tok = c[0]
        text = tok.value
        kind = text.split(None, 1)[0].rstrip(":")
        if kind == "team":
            kind = "team of agents"
        elif kind == "use":  # `use preset "..."`, `use plugin "..."` (the lexer's _SURFACE_USE)
            kind = " ".join(text.split(None, 2)[:2])
        refs = tuple(
            A.SurfaceRef(ref_kind, self._text(Tok("STRING", quoted, span.line, span.column,
                                                   span.end_line, span.end_column)), span)
            for ref_kind, quoted, span in surface_refs(text, tok.line, tok.column)
        )
        m = _SURFACE_NAME.search(text.split("\n", 1)[0])
        name = m.group(1)[1:-1] if m else None
        return A.SurfaceDecl(kind, name, text, refs, _tok_span(tok))

    def run_agent_stmt(self, c):
        return A.SurfaceStmt("run agent", self._text(c[2]), c[5], self._name(c[8]),
                             _span(c[0], c[8]))

    def run_agents_stmt(self, c):
        # RUN AGENTS IN PARALLEL parallel_agent+ [merge_block] AS ident
        entries = [x for x in c[4:-2] if type(x) is tuple and x and x[0] == "agent"]
        merge = c[-3] if type(c[-3]) is tuple and c[-3] and c[-3][0] == "merge" else ()
        more = tuple(e[2] for e in entries) + tuple(s.value for s in (merge[1] if merge else ()))
        return A.SurfaceStmt("run agents", ", ".join(e[1] for e in entries), None,
                             self._name(c[-1]), _span(c[0], c[-1]), more)

    def parallel_agent(self, c):
        return ("agent", self._text(c[1]), c[4])

    def merge_block(self, c):
        return ("merge", tuple(x for x in c[1:] if type(x) is A.Setting), _span(c[0], c[0]))

    def enqueue_job_stmt(self, c):
        # ENQUEUE JOB STRING [AT|AFTER expr] [WITH INPUT expr]: the schedule goes in `more`
        more = (c[4],) if c[4] is not None else ()
        return A.SurfaceStmt("enqueue job", self._text(c[2]), c[7], None,
                             _span(c[0], _last(c, c[2])), more)

    def parallel_stmt(self, c):
        tasks, merge, merge_span, keys = [], None, A.UNKNOWN, ()
        for item in c[1:]:
            if type(item) is A.ParallelTask:
                tasks.append(item)
            elif type(item) is tuple and item and item[0] == "step":
                tasks.append(A.ParallelTask(f"step_{len(tasks) + 1}", (item[1],), item[1].span))
            elif type(item) is tuple and item and item[0] == "merge":
                merge_span = item[2]
                keys = tuple(setting.key for setting in item[1])
                merge = next((st.value for st in item[1] if st.key == "policy"), None)
        return N.Parallel(tuple(tasks), merge, _span(c[0], c[0]), merge_span, keys)

    def orchestration_stmt(self, c):
        # ORCHESTRATION branch+ merge_block AS ident
        branches = tuple(x for x in c if type(x) is A.OrchestrationBranch)
        merge = c[-3]  # None without a `merge:` block (the checker says it is required)
        settings, merge_span = (merge[1], merge[2]) if merge is not None else (None, A.UNKNOWN)
        return A.Orchestration(branches, settings, self._name(c[-1]), _span(c[0], c[0]),
                               merge_span, _tok_span(c[-1]))

    def orchestration_branch(self, c):
        extra = next((x for x in c[3:] if type(x) is tuple and x and x[0] == "extra"), None)
        return A.OrchestrationBranch(self._text(c[1]), c[2], _span(c[0], c[0]), _tok_span(c[1]),
                                     extra[1] if extra is not None else None)

    def branch_extra(self, c):
        return ("extra", c[0].span)

    def parallel_task(self, c):
        return N.ParallelTask(self._text(c[1]), c[-1], _span(c[0], c[1]))

    def parallel_step(self, c):
        return ("step", c[0])

    def tick_stmt(self, c):
        return A.SurfaceStmt("tick", "", c[1], None, _span(c[0], c[1]))

    def flow_ai_stmt(self, c):
        return N.FlowAI(tuple(x for x in c[1:] if type(x) is A.Setting), _span(c[0], c[-1]))

    def set_theme_stmt(self, c):
        return A.SurfaceStmt("set theme", self._text(c[3]), None, None, _span(c[0], c[3]))

    def setting(self, c):
        return N.Setting(self._name(c[0]), c[2], _span(c[0], c[2]))

    # ------------------------------------------------------------------ statements
    def body(self, c):
        return tuple(c)

    def let_stmt(self, c):
        let, name, _is, value, constant = c
        if constant is None:
            end = value.span
            span = Span(let.line, let.column, end.end_line, end.end_column)
            return N.Let(self._var(name), value, False, span)
        return N.Let(self._var(name), value, True, _span(let, constant))

    def set_stmt(self, c):
        if len(c) == 4:
            target = (self._var(c[1]),)
        else:
            root = c[1].value if c[1].value == "state" else self._var(c[1])
            target = (root,) + tuple(self._name(t) for t in c[2:-2])
            if target[0] != "state":  # namel3ss sets a name or a state path, nothing else
                root = c[1]
                self._error(
                    SYNTAX_ERROR,
                    "Expected 'is' in assignment",
                    Span(root.line, root.end_column, root.line, root.end_column + 1),
                )
        value = c[-1]
        tok, end = c[0], value.span
        return N.Set(target, value, Span(tok.line, tok.column, end.end_line, end.end_column))

    def if_stmt(self, c):
        tok, cond, then, _else, other = c
        return N.If(cond, then, other or (), _span(tok, _last(c, cond)))

    def repeat_times(self, c):
        return N.RepeatTimes(c[3], c[5], _span(c[0], _last(c[5], c[4])))

    def repeat_while(self, c):
        tok = c[4]
        limit = N.Literal(Decimal(tok.value), _tok_span(tok))
        value = limit.value
        if value != value.to_integral_value():
            self._error(SYNTAX_ERROR, "Loop limit must be an integer", _tok_span(tok))
        elif value <= 0:
            self._error(SYNTAX_ERROR, "Loop limit must be greater than zero", _tok_span(tok))
        return N.RepeatWhile(c[2], limit, c[5], _span(c[0], _last(c[5], tok)))

    def for_each(self, c):
        return N.ForEach(self._var(c[2]), c[4], c[5], _span(c[0], _last(c[5], c[4])))

    def match_stmt(self, c):
        # Cases come in source order; `otherwise` is a (token, body) pair. As in namel3ss:
        # a `when` after `otherwise` is unreachable, and `otherwise` may appear once.
        tok, subject = c[0], c[1]
        cases = []
        otherwise = None
        for item in c[3:]:
            if type(item) is tuple:
                if otherwise is not None:
                    self._error(SYNTAX_ERROR, "Duplicate otherwise in match", _tok_span(item[0]))
                otherwise = item[1]
                continue
            if otherwise is not None:
                self._error(SYNTAX_ERROR, "Unreachable case after otherwise", item.value.span)
            cases.append(item)
        return N.Match(subject, tuple(cases), otherwise, _span(tok, _last(c, subject)))

    def when_clause(self, c):
        pattern = c[1]
        if not _is_match_pattern(pattern):
            span = pattern.span
            if type(pattern) is A.Binary:  # namel3ss places it at the operator (`1 + 2`)
                end = pattern.left.span
                span = Span(end.end_line, end.end_column + 1, end.end_line, end.end_column + 2)
            self._error(SYNTAX_ERROR, "Match patterns must be literal or identifier", span)
        return N.MatchCase(pattern, c[2], _span(c[0], _last(c[2], c[1])))

    def otherwise_clause(self, c):
        return (c[0], c[1])

    def try_stmt(self, c):
        return N.Try(c[1], self._var(c[4]), c[5], _span(c[0], _last(c[5], c[4])))

    def return_stmt(self, c):
        return N.Return(c[1], _span(c[0], c[1]))

    def create_stmt(self, c):
        value = c[3]
        if c[4] is not None and not _ends_in_block(value):
            # Only a block-valued expression lets `as` continue on the next line.
            end = value.span
            self._error(
                SYNTAX_ERROR,
                "Create statement is missing 'as'.",
                Span(end.end_line, end.end_column, end.end_line, end.end_column + 1),
                why="`as` names the variable that receives the saved record.",
                fix='Use `create "<Record>" with <values> as <var>`.',
                example='create "Order" with state.order as order',
            )
        target = c[6]
        if target.type != "BQ_NAME" and target.value in RESERVED_WORDS:
            # namel3ss reads a reserved word there as no variable at all (parser/stmt/create.py)
            self._error(
                SYNTAX_ERROR,
                "Create statement is missing a target variable.",
                _tok_span(target),
                why="`as <var>` names the variable that receives the saved record.",
                fix="Provide a variable name after `as`, e.g. `as order`.",
                example='create "Order" with state.order as order',
            )
            return N.Create(self._text(c[1]), value, target.value, _span(c[0], target))
        return N.Create(self._text(c[1]), value, self._var(target), _span(c[0], target))

    def find_stmt(self, c):
        return N.Find(self._text(c[1]), c[3], _span(c[0], c[3]))

    def update_stmt(self, c):
        return N.Update(self._text(c[1]), c[3], tuple(c[5:]), _span(c[0], c[-1]))

    def assignment(self, c):
        # `field is EXPR`, `"field" is EXPR` or a dotted `a.b is EXPR` (namel3ss's names).
        first, value = c[0], c[-1]
        if first.type == "STRING":
            name = self._text(first)
        else:
            name = ".".join(self._name(t) for t in c[:-2])
        return N.Assignment(name, value, _span(first, value))

    def delete_stmt(self, c):
        return N.Delete(self._text(c[1]), c[3], _span(c[0], c[3]))

    def save_stmt(self, c):
        return N.Save(self._text(c[1]), _span(c[0], c[1]))

    def ask_stmt(self, c):
        stream = c[4] if c[4] is not None else False
        mode, value = c[5]
        return N.AskAI(self._text(c[2]), value, self._var(c[-1]), _span(c[0], c[-1]), mode, stream)

    def ask_stream(self, c):
        return any(type(t) is Tok and t.type == "TRUE" for t in c)

    def ask_input(self, c):
        return (c[0].value if c[0] is not None else "text", c[-1])

    def ask_structured(self, c):
        return ("structured", c[-1])

    def ask_mode(self, c):
        return c[0]

    # ---- §5 statements (added)
    def block_end(self, c):
        return True

    def _unique_name(self, step, seen: set, block: str, part: str, thing: str,
                     example: str) -> None:
        """namel3ss's error for a name bound twice in one let: or calc: block."""
        if step.name in seen:
            self._error(
                SYNTAX_ERROR,
                f"Duplicate {block} name '{step.name}'.",
                Span(step.span.line, step.span.column, step.span.line,
                     step.span.column + len(step.name)),
                why=f"Each {block} {'block entry' if block == 'let' else part} must use a unique "
                    f"name.",
                fix=f"Remove or rename the duplicate {thing}.",
                example=example,
            )
        seen.add(step.name)

    def let_block(self, c):
        lets = []
        seen = set()
        for line in c[1:]:
            for entry in line:
                self._unique_name(entry, seen, "let", "entry", "declaration",
                                  "let:\n  total is 10\n  subtotal is 5")
                lets.append(entry)
        return N.LetBlock(tuple(lets), _span(c[0], _last(lets, c[1])))

    def let_line(self, c):
        if len(c) > 1:
            for entry in c:
                self._check_and_separator(entry.value)
        return tuple(c)

    def let_line_comma(self, c):
        end = c[-1].span
        self._error(
            SYNTAX_ERROR,
            "Expected let entry after ','.",
            Span(end.end_line, end.end_column, end.end_line, end.end_column + 1),
            why="Inline let entries must be written as `name is <expr>`.",
            fix="Add another entry after the comma or remove it.",
            example="let:\n  a is 1, b is 2",
        )
        return self.let_line(c)

    def _check_and_separator(self, expr):
        """`a is 1, b is 2 and c is 3`: in a line of inline entries, `and NAME is` is a
        misplaced separator (namel3ss's check), not a boolean operator."""
        stack = [expr]
        while stack:
            node = stack.pop()
            if type(node) is A.BoolOp:
                right = node.right
                if node.op == "and" and type(right) is A.Compare and type(right.left) is A.Name \
                        and right.op == "is" and right.left.span.column == right.span.column:
                    tok = self._and_tokens.get(id(node))
                    span = _tok_span(tok) if tok is not None else right.span
                    self._error(
                        SYNTAX_ERROR,
                        "Inline let entries must be separated by commas.",
                        span,
                        why="`and` is a boolean operator and cannot separate let entries.",
                        fix="Use commas between entries or put each entry on its own line.",
                        example="let:\n  a is 10, b is 5, c is a + b",
                    )
                    return
                stack.append(node.right)
                stack.append(node.left)

    def let_entry(self, c):
        name, _is, value, constant = c
        return N.Let(self._var(name), value, constant is not None, _span(name, constant or value))

    def set_block(self, c):
        set_tok = c[0]
        at_with = next(i for i, x in enumerate(c) if type(x) is Tok and x.type == "WITH")
        path = [self._name(t) for t in c[1:at_with]]
        if path[0] != "state" or len(path) < 2:
            self._error(
                SYNTAX_ERROR,
                "Set block target must be a state path.",
                _tok_span(set_tok),
                why="Prefix assignments only work with state paths that can accept dotted fields.",
                fix="Use `set state.<name> with:` and field assignments beneath it.",
                example='set state.order with:\n  order_id is "O-1"\n  customer is "Acme"',
            )
        sets = []
        seen = set()
        for key, value, span in c[at_with + 1:]:
            dotted = ".".join(key)
            if dotted in seen:
                self._error(
                    SYNTAX_ERROR,
                    f"Duplicate field '{dotted}' in set block.",
                    Span(span.line, span.column, span.line, span.column + len(key[0])),
                    why="Each field in a set block must be unique.",
                    fix="Remove the duplicate field assignment.",
                    example='set state.order with:\n  order_id is "O-1"\n  customer is "Acme"',
                )
            seen.add(dotted)
            sets.append(N.Set(tuple(path) + key, value, span))
        return N.SetBlock(tuple(sets), _span(set_tok, sets[-1] if sets else set_tok))

    def set_field(self, c):
        value = c[-1]
        first = c[0]
        key = tuple(self._name(t) for t in c[:-2])
        return (key, value, _span(first, value))

    def calc_stmt(self, c):
        steps = []
        seen = set()
        for step in c[1:]:
            if type(step) is A.Let:
                self._unique_name(step, seen, "calc", "assignment", "assignment",
                                  "calc:\n  total = 10\n  subtotal = 5")
            steps.append(step)
        return N.Calc(tuple(steps), _span(c[0], _last(steps, c[1])))

    def calc_line(self, c):
        eq = next(i for i, x in enumerate(c) if type(x) is Tok and x.type == "EQUALS")
        target = c[:eq]
        value = c[eq + 1]
        first = target[0]
        if len(c) > eq + 2:  # `a = 1, b = 2`
            end = value.span
            self._error(
                SYNTAX_ERROR,
                "Calc lines cannot contain commas.",
                Span(end.end_line, end.end_column, end.end_line, end.end_column + 1),
                why="Calc lines may only contain a single assignment.",
                fix="Split the assignments onto separate lines.",
                example="calc:\n  total = 10\n  subtotal = 5",
            )
        span = _span(first, value)
        if len(target) == 1:
            return N.Let(self._var(first), value, False, span)
        names = tuple(self._name(t) for t in target)
        if names[0] != "state":
            self._error(
                SYNTAX_ERROR,
                "Calc assignments may only target local names or state paths.",
                _tok_span(first),
                why="Only local variables or state.<name> are valid calc assignment targets.",
                fix="Use a local name or a state path.",
                example="calc:\n  total = 10\n  state.total = total",
            )
        return N.Set(names, value, span)

    def order_stmt(self, c):
        tok = c[0]
        by = next(i for i, x in enumerate(c) if x.type == "BY")
        target = tuple(self._name(t) for t in c[1:by])
        if len(target) > 1 and target[0] != "state":
            dot = c[1]
            self._error(
                SYNTAX_ERROR,
                "Expected 'by'.",
                Span(dot.line, dot.end_column, dot.line, dot.end_column + 1),
                why="This statement uses a fixed phrase.",
                fix="Use the full form: order state.items by score from highest to lowest",
                example="order state.items by score from highest to lowest",
            )
        field, start, end = c[by + 1], c[by + 3], c[by + 5]
        for word in (start, end):
            if word.value not in ("highest", "lowest"):
                self._order_direction(word)
                break
        else:
            if start.value == end.value:
                self._order_direction(end)
        return N.OrderList(target, self._name(field), start.value == "highest", _span(tok, end))

    def _order_direction(self, tok):
        self._error(
            SYNTAX_ERROR,
            "Order direction must be highest to lowest or lowest to highest.",
            _tok_span(tok),
            why="Ordering only supports those two fixed directions.",
            fix="Use one of: order state.items by score from highest to lowest or order "
            "state.items by score from lowest to highest",
            example="order state.items by score from highest to lowest",
        )

    def keep_stmt(self, c):
        return N.KeepFirst(c[2], _span(c[0], c[3]))

    def log_stmt(self, c):
        tok, level_tok, message, _with, fields = c
        level = level_tok.value.lower()
        if level not in ("debug", "info", "warn", "error"):
            self._error(
                SYNTAX_ERROR,
                f"Unknown log level '{level_tok.value}'.",
                _tok_span(level_tok),
                why="Only debug, info, warn, and error are supported.",
                fix="Use one of the supported log levels.",
                example='log warn "Cache miss"',
            )
        return N.Log(level, message, fields, _span(tok, fields or message))

    def metric_stmt(self, c):
        tok, kind_tok = c[0], c[1]
        kind = kind_tok.value.lower()
        rest = list(c[2:])
        labels = rest.pop()
        _with = rest.pop()
        value = rest.pop()
        op_tok = rest.pop()
        if rest[0].type == "STRING":
            name = self._text(rest[0])
        else:
            name = ".".join(self._name(t) for t in rest)
        if kind not in ("counter", "timing"):
            self._error(
                SYNTAX_ERROR,
                f"Unknown metric kind '{kind_tok.value}'.",
                _tok_span(kind_tok),
                why="Metrics must be counters or timings.",
                fix="Use counter or timing.",
                example='metric timing "render" record 4',
            )
        operation = op_tok.value.lower()
        valid = ("add", "increment", "set") if kind == "counter" else ("record",)
        if kind in ("counter", "timing") and operation not in valid:
            self._error(
                SYNTAX_ERROR,
                f"Unsupported metric operation '{op_tok.value}'.",
                _tok_span(op_tok),
                why=f"{kind.capitalize()} metrics only support {', '.join(valid)}.",
                fix="Use a supported metric operation.",
                example='metric counter "requests" increment',
            )
        elif value is None and operation in ("add", "set", "record"):
            at = _with if _with is not None else op_tok
            col = at.column if _with is not None else op_tok.end_column
            self._error(
                SYNTAX_ERROR,
                f"Metric operation '{operation}' is missing a value.",
                Span(at.line, col, at.line, col + 1),
                why="This metric operation requires a numeric value.",
                fix="Provide a value after the operation.",
                example='metric counter "requests" add 2',
            )
        return N.Metric(kind, name, operation, value, labels,
                        _span(tok, labels or value or op_tok))

    # ------------------------------------------------------------------ expressions
    def predict(self, c):
        tok = c[1]
        return N.Predict(self._text(tok), c[3], _span(c[0], c[3]), _tok_span(tok))

    def list_inline(self, c):
        items = tuple(x for x in c[1:] if x is not None)
        return N.ListExpr(items, _span(c[0], items[-1]))

    def list_block(self, c):
        items = c[1]
        return N.ListExpr(items, _span(c[0], _last(items, c[0])))

    def map_block(self, c):
        return N.MapExpr(tuple(c[1:]), _span(c[0], c[-1]))

    def map_entry(self, c):
        key = c[0]
        # a bare key is a name, so a reserved word must be quoted or escaped (as in namel3ss)
        name = self._text(key) if key.type == "STRING" else self._var(key)
        return N.MapEntry(name, c[2], _span(key, c[2]))

    def call_function(self, c):
        tok = c[2]
        return N.CallFunction(self._text(tok), tuple(c[3:]), _span(c[0], c[-1]), _tok_span(tok))

    def call_flow(self, c):
        tok = c[2]
        return N.CallFlow(self._text(tok), c[3], c[4], _span(c[0], tok), _tok_span(tok))

    def call_pipeline(self, c):
        tok = c[2]
        return N.CallPipeline(self._text(tok), c[3], c[4], _span(c[0], tok), _tok_span(tok))

    def call_flow_input(self, c):
        return tuple(a for a in c[1:] if type(a) is A.Argument)

    def call_flow_output(self, c):
        return tuple(self._name(n) for n in c[1:])

    def argument(self, c):
        return N.Argument(self._name(c[0]), c[2], _span(c[0], c[2]))

    def or_op(self, c):
        return N.BoolOp("or", c[0], c[2], _span(c[0], c[2]), _tok_span(c[1]))

    def and_op(self, c):
        node = N.BoolOp("and", c[0], c[2], _span(c[0], c[2]), _tok_span(c[1]))
        self._and_tokens[id(node)] = c[1]  # for let_line's separator check
        return node

    def not_op(self, c):
        return N.Not(c[1], _span(c[0], c[1]))

    def cmp_is(self, c):
        left, right = c[0], c[-1]
        a, b = left.span, right.span
        return N.Compare("is", left, (right,), Span(a.line, a.column, b.end_line, b.end_column),
                         _tok_span(c[1]))

    def cmp_is_not(self, c):
        return N.Compare("is not", c[0], (c[-1],), _span(c[0], c[-1]), _tok_span(c[1]))

    def cmp_greater(self, c):
        return N.Compare("is greater than", c[0], (c[-1],), _span(c[0], c[-1]), _tok_span(c[1]))

    def cmp_less(self, c):
        return N.Compare("is less than", c[0], (c[-1],), _span(c[0], c[-1]), _tok_span(c[1]))

    def cmp_at_least(self, c):
        return N.Compare("is at least", c[0], (c[-1],), _span(c[0], c[-1]), _tok_span(c[1]))

    def cmp_at_most(self, c):
        return N.Compare("is at most", c[0], (c[-1],), _span(c[0], c[-1]), _tok_span(c[1]))

    def cmp_between(self, c):
        return N.Compare("is between", c[0], (c[3], c[5]), _span(c[0], c[5]), _tok_span(c[1]))

    def cmp_strictly_between(self, c):
        return N.Compare("is strictly between", c[0], (c[4], c[6]), _span(c[0], c[6]), _tok_span(c[1]))

    def cmp_one_of(self, c):
        return self._one_of(c[0], c[1], tuple(c[4:]), c[-1])

    add = _binary("+")
    sub = _binary("-")
    mul = _binary("*")
    div = _binary("/")
    mod = _binary("%")
    pow = _binary("**")

    def unary_op(self, c):
        return N.Unary(c[0].value, c[1], _span(c[0], c[1]))

    def paren(self, c):
        # The parentheses widen the span of what they hold (it is the same expression).
        return replace(c[1], span=_span(c[0], c[2]))

    def index(self, c):
        return N.Index(c[0], c[1], _span(c[0], c[2]))

    def attribute(self, c):
        if type(c[0]) is A.Name and c[0].name == "state":
            getattr(self, "_bare_state", {}).pop(id(c[0]), None)
        return N.Attribute(c[0], self._name(c[1]), _span(c[0], c[1]))

    def b_list_length(self, c):
        return N.BuiltinCall("list length", (c[3],), _span(c[0], c[3]))

    def b_list_append(self, c):
        return N.BuiltinCall("list append", (c[2], c[4]), _span(c[0], c[4]))

    def b_list_get(self, c):
        return N.BuiltinCall("list get", (c[2], c[4]), _span(c[0], c[4]))

    def b_map_get(self, c):
        return N.BuiltinCall("map get", (c[2], c[4]), _span(c[0], c[4]))

    def b_map_set(self, c):
        return N.BuiltinCall("map set", (c[2], c[4], c[6]), _span(c[0], c[6]))

    def b_map_keys(self, c):
        return N.BuiltinCall("map keys", (c[2],), _span(c[0], c[2]))

    def call_builtin(self, c):
        tok = c[0]
        name = self._name(tok)
        args = tuple(x for x in c[1:-1] if x is not None)
        if name not in LIST_BUILTINS:
            # vocabulary.RUN_TIME_BUILTINS and unknown names: namel3ss resolves
            # them when it runs (`Unknown builtin 'x'.` is a run-time error there).
            return N.CallBuiltin(name, args, _span(tok, c[-1]))
        if len(args) != 1:
            at = c[-1] if not args else args[1]
            what = "requires a list expression" if not args else "accepts a single list expression"
            self._error(SYNTAX_ERROR, f"{name} {what}.", _span(at, at))
        return N.BuiltinCall(name, args[:1], _span(tok, c[-1]))

    def number(self, c):
        tok = c[0]
        return N.Literal(Decimal(tok.value), Span(tok.line, tok.column, tok.end_line, tok.end_column))

    def string(self, c):
        tok = c[0]
        return N.Literal(self._text(tok), Span(tok.line, tok.column, tok.end_line, tok.end_column))

    def true(self, c):
        return N.Literal(True, _tok_span(c[0]))

    def false(self, c):
        return N.Literal(False, _tok_span(c[0]))

    def null(self, c):
        return N.Literal(None, _tok_span(c[0]))

    def name(self, c):
        tok = c[0]
        name = tok.value
        if (name in RESERVED_WORDS and name not in VALUE_WORDS) or tok.type == "BQ_NAME":
            name = self._var(tok)
        node = N.Name(name, Span(tok.line, tok.column, tok.end_line, tok.end_column))
        if name == "state" and tok.type == "NAME":
            # A bare `state` is a parse error in namel3ss; `state.x` clears this in attribute().
            self.__dict__.setdefault("_bare_state", {})[id(node)] = node
        return node

    # ---- §6 expressions (added)
    def _one_of(self, left, is_tok, items, last):
        """`is one of` takes literals only in namel3ss: text, numbers, true/false."""
        for item in items:
            if type(item) is not A.Literal or item.value is None:
                self._error(SYNTAX_ERROR, "One-of list contains a non-literal value.",
                            Span(item.span.line, item.span.column, item.span.end_line, item.span.end_column))
                break
        return N.Compare("is one of", left, items, _span(left, last), _tok_span(is_tok))

    def cmp_one_of_bracket(self, c):
        return self._one_of(c[0], c[1], c[4], c[-1])

    def cmp_one_of_block(self, c):
        items = c[4]
        return self._one_of(c[0], c[1], items, _last(items, c[3]))

    def one_of_items(self, c):
        return tuple(c)

    def one_of_block(self, c):
        return tuple(x for x in c if x is not None)

    def list_items(self, c):
        return tuple(x for x in c if x is not None and type(x) is not Tok)

    def list_empty(self, c):
        return N.ListExpr((), _span(c[0], c[0]))

    def list_typed_inline(self, c):
        items = tuple(x for x in c[3:] if x is not None)
        return N.ListExpr(items, _span(c[0], items[-1]))

    def list_typed_block(self, c):
        items = c[3]
        return N.ListExpr(items, _span(c[0], _last(items, c[0])))

    def list_typed_empty(self, c):
        return N.ListExpr((), _span(c[0], c[0]))

    def map_empty(self, c):
        self._error(SYNTAX_ERROR, "Expected indented map entries", _tok_span(c[1]))
        return N.MapExpr((), _span(c[0], c[0]))

    def list_map(self, c):
        # MAP expr WITH ITEM AS ident body
        return N.ListMap(c[1], self._var(c[5]), c[6], _span(c[0], c[6]))

    def list_filter(self, c):
        return N.ListFilter(c[1], self._var(c[5]), c[6], _span(c[0], c[6]))

    def list_reduce(self, c):
        # REDUCE expr WITH ACC AS ident AND ITEM AS ident STARTING expr body
        return N.ListReduce(c[1], self._var(c[5]), self._var(c[9]), c[11], c[12],
                            _span(c[0], c[12]))
