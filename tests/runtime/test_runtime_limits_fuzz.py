"""Issue 12 fuzz, runtime side: random source programs (let/set/list/map/repeat/for each/
arithmetic/indexing with huge numbers, doubling shared lists, patterns) with random --input
JSON values always give a result or a located error from run_flow: never an exception, and
bounded by the limits (small ones here, so each example is quick)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from n3lang.diagnostics import REGISTRY, Diagnostic
from n3lang.runtime import Limits, RunResult, run_flow
from n3lang.runtime.values import dumps
from n3lang.syntax import parse_source  # type: ignore[attr-defined]

NAMES = ["xs", "m", "n", "t"]
atoms = st.one_of(
    st.sampled_from(["1", "0", "2.5", "10 ** 5000", "10 ** 999998", "0 - 10 ** 40", '"a"',
                     "true", "null", "input.i", "input.xs", "xs", "m", "n", "t"]),
    st.integers(-5, 10**6).map(str),
)


def expr_from(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "**"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["xs", "input.xs", "m"]), children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(st.sampled_from(["xs", "input.xs"]), children).map(lambda t: f"(list get {t[0]} at {t[1]})"),
        st.sampled_from(["(list length of xs)", "(list append xs with xs)", '(map set m key "k" value m)']),
    )


exprs = st.recursive(atoms, expr_from, max_leaves=4)


def stmt(indent: str):
    simple = st.one_of(
        st.tuples(st.sampled_from(NAMES), exprs).map(lambda t: f"{indent}set {t[0]} is {t[1]}"),
        st.sampled_from(NAMES).map(lambda n: f"{indent}set {n} is list: {n}, {n}, {n}"),
        st.tuples(st.sampled_from(NAMES), exprs).map(lambda t: f"{indent}set m is map:\n{indent}  a is {t[0]}\n{indent}  b is {t[1]}"),
        exprs.map(lambda e: f"{indent}set state.v is {e}"),
        st.just(f'{indent}let d is map:\n{indent}  name is t\n{indent}create "U" with d as u'),
    )
    return simple


def blocks():
    inner = st.lists(stmt("    "), min_size=1, max_size=2).map("\n".join)
    return st.one_of(
        stmt("  "),
        st.tuples(exprs, inner).map(lambda t: f"  repeat up to {t[0]} times:\n{t[1]}"),
        st.tuples(st.sampled_from(["xs", "input.xs", "m"]), inner).map(lambda t: f"  for each it in {t[0]}:\n{t[1]}"),
        st.tuples(exprs, inner).map(lambda t: f"  repeat while true limit {t[0]}:\n{t[1]}"),
    )


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.text(max_size=5),
              st.sampled_from([Decimal("1E+5000"), Decimal("-1E+999999"), Decimal("1E-5000"),
                               Decimal("0.5"), Decimal(3)])),
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.sampled_from(["i", "xs", "a"]), c, max_size=3)),
    max_leaves=6)

HEAD = ('spec is "1.0"\n\nrecord "U":\n  name is text must match pattern "^(a+)+$"\n\n'
        'flow "f": requires true\n  let xs is list: 1, 2\n  let m is map:\n    k is 1\n'
        '  let n is 0\n  let t is "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"\n')
LIMITS = Limits(max_steps=5000, max_seconds=5.0, max_value_items=20_000, max_records_created=20,
                max_list_length=2000)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(blocks(), min_size=1, max_size=5), exprs, json_values)
def test_random_programs_and_inputs_give_a_result_or_a_located_error(body, result, input_value):
    source = HEAD + "\n".join(body) + f"\n  return {result}\n"
    program, diags = parse_source(source, "fuzz.ai")
    if program is None or any(d.is_error for d in diags):
        return  # a generated line the grammar does not take: the parser's own fuzz covers it
    r = run_flow(program, None, {"i": input_value, "xs": input_value}, limits=LIMITS)
    assert isinstance(r, RunResult)
    if r.ok:
        dumps(r.to_json())
    else:
        assert isinstance(r.error, Diagnostic) and r.error.message and r.error.code in REGISTRY
        assert r.error.span.line > 0, r.error
        dumps(r.to_json())
