"""Interpreter speed (run on demand, not a unit test).

1. 200,000 iterations of `set total is total + 2` (target: under 2 s).
2. Creating 2,000 records, then finding them (target: under 2 s), in memory and in a file.

Programs are parsed from source when the parser is available, else built as ASTs.
Usage: python bench/run_speed.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from decimal import Decimal as D
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from n3lang import ast as A  # noqa: E402
from n3lang.runtime import run_flow  # noqa: E402

LOOP_SRC = '''spec is "1.0"

flow "loop":
  let total is 0
  repeat up to 200000 times:
    set total is total + 2
  return total
'''

RECORDS_SRC = '''spec is "1.0"

record "Item":
  name is text must be present
  n is number must be at least 0

flow "fill": requires true
  let i is 0
  repeat up to 2000 times:
    let data is map:
      name is "item"
      n is i
    create "Item" with data as item
    set i is i + 1
  find "Item" where n is at least 1000
  return list length of item_results
'''


def _parse(source: str, fallback):
    try:
        from n3lang.syntax import parse_source  # type: ignore[attr-defined]
    except ImportError:
        return fallback(), "AST"
    program, diags = parse_source(source, "bench.ai")
    if program is None or any(d.is_error for d in diags):
        raise SystemExit(f"bench program does not parse: {[d.message for d in diags]}")
    return program, "source"


def loop_ast() -> A.Program:
    body = (
        A.Let("total", A.Literal(D(0))),
        A.RepeatTimes(A.Literal(D(200000)), (
            A.Set(("total",), A.Binary("+", A.Name("total"), A.Literal(D(2)))),)),
        A.Return(A.Name("total")),
    )
    return A.Program((A.SpecDecl("1.0"), A.FlowDecl("loop", body)))


def records_ast() -> A.Program:
    rec = A.RecordDecl("Item", (
        A.FieldDecl("name", A.TypeRef("text"), (A.Constraint("present"),)),
        A.FieldDecl("n", A.TypeRef("number"), (A.Constraint("at_least", (A.Literal(D(0)),)),)),
    ))
    data = A.MapExpr((A.MapEntry("name", A.Literal("item")), A.MapEntry("n", A.Name("i"))))
    body = (
        A.Let("i", A.Literal(D(0))),
        A.RepeatTimes(A.Literal(D(2000)), (
            A.Let("data", data),
            A.Create("Item", A.Name("data"), "item"),
            A.Set(("i",), A.Binary("+", A.Name("i"), A.Literal(D(1)))),
        )),
        A.Find("Item", A.Compare("is at least", A.Name("n"), (A.Literal(D(1000)),))),
        A.Return(A.BuiltinCall("list length", (A.Name("item_results"),))),
    )
    return A.Program((A.SpecDecl("1.0"), rec, A.FlowDecl("fill", body, requires=A.Literal(True))))


def timed(program, **kw):
    best = None
    result = None
    for _ in range(3):
        start = time.perf_counter()
        result = run_flow(program, None, {}, **kw)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
        assert result.ok, result.error
    return best, result


def main() -> None:
    program, how = _parse(LOOP_SRC, loop_ast)
    secs, result = timed(program)
    print(f"loop: 200,000 x `set total is total + 2` ({how}): {secs:.3f} s "
          f"({secs / 200000 * 1e6:.2f} us/iteration), result {result.result}  [target < 2 s]")

    program, how = _parse(RECORDS_SRC, records_ast)
    secs, result = timed(program)
    print(f"records: create 2,000 + find ({how}), in memory: {secs:.3f} s, "
          f"found {result.result}  [target < 2 s]")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_flow(program, None, {}, state_path=Path(tmp) / "bench.db")
        secs = time.perf_counter() - start
        assert result.ok, result.error
        print(f"records: create 2,000 + find ({how}), SQLite file: {secs:.3f} s, "
              f"found {result.result}  [target < 2 s]")


if __name__ == "__main__":
    main()
