"""Compare `n3 check` (10,000-line app) and the 200,000-iteration loop between two source trees.

Each measurement runs in a fresh subprocess with PYTHONPATH=<tree>, so each tree runs its own
code; runs are interleaved (A, B, A, B, ...) so a busy neighbour hits both sides alike, and the
medians are reported. Bytecode goes to a private cache per tree (warmed first).

  python bench/compare_trees.py /work/wt/before /work/wt/bench --rounds 15
  python bench/compare_trees.py --loop-worker 200000     # time run_flow in-process (for callgrind)
  python bench/compare_trees.py --parse-worker 2 APP.ai  # parse APP.ai twice (for callgrind)

Instruction counts: run the workers (or `python -m n3lang.cli.main check APP.ai`) under
`valgrind --tool=callgrind` with the same environment, and subtract a shorter run (see RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

LOOP_SRC = '''spec is "1.0"

flow "loop":
  let total is 0
  repeat up to {n} times:
    set total is total + 2
  return total
'''


def loop_worker(n: int, repeats: int) -> None:
    """Parse the loop program (bench/run_speed.py's LOOP_SRC) and time run_flow `repeats` times."""
    from n3lang.runtime import run_flow
    from n3lang.syntax import parse_source

    program, diags = parse_source(LOOP_SRC.format(n=n), "bench.ai")
    assert program is not None and not any(d.is_error for d in diags), diags
    kw = {}
    if os.environ.get("N3_BENCH_NO_TIME_LIMIT"):  # under valgrind the 2 s safety net would trip
        from n3lang.runtime import Limits

        if "max_seconds" in Limits.__dataclass_fields__:
            kw["limits"] = Limits(max_seconds=None)
    times, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        result = run_flow(program, None, {}, **kw)
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        assert result.ok, result.error
    print(" ".join(f"{x:.6f}" for x in times))
    print(" ".join(f"{x:.6f}" for x in cpus))


def env_for(tree: str, tmp: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = tree
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / ("pyc-" + Path(tree).name))
    # the 2 s safety net of newer trees would stop the loop on a busy machine (or valgrind)
    env["N3_BENCH_NO_TIME_LIMIT"] = "1"
    return env


def timed(argv, env) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("trees", nargs="*")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--loop-worker", type=int)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--parse-worker", type=int)
    args = ap.parse_args()
    if args.parse_worker is not None:
        from n3lang.syntax import parse_source

        source = Path(args.trees[0]).read_text(encoding="utf-8")
        for _ in range(args.parse_worker):
            parse_source(source, args.trees[0])
        return
    if args.loop_worker is not None:
        loop_worker(args.loop_worker, args.repeats)
        return

    sys.path.insert(0, str(HERE))
    from check_speed import generate

    tmp = Path(tempfile.mkdtemp(prefix="n3cmp-"))
    app = tmp / "app.ai"
    app.write_text(generate(10_000), encoding="utf-8")
    py = sys.executable
    check = [py, "-m", "n3lang.cli.main", "check", str(app)]
    loop = [py, str(Path(__file__).resolve()), "--loop-worker", "200000", "--repeats", "3"]
    res = {t: {"check_wall": [], "check_cpu": [], "loop_best": [], "loop_all": [], "loop_cpu": []}
           for t in args.trees}
    for t in args.trees:  # warm the bytecode and parser-table caches
        timed(check, env_for(t, tmp))
    for r in range(args.rounds):
        order = args.trees if r % 2 == 0 else list(reversed(args.trees))
        for t in order:
            env = env_for(t, tmp)
            wall, cpu, _ = timed(check, env)
            res[t]["check_wall"].append(wall)
            res[t]["check_cpu"].append(cpu)
            _, _, out = timed(loop, env)
            wall_line, cpu_line = out.strip().splitlines()[-2:]
            loops = [float(x) for x in wall_line.split()]
            res[t]["loop_cpu"] += [float(x) for x in cpu_line.split()]
            res[t]["loop_best"].append(min(loops))
            res[t]["loop_all"] += loops
    print(f"rounds {args.rounds}, load average {os.getloadavg()}")
    for t in args.trees:
        d = res[t]
        print(f"{t}: check wall median {statistics.median(d['check_wall']) * 1000:.0f} ms "
              f"(min {min(d['check_wall']) * 1000:.0f}), check CPU median "
              f"{statistics.median(d['check_cpu']) * 1000:.0f} ms (min {min(d['check_cpu']) * 1000:.0f}); "
              f"loop median {statistics.median(d['loop_all']):.3f} s "
              f"(median of bests {statistics.median(d['loop_best']):.3f}, min {min(d['loop_all']):.3f}); "
              f"loop CPU median {statistics.median(d['loop_cpu']):.3f} s (min {min(d['loop_cpu']):.3f})")


if __name__ == "__main__":
    main()
