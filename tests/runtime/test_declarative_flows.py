"""Declarative flows (LANGUAGE.md §9): `flow "name" requires X` with no colon, then steps.

Expected results, records, messages and positions are namel3ss 0.1.0a24's (run with the
oracle: load_project + execute_program_flow). One deliberate difference: namel3ss refuses every
`where "..."` selector ("Selector string is invalid.": its selector parser expects the end of
the text right after the expression, but its lexer puts a newline there), so its update and
delete steps can never run; LANGUAGE.md says the steps run like the equivalent statements, so
here a selector `<field> is <literal>` selects the records as `where field is literal` would.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from n3lang.checker import check_program
from n3lang.runtime import SQLiteStore, run_flow
from n3lang.syntax.parser import parse_source

NOTE = 'spec is "1.0"\n\nrecord "Note":\n  name is text\n  n is number\n\n'


def parse(source: str):
    program, diagnostics = parse_source(source, "app.ai")
    assert program is not None
    return program, diagnostics


def problems(source: str) -> list[tuple[int, int, str]]:
    program, diagnostics = parse(source)
    found = list(diagnostics) + [d for d in check_program(program) if d.is_error]
    return [(d.span.line, d.span.column, d.message) for d in found]


def run(source: str, input_value=None, state: dict | None = None):
    program, diagnostics = parse(source)
    assert not diagnostics and not [d for d in check_program(program) if d.is_error]
    store = SQLiteStore(None)
    if state is not None:
        store.save_state(state)
    outcome = run_flow(program, None, input_value, store=store)
    records = {name: [data for _, data in store.scan(name)] for name in ("Note",)}
    store.close()
    return outcome, records


CREATE = NOTE + ('flow "main" requires true\n  input\n    name is text\n    k is number\n'
                 '  create "Note"\n    name is input.name\n    n is input.k\n')


def test_a_create_step_stores_the_record_and_is_the_result():
    outcome, records = run(CREATE, {"name": "a", "k": 5})
    assert outcome.ok, outcome.error
    assert outcome.result == {"name": "a", "n": Decimal(5), "_id": Decimal(1)}
    assert records == {"Note": [{"name": "a", "n": Decimal(5)}]}


@pytest.mark.parametrize("given, where, message", [
    ({"name": "a"}, (10, 5), "Flow input is missing 'k'."),
    ({"name": "a", "k": "x"}, (10, 5), "Expected number but got text"),
    ({"name": None, "k": 5}, (9, 5), "Expected text but got null"),
    ([], (7, 1), "Flow input payload is not a JSON object."),
])
def test_the_input_fields_are_required_and_typed(given, where, message):
    outcome, records = run(CREATE, given)
    assert not outcome.ok
    assert (outcome.error.span.line, outcome.error.span.column, outcome.error.message) == (*where, message)
    assert records == {"Note": []}


def test_extra_input_keys_are_allowed():
    outcome, _ = run(CREATE, {"name": "a", "k": 5, "extra": 1})
    assert outcome.ok


def test_requires_is_checked_before_the_input():
    source = CREATE.replace("requires true", "requires false")
    outcome, _ = run(source, {})
    assert (outcome.error.span.line, outcome.error.message) == (7, 'flow "main" access is not permitted.')


def test_a_mutating_step_without_requires_is_blocked_at_the_step():
    source = NOTE + 'flow "main"\n  create "Note"\n    name is "x"\n'
    outcome, _ = run(source)
    assert (outcome.error.span.line, outcome.error.span.column, outcome.error.message) == (
        8, 3, "Mutation blocked by access control.")


def test_require_gates_skip_the_steps_after_a_false_state_value():
    source = NOTE + ('flow "main" requires true\n  require "state.ready"\n  create "Note"\n'
                     '    name is "a"\n  require "state.go"\n  create "Note"\n    name is "b"\n')
    for state, names in [({"ready": False, "go": True}, ["b"]), ({"ready": 0}, ["b"]),
                         ({"ready": True, "go": ""}, ["a"]), ({}, ["a", "b"])]:
        outcome, records = run(source, state=state)
        assert outcome.ok
        assert [r["name"] for r in records["Note"]] == names, state


def test_update_and_delete_steps_select_by_field():
    source = NOTE + ('flow "main" requires true\n  create "Note"\n    name is "a"\n    n is 1\n'
                     '  create "Note"\n    name is "b"\n    n is 2\n'
                     '  update "Note"\n    where "n is 2"\n    set\n      name is "B"\n'
                     '  delete "Note"\n    where "name is \\"a\\""\n')
    outcome, records = run(source)
    assert outcome.ok, outcome.error
    assert outcome.result == Decimal(1)  # the count deleted
    assert records == {"Note": [{"name": "B", "n": Decimal(2)}]}


def test_call_foreign_names_an_undeclared_tool():
    source = ('spec is "1.0"\n\nflow "pricing"\n  input\n    amount is number\n'
              '  call foreign "calculate_tax"\n    amount is input.amount\n')
    outcome, _ = run(source, {"amount": 1})
    assert (outcome.error.span.line, outcome.error.span.column, outcome.error.message) == (
        6, 3, 'Tool "calculate_tax" is not declared.')


@pytest.mark.parametrize("step, message", [
    ("  return 3\n", "Declarative flows do not support 'return' steps."),
    ("  let x is 2\n", "Declarative flows do not support 'let' steps."),
    ("  calc:\n    a = 1\n", "Unknown flow step 'calc'."),
    # namel3ss places this one at the `with` (10:17); here it is at the statement
    ('  create "Note" with map:\n    n is 1\n  as x\n', "Expected newline after create header"),
])
def test_statements_are_not_steps(step, message):
    source = NOTE + 'flow "main" requires true\n  create "Note"\n    n is 1\n' + step
    assert problems(source) == [(10, 3, message)]


@pytest.mark.parametrize("lines, where, message", [
    ("    n is 1 + 2\n", (9, 5), "Declarative values must be literals or input bindings."),
    ("    n is null\n", (9, 5), "Null values are not allowed in declarative flows."),
    ("    nn is 1\n", (9, 5), "Unknown field 'nn' in record 'Note'. Did you mean \"n\"?"),
    ('    n is "x"\n', (9, 5), "Note.n expects number but got text."),
    ("    n is input.q\n", (9, 5), "Input field 'q' is not declared."),
])
def test_create_values_are_checked_as_namel3ss_loads_them(lines, where, message):
    source = NOTE + 'flow "main" requires true\n  create "Note"\n' + lines
    assert problems(source) == [(*where, message)]


def test_an_unknown_record_is_reported_at_the_step():
    source = NOTE + 'flow "main" requires true\n  create "Nope"\n    n is 1\n'
    assert problems(source) == [(8, 3, "Unknown record 'Nope'.")]


@pytest.mark.parametrize("selector, message", [
    ('"n"', "Selector must be a comparison."),
    ('"n is not 1"', "Selector must be an equality comparison."),
    ('"1 is 1"', "Selector must compare a field name."),
    ('"nam is 1"', "Unknown field 'nam' in record 'Note'. Did you mean \"name\"?"),
    ('"n is input.x"', "Selector value must be a literal."),
    ('"n is \\"a\\""', "Selector value for Note.n must be number."),
    ('"n is"', "Selector string is invalid."),
])
def test_selectors(selector, message):
    source = NOTE + f'flow "main" requires true\n  delete "Note"\n    where {selector}\n'
    assert problems(source) == [(8, 3, message)]


def test_update_without_where():
    source = NOTE + 'flow "main" requires true\n  update "Note"\n    set\n      n is 1\n'
    assert problems(source) == [(8, 3, "Update step is missing a where selector.")]


def test_input_declared_twice_and_duplicate_fields():
    source = NOTE + ('flow "main" requires true\n  input\n    a is text\n    a is number\n'
                     '  input\n    b is text\n  create "Note"\n    n is 1\n    n is 2\n')
    assert problems(source) == [
        (10, 5, "Input field 'a' is duplicated."),
        (11, 3, "Flow declares input more than once."),
        (15, 5, "Field 'n' is duplicated."),
    ]


def test_check_warns_about_a_mutating_declarative_flow_without_requires():
    program, _ = parse(NOTE + 'flow "main"\n  create "Note"\n    n is 1\n')
    warnings = [(d.span.line, d.message) for d in check_program(program)
                if d.code == "mutation-without-requires"]
    assert warnings == [(8, "Flow 'main' creates records but declares no 'requires'")]


@pytest.mark.parametrize("line, message", [
    ("  foo\n", "Unknown flow step 'foo'."),
    ('  creat "Note"\n', "Unknown flow step 'creat'. Did you mean 'create'?"),
])
def test_an_unknown_word_where_a_step_belongs(line, message):
    assert problems(NOTE + 'flow "main" requires true\n' + line) == [(8, 3, message)]
