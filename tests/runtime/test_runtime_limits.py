"""Issue 12, runtime side: every limit gives a located `runtime-limit` (or record) error with
exit 1, never exit 3, never a traceback, in bounded time. No timing thresholds: a test that
would hang without the fix is bounded by the limit it exercises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from n3lang.runtime import Limits, run_flow
from n3lang.runtime.limits import Budget, SizeMeter, clamp_int
from n3lang.runtime.patterns import Pattern, PatternProblem, compile_pattern
from n3lang.syntax import parse_source  # type: ignore[attr-defined]

ROOT = Path(__file__).resolve().parents[2]


def run_text(body: str, *, records: str = "", input_value=None, limits: Limits | None = None,
             header: str = ""):
    source = f'spec is "1.0"\n\n{records}flow "f":{header}\n' + "".join(
        f"  {line}\n" for line in body.strip("\n").split("\n"))
    program, diags = parse_source(source, "app.ai")
    assert program is not None and not [d for d in diags if d.is_error], diags
    return run_flow(program, None, input_value, limits=limits)


def n3(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess:
    app = tmp_path / "app.ai"
    app.write_text(source, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "n3lang.cli.main", "run", str(app), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


DOUBLING = "let xs is list: 1\n" + "set xs is list: xs, xs\n" * 40


# ----------------------------------------------------------------------------- F2
@pytest.mark.parametrize("tail", ["return xs", 'let m is map:\n  a is xs\nreturn 1',
                                  "let ys is list append xs with 1\nreturn 1",
                                  "set state.x is xs\nreturn 1",
                                  'let ys is list: 1\nreturn xs is ys'])
def test_f2_shared_values_are_measured_by_their_logical_size(tail):
    r = run_text(DOUBLING + tail)
    assert not r.ok and r.error.code == "runtime-limit"
    assert r.error.message.startswith("The value is too large (more than 2000000 items")
    assert r.error.span.line == 4 + 20  # the 20th doubling passes 2,000,000 items (3 * 2**20 - 2)


def test_f2_every_place_a_value_grows_is_checked():
    small = Limits(max_value_items=100)
    grow = ("let xs is list: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10\nlet m is map:\n  a is xs\n"
            "let t is map set m key \"b\" value xs\n")
    for tail, line in [("let u is list: t, t, t, t, t", 8),
                       ("let l is list: t, t, t, t\nlet u is map set t key \"c\" value l", 9),
                       ("set state.a is t\nset state.b is t\nset state.c is list: t, t, t", 10)]:
        r = run_text(grow + tail, limits=small)
        assert not r.ok and r.error.code == "runtime-limit", tail
        assert "too large" in r.error.message and r.error.span.line == line, (tail, r.error)
    records = 'record "R":\n  a is list\n  b is list\n\n'
    # each new field is small enough, the updated record is not: the update stops, nothing written
    r = run_text(grow + "let d is map:\n  a is xs\ncreate \"R\" with d as r\n"
                 "update \"R\" where true set:\n  a is list: t, t\n  b is list: t, t",
                 records=records, limits=Limits(max_value_items=60), header=" requires true")
    assert not r.ok and r.error.code == "runtime-limit" and r.error.span.line == 15, r.error


def test_f2_measuring_is_incremental_and_exact():
    meter = SizeMeter(Limits(max_value_items=10 ** 12, max_value_chars=10 ** 12))
    span = None
    xs = meter.grew([1, 2], span)
    for _ in range(30):
        xs = meter.grew([xs, xs, "ab"], span)
    assert meter.size(xs)[0] == 3 * (2 ** 30 - 1) + 2 ** 31
    ys = meter.appended(xs, xs + [xs], xs, span)
    assert meter.size(ys)[0] == 2 * meter.size(xs)[0] + 1
    many = [meter.grew([i], span) for i in range(20000)]  # garbage is not kept forever
    del many
    for i in range(20000):
        meter.grew([[i]], span)
    assert len(meter._cache) < 30000


def test_f2_cli_exits_1_quickly_and_prints_a_located_error(tmp_path):
    source = 'spec is "1.0"\n\nflow "f":\n' + "".join(f"  {x}\n" for x in (DOUBLING + "return xs").split("\n"))
    p = n3(tmp_path, source, "--json")
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["error"]["code"] == "runtime-limit" and "Traceback" not in p.stderr


# ----------------------------------------------------------------------------- F4
@pytest.mark.parametrize("body,message", [
    ("let xs is list: 1, 2\nreturn xs[10 ** 5000]", "List index is out of range"),
    ("let xs is list: 1, 2\nreturn list get xs at 0 - 10 ** 999998", "List index is out of range"),
    ("let xs is list: 1, 2\nreturn xs[input.i]", "List index is out of range"),
    ("repeat up to 0 - 10 ** 5000 times:\n  let a is 1", "Repeat count cannot be negative"),
    ("repeat while true limit 1:\n  let a is 1", "Loop limit hit"),
])
def test_f4_huge_numbers_as_indexes_and_counts(body, message):
    from decimal import Decimal
    r = run_text(body, input_value={"i": Decimal("1E+5000")})
    assert not r.ok and r.error.message == message
    assert len(r.error.why or "") < 300


def test_f4_clamp_int_never_builds_a_huge_int():
    from decimal import Decimal
    assert clamp_int(Decimal("1E+999999")) == 10 ** 19 and clamp_int(Decimal("-1E+5000")) == -10 ** 19
    assert clamp_int(Decimal("123456789012345678")) == 123456789012345678


def test_f4_cli_index_from_input(tmp_path):
    p = n3(tmp_path, 'spec is "1.0"\n\nflow "f":\n  let xs is list: 1\n  return xs[input.i]\n',
           "--input", '{"i": 1E+5000}')
    assert p.returncode == 1 and "List index is out of range" in p.stderr and "1E+5000" in p.stderr


# ----------------------------------------------------------------------------- F5
REDOS = 'record "U":\n  name is text must match pattern "^(a+)+$"\n\n'


def test_f5_patterns_match_in_linear_time():
    r = run_text('let d is map:\n  name is input.name\ncreate "U" with d as u', records=REDOS,
                 input_value={"name": "a" * 5000 + "!"}, header=" requires true")
    assert not r.ok and r.error.message == "Field 'name' in record 'U' must match pattern ^(a+)+$"
    r = run_text('let d is map:\n  name is input.name\ncreate "U" with d as u\nreturn u.name', records=REDOS,
                 input_value={"name": "a" * 41}, header=" requires true")
    assert r.ok and r.result == "a" * 41


@pytest.mark.parametrize("pattern,yes,no", [
    (r"[a-z]*", ["", "abc"], ["abC", "ab\n"]),
    (r"\d{3}", ["123", "١٢٣"], ["12", "12a"]),
    (r"\w+", ["Straße", "a_1"], ["a b", ""]),
    (r"\s*x\S", [" \u3000xy"], ["x ", "y"]),
    (r"a{,2}", ["", "aa"], ["aaa"]),
    (r"(?i)ab|cd", ["AB", "cD"], ["abcd"]),
    (r"\u00e9+", ["éé"], ["e"]),
    (r"[[:a]+", ["[:a", "a"], ["b"]),
    (r"abc$", ["abc"], ["abc\n"]),
])
def test_f5_full_match_semantics_are_python_s(pattern, yes, no):
    import re
    compiled = compile_pattern(pattern)
    assert isinstance(compiled, Pattern)
    for text in yes + no:
        assert (compiled.fullmatch(text) is not None) == (re.fullmatch(pattern, text) is not None), text
        assert (compiled.fullmatch(text) is not None) == (text in yes), text


@pytest.mark.parametrize("pattern,words", [
    (r"(a)\1", "backreference"), (r"(?P<n>a)(?P=n)", "backreference"), (r"(?=a)a", "lookahead"),
    (r"(?<!a)b", "lookbehind"), (r"(?>a)", "atomic"), (r"a*+", "possessive"),
    (r"(?x)a b", "(?x)"), (r"a{5000}", "repetition"), (r"[", "Invalid pattern"),
])
def test_f5_patterns_re2_cannot_take_are_clear_errors(pattern, words):
    problem = compile_pattern(pattern)
    assert isinstance(problem, PatternProblem) and words in problem.message and problem.fix
    records = 'record "U":\n  name is text must match pattern "' + pattern.replace("\\", "\\\\") + '"\n\n'
    r = run_text('let d is map:\n  name is "a"\ncreate "U" with d as u', records=records, header=" requires true")
    assert not r.ok and r.error.code == "runtime-record-error" and words in r.error.message


# ----------------------------------------------------------------------------- budget
def test_time_limit_stops_an_endless_loop():
    r = run_text("let n is 0\nrepeat while true limit 1000000000:\n  set n is n + 1",
                 limits=Limits(max_seconds=0.2))
    assert not r.ok and r.error.code == "runtime-limit"
    assert r.error.message == "Time limit exceeded (0.2 seconds)." and r.error.span.line == 6


def test_budget_checks_the_clock_only_at_checkpoints():
    budget = Budget(Limits(max_steps=10_000, max_seconds=None))
    assert budget.checkpoint == 4096 and budget.check(4097, None) == 8193
    assert budget.check(8194, None) == 10_000
    with pytest.raises(Exception, match="Step budget exceeded"):
        budget.check(10_001, None)


def test_repeat_counts_are_not_cut_at_a_checkpoint():
    r = run_text("let n is 0\nrepeat up to 20000 times:\n  set n is n + 1\nreturn n")
    assert r.ok and r.result == 20000


def test_time_limit_option(tmp_path):
    p = n3(tmp_path, 'spec is "1.0"\n\nflow "f":\n  repeat while true limit 1000000000:\n    let a is 1\n',
           "--time-limit", "0.3")
    assert p.returncode == 1 and "Time limit exceeded (0.3 seconds)." in p.stderr
    p = n3(tmp_path, 'spec is "1.0"\n\nflow "f":\n  return 1\n', "--time-limit", "0")
    assert p.returncode == 2


# ----------------------------------------------------------------------------- records cap
def test_records_created_per_run_are_capped():
    records = 'record "N":\n  n is number\n\n'
    r = run_text('let d is map:\n  n is 1\nrepeat up to 1000 times:\n  create "N" with d as x',
                 records=records, limits=Limits(max_records_created=50), header=" requires true")
    assert not r.ok and r.error.code == "runtime-limit" and r.error.span.line == 10
    assert r.error.message == "Too many records created in one run (more than 50)."
    assert Limits().max_records_created == 100_000


# ----------------------------------------------------------------------------- F17
@pytest.mark.parametrize("n,ok", [(202, True), (380, True), (10_000, False)])
def test_f17_flat_chains_are_not_nesting_and_long_ones_stay_safe(n, ok, tmp_path):
    source = 'spec is "1.0"\n\nflow "f":\n  if true:\n    return ' + " + ".join(["1"] * n) + "\n"
    p = n3(tmp_path, source, "--json")
    if ok:
        assert p.returncode == 0 and json.loads(p.stdout)["result"] == n, p.stdout[-300:]
    else:
        assert p.returncode == 1 and "nesting-too-deep" in p.stdout and "Traceback" not in p.stderr


def test_f2_collection_blocks_count_the_values_they_build():
    """`map xs with item as n:` whose items are a shared value: the result is measured too."""
    source = ('spec is "1.0"\n\nflow "d":\n  let xs is list: 1\n  repeat up to 19 times:\n'
              '    set xs is list: xs, xs\n  let four is list: 1, 2, 3, 4\n'
              '  let ys is map four with item as n:\n    xs\n  return list length of ys\n')
    program, diagnostics = parse_source(source, "app.ai")
    assert program is not None and not [d for d in diagnostics if d.is_error]
    outcome = run_flow(program, None, {})
    assert not outcome.ok and outcome.error.code == "runtime-limit"
    assert outcome.error.span.line == 8, outcome.error
