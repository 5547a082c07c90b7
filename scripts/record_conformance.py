"""Record what namel3ss does with each conformance program; compare our implementation.

The oracle is namel3ss 0.1.0a24 in its own virtual environment (it needs its own, newer
dependencies, so it never shares ours). Install it once:

    python -m venv ref-venv
    ref-venv/bin/pip install --no-deps --ignore-requires-python namel3ss==0.1.0a24

and point this script at its interpreter with ``--ref-python ref-venv/bin/python`` (or the
environment variable N3_REF_PYTHON; the default is /work/ref-venv/bin/python).

Usage:
    python scripts/record_conformance.py                 # (re-)record every program
    python scripts/record_conformance.py NAME ...        # only these programs
    python scripts/record_conformance.py --missing       # only programs without expectations
    python scripts/record_conformance.py --compare       # run OUR implementation, print
                                                         # "N/M pass" and failures by section
    python scripts/record_conformance.py --compare -v    # ... with the differences
    python scripts/record_conformance.py --write-known-failures   # regenerate the xfail list

Programs are tests/conformance/programs/NAME.ai; NAME.input.json (optional) is the flow input,
NAME.identity.json (optional) the identity (given to both as N3_IDENTITY_JSON), NAME.env.json
(optional) environment variables (e.g. N3_IDENTITY_ROLE). A directory program is
programs/NAME/app.ai with input.json / identity.json / env.json inside and any other files
beside it (.namel3ss/tools.yaml, tools/, modules); it is copied whole for each run.
A program with several flows runs the flow named "main". Each run uses a fresh temp dir and
a fresh in-memory record store (tests/conformance/oracle_namel3ss.py does the running, the
way namel3ss's own tests/spec/test_executable_spec.py does: load_project +
execute_program_flow).

Expectations, tests/conformance/expected/NAME.json (sorted keys, two-space indent):
    program, flow, input, ok, phase ("load": parse/static error, "run": run-time),
    result, state, records ({record name: [records without id/_id], insertion order}),
    error: {message, line, column, raw_message, full_text[, cause_line, cause_column,
            python_exception]}
`message` is the "What happened" line of namel3ss's message; for run-time errors (which
namel3ss wraps in a generic "Runtime error." report) it is the underlying error's message,
and line/column are those of the report namel3ss shows. `full_text` is the whole text.

Numbers are JSON numbers written exactly in one canonical form (no exponent, no trailing
zeros, integers without ".0"); they are compared by exact decimal value. See
tests/conformance/conformance_canon.py.

Overrides (LANGUAGE.md §12: where namel3ss is wrong on purpose): an expectation may carry
"override": {"ok": ..., "result": ..., "error": {...}, "reason": "LANGUAGE.md §12: ..."}.
The keys given there replace the recorded ones when comparing; re-recording keeps them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "tests" / "conformance"
sys.path.insert(0, str(CONF))
sys.path.insert(0, str(ROOT))

import conformance_canon as C  # noqa: E402
import conformance_harness as H  # noqa: E402

DEFAULT_REF_PYTHON = "/work/ref-venv/bin/python"


def run_oracle(ref_python: str, jobs: list[dict]) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="n3conf-jobs-") as tmp:
        jobs_file = Path(tmp) / "jobs.json"
        out_file = Path(tmp) / "out.json"
        jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("N3_", "NAMEL3SS_", "PYTHONPATH"))}
        proc = subprocess.run([ref_python, str(CONF / "oracle_namel3ss.py"), str(jobs_file),
                               str(out_file)], cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0 or not out_file.exists():
            sys.exit(f"the reference run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return json.loads(out_file.read_text(encoding="utf-8"))


def _sidecar_json(name: str, kind: str):
    path = H.sidecar(name, kind)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def record(names: list[str], ref_python: str) -> None:
    jobs = []
    for name in names:
        jobs.append({"name": name, "path": str(H.program_path(name)),
                     "input": _sidecar_json(name, "input") or {},
                     "dir": H.program_dir(name) is not None,
                     "skip": [f"{kind}.json" for kind in H.SIDECARS],
                     "env": H.program_env(name)})
    H.EXPECTED.mkdir(parents=True, exist_ok=True)
    for outcome in run_oracle(ref_python, jobs):
        name = outcome.pop("name")
        path = H.EXPECTED / f"{name}.json"
        doc = {
            "program": H.program_label(name),
            "input": _sidecar_json(name, "input"),
            **({"identity": _sidecar_json(name, "identity")}
               if H.sidecar(name, "identity").exists() else {}),
            **({"env": _sidecar_json(name, "env")} if H.sidecar(name, "env").exists() else {}),
            **{k: outcome.get(k) for k in ("ok", "phase", "flow", "result", "state", "records",
                                            "error")},
        }
        if path.exists():  # keep hand-written overrides (LANGUAGE.md §12)
            old = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=Decimal)
            if "override" in old:
                doc["override"] = old["override"]
        text = C.dumps(doc) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        status = "ok " if doc["ok"] else "ERR"
        err = doc["error"] or {}
        print(f"{status} {name}" + ("" if doc["ok"] else
              f"  [{doc['phase']} {err.get('line')}:{err.get('column')}] {err.get('message')}"))


def compare_all(names: list[str], verbose: bool) -> list:
    verdicts = [H.compare(n) for n in names]
    by_section: dict[str, list] = defaultdict(list)
    for v in verdicts:
        by_section[H.section_of(v.name)].append(v)
    passed = sum(v.passed for v in verdicts)
    print(f"{passed}/{len(verdicts)} pass")
    for section in sorted(by_section, key=lambda s: (len(s), s)):
        vs = by_section[section]
        failing = [v for v in vs if not v.passed]
        print(f"  {section}: {len(vs) - len(failing)}/{len(vs)} pass")
        for v in failing:
            print(f"    FAIL {v.name}")
            if verbose:
                for d in v.differences:
                    print(f"         {d}")
    return verdicts


def write_known_failures(verdicts) -> None:
    old = H.read_known_failures()
    lines = ["# Conformance programs that fail today with our implementation (xfail strict:",
             "# remove a line when its program passes). Format: NAME  reason",
             "# Regenerate: python scripts/record_conformance.py --write-known-failures"]
    for v in verdicts:
        if not v.passed:
            reason = old.get(v.name) or (v.differences[0] if v.differences else "differs")
            lines.append(f"{v.name}  {' '.join(reason.split())[:160]}")
    H.KNOWN_FAILURES.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {H.KNOWN_FAILURES} ({sum(not v.passed for v in verdicts)} entries)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="program names (default: all)")
    ap.add_argument("--ref-python", default=os.environ.get("N3_REF_PYTHON", DEFAULT_REF_PYTHON),
                    help="python of the venv where namel3ss 0.1.0a24 is installed")
    ap.add_argument("--missing", action="store_true", help="record only programs without expectations")
    ap.add_argument("--compare", action="store_true", help="compare our implementation, do not record")
    ap.add_argument("--write-known-failures", action="store_true",
                    help="compare, then rewrite tests/conformance/known_failures.txt")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    names = args.names or H.program_names()
    if args.compare or args.write_known_failures:
        names = [n for n in names if (H.EXPECTED / f"{n}.json").exists()]
        verdicts = compare_all(names, args.verbose)
        if args.write_known_failures:
            write_known_failures(verdicts)
        return 0
    if args.missing:
        names = [n for n in names if not (H.EXPECTED / f"{n}.json").exists()]
    if names:
        record(names, args.ref_python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
