"""How soon after a keystroke does `n3 lsp` publish diagnostics, on a 2,000-line file? (target: 100 ms)

Generates a realistic app (records, functions, flows: bench/check_speed.py's generator), starts
the real server (`python -m n3lang.cli.main lsp`) over stdio and talks raw JSON-RPC to it: opens
the file, then sends N single-character changes (incremental sync), each typing one letter
after a `return c` (an unknown name: a new warning) or deleting it again, and measures from the
moment the didChange is written to the moment its publishDiagnostics is read. Prints the median,
p95 and max, and the server's own CPU time per change.

Run: python bench/lsp_latency.py [--lines 2000] [--changes 200] [--typed x|+] [--profile]
(--profile: the same changes in process, analyze + conversion, under cProfile.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from check_speed import generate  # noqa: E402


class Client:
    """A minimal LSP client over the server's stdin/stdout."""

    def __init__(self, command: list[str]) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=ROOT)
        self.next_id = 0

    def send(self, message: dict) -> None:
        body = json.dumps(message).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def read(self) -> dict:
        assert self.proc.stdout is not None
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("ascii").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == self.next_id and "method" not in message:
                return message

    def notify(self, method: str, params: dict) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics_for(self, uri: str) -> list:
        while True:
            message = self.read()
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                return message["params"]["diagnostics"]


def edits(text: str, changes: int, typed: str = "x"):
    """(range, new text) pairs: type ``typed`` after a `return c`, then delete it, alternately
    (`x`: an unknown name, a new warning; `+`: an unfinished expression, a syntax error)."""
    lines = text.split("\n")
    targets = [i for i, line in enumerate(lines) if line == "  return c"] or [len(lines) - 2]
    for n in range(changes):
        line = targets[(n // 2) % len(targets)]
        col = len(lines[line])
        if n % 2 == 0:
            yield {"start": {"line": line, "character": col}, "end": {"line": line, "character": col}}, typed
        else:
            yield {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 1}}, ""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(lines: int, changes: int, typed: str = "x") -> dict:
    text = generate(lines)
    folder = Path(tempfile.mkdtemp(prefix="n3-lsp-bench-"))
    app = folder / "app.ai"
    app.write_text(text, encoding="utf-8")
    uri = app.as_uri()
    client = Client([sys.executable, "-m", "n3lang.cli.main", "lsp"])
    try:
        client.request("initialize", {"processId": os.getpid(), "rootUri": folder.as_uri(), "capabilities": {}})
        client.notify("initialized", {})
        start = time.perf_counter()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "n3", "version": 1,
                                                                "text": text}})
        opened = client.diagnostics_for(uri)
        open_ms = (time.perf_counter() - start) * 1000
        times = []
        counts = set()
        cpu_before = _server_cpu(client.proc.pid)
        for version, (where, new) in enumerate(edits(text, changes, typed), start=2):
            start = time.perf_counter()
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": where, "text": new}]})
            found = client.diagnostics_for(uri)
            times.append((time.perf_counter() - start) * 1000)
            counts.add(len(found))
        cpu_ms = (_server_cpu(client.proc.pid) - cpu_before) * 1000 / changes
        client.request("shutdown", {})
        client.notify("exit", {})
        client.proc.wait(timeout=10)
    finally:
        if client.proc.poll() is None:
            client.proc.kill()
    return {"lines": text.count("\n"), "bytes": len(text.encode("utf-8")), "changes": changes,
            "open_ms": open_ms, "median_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
            "max_ms": max(times), "min_ms": min(times), "server_cpu_ms_per_change": cpu_ms,
            "diagnostic_counts": sorted(counts), "diagnostics_at_open": len(opened)}


def _server_cpu(pid: int) -> float:
    """The server process's user + system CPU seconds (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:  # pragma: no cover - not Linux
        return float("nan")


def profile(lines: int, changes: int) -> None:
    import cProfile
    import pstats

    from n3lang.frontend import analyze

    text = generate(lines)
    folder = Path(tempfile.mkdtemp(prefix="n3-lsp-bench-"))
    app = folder / "app.ai"
    app.write_text(text, encoding="utf-8")
    analyze(app, text)
    with cProfile.Profile() as prof:
        for _ in range(changes):
            analyze(app, text)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=2000)
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--typed", default="x", help="the character typed and deleted: x (a warning), + (a syntax error)")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    if args.profile:
        profile(args.lines, min(args.changes, 20))
        return
    result = measure(args.lines, args.changes, args.typed)
    print(f"{result['lines']} lines ({result['bytes']} bytes), {result['changes']} single-character changes "
          f"(typing and deleting {args.typed!r} after a `return c`)")
    print(f"open -> diagnostics: {result['open_ms']:.1f} ms ({result['diagnostics_at_open']} diagnostics)")
    print(f"didChange -> publishDiagnostics: median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
          f"min {result['min_ms']:.1f} ms, max {result['max_ms']:.1f} ms (target: 100 ms)")
    print(f"server CPU per change: {result['server_cpu_ms_per_change']:.1f} ms; "
          f"diagnostics per publication: {result['diagnostic_counts']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
