"""How fast is `n3 check` on a 10,000-line app? (target: under 1 s end to end)

Generates a realistic app (records, functions, flows with lets, ifs, loops, matches, record
statements, function calls), then times:
  - `n3 check app.ai` end to end in a fresh process (best of 3), next to `n3 --version`
    (the cost of starting Python and click alone);
  - in-process: parse, check, and both together (best of 3, parser cache warm and cold).
Prints a table. Run: python bench/check_speed.py [--lines 10000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def flow_block(i: int) -> list[str]:
    r = f"Rec{i % 40}"
    return [
        f'flow "flow_{i}":',
        "  requires true",
        "  let total is 0",
        "  let items is list: 1, 2, 3, 4, 5",
        "  let label is \"start\"",
        "  for each item in items:",
        "    if item is greater than 2:",
        "      set total is total + item * 2",
        "    else:",
        "      set total is total - 1",
        "  repeat up to 3 times:",
        "    set total is total + 1",
        "  let info is map:",
        "    name is \"x\"",
        "    size is list length of items",
        f'  let doubled is call function "fn_{i % 50}":',
        "    a is total",
        "    b is 2",
        "  match total:",
        "    with:",
        "      when 1:",
        "        set label is \"one\"",
        "      when 2:",
        "        set label is \"two\"",
        "      otherwise:",
        "        set label is \"many\"",
        "  try:",
        "    let ratio is total / 3",
        "  with catch err:",
        "    let ratio is 0",
        "  let payload is map:",
        "    heading is label",
        "    amount is total",
        f'  create "{r}" with payload as saved',
        f'  find "{r}" where amount is at least 1',
        f"  let n is list length of {r.lower()}_results",
        "  set state.last is total",
        "  if total is between 1 and 100 and label is not \"x\":",
        "    return saved",
        "  return map:",
        "    total is total",
        "    ratio is ratio",
        "",
    ]


def record_block(i: int) -> list[str]:
    return [
        f'record "Rec{i}":',
        "  heading text must be present",
        "  amount is number must be at least 0",
        "  tags list<text>",
        "  note text | null",
        "",
    ]


def function_block(i: int) -> list[str]:
    return [
        f'define function "fn_{i}":',
        "  input:",
        "    a is number",
        "    b is optional number",
        "  output:",
        "    result is number",
        "  let c is a * 2 + 1",
        "  if c is greater than 10:",
        "    return c - 10",
        "  return c",
        "",
    ]


def generate(lines: int) -> str:
    out = ['spec is "1.0"', "", "capabilities:", "  training", ""]
    for i in range(40):
        out += record_block(i)
    for i in range(50):
        out += function_block(i)
    i = 0
    while len(out) < lines:
        out += flow_block(i)
        i += 1
    return "\n".join(out[:lines]).rsplit("\nflow ", 1)[0] + "\n"


def best_of(n: int, fn, clock=time.perf_counter) -> float:
    times = []
    for _ in range(n):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times)


def n3_command() -> list[str]:
    """The installed console script beside this interpreter (not a version-manager shim, which
    would add its own start-up to every run), else `python -m n3lang.cli.main`."""
    beside = Path(sys.executable).with_name("n3")
    if beside.is_file():
        return [str(beside)]
    return [sys.executable, "-m", "n3lang.cli.main"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--profile", action="store_true", help="print the top of a cProfile of parse+check")
    args = ap.parse_args()

    from n3lang import syntax
    from n3lang.checker import check_program

    tmp = Path(tempfile.mkdtemp(prefix="n3bench-"))
    app = tmp / "app.ai"
    source = generate(args.lines)
    app.write_text(source, encoding="utf-8")
    nlines = source.count("\n")

    # sanity: the generated app is clean
    t0 = time.perf_counter()
    program, diags = syntax.parse_source(source, str(app))
    cold_parse = time.perf_counter() - t0
    if program is None or any(d.is_error for d in diags):
        for d in diags[:5]:
            print(f"{d.file}:{d.span.line}:{d.span.column}: {d.message}", file=sys.stderr)
        raise SystemExit("the generated app does not parse")
    problems = [d for d in check_program(program) if d.is_error]
    if problems:
        for d in problems[:5]:
            print(f"{d.span.line}:{d.span.column}: {d.code} {d.message}", file=sys.stderr)
        raise SystemExit("the generated app does not check clean")

    parse_t = best_of(3, lambda: syntax.parse_source(source, str(app)))
    check_t = best_of(3, lambda: check_program(program))
    both_t = best_of(3, lambda: check_program(syntax.parse_source(source, str(app))[0]))
    parse_cpu = best_of(3, lambda: syntax.parse_source(source, str(app)), time.process_time)
    check_cpu = best_of(5, lambda: check_program(program), time.process_time)

    cmd = n3_command()
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(ROOT))
    # An installed n3 runs from compiled .pyc files; this sandbox may set
    # PYTHONDONTWRITEBYTECODE, which would charge every run for compiling all of n3 and lark.
    # Write the bytecode to a private cache instead (the warm-up run fills it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")

    def run(argv):
        proc = subprocess.run(argv, capture_output=True, text=True, env=env)
        return proc

    def cpu_of(argv, n=3):
        """Best user+sys CPU seconds of a child over n runs (robust on a busy machine)."""
        best = float("inf")
        for _ in range(n):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            run(argv)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            best = min(best, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        return best

    proc = run([*cmd, "check", str(app)])
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit("n3 check failed on the generated app")
    run([*cmd, "--version"])
    e2e = best_of(3, lambda: run([*cmd, "check", str(app)]))
    startup = best_of(3, lambda: run([*cmd, "--version"]))
    e2e_cpu = cpu_of([*cmd, "check", str(app)])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    rows = [
        ("app size", f"{nlines} lines, {len(source) / 1024:.0f} KiB"),
        ("n3 check end to end (subprocess, best of 3, wall)", f"{e2e * 1000:.0f} ms"),
        ("n3 check end to end (CPU user+sys, best of 3)", f"{e2e_cpu * 1000:.0f} ms"),
        ("  of which: n3 --version (startup alone, wall)", f"{startup * 1000:.0f} ms"),
        ("in-process parse, first call (grammar load + parse)", f"{cold_parse * 1000:.0f} ms"),
        ("in-process parse (best of 3)", f"{parse_t * 1000:.0f} ms"),
        ("in-process check (best of 3)", f"{check_t * 1000:.1f} ms"),
        ("in-process parse + check (best of 3)", f"{both_t * 1000:.0f} ms"),
        ("in-process parse, CPU time (best of 3)", f"{parse_cpu * 1000:.0f} ms"),
        ("in-process check, CPU time (best of 5)", f"{check_cpu * 1000:.1f} ms"),
        ("machine load average (1 min) / cores", f"{load:.1f} / {os.cpu_count()}"),
        ("target (end to end)", "< 1000 ms"),
        ("verdict (wall)", "PASS" if e2e < 1.0 else "OVER"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|-{'-' * 20}")
    for k, v in rows:
        print(f"{k.ljust(width)} | {v}")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        check_program(syntax.parse_source(source, str(app))[0])
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
        print(buf.getvalue())
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
