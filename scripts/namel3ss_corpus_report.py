"""How much of namel3ss's own .ai corpus do we accept? A measurement, not a test.

    python scripts/namel3ss_corpus_report.py MIRROR_GIT_DIR REF_PYTHON [--out REPORT.txt]
    e.g. python scripts/namel3ss_corpus_report.py \\
             /work/.mirror/namel3ss-Ai+namel3ss/repo /work/ref-venv/bin/python --out /tmp/report.txt

MIRROR_GIT_DIR is a git directory of the namel3ss repository (a bare mirror is fine);
REF_PYTHON is the python of a venv with namel3ss installed (see scripts/record_conformance.py
for how to install it). Every `*.ai` file of the mirror's HEAD is extracted (paths kept, so
includes resolve) into a temporary directory that is removed afterwards; nothing of that
repository is written into ours.

For each file:
  * namel3ss-parses: namel3ss's parser (namel3ss.parser.core.parse) accepts the text;
    namel3ss-loads (reported too): its load_project accepts the file (includes, lowering);
  * we-accept: `python -m n3lang.cli.main check FILE --json` exits 0 (no error diagnostics);
    our first error (message, line, column) is kept when we reject it.
  * core-only: namel3ss parses it and it uses only the core language (LANGUAGE.md §1–§8),
    judged on namel3ss's own AST by scripts/namel3ss_core_only.py (run in the reference venv):
    spec, capabilities, records and flows only, no tool calls, ai, agents, identity, ...
Prints the counts: files, namel3ss-parses, core-only, we-accept among core-only (with our
first error on each core-only file we reject), we-accept, we-accept among those namel3ss
parses; the report file adds our first errors grouped by message (most common first), why each
parsed file is not core-only, and one line per file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "tests" / "conformance" / "oracle_namel3ss.py"
CLASSIFIER = ROOT / "scripts" / "namel3ss_core_only.py"


def tracked(mirror: str) -> list[str]:
    """Every file path of the mirror's HEAD."""
    return subprocess.run(["git", "-C", mirror, "ls-tree", "-r", "--name-only", "HEAD"],
                          check=True, capture_output=True, text=True).stdout.splitlines()


def blob(mirror: str, name: str) -> bytes:
    """The bytes of one file of the mirror's HEAD."""
    return subprocess.run(["git", "-C", mirror, "show", f"HEAD:{name}"], check=True,
                          capture_output=True).stdout


def extract(mirror: str, dest: Path) -> list[str]:
    files = sorted(n for n in tracked(mirror) if n.endswith(".ai"))
    for name in files:
        data = blob(mirror, name)
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return files


FENCE = re.compile(r"^```ai[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def extract_docs(mirror: str, dest: Path) -> list[str]:
    """Every ```ai fenced block of the repository's Markdown files, as DOC.md.blockN.ai.

    Most blocks are fragments without a spec line; those get `spec is "1.0"` and a blank line
    prepended (so their line numbers in the report are 2 more than in the Markdown block)."""
    files = []
    for name in sorted(n for n in tracked(mirror) if n.endswith(".md")):
        text = blob(mirror, name).decode("utf-8", "replace")
        for i, block in enumerate(FENCE.findall(text), 1):
            if not re.search(r"^spec\b", block, re.M):
                block = 'spec is "1.0"\n\n' + block
            target = dest / f"{name}.block{i}.ai"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block, encoding="utf-8")
            files.append(f"{name}.block{i}.ai")
    return files


def namel3ss_verdicts(ref_python: str, dest: Path, files: list[str]) -> dict[str, dict]:
    with tempfile.TemporaryDirectory(prefix="n3corpus-jobs-") as tmp:
        jobs = [{"name": f, "path": str(dest / f), "mode": "parse"} for f in files]
        (Path(tmp) / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("N3_", "NAMEL3SS_", "PYTHONPATH"))}
        proc = subprocess.run([ref_python, str(ORACLE), str(Path(tmp) / "jobs.json"),
                               str(Path(tmp) / "out.json")], cwd=tmp, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        out = Path(tmp) / "out.json"
        if not out.exists():
            sys.exit(f"the reference run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return {r["name"]: r for r in json.loads(out.read_text(encoding="utf-8"))}


def core_verdicts(ref_python: str, dest: Path, files: list[str]) -> dict[str, dict]:
    """{file: {"parses", "core", "why"}} from namel3ss's AST (scripts/namel3ss_core_only.py)."""
    with tempfile.TemporaryDirectory(prefix="n3corpus-core-") as tmp:
        (Path(tmp) / "files.json").write_text(json.dumps([str(dest / f) for f in files]),
                                              encoding="utf-8")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("N3_", "NAMEL3SS_", "PYTHONPATH"))}
        proc = subprocess.run([ref_python, str(CLASSIFIER), str(Path(tmp) / "files.json"),
                               str(Path(tmp) / "out.json")], cwd=tmp, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        out = Path(tmp) / "out.json"
        if not out.exists():
            sys.exit(f"the core classifier failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        verdicts = json.loads(out.read_text(encoding="utf-8"))
        return {f: verdicts[str(dest / f)] for f in files}


def our_check(path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "n3lang.cli.main", "check", str(path), "--json"],
                          cwd=path.parent, env=env, capture_output=True, text=True, timeout=120)
    try:
        payload = json.loads(proc.stdout)
    except ValueError:
        return {"ok": False, "error": {"message": f"(no JSON output, exit {proc.returncode}) "
                                                  f"{proc.stderr.strip()[-200:]}",
                                       "line": None, "column": None}}
    items = payload if isinstance(payload, list) else payload.get("diagnostics", [])
    errors = [d for d in items if d.get("severity") == "error"]
    ok = proc.returncode == 0 and not errors
    first = errors[0] if errors else None
    return {"ok": ok, "error": None if first is None else {
        "message": first.get("message"), "line": first.get("line"), "column": first.get("column")}}


def group_key(message: str) -> str:
    """A message with its quoted specifics blanked, so one kind of problem is one group."""
    text = re.sub(r"'[^']*'", "'…'", message or "")
    text = re.sub(r'"[^"]*"', '"…"', text)
    return re.sub(r"\b\d+\b", "N", text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mirror", help="git dir of the namel3ss repository")
    ap.add_argument("ref_python", help="python of the venv where namel3ss is installed")
    ap.add_argument("--out", default="namel3ss_corpus_report.txt", help="report file to write")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--no-docs", action="store_true",
                    help="leave out the ```ai blocks of the repository's Markdown files")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="n3corpus-") as tmp:
        dest = Path(tmp)
        ai_files = extract(args.mirror, dest)
        doc_blocks = [] if args.no_docs else extract_docs(args.mirror, dest)
        files = ai_files + doc_blocks
        theirs = namel3ss_verdicts(args.ref_python, dest, files)
        core = core_verdicts(args.ref_python, dest, files)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            ours = dict(zip(files, pool.map(lambda f: our_check(dest / f), files)))

    parses = [f for f in files if theirs.get(f, {}).get("ok")]
    loads = [f for f in files if theirs.get(f, {}).get("load_ok")]
    accept = [f for f in files if ours[f]["ok"]]
    both = [f for f in parses if ours[f]["ok"]]
    core_only = [f for f in parses if core[f]["core"]]
    core_ok = [f for f in core_only if ours[f]["ok"]]
    core_loads = [f for f in core_only if theirs[f].get("load_ok")]
    core_ok_loads = [f for f in core_loads if ours[f]["ok"]]
    def figures(subset: set[str], label: str) -> list[str]:
        def n(xs):
            return sum(1 for f in xs if f in subset)
        return [
            f"{label}files: {len(subset)}",
            f"{label}namel3ss-parses: {n(parses)}",
            f"{label}core-only (LANGUAGE.md §1–§8, by namel3ss's AST): {n(core_only)}",
            f"{label}core-only that `n3 check` accepts: {n(core_ok)}/{n(core_only)}",
            f"{label}core-only that namel3ss also loads: {n(core_loads)}; "
            f"of those `n3 check` accepts: {n(core_ok_loads)}/{n(core_loads)}",
            f"{label}namel3ss-loads (load_project): {n(loads)}",
            f"{label}we-accept: {n(accept)}",
            f"{label}we-accept among namel3ss-parses: {n(both)}/{n(parses)}",
            f"{label}we-accept among namel3ss-loads: {n(set(both) & set(loads))}/{n(loads)}",
        ]

    counts = figures(set(ai_files), "")
    if doc_blocks:
        counts += figures(set(doc_blocks), "docs ```ai blocks: ")
    rejected_core = []
    for f in core_only:
        if not ours[f]["ok"]:
            e = ours[f]["error"] or {}
            line = f"  {f}  {e.get('line')}:{e.get('column')} {e.get('message')}"
            t = theirs.get(f, {})
            if not t.get("load_ok"):  # e.g. a docs fragment whose records are declared elsewhere
                le = t.get("load_error") or {}
                line += (f"  [namel3ss load_project rejects it too: {le.get('line')}:"
                         f"{le.get('column')} {le.get('message')}]")
            rejected_core.append(line)
    counts += ["core-only files we reject (our first error):"] + (rejected_core or ["  (none)"])
    print("\n".join(counts))

    groups: dict[str, list[str]] = defaultdict(list)
    exact = Counter()
    for f in parses:
        if not ours[f]["ok"]:
            message = ours[f]["error"]["message"] or ""
            groups[group_key(message)].append(f)
            exact[message] += 1
    lines = counts + ["", "Our first error on files (and docs blocks) namel3ss parses, by exact message, most "
                      "common first:"]
    for message, n in sorted(exact.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"{n:4d}  {message}")
    lines += ["", "The same, grouped by message with quoted parts blanked:"]
    for key, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"{len(members):4d}  {key}")
    why = Counter(w for f in parses for w in core[f]["why"])
    lines += ["", "Why files namel3ss parses are not core-only (files per reason):"]
    for reason, n in sorted(why.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"{n:4d}  {reason}")
    lines += ["", "Per file: namel3ss parse / load verdict, core-only, our verdict, our first error:"]
    for f in files:
        t, o = theirs.get(f, {}), ours[f]
        their = ("parses" if t.get("ok") else "REJECTS") + ("+loads" if t.get("load_ok") else "")
        mine = "ok" if o["ok"] else "reject"
        if core[f]["core"]:
            their += " core"
        detail = ""
        if not o["ok"] and o["error"]:
            e = o["error"]
            detail = f"  {e.get('line')}:{e.get('column')} {e.get('message')}"
        if not t.get("ok") and t.get("error"):
            e = t["error"]
            detail += f"  [namel3ss: {e.get('line')}:{e.get('column')} {e.get('message')}]"
        elif not o["ok"] and not t.get("load_ok") and t.get("load_error"):
            # namel3ss's parser alone accepts it; loading it as an app (as we check it) fails
            e = t["load_error"]
            detail += (f"  [namel3ss load_project: {e.get('line')}:{e.get('column')} "
                       f"{e.get('message')}]")
        lines.append(f"{f}  namel3ss={their} ours={mine}{detail}")
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
