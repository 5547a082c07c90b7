"""The §5 statement forms as AST (LANGUAGE.md §5), and syntax-error recovery inside their blocks.

Messages and positions of errors are covered by tests/data/syntax_errors/stmt_*.ai (recorded
from namel3ss); this file checks what the parser builds.
"""

from __future__ import annotations

from n3lang import ast as A
from n3lang.syntax import parse_source


def body(src: str) -> tuple:
    program, diagnostics = parse_source('spec is "1.0"\n\nflow "demo": requires true\n' + src)
    assert [d.message for d in diagnostics if d.is_error] == []
    return program.of_type(A.FlowDecl)[0].body


def test_let_block_entries_in_order():
    (block,) = body("  let:\n    a is 1, b is 2\n    c is a + b constant\n")
    assert isinstance(block, A.LetBlock)
    assert [(x.name, x.constant) for x in block.lets] == [("a", False), ("b", False), ("c", True)]
    assert (block.lets[1].span.line, block.lets[1].span.column) == (5, 13)


def test_set_block_writes_full_state_paths():
    (block,) = body("  set state.order with:\n    id is 1\n    total.amount is 2\n")
    assert [s.target for s in block.sets] == [
        ("state", "order", "id"),
        ("state", "order", "total", "amount"),
    ]
    assert (block.sets[0].span.line, block.sets[0].span.column) == (5, 5)


def test_calc_lets_and_state_sets():
    (calc,) = body("  calc:\n    a = 1\n    state.total = a * 2\n")
    assert isinstance(calc.steps[0], A.Let) and calc.steps[0].name == "a"
    assert isinstance(calc.steps[1], A.Set) and calc.steps[1].target == ("state", "total")


def test_order_keep_log_metric():
    order, keep, log, metric, bare = body(
        "  order state.items by score from lowest to highest\n"
        "  keep first 2 items\n"
        '  log WARN "x" with map:\n    "k" is 1\n'
        "  metric counter svc.requests set 2\n"
        '  metric counter "hits" increment\n'
    )
    assert (order.target, order.field, order.descending) == (("state", "items"), "score", False)
    assert isinstance(keep, A.KeepFirst) and keep.count.value == 2
    assert log.level == "warn" and isinstance(log.fields, A.MapExpr)
    assert (metric.kind, metric.name, metric.operation) == ("counter", "svc.requests", "set")
    assert bare.value is None and bare.labels is None


def test_update_fields_bare_quoted_dotted():
    (update,) = body('  update "Book" where pages is 1 set:\n    "unit price" is 2\n    name is "x"\n    meta.tag is 3\n')
    assert [a.field for a in update.assignments] == ["unit price", "name", "meta.tag"]


def test_words_after_a_block_continue_the_statement():
    (create,) = body('  create "Book" with map:\n    name is "Dune"\n  as dune\n')
    assert create.binding == "dune" and isinstance(create.value, A.MapExpr)
    (ask,) = body('  ask ai "helper" with input: map:\n    q is "hi"\n  as reply\n')
    assert ask.binding == "reply" and isinstance(ask.input, A.MapExpr)


def test_match_cases_and_otherwise():
    (match,) = body('  match 1:\n    with:\n      when 1:\n        let a is 1\n      otherwise:\n        let a is 2\n')
    assert len(match.cases) == 1 and match.otherwise is not None
    (only,) = body('  match 1:\n    with:\n      otherwise:\n        let a is 2\n')
    assert only.cases == () and len(only.otherwise) == 1


def test_while_limit_is_a_literal():
    (loop,) = body("  repeat while true limit 3:\n    let a is 1\n")
    assert loop.limit.value == 3 and (loop.limit.span.line, loop.limit.span.column) == (4, 27)


def test_statement_words_stay_names():
    names = "count item result value total list map update delete limit order keep log metric calc first items by from"
    src = "".join(f"  let {n} is 1\n" for n in names.split())
    assert [s.name for s in body(src)] == names.split()


def test_errors_in_statement_blocks_are_all_found():
    src = (
        'spec is "1.0"\n\nflow "demo":\n'
        "  let:\n    a is 1 +\n    b is 2\n    c 3\n"
        "  calc:\n    x is 1\n    y = 2\n    z = 3 +\n"
        "  set state.o with:\n    k is\n    j is 2\n"
        "  return a\n"
    )
    _, diagnostics = parse_source(src)
    assert [d.span.line for d in diagnostics] == [5, 7, 9, 11, 13]
