"""Each table of n3lang/vocabulary.py against its users (issue 11: one home per list).

The grammar says which built-ins, comparisons and constraints can be written; the tables
must name exactly those, and the transformer, checker and interpreter must handle every
entry (a new grammar alternative without a table entry, or the reverse, fails here).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from n3lang import ast as A
from n3lang.checker import check_program
from n3lang.runtime import run_flow
from n3lang.runtime.values import type_name
from n3lang.syntax.parser import parse_source
from n3lang.syntax.transformer import AstBuilder
from n3lang.vocabulary import (
    BUILTINS,
    COMPARE_OPS,
    CONSTRAINTS,
    EQUALITY_COMPARISONS,
    LENGTH_CONSTRAINTS,
    LIST_BUILTINS,
    NUMBER_COMPARISONS,
    NUMBER_CONSTRAINTS,
    RUN_TIME_BUILTINS,
    TYPE_NAMES,
    WORD_BUILTINS,
    constraint_rule,
)

GRAMMAR = (Path(__file__).resolve().parent.parent / "grammar" / "n3.lark").read_text()
OPERANDS = ("arith", "STRING", "expr")


def _alternatives(prefix: str) -> dict[str, list[str]]:
    """``-> prefix_name`` alternatives of the grammar: name -> their symbols, each once."""
    found: dict[str, list[str]] = {}
    for line in GRAMMAR.splitlines():
        m = re.search(r"^\s*(?:[?\w]+:|\|)\s*(.*?)\s*->\s*" + prefix + r"(\w+)\s*$", line)
        if m:
            found.setdefault(m.group(2), m.group(1).split())
    return found


def _keywords(symbols: list[str]) -> str:
    """The leading keywords of an alternative as written: ``BE GREATER THAN arith`` -> be greater than."""
    words = []
    for s in symbols[1:] if symbols[0] in OPERANDS else symbols:
        if s in ("[AN", "|", "A]"):  # BE [AN | A] INTEGER: the article is optional
            continue
        if s in OPERANDS or not s.isalpha() or not s.isupper():
            break
        words.append(s.lower())
    return " ".join(words)


def _run(source: str):
    program, diagnostics = parse_source(source, "app.ai")
    assert program is not None and not diagnostics, diagnostics
    return run_flow(program, None, None)


# --------------------------------------------------------------------------- constraints
def test_the_grammar_writes_exactly_the_constraint_kinds_with_their_words_and_arguments():
    grammar = _alternatives("c_")
    assert set(grammar) == set(CONSTRAINTS)
    for kind, symbols in grammar.items():
        count, words = CONSTRAINTS[kind]
        assert _keywords(symbols) == words.replace(" an ", " "), kind
        assert sum(s in OPERANDS for s in symbols) == count, kind
        assert callable(getattr(AstBuilder, f"c_{kind}", None)), kind


def test_the_constraint_groups_belong_to_the_table():
    assert set(NUMBER_CONSTRAINTS) <= set(CONSTRAINTS) and set(LENGTH_CONSTRAINTS) <= set(CONSTRAINTS)
    # the rest the interpreter's _check_constraint handles by name
    assert set(CONSTRAINTS) - set(NUMBER_CONSTRAINTS) - set(LENGTH_CONSTRAINTS) == {
        "present", "unique", "integer", "pattern"}
    assert set(NUMBER_CONSTRAINTS.values()) | set(LENGTH_CONSTRAINTS.values()) <= set(NUMBER_COMPARISONS)
    for kind, op in NUMBER_CONSTRAINTS.items():
        assert CONSTRAINTS[kind][1] == "be " + op.removeprefix("is "), kind


# kind -> (field type, the constraint as written, a value that breaks it, its rule's arguments)
BROKEN = {
    "present": ("number", "be present", None, ""),
    "unique": ("number", "be unique", "1", ""),
    "greater_than": ("number", "be greater than 5", "5", "5"),
    "less_than": ("number", "be less than 5", "5", "5"),
    "at_least": ("number", "be at least 5", "4", "5"),
    "at_most": ("number", "be at most 5", "6", "5"),
    "between": ("number", "be between 1 and 3", "4", "1 and 3"),
    "integer": ("number", "be an integer", "1.5", ""),
    "pattern": ("text", 'match pattern "a+"', '"b"', "a+"),
    "length_at_least": ("text", "have length at least 3", '"ab"', "3"),
    "length_at_most": ("text", "have length at most 1", '"ab"', "1"),
}


def test_every_constraint_has_a_broken_example():
    assert set(BROKEN) == set(CONSTRAINTS)


@pytest.mark.parametrize("kind", sorted(CONSTRAINTS))
def test_the_transformer_builds_and_the_interpreter_checks_each_constraint(kind):
    type_, written, value, shown = BROKEN[kind]
    line = "  let d is map:\n" + (f"    v is {value}\n" if value is not None else "    w is 1\n")
    source = (f'spec is "1.0"\n\nrecord "Thing":\n  v is {type_} must {written}\n  w is number\n\n'
              f'flow "main": requires true\n{line}  create "Thing" with d as t\n')
    if kind == "unique":
        source += '  create "Thing" with d as u\n'
    program, diagnostics = parse_source(source, "app.ai")
    assert program is not None and not diagnostics, diagnostics
    (record,) = program.of_type(A.RecordDecl)
    (constraint,) = record.fields[0].constraints
    assert constraint.kind == kind and len(constraint.args) == CONSTRAINTS[kind][0]
    outcome = run_flow(program, None, None)
    assert not outcome.ok
    assert outcome.error.message == f"Field 'v' in record 'Thing' {constraint_rule(kind, shown)}"


# --------------------------------------------------------------------------- built-ins
def test_the_grammar_writes_exactly_the_word_builtins():
    grammar = _alternatives("b_")
    assert {name.replace("_", " ") for name in grammar} == set(WORD_BUILTINS)
    for name, symbols in grammar.items():
        assert _keywords(symbols).split()[:2] == name.split("_"), name


def test_builtins_are_the_word_and_list_builtins_each_with_a_checker_type():
    assert list(BUILTINS) == [*WORD_BUILTINS, *LIST_BUILTINS]
    assert all(BUILTINS[name] == "number" for name in LIST_BUILTINS)
    assert not set(RUN_TIME_BUILTINS) & set(BUILTINS)


# xs is the list 1, 2, 3 and m the map a: 1 (see below)
BUILTIN_EXAMPLES = {
    "list length": ("list length of xs", Decimal(3)),
    "list append": ("list append xs with 4", [Decimal(1), Decimal(2), Decimal(3), Decimal(4)]),
    "list get": ("list get xs at 1", Decimal(2)),
    "map get": ('map get m key "a"', Decimal(1)),
    "map set": ('map set m key "b" value 2', {"a": Decimal(1), "b": Decimal(2)}),
    "map keys": ("map keys m", ["a"]),
    "sum": ("sum(xs)", Decimal(6)),
    "min": ("min(xs)", Decimal(1)),
    "max": ("max(xs)", Decimal(3)),
    "mean": ("mean(xs)", Decimal(2)),
    "median": ("median(xs)", Decimal(2)),
}
PREAMBLE = 'spec is "1.0"\n\nflow "main":\n  let xs is list: 1, 2, 3\n  let m is map:\n    a is 1\n'


@pytest.mark.parametrize("name", list(BUILTINS))
def test_the_transformer_builds_the_checker_types_and_the_interpreter_runs_each_builtin(name):
    expr, expected = BUILTIN_EXAMPLES[name]
    program, diagnostics = parse_source(f"{PREAMBLE}  return {expr}\n", "app.ai")
    assert program is not None and not diagnostics, diagnostics
    (flow,) = program.of_type(A.FlowDecl)
    call = flow.body[-1].value
    assert type(call) is A.BuiltinCall and call.name == name
    assert not [d for d in check_program(program) if d.severity == "error"]
    outcome = run_flow(program, None, None)
    assert outcome.ok, outcome.error
    assert outcome.result == expected


@pytest.mark.parametrize("name", sorted(RUN_TIME_BUILTINS))
def test_the_interpreter_knows_each_run_time_builtin(name):
    program, diagnostics = parse_source(f'spec is "1.0"\n\nflow "main":\n  return {name}("x")\n', "app.ai")
    assert program is not None and not diagnostics, diagnostics
    (flow,) = program.of_type(A.FlowDecl)
    assert type(flow.body[0].value) is A.CallBuiltin
    outcome = run_flow(program, None, None)
    assert outcome.ok or "Unknown builtin" not in outcome.error.message
    unknown = _run('spec is "1.0"\n\nflow "main":\n  return no_such_builtin("x")\n')
    assert unknown.error.message == "Unknown builtin 'no_such_builtin'."


# --------------------------------------------------------------------------- comparisons
def test_the_grammar_writes_exactly_the_comparisons():
    written = set()
    for name, symbols in _alternatives("cmp_").items():
        assert callable(getattr(AstBuilder, f"cmp_{name}", None)), name
        written.add(_keywords(symbols).replace(" equal to", ""))
    assert written == set(COMPARE_OPS)
    assert set(COMPARE_OPS) == set(EQUALITY_COMPARISONS) | set(NUMBER_COMPARISONS)


@pytest.mark.parametrize("op", list(NUMBER_COMPARISONS))
def test_each_number_comparison_parses_runs_and_needs_numbers(op):
    operands = "2 and 4" if "between" in op else "2"
    source = f'spec is "1.0"\n\nflow "main":\n  return 3 {op} {operands}\n'
    program, diagnostics = parse_source(source, "app.ai")
    assert program is not None and not diagnostics, diagnostics
    (flow,) = program.of_type(A.FlowDecl)
    assert flow.body[0].value.op == op
    expected = NUMBER_COMPARISONS[op](Decimal(3), [Decimal(2), Decimal(4)])
    assert _run(source).result is expected
    program, _ = parse_source(source.replace("return 3", 'return "3"'), "app.ai")
    assert [d.message for d in check_program(program)] == ["Comparison requires numbers."]
    program, _ = parse_source(source.replace(op, "is one of" if "between" in op else "is").replace(
        " and 4", ", 4"), "app.ai")
    assert check_program(program) == []  # the equality comparisons take any values


# --------------------------------------------------------------------------- type names
def test_type_name_uses_the_language_type_names():
    # records._kind, training.shape.kind_of and training.dataset.json_type_name name SQLite,
    # YAML and JSON values in those formats' own words on purpose; values.type_name is the
    # language's one helper, and the checker's static types are the same names.
    names = {type_name(v) for v in ("x", Decimal(1), True, [Decimal(1)], {"a": None}, None)}
    assert names == set(TYPE_NAMES) - {"json"}
