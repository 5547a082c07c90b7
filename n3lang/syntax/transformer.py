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
from n3lang.syntax.lexer import Tok
from n3lang.syntax.errors import (
    RESERVED_WORD,
    RESERVED_WORDS,
    SYNTAX_ERROR,
    UNKNOWN_BUILTIN,
    UNSUPPORTED_ESCAPE,
)



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

        def make(a, b):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            return o

    elif len(sets) == 3:
        s0, s1, s2 = sets

        def make(a, b, c):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            return o

    elif len(sets) == 4:
        s0, s1, s2, s3 = sets

        def make(a, b, c, d):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            return o

    elif len(sets) == 5:
        s0, s1, s2, s3, s4 = sets

        def make(a, b, c, d, e):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            s4(o, e)
            return o

    else:
        s0, s1, s2, s3, s4, s5 = sets

        def make(a, b, c, d, e, f):
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            s4(o, e)
            s5(o, f)
            return o

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
_CALL_BUILTINS = frozenset(("sum", "min", "max", "mean", "median"))


def _span(first, last) -> Span:
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


def _tok_span(tok: Tok) -> Span:
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


class Seq:
    """The children of an inlined helper rule (``_x``, ``x*``, ``x+``); lark splices them."""

    __slots__ = ("data", "children")

    def __init__(self, data, children) -> None:
        self.data = data
        self.children = children



def _binary(op: str):
    """The callback of one arithmetic rule: ``left OP right`` spanning both operands."""

    def build(self, c):
        left, tok, right = c
        a, b = left.span, right.span
        return N.Binary(op, left, right, Span(a.line, a.column, b.end_line, b.end_column),
                        Span(tok.line, tok.column, tok.end_line, tok.end_column))

    build.__name__ = f"binary_{op}"
    return build

class AstBuilder:
    """One method per rule; see the module docstring."""

    def __init__(self) -> None:
        self.diagnostics: list = []
        self.path = "<input>"

    def __default__(self, data, children, meta):
        # Only lark's helper rules get here (every rule of the grammar has a method).
        return Seq(data, children)

    # ------------------------------------------------------------------ helpers
    def _error(self, code: str, message: str, span: Span) -> None:
        self.diagnostics.append(make(code, message, span, self.path))

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
            return tok.value[1:-1]
        return tok.value

    def _var(self, tok: Tok) -> str:
        """An identifier used as a variable: reserved words must be escaped."""
        name = tok.value
        if name not in RESERVED_WORDS:
            return name[1:-1] if tok.type == "BQ_NAME" else name
        if tok.type == "BQ_NAME":
            return name[1:-1]
        if name in RESERVED_WORDS:
            self._error(
                RESERVED_WORD,
                f"'{name}' is a reserved word and cannot name a variable "
                f"(write `{name}` to use it as a name)",
                _tok_span(tok),
            )
        return name

    # ------------------------------------------------------------------ program
    def start(self, c):
        for node in getattr(self, "_bare_state", {}).values():
            self._error(SYNTAX_ERROR, "Expected state path after 'state'", node.span)
        self._bare_state = {}
        return c

    def spec_decl(self, c):
        return N.SpecDecl(self._text(c[2]), _span(c[0], c[2]))

    def capabilities_block(self, c):
        return N.CapabilitiesDecl(tuple(c[1:]), _span(c[0], c[-1]))

    def capabilities_inline(self, c):
        return N.CapabilitiesDecl(tuple(c[1:-1]), _span(c[0], c[-1]))

    def capability(self, c):
        tok = c[0]
        return N.Capability(tok.value, _tok_span(tok))

    # ------------------------------------------------------------------ records
    def record_decl(self, c):
        fields = []
        for item in c[2:]:
            if type(item) is tuple:
                fields.extend(item)
            else:
                fields.append(item)
        return N.RecordDecl(
            self._text(c[1]), tuple(fields), _span(c[0], _last(c, c[1])), _tok_span(c[1])
        )

    def fields_block(self, c):
        return tuple(c[1:])

    def field_decl(self, c):
        name, _is, type_, constraints = c
        last = type_ if constraints is None else constraints[-1]
        return N.FieldDecl(self._name(name), type_, constraints or (), _span(name, last))

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

    def flow_decl(self, c):
        requires = None
        audited = False
        body = []
        for item in c[2:]:
            if type(item) is tuple:
                kind, value, tok = item
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
        return N.FlowDecl(
            self._text(c[1]),
            tuple(body),
            requires,
            audited,
            _span(c[0], _last(c, c[1])),
            _tok_span(c[1]),
        )

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

    def ai_decl(self, c):
        return N.AIDecl(
            self._text(c[1]), tuple(c[2:]), _span(c[0], c[-1]), _tok_span(c[1])
        )

    def model_decl(self, c):
        return N.ModelDecl(
            self._text(c[1]), tuple(c[2:]), _span(c[0], c[-1]), _tok_span(c[1])
        )

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
            target = (self._var(c[1]),) + tuple(self._name(t) for t in c[2:-2])
        value = c[-1]
        tok, end = c[0], value.span
        return N.Set(target, value, Span(tok.line, tok.column, end.end_line, end.end_column))

    def if_stmt(self, c):
        tok, cond, then, _else, other = c
        return N.If(cond, then, other or (), _span(tok, _last(c, cond)))

    def repeat_times(self, c):
        return N.RepeatTimes(c[3], c[5], _span(c[0], _last(c[5], c[4])))

    def repeat_while(self, c):
        return N.RepeatWhile(c[2], c[4], c[5], _span(c[0], _last(c[5], c[4])))

    def for_each(self, c):
        return N.ForEach(self._var(c[2]), c[4], c[5], _span(c[0], _last(c[5], c[4])))

    def match_stmt(self, c):
        return self._match(c[0], c[1], c[3:])

    def match_direct(self, c):
        return self._match(c[0], c[1], c[2:])

    def _match(self, tok, subject, rest):
        otherwise = rest[-1]
        cases = tuple(rest[:-1])
        return N.Match(subject, cases, otherwise, _span(tok, _last(rest, subject)))

    def when_clause(self, c):
        return N.MatchCase(c[1], c[2], _span(c[0], _last(c[2], c[1])))

    def otherwise_clause(self, c):
        return c[1]

    def try_stmt(self, c):
        return N.Try(c[1], self._var(c[4]), c[5], _span(c[0], _last(c[5], c[4])))

    def return_stmt(self, c):
        return N.Return(c[1], _span(c[0], c[1]))

    def create_stmt(self, c):
        return N.Create(self._text(c[1]), c[3], self._var(c[5]), _span(c[0], c[5]))

    def find_stmt(self, c):
        return N.Find(self._text(c[1]), c[3], _span(c[0], c[3]))

    def update_stmt(self, c):
        return N.Update(self._text(c[1]), c[3], tuple(c[5:]), _span(c[0], c[-1]))

    def assignment(self, c):
        return N.Assignment(self._name(c[0]), c[2], _span(c[0], c[2]))

    def delete_stmt(self, c):
        return N.Delete(self._text(c[1]), c[3], _span(c[0], c[3]))

    def save_stmt(self, c):
        return N.Save(self._text(c[1]), _span(c[0], c[1]))

    def ask_stmt(self, c):
        return N.AskAI(self._text(c[2]), c[5], self._var(c[7]), _span(c[0], c[7]))

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
        name = self._text(key) if key.type == "STRING" else self._name(key)
        return N.MapEntry(name, c[2], _span(key, c[2]))

    def call_function(self, c):
        tok = c[2]
        return N.CallFunction(self._text(tok), tuple(c[3:]), _span(c[0], c[-1]), _tok_span(tok))

    def argument(self, c):
        return N.Argument(self._name(c[0]), c[2], _span(c[0], c[2]))

    def or_op(self, c):
        return N.BoolOp("or", c[0], c[2], _span(c[0], c[2]), _tok_span(c[1]))

    def and_op(self, c):
        return N.BoolOp("and", c[0], c[2], _span(c[0], c[2]), _tok_span(c[1]))

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
        if name not in _CALL_BUILTINS:
            # secret(), has_role(), has_permission() and unknown names: namel3ss resolves
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
        if name in RESERVED_WORDS or tok.type == "BQ_NAME":
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
