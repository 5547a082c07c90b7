"""Property: any text, however malformed, goes through parse + check without raising."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from n3lang.checker import check_program
from n3lang.diagnostics import Diagnostic
from n3lang.syntax import parse_source

DATA = Path(__file__).resolve().parent.parent / "data"
CORPUS = [p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*/*.ai"))] or ['spec is "1.0"\n']

NAMES = st.sampled_from(["x", "y", "total", "item", "input", "state", "order_results", "err", "u"])
RECORDS = st.sampled_from(["User", "Order", "Nope"])
FUNCS = st.sampled_from(["add", "nope"])
ATOMS = st.one_of(
    NAMES,
    st.sampled_from(["1", "2.5", '"text"', "true", "null", "input.a", "state.s.t", "x[0]"]),
)


@st.composite
def exprs(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        return draw(ATOMS)
    left, right = draw(exprs(depth=depth + 1)), draw(exprs(depth=depth + 1))
    return draw(
        st.sampled_from([
            f"{left} + {right}",
            f"{left} is greater than {right}",
            f"not {left}",
            f"{left} and {right}",
            f"list length of {left}",
            f"sum({left})",
            f"list: {left}, {right}",
            f'predict "m" with {left}',
        ])
    )


@st.composite
def statements(draw, indent="  ", depth=0):
    kind = draw(st.integers(0, 11 if depth < 2 else 6))
    e = draw(exprs())
    n = draw(NAMES)
    r = draw(RECORDS)
    if kind == 0:
        return [f"{indent}let {n} is {e}"]
    if kind == 1:
        return [f"{indent}set {n} is {e}"]
    if kind == 2:
        return [f"{indent}return {e}"]
    if kind == 3:
        return [f'{indent}create "{r}" with {e} as {n}']
    if kind == 4:
        return [f'{indent}find "{r}" where {e}']
    if kind == 5:
        return [f'{indent}delete "{r}" where {e}']
    if kind == 6:
        return [f'{indent}let {n} is call function "{draw(FUNCS)}":', f"{indent}  a is {e}"]
    body = draw(st.lists(statements(indent=indent + "  ", depth=depth + 1), min_size=1, max_size=3))
    flat = [line for stmt in body for line in stmt]
    if kind == 7:
        return [f"{indent}if {e}:", *flat]
    if kind == 8:
        return [f"{indent}for each {n} in {e}:", *flat]
    if kind == 9:
        return [f"{indent}repeat up to {e} times:", *flat]
    if kind == 10:
        return [f"{indent}try:", *flat, f"{indent}with catch err:", *flat]
    return [f"{indent}repeat while {e} limit 3:", *flat]


@st.composite
def programs(draw):
    lines = []
    if draw(st.booleans()):
        lines.append('spec is "1.0"')
    if draw(st.booleans()):
        lines += ["capabilities:", "  " + draw(st.sampled_from(["training", "http", "trainng"]))]
    lines += ['record "User":', "  name text", 'record "Order":', "  total number"]
    lines += ['define function "add":', "  input:", "    a is number", "  return a + 1"]
    if draw(st.booleans()):
        lines += ['model "m":', '  dataset is "d.jsonl"', "  epochs is 2"]
    for i in range(draw(st.integers(1, 3))):
        lines.append(f'flow "f{i % 2}":')
        for stmt in draw(st.lists(statements(), min_size=1, max_size=6)):
            lines += stmt
    return "\n".join(lines) + "\n"


def parse_and_check(source: str) -> list[Diagnostic]:
    program, diagnostics = parse_source(source, "prop.ai")
    assert isinstance(diagnostics, list)
    if program is not None:
        diagnostics = diagnostics + check_program(program)
    for d in diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.span.line >= 1 and d.span.column >= 1
        assert d.code != "internal-error", d.message
    return diagnostics


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_never_raise(source):
    parse_and_check(source)


@st.composite
def mutated(draw):
    lines = draw(st.sampled_from(CORPUS)).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.integers(0, 5))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            lines[i] = "  " + lines[i]
        elif op == 3:
            lines[i] = lines[i].lstrip()
        elif op == 4:
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.text(max_size=3)) + lines[i][j:]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_corpus_never_raises(source):
    parse_and_check(source)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_raises(source):
    parse_and_check(source)
