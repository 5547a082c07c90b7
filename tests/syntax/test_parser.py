"""Unit tests of the front end: AST shapes, precedence, spans, words, files."""

from __future__ import annotations

from decimal import Decimal

import pytest

from n3lang import ast as A
from n3lang.syntax import RESERVED_WORDS, parse_file, parse_source


def parse_ok(source: str) -> A.Program:
    program, diagnostics = parse_source(source)
    assert diagnostics == [], [d.message for d in diagnostics]
    return program


def flow_body(body: str) -> tuple:
    source = 'spec is "1.0"\nflow "t":\n' + "".join("  " + ln + "\n" for ln in body.splitlines())
    return parse_ok(source).of_type(A.FlowDecl)[0].body


def expr(text: str):
    (stmt,) = flow_body(f"return {text}")
    return stmt.value


def show(node) -> str:
    """A compact, span-free rendering of an expression."""
    if isinstance(node, A.Literal):
        return repr(node.value) if not isinstance(node.value, Decimal) else str(node.value)
    if isinstance(node, A.Name):
        return node.name
    if isinstance(node, A.Binary):
        return f"({show(node.left)} {node.op} {show(node.right)})"
    if isinstance(node, A.Unary):
        return f"({node.op}{show(node.operand)})"
    if isinstance(node, A.BoolOp):
        return f"({show(node.left)} {node.op} {show(node.right)})"
    if isinstance(node, A.Not):
        return f"(not {show(node.operand)})"
    if isinstance(node, A.Compare):
        return f"({show(node.left)} {node.op} {', '.join(show(o) for o in node.operands)})"
    if isinstance(node, A.Attribute):
        return f"{show(node.obj)}.{node.name}"
    if isinstance(node, A.Index):
        return f"{show(node.obj)}[{show(node.index)}]"
    if isinstance(node, A.BuiltinCall):
        return f"{node.name}({', '.join(show(a) for a in node.args)})"
    if isinstance(node, A.ListExpr):
        return "[" + ", ".join(show(i) for i in node.items) + "]"
    return type(node).__name__


@pytest.mark.parametrize(
    "text, shown",
    [
        ("-2 ** 2", "(-(2 ** 2))"),
        ("2 ** 3 ** 2", "(2 ** (3 ** 2))"),
        ("2 ** -1", "(2 ** (-1))"),
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 / 4 % 3 * 2", "(((8 / 4) % 3) * 2)"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("- - 3", "(-(-3))"),
        ("+x", "(+x)"),
        ("a or b and c", "(a or (b and c))"),
        ("not a and b", "((not a) and b)"),
        ("not a is 1", "(not (a is 1))"),
        ("a + 1 is b * 2", "((a + 1) is (b * 2))"),
        ("a is not 1 or b is 2", "((a is not 1) or (b is 2))"),
        ("x is equal to 1", "(x is 1)"),
        ("x is not equal to 1", "(x is not 1)"),
        ("x is greater than 1", "(x is greater than 1)"),
        ("x is less than 1", "(x is less than 1)"),
        ("x is at least 1", "(x is at least 1)"),
        ("x is at most 1", "(x is at most 1)"),
        ("x is between 1 and 2 and y", "((x is between 1, 2) and y)"),
        ("x is strictly between 1 and 2", "(x is strictly between 1, 2)"),
        ("x is one of 1, 2, 3", "(x is one of 1, 2, 3)"),
        ("a.b.c", "a.b.c"),
        ("xs[0][i + 1]", "xs[0][(i + 1)]"),
        ("input.items[0].name", "input.items[0].name"),
        ("list length of xs + 1", "list length((xs + 1))"),
        ("list get xs at n - 1", "list get(xs, (n - 1))"),
        ("list append xs with 1 + 2", "list append(xs, (1 + 2))"),
        ("map get m key \"a\"", "map get(m, 'a')"),
        ("map set m key \"a\" value 1 + 1", "map set(m, 'a', (1 + 1))"),
        ("map keys m", "map keys(m)"),
        ("sum(xs) + max(xs)", "(sum(xs) + max(xs))"),
        ("list: 1, 2 + 3, x is 1", "[1, (2 + 3), (x is 1)]"),
        ("list", "list"),
        ("map", "map"),
        ("`if` + 1", "(if + 1)"),
        ("0.1 + 0.2", "(0.1 + 0.2)"),
    ],
)
def test_expression_shapes(text: str, shown: str) -> None:
    assert show(expr(text)) == shown


def test_literals_are_exact() -> None:
    assert expr("0.1").value == Decimal("0.1")
    big = "123456789012345678901234567890.123456789"
    assert expr(big).value == Decimal(big)
    assert expr("true").value is True
    assert expr("false").value is False
    assert expr("null").value is None
    assert expr(r'"a\nb\t\\\"\'"').value == "a\nb\t\\\"'"
    assert expr(r"'it\'s'").value == "it's"
    program = parse_ok('spec is "1.0"\nflow "t":\n  return """x\n"y"\nz"""\n')
    assert program.declarations[1].body[0].value.value == 'x\n"y"\nz'


def test_statements() -> None:
    body = flow_body(
        "let x is 1 constant\n"
        "set state.a.b is 2\n"
        "create \"Item\" with x as saved\n"
        "find \"Item\" where name is \"a\"\n"
        "delete \"Item\" where name is \"a\"\n"
        "save \"Item\"\n"
        "ask ai \"bot\" with input: x as answer\n"
        "update \"Item\" where id is 1 set:\n"
        "  name is \"b\"\n"
        "  count is 2\n"
        "try:\n"
        "  return 1\n"
        "with catch err:\n"
        "  return err.message\n"
    )
    let, set_, create, find, delete, save, ask, update, try_ = body
    assert let == A.Let("x", A.Literal(Decimal(1)), True)
    assert set_.target == ("state", "a", "b")
    assert (create.record, create.binding) == ("Item", "saved")
    assert find.record == "Item" and isinstance(find.predicate, A.Compare)
    assert delete.record == "Item"
    assert save == A.Save("Item")
    assert (ask.ai, ask.binding) == ("bot", "answer")
    assert [a.field for a in update.assignments] == ["name", "count"]
    assert try_.catch_name == "err" and len(try_.body) == 1 and len(try_.catch_body) == 1


def test_control_flow() -> None:
    (if_, rep, whl, each, match) = flow_body(
        "if x is 1:\n"
        "  return 1\n"
        "else:\n"
        "  return 2\n"
        "repeat up to 3 times:\n"
        "  set x is x + 1\n"
        "repeat while x is less than 9 limit 5:\n"
        "  set x is x + 1\n"
        "for each item in xs:\n"
        "  set x is item\n"
        "match x:\n"
        "  with:\n"
        "    when 1:\n"
        "      return \"one\"\n"
        "    when \"two\":\n"
        "      return 2\n"
        "    otherwise:\n"
        "      return 0\n"
    )
    assert len(if_.then_body) == 1 and len(if_.else_body) == 1
    assert rep.count == A.Literal(Decimal(3))
    assert whl.limit == A.Literal(Decimal(5))
    assert each.name == "item" and each.iterable == A.Name("xs")
    assert [c.value for c in match.cases] == [A.Literal(Decimal(1)), A.Literal("two")]
    assert match.otherwise is not None and len(match.otherwise) == 1
    (no_otherwise,) = flow_body("match x:\n  with:\n    when 1:\n      return 1\n")
    assert no_otherwise.otherwise is None


def test_declarations() -> None:
    program = parse_ok(
        'spec is "1.0"\n'
        "capabilities: [training, http]\n"
        'record "User":\n'
        "  name text must be present\n"
        "  age is number must be at least 18 and be an integer\n"
        "  fields:\n"
        "    tags is list<text>\n"
        "    note text | null\n"
        'define function "add":\n'
        "  input:\n"
        "    a is number\n"
        "    note is optional text\n"
        "  output:\n"
        "    total is number\n"
        "  return a\n"
        'ai "bot":\n'
        '  model is "m"\n'
        'model "m":\n'
        "  epochs is 3\n"
        'flow "f" requires input.admin is true audited:\n'
        "  return 1\n"
    )
    spec, caps, rec, fn, ai, model, flow = program.declarations
    assert spec.version == "1.0"
    assert program.capabilities == ("training", "http")
    assert [f.name for f in rec.fields] == ["name", "age", "tags", "note"]
    assert [c.kind for c in rec.fields[1].constraints] == ["at_least", "integer"]
    assert rec.fields[2].type == A.TypeRef("list", (A.TypeRef("text"),))
    assert rec.fields[3].type == A.UnionType((A.TypeRef("text"), A.TypeRef("null")))
    assert [(p.name, p.optional) for p in fn.inputs] == [("a", False), ("note", True)]
    assert [p.name for p in fn.outputs] == ["total"]
    assert ai.settings[0].key == "model"
    assert model.settings[0] == A.Setting("epochs", A.Literal(Decimal(3)))
    assert flow.audited and isinstance(flow.requires, A.Compare)


def test_requires_after_the_colon_and_in_the_body() -> None:
    program = parse_ok(
        'spec is "1.0"\n'
        'flow "a": requires input.admin is true\n  return 1\n'
        'flow "b":\n  requires true\n  audited\n  return 1\n'
    )
    a, b = program.of_type(A.FlowDecl)
    assert isinstance(a.requires, A.Compare) and not a.audited
    assert b.requires == A.Literal(True) and b.audited and len(b.body) == 1


def test_spans_are_one_based_and_end_exclusive() -> None:
    program = parse_ok('spec is "1.0"\nflow "demo":\n  let total is 1 + 22\n')
    flow = program.declarations[1]
    assert flow.name_span == A.Span(2, 6, 2, 12)
    let = flow.body[0]
    assert let.span == A.Span(3, 3, 3, 22)
    assert let.value.span == A.Span(3, 16, 3, 22)
    assert let.value.right.span == A.Span(3, 20, 3, 22)
    assert flow.span.line == 2 and flow.span.end_line == 3


def test_multiline_string_span() -> None:
    program = parse_ok('spec is "1.0"\nflow "t":\n  return """a\nbc"""\n')
    assert program.declarations[1].body[0].value.span == A.Span(3, 10, 4, 6)


def test_crlf_is_accepted() -> None:
    source = 'spec is "1.0"\r\nflow "x":\r\n  if true:\r\n    return 1\r\n  return 2\r\n'
    program = parse_ok(source)
    assert len(program.declarations[1].body) == 2


def test_blank_and_comment_lines_never_indent() -> None:
    program = parse_ok(
        'spec is "1.0"\nflow "x":\n  let a is 1\n\n        # deep comment\n   \n  return a   \n     '
    )
    assert len(program.declarations[1].body) == 2


def test_reserved_words() -> None:
    assert {"let", "is", "if", "else", "return", "flow", "record", "spec"} <= RESERVED_WORDS
    common = "count item result value total list map define function update delete requires "
    common += "limit while between one of field fields"
    assert not RESERVED_WORDS & set(common.split())
    _, diagnostics = parse_source('spec is "1.0"\nflow "x":\n  let if is 1\n  return if\n')
    assert [(d.code, d.span.line) for d in diagnostics] == [("reserved-word", 3), ("reserved-word", 4)]
    parse_ok('spec is "1.0"\nflow "x":\n  let `if` is 1\n  return `if`\n')


def test_several_errors_in_one_run() -> None:
    source = 'spec is "1.0"\nflow "a"\n  return 1\nflow "b":\n  return ^\nflow "c":\n  return 3\n'
    program, diagnostics = parse_source(source)
    # flow "a" has no colon: a declarative flow, where `return` is not a step (it is kept,
    # as other declarations the transformer reports on)
    assert [d.span.line for d in diagnostics] == [3, 5]
    assert [f.name for f in program.of_type(A.FlowDecl)] == ["a", "c"]


def test_several_errors_in_one_declaration() -> None:
    source = (
        'spec is "1.0"\nflow "a":\n  let x is\n  if x is 1\n    return 1\n'
        "  let m is map:\n    k 1\n  return m ^ 2\n"
    )
    program, diagnostics = parse_source(source)
    assert [(d.span.line, d.code) for d in diagnostics] == [
        (3, "syntax-error"),
        (4, "syntax-error"),
        (7, "syntax-error"),
        (8, "unsupported-character"),
    ]
    assert program.of_type(A.FlowDecl) == []  # a broken declaration is never guessed at


def test_parse_file(tmp_path) -> None:
    good = tmp_path / "app.ai"
    good.write_text('spec is "1.0"\n', encoding="utf-8")
    program, diagnostics, source = parse_file(good)
    assert diagnostics == [] and source == 'spec is "1.0"\n'
    assert program.path == str(good)
    missing = tmp_path / "missing.ai"
    program, diagnostics, source = parse_file(missing)
    assert program is None and source == "" and diagnostics[0].code == "unreadable-file"
    binary = tmp_path / "bin.ai"
    binary.write_bytes(b'spec is "1.0"\n\xff\n')
    program, diagnostics, source = parse_file(binary)
    assert diagnostics[0].code == "unreadable-file"
    assert (diagnostics[0].span.line, diagnostics[0].span.column) == (2, 1)
    folder = tmp_path
    program, diagnostics, source = parse_file(folder)
    assert diagnostics[0].code == "unreadable-file"
