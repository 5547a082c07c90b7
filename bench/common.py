"""Shared helpers for the benchmarks: measured subprocesses, timing, tables, RESULTS.md.

Each side of a comparison runs in its own subprocess so its peak memory (ru_maxrss from
``os.wait4`` of that very child) is its own and nothing leaks between sides.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"


@dataclass
class Measured:
    """A finished child: exit code, its stdout/stderr, wall seconds and peak RSS in bytes."""

    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_bytes: int
    cpu_s: float = 0.0

    def json(self) -> dict:
        """The last line of stdout parsed as JSON (workers print their result there)."""
        lines = [ln for ln in self.stdout.splitlines() if ln.strip()]
        if self.returncode != 0 or not lines:
            raise RuntimeError(f"worker failed (exit {self.returncode}):\n{self.stderr[-4000:]}")
        return json.loads(lines[-1])


def run_measured(cmd: Sequence[str], *, env: dict | None = None, cwd: str | Path | None = None,
                 timeout: float | None = None) -> Measured:
    """Run ``cmd``; return its wall time and peak resident memory (this child only)."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=cwd)
    out_chunks: list[str] = []
    err_chunks: list[str] = []
    # drain both pipes without deadlock, then reap with wait4 to get this child's rusage
    import threading

    def pump(stream, sink):
        for line in stream:
            sink.append(line)

    threads = [threading.Thread(target=pump, args=(proc.stdout, out_chunks)),
               threading.Thread(target=pump, args=(proc.stderr, err_chunks))]
    for t in threads:
        t.start()
    deadline = None if timeout is None else start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            proc.kill()
        time.sleep(0.02)
    wall = time.perf_counter() - start
    for t in threads:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(proc.returncode, "".join(out_chunks), "".join(err_chunks), wall, peak, cpu)


def peak_rss_self() -> int:
    """Peak RSS of this process so far, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


class Stopwatch:
    """``with Stopwatch() as t: ...`` then ``t.s`` (wall seconds) and ``t.cpu`` (process CPU seconds)."""

    def __enter__(self) -> "Stopwatch":
        self._t0 = time.perf_counter()
        self._c0 = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.s = time.perf_counter() - self._t0
        self.cpu = time.process_time() - self._c0


def load_average() -> str:
    """The 1/5/15-minute load averages (other work on the machine skews wall times)."""
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def time_calls(fn: Callable[[int], object], n: int, warmup: int = 20) -> dict:
    """Call ``fn(i)`` n times; median / p90 / p99 / mean latency in milliseconds."""
    for i in range(min(warmup, n)):
        fn(i)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    return {
        "n": n,
        "median_ms": statistics.median(times),
        "p90_ms": times[int(0.9 * (n - 1))],
        "p99_ms": times[int(0.99 * (n - 1))],
        "mean_ms": statistics.fmean(times),
    }


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GiB"  # pragma: no cover


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(str(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_summary() -> str:
    """CPU count, model and Python/numpy versions, for the results header."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import platform

    try:
        import numpy

        np_version = numpy.__version__
    except ImportError:  # pragma: no cover
        np_version = "?"
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, numpy {np_version}"


def update_results(heading: str, body: str, path: Path = RESULTS) -> None:
    """Replace the ``## heading`` section of RESULTS.md with ``body`` (append if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def read_validated_split(setdir: Path, handler) -> tuple[dict, list[str], np.ndarray, np.ndarray]:
    """train.jsonl and test.jsonl of a benchmark set, every row validated by ``handler`` as
    `n3 train` validates it: ({side: (inputs, targets)}, labels, y_train, y_test)."""
    from n3lang.training.modes import RowContext

    data = {}
    for side in ("train", "test"):
        path = setdir / f"{side}.jsonl"
        inputs, targets = [], []
        for i, line in enumerate(path.read_text().splitlines(), 1):
            row = json.loads(line)
            value, problems = handler.check_input(row, RowContext(path.name, i, line, setdir))
            assert not problems, problems
            inputs.append(value)
            targets.append(row["target"])
        data[side] = (inputs, targets)
    labels = sorted(set(data["train"][1]))
    index = {t: i for i, t in enumerate(labels)}
    y_train = np.array([index[t] for t in data["train"][1]])
    y_test = np.array([index[t] for t in data["test"][1]])
    return data, labels, y_train, y_test
