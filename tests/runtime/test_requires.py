"""`requires` is evaluated before the body, on the real input, and a denial cannot be caught.

LANGUAGE.md §4; the access-control hole F1 of issue 12. Messages and positions are namel3ss's.
"""

from __future__ import annotations

import pytest

from n3lang.runtime import SQLiteStore, run_flow
from n3lang.syntax.parser import parse_source


def run(source: str, input_value=None, **kwargs):
    program, diagnostics = parse_source(source, "app.ai")
    assert program is not None and not diagnostics, diagnostics
    return run_flow(program, None, input_value, **kwargs)


READ_ONLY_DENIED = 'spec is "1.0"\n\nflow "demo": requires false\n  set state.leak is "written"\n  return "secret"\n'


def test_requires_false_on_a_read_only_flow_fails_at_the_header(tmp_path):
    state = tmp_path / "s.db"
    outcome = run(READ_ONLY_DENIED, state_path=state)
    assert not outcome.ok
    err = outcome.error
    assert (err.message, err.span.line, err.span.column) == (
        'flow "demo" access is not permitted.', 3, 1)
    assert err.why == "The requires condition evaluated to false."
    assert err.fix == ("Provide an identity that satisfies the requirement or update the "
                       "requires clause.")
    # Nothing of the body ran: the state file holds no write.
    store = SQLiteStore(str(state))
    try:
        assert store.load_state() == {}
    finally:
        store.close()


def test_a_denial_cannot_be_caught_by_the_flow():
    source = ('spec is "1.0"\n\nflow "demo": requires false\n  try:\n    return "secret"\n'
              '  with catch e:\n    return e.message\n')
    outcome = run(source)
    assert not outcome.ok and outcome.error.message == 'flow "demo" access is not permitted.'


def test_requires_before_the_colon():
    outcome = run('spec is "1.0"\n\nflow "demo" requires false:\n  return "secret"\n')
    assert (outcome.error.message, outcome.error.span.line) == (
        'flow "demo" access is not permitted.', 3)


@pytest.mark.parametrize("admin, ok", [(True, True), (False, False)])
def test_input_based_rule(admin, ok):
    source = 'spec is "1.0"\n\nflow "demo": requires input.admin is true\n  return "in"\n'
    outcome = run(source, {"admin": admin})
    assert outcome.ok is ok


def test_identity_based_rule_without_an_identity_fails_at_the_expression():
    source = 'spec is "1.0"\n\nflow "admin": requires identity.role is "admin"\n  return "in"\n'
    outcome = run(source)
    assert not outcome.ok
    assert (outcome.error.message, outcome.error.span.line, outcome.error.span.column) == (
        "Identity is missing 'role'.", 3, 24)


def test_a_non_boolean_rule_fails_at_the_header():
    outcome = run('spec is "1.0"\n\nflow "demo": requires "yes"\n  return 1\n')
    assert (outcome.error.message, outcome.error.span.line, outcome.error.span.column) == (
        'flow "demo" requires a boolean condition.', 3, 1)
