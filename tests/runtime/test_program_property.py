"""Property: whole `.ai` programs built from the core forms (LANGUAGE.md §1–§8) go through
parse_source → check_program → run_flow without a Python exception; every failure is a
Diagnostic with a registered code and a line/column inside the file; the run finishes.

Programs are generated as source text: a spec, an optional record, one flow with
`requires true`, and a body of statements drawn from the core forms -- `let`/`set`/`let:`
blocks, `if`/`else`, `repeat up to N times`, `for each`, `match` with `with:`/`when`/
`otherwise`, `try`/`with catch`, nested block `list:`s (trailing commas), `map:` blocks with name
and string keys, block-valued expressions followed by `as x` on the next line, `list length of
list: 1, 2`, map/filter/reduce collection blocks, arithmetic, comparisons, `and`/`or`/`not`,
indexing and attributes on values that may or may not exist. Half of the examples are then
mutated (bad tokens, deleted characters, lines dropped, duplicated or re-indented).

Stable in CI: derandomized, no example database, bounded sizes, a step limit on every run.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from n3lang import ast as A
from n3lang.checker import check_program
from n3lang.diagnostics import REGISTRY, Diagnostic
from n3lang.runtime import Limits, RunResult, run_flow
from n3lang.runtime.values import dumps
from n3lang.syntax import parse_source

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])
INTERNAL = {"internal-error", "parser-internal-error"}
LIMITS = Limits(max_steps=4000, max_list_length=400)

# Names that may or may not be bound when they are read: `missing` never is.
NAMES = ["x", "y", "xs", "m", "r", "n", "err", "missing"]
STRINGS = ['"a"', '"b"', '""', "'q'", '"x y"', '"line\\nbreak"']


# ------------------------------------------------------------------ inline expressions
def atom():
    return st.one_of(
        st.sampled_from(["0", "1", "2", "3", "10", "0.5", "-1", "2.25"]),
        st.sampled_from(STRINGS),
        st.sampled_from(["true", "false", "null"]),
        st.sampled_from(NAMES),
        st.sampled_from(["input", "input.a", "state.s", "state.s.t", "x.a", "r.label",
                         "m.b", "err.message", "xs[0]", "xs[2]", "m.a[1]", "xs[-1]"]),
        st.sampled_from(["list length of list: 1, 2", "list length of xs", "sum(xs)",
                         "max(xs)", "map get m key \"a\"", "map keys m",
                         "list get xs at 1", "list append xs with 4",
                         "map set m key \"z\" value 1", "list: 1, 2, 3",
                         "list of number: 10, 20", "mean(xs)"]),
    )


def inline_expr():
    def extend(children):
        # Composite forms are parenthesised where they are operands: comparisons do not
        # chain and `not` binds looser than comparison (LANGUAGE.md §6).
        return st.one_of(
            st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "**"]), children).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(children, st.sampled_from([
                "is", "is not", "is equal to", "is not equal to", "is greater than",
                "is less than", "is at least", "is at most"]), children).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(children, children, children).map(
                lambda t: f"({t[0]} is between {t[1]} and {t[2]})"),
            st.tuples(children, st.sampled_from(["is strictly between 0 and 3", "is one of 1, 2",
                                                 'is one of ["a", 2, true]', "is one of \"a\""])).map(
                lambda t: f"({t[0]} {t[1]})"),
            st.tuples(children, st.sampled_from(["and", "or"]), children).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            children.map(lambda c: f"(not {c})"),
            children.map(lambda c: f"-{c}"),
            children.map(lambda c: f"({c}).a"),
            st.tuples(children, children).map(lambda t: f"({t[0]})[{t[1]}]"),
        )
    return st.recursive(atom(), extend, max_leaves=4)


EXPR = inline_expr()
NAME = st.sampled_from(NAMES[:-2] + ["z", "total"])
KEY = st.one_of(st.sampled_from(["a", "b", "count", "total"]),
                st.sampled_from(['"a"', '"b"', '"the key"', '"if"']))


def pad(depth: int) -> str:
    return "  " * depth


# ------------------------------------------------------------------ block-valued expressions
@st.composite
def block_value(draw, depth: int, budget: int):
    """(first-line tail, lines of the block at depth+1): `list:` or `map:` with a block."""
    kind = draw(st.sampled_from(["list", "map"]))
    lines: list[str] = []
    if kind == "list":
        for _ in range(draw(st.integers(1, 3))):
            comma = draw(st.sampled_from(["", ","]))
            if budget > 0 and draw(st.integers(0, 3)) == 0:
                head, body = draw(block_value(depth + 1, budget - 1))
                lines.append(f"{pad(depth + 1)}{head}")
                lines += body
            else:
                lines.append(f"{pad(depth + 1)}{draw(EXPR)}{comma}")
        return "list:", lines
    keys = draw(st.lists(KEY, min_size=1, max_size=3, unique=True))
    for key in keys:
        if budget > 0 and draw(st.integers(0, 3)) == 0:
            head, body = draw(block_value(depth + 1, budget - 1))
            lines.append(f"{pad(depth + 1)}{key} is {head}")
            lines += body
        else:
            lines.append(f"{pad(depth + 1)}{key} is {draw(EXPR)}")
    return "map:", lines


@st.composite
def collection_block(draw, depth: int):
    """`map|filter|reduce XS with ...:` + one indented expression."""
    source = draw(st.sampled_from(["xs", "list: 1, 2, 3", "m", "missing", "input.a"]))
    kind = draw(st.sampled_from(["map", "filter", "reduce"]))
    if kind == "map":
        head = f"map {source} with item as v:"
        body = draw(st.sampled_from(["v * 2", "v + 1", "v", "v.a", '"k"']))
    elif kind == "filter":
        head = f"filter {source} with item as v:"
        body = draw(st.sampled_from(["v is greater than 1", "v is 2", "true", "v", "v and true"]))
    else:
        start = draw(st.sampled_from(["0", "1", '""']))
        head = f"reduce {source} with acc as s and item as v starting {start}:"
        body = draw(st.sampled_from(["s + v", "s * v", "s", "v + s + 1"]))
    return head, [f"{pad(depth + 1)}{body}"]


# ------------------------------------------------------------------ statements
@st.composite
def statement(draw, depth: int, budget: int, has_record: bool):
    p = pad(depth)
    kinds = ["let", "let", "set", "set_state", "let_block", "let_block_value", "let_collection",
             "return", "state_with", "empty_list", "calc", "log", "order"]
    if has_record:
        kinds += ["create", "find", "update", "delete", "save"]
    if budget > 0:
        kinds += ["if", "repeat", "for", "match", "try", "while"]
    kind = draw(st.sampled_from(kinds))

    def body(d=depth + 1):
        out: list[str] = []
        for _ in range(draw(st.integers(1, 2))):
            out += draw(statement(d, budget - 1, has_record))
        return out

    if kind == "let":
        const = draw(st.sampled_from(["", "", " constant"]))
        return [f"{p}let {draw(NAME)} is {draw(EXPR)}{const}"]
    if kind == "set":
        return [f"{p}set {draw(st.sampled_from(NAMES))} is {draw(EXPR)}"]
    if kind == "set_state":
        path = draw(st.sampled_from(["state.s", "state.s.t", "state.count", "state.text"]))
        return [f"{p}set {path} is {draw(EXPR)}"]
    if kind == "state_with":
        keys = draw(st.lists(st.sampled_from(["a", "b", "count"]), min_size=1, max_size=2, unique=True))
        return [f"{p}set state.order with:"] + [f"{p}  {k} is {draw(EXPR)}" for k in keys]
    if kind == "let_block":
        names = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
        if len(names) > 1 and draw(st.booleans()):
            return [f"{p}let:", f"{p}  " + ", ".join(f"{n} is {draw(EXPR)}" for n in names)]
        return [f"{p}let:"] + [f"{p}  {n} is {draw(EXPR)}" for n in names]
    if kind == "let_block_value":
        head, lines = draw(block_value(depth, 2))
        return [f"{p}let {draw(NAME)} is {head}"] + lines
    if kind == "let_collection":
        head, lines = draw(collection_block(depth))
        return [f"{p}let {draw(NAME)} is {head}"] + lines
    if kind == "return":
        if draw(st.booleans()):
            head, lines = draw(block_value(depth, 1))
            return [f"{p}return {head}"] + lines
        return [f"{p}return {draw(EXPR)}"]
    if kind == "empty_list":
        return [f"{p}let {draw(NAME)} is list:"]
    if kind == "calc":
        names = draw(st.lists(NAME, min_size=1, max_size=2, unique=True))
        return [f"{p}calc:"] + [f"{p}  {n} = {draw(EXPR)}" for n in names]
    if kind == "log":
        level = draw(st.sampled_from(["debug", "info", "warn", "error"]))
        return [f"{p}log {level} {draw(EXPR)}"]
    if kind == "order":
        target = draw(st.sampled_from(["xs", "rows", "state.rows", "missing"]))
        way = draw(st.sampled_from(["highest to lowest", "lowest to highest"]))
        lines = [f"{p}let rows is list:", f"{p}  map:", f"{p}    a is 2", f"{p}  map:",
                 f"{p}    a is {draw(EXPR)}",
                 f"{p}order {target} by a from {way}"]
        if draw(st.booleans()):
            lines.append(f"{p}keep first {draw(st.sampled_from(['1', '0', '5', 'n']))} items")
        return lines
    if kind == "find":
        return [f'{p}find "R" where {draw(st.sampled_from(["count is 1", "label is x", "true", "count is greater than n", "missing"]))}']
    if kind == "update":
        fields = [draw(st.sampled_from([f, f'"{f}"'])) for f in
                  draw(st.lists(st.sampled_from(["label", "count"]), min_size=1, max_size=2, unique=True))]
        return ([f'{p}update "R" where {draw(st.sampled_from(["true", "count is 1", "label is y"]))} set:']
                + [f"{p}  {f} is {draw(EXPR)}" for f in fields])
    if kind == "delete":
        return [f'{p}delete "R" where {draw(st.sampled_from(["true", "count is 1", "x"]))}']
    if kind == "save":
        return [f"{p}set state.r is {draw(st.sampled_from(['m', 'x', 'input']))}", f'{p}save "R"']
    if kind == "while":
        cond = draw(st.sampled_from(["n is less than 5", "true", "false", "x", "missing"]))
        limit = draw(st.sampled_from(["1", "3", "10"]))
        return [f"{p}repeat while {cond} limit {limit}:"] + body() + [f"{p}  set n is n + 1"]
    if kind == "create":
        target = draw(st.sampled_from(["r", "x"]))
        if draw(st.booleans()):
            fields = draw(st.lists(st.sampled_from(['label', '"label"', 'count', 'extra']),
                                   min_size=1, max_size=3, unique=True))
            lines = [f'{p}create "R" with map:']
            lines += [f"{p}  {f} is {draw(EXPR)}" for f in fields]
            return lines + [f"{p}as {target}"]
        return [f'{p}create "R" with {draw(st.sampled_from(["m", "x", "input"]))} as {target}']
    if kind == "if":
        lines = [f"{p}if {draw(EXPR)}:"] + body()
        if draw(st.booleans()):
            lines += [f"{p}else:"] + body()
        return lines
    if kind == "repeat":
        count = draw(st.sampled_from(["0", "1", "2", "3", "n", "-1", "1.5", '"2"', "list length of list: 1, 2"]))
        return [f"{p}repeat up to {count} times:"] + body()
    if kind == "for":
        source = draw(st.sampled_from(["xs", "list: 1, 2", "m", "missing", "map keys m", "input"]))
        return [f"{p}for each {draw(st.sampled_from(['v', 'x', 'item']))} in {source}:"] + body()
    if kind == "match":
        lines = [f"{p}match {draw(EXPR)}:", f"{p}  with:"]
        for pat in draw(st.lists(st.sampled_from(["1", "2", '"a"', "true", "null", "x", "state.s"]),
                                 min_size=1, max_size=2)):
            lines += [f"{p}    when {pat}:"] + body(depth + 3)
        if draw(st.booleans()):
            lines += [f"{p}    otherwise:"] + body(depth + 3)
        return lines
    # try
    return [f"{p}try:"] + body() + [f"{p}with catch err:"] + body()


@st.composite
def program(draw):
    has_record = draw(st.booleans())
    lines = ['spec is "1.0"', ""]
    if has_record:
        lines += ['record "R":', "  label text", "  count number"]
        if draw(st.booleans()):
            lines += ["  code text must be present"]
        lines.append("")
    header = draw(st.sampled_from(['flow "main": requires true', 'flow "main" requires true:']))
    lines.append(header)
    # a prelude that binds some names, so reads and indexing often succeed
    prelude = draw(st.lists(st.sampled_from([
        "  let x is 1", "  let xs is list: 1, 2, 3", "  let n is 2",
        "  let m is map:", "  let y is \"a\"", "  let r is map:"]), min_size=4, max_size=6,
        unique=True))
    for line in prelude:
        lines.append(line)
        if line == "  let r is map:":
            lines += ['    label is "x"', "    count is 1"]
        elif line.endswith("map:"):
            lines += ['    a is 1', '    "b" is list: 1, 2']
    for _ in range(draw(st.integers(1, 4))):
        lines += draw(statement(1, 2, has_record))
    return "\n".join(lines) + "\n"


BAD = ["^", ";", "==", "[", "]", ":", "is", "\t", '"', "'", "(", ")", ",", "`", "@", "list:",
       "map:", "as", "with", "  ", "\n", "\n  ", "else:", "-", "**", "3", "a.", ".", "#"]


@st.composite
def mutated(draw):
    source = draw(program())
    for _ in range(draw(st.integers(1, 3))):
        lines = source.split("\n")
        op = draw(st.sampled_from(["insert", "delete", "drop_line", "dup_line", "indent",
                                   "dedent", "swap"]))
        i = draw(st.integers(0, max(len(lines) - 2, 0)))
        if op == "insert":
            pos = draw(st.integers(0, len(source)))
            source = source[:pos] + draw(st.sampled_from(BAD)) + source[pos:]
            continue
        if op == "delete" and source:
            pos = draw(st.integers(0, len(source) - 1))
            source = source[:pos] + source[pos + 1:]
            continue
        if op == "drop_line":
            del lines[i]
        elif op == "dup_line":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][draw(st.integers(1, 2)):]
        elif op == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        source = "\n".join(lines)
    return source


# ------------------------------------------------------------------ the property
def assert_located(d: Diagnostic, source: str, file: str = "prop.ai") -> None:
    assert isinstance(d, Diagnostic), d
    assert d.code in REGISTRY, (d.code, d.message)
    assert d.code not in INTERNAL, f"{d.code}: {d.message}"
    assert d.message, d
    assert d.file == file, (d.file, d.message)
    lines = source.replace("\r\n", "\n").split("\n")
    assert 1 <= d.span.line <= len(lines), (d.span, d.message)
    assert 1 <= d.span.column <= len(lines[d.span.line - 1]) + 1, (d.span, d.message)


def run_program(source: str) -> str:
    """What happened: 'parse', 'check', 'run-error' or 'ok'. Asserts the property on the way."""
    program_, diagnostics = parse_source(source, "prop.ai")
    assert isinstance(program_, A.Program)
    for d in diagnostics:
        assert_located(d, source)
    if any(d.is_error for d in diagnostics):
        return "parse"
    checked = check_program(program_)
    for d in checked:
        assert_located(d, source)
    if any(d.is_error for d in checked):
        return "check"
    flows = [d.name for d in program_.declarations if isinstance(d, A.FlowDecl)]
    if not flows:  # a mutation may have removed the flow header
        return "no-flow"
    flow = "main" if "main" in flows else flows[0]  # ... or renamed it
    result = run_flow(program_, flow, {"a": [1, 2]}, source=source, limits=LIMITS)
    assert isinstance(result, RunResult)
    if result.ok:
        dumps(result.to_json())
        return "ok"
    assert_located(result.error, source)
    return "run-error"


@SETTINGS
@given(program())
def test_generated_programs_run_or_fail_located(source: str) -> None:
    run_program(source)


@settings(SETTINGS, max_examples=100)
@given(mutated())
def test_mutated_programs_fail_located(source: str) -> None:
    run_program(source)
