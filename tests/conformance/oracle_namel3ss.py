"""Run .ai programs through namel3ss (the reference). Runs INSIDE the reference venv.

Used by scripts/record_conformance.py and scripts/namel3ss_corpus_report.py; not imported by
the test suite. Reads a JSON job list from the file named by argv[1] and writes a JSON list of
outcomes to the file named by argv[2] (namel3ss prints to stdout on its own; files keep the
channel clean).

Job: {"name", "path", "input", "mode", "dir", "skip", "env"}; mode "run" (default) loads the project the way
namel3ss's own executable spec does (``load_project``) and runs one flow with
``execute_program_flow`` on a fresh MemoryStore; mode "parse" runs namel3ss's parser on the
file's text, then load_project on the file in place (see parse_job).
In mode "run" each program is copied to a fresh temp dir as app.ai, so artifacts namel3ss writes
(.namel3ss/, audit/) never land next to the corpus. With "dir" (a directory program), the whole
folder of `path` is copied (minus the file names in "skip", its sidecars), so .namel3ss/tools.yaml,
tools/*.py, modules and included files come along. "env" holds environment variables set for
the run only (N3_IDENTITY_JSON / N3_IDENTITY_<FIELD>: how namel3ss's spec runner supplies an
identity, through app.spec.json's "env").

Outcome: {"ok", "phase" ("load" | "run"), "flow", "result", "state", "records", "error"}
with numbers tagged {"$num": "text"} so no value passes through a binary float.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
from decimal import Decimal
from pathlib import Path


def wire(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Decimal):
        return {"$num": str(value)}
    if isinstance(value, (int, float)):
        return {"$num": repr(value)}
    if isinstance(value, dict):
        return {str(k): wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire(v) for v in value]
    return {"$repr": f"{type(value).__name__}: {value}"}


def what_happened(text: str) -> str:
    """The 'What happened' line of a namel3ss message, else its first line."""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("What happened:"):
            return line[len("What happened:"):].strip()
    lines = [raw.strip() for raw in text.splitlines() if raw.strip()]
    return lines[0] if lines else ""


def describe(exc: BaseException) -> dict:
    from namel3ss.errors.base import Namel3ssError

    outer = exc
    cause = exc
    details = getattr(exc, "details", None)
    if isinstance(exc, Namel3ssError) and isinstance(details, dict) and details.get("error_id") \
            and exc.__cause__ is not None:
        cause = exc.__cause__  # the run-time wrapper: the real error is its cause
    if isinstance(cause, Namel3ssError):
        raw = cause.message
        message = what_happened(raw)
        python_type = None
    else:
        raw = f"{type(cause).__name__}: {cause}"
        message = raw.splitlines()[0] if raw else type(cause).__name__
        python_type = type(cause).__name__
    full = outer.message if isinstance(outer, Namel3ssError) else str(outer)
    error = {
        "message": message,
        "line": getattr(outer, "line", None),
        "column": getattr(outer, "column", None),
        "raw_message": raw,
        "full_text": full,
    }
    if cause is not outer:
        error["cause_line"] = getattr(cause, "line", None)
        error["cause_column"] = getattr(cause, "column", None)
    if python_type:
        error["python_exception"] = python_type
    return error


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout("the reference did not finish within the time limit")


def pick_flow(program):
    names = [f.name for f in program.flows]
    if len(names) == 1:
        return names[0]
    if "main" in names:
        return "main"
    return names[0] if names else None


def parse_job(job: dict) -> dict:
    """Mode "parse": namel3ss's parser on the file's text (as load_project calls it), then
    load_project on the file where it lies (includes and lowering): two verdicts."""
    from namel3ss.module_loader import load_project
    from namel3ss.parser.core import parse

    src = Path(job["path"])
    out: dict = {"ok": False, "error": None, "load_ok": False, "load_error": None}
    signal.alarm(int(job.get("timeout", 30)))
    here = os.getcwd()
    try:
        try:
            parse(src.read_text(encoding="utf-8"), allow_legacy_type_aliases=True)
            out["ok"] = True
        except Exception as exc:  # noqa: BLE001
            out["error"] = describe(exc)
        os.chdir(src.parent)
        try:
            load_project(src)
            out["load_ok"] = True
        except Exception as exc:  # noqa: BLE001
            out["load_error"] = describe(exc)
        return out
    except Timeout as exc:
        out["error"] = out["error"] or {"message": str(exc), "line": None, "column": None}
        return out
    finally:
        signal.alarm(0)
        os.chdir(here)


def _placeholder(out: dict, workdir: Path) -> dict:
    """The temp dir's path in an error's texts becomes <app_root>, so recordings are stable."""
    error = out.get("error")
    if isinstance(error, dict):
        for key, value in list(error.items()):
            if isinstance(value, str):
                for root in {str(workdir.resolve()), str(workdir)}:
                    value = value.replace(root, "<app_root>")
                error[key] = value
    return out


def run_job(job: dict) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="n3conf-"))
    return _placeholder(_run_job_in(job, workdir), workdir)


def _run_job_in(job: dict, workdir: Path) -> dict:
    from namel3ss.module_loader import load_project
    from namel3ss.runtime.executor.api import execute_program_flow
    from namel3ss.runtime.store.memory_store import MemoryStore

    src = Path(job["path"])
    app = workdir / "app.ai"
    if job.get("dir"):
        skip = set(job.get("skip") or ())
        shutil.copytree(src.parent, workdir, dirs_exist_ok=True,
                        ignore=lambda d, names: [n for n in names if n == "__pycache__"
                                                 or (Path(d) == src.parent and n in skip)])
    else:
        shutil.copyfile(src, app)
    here = os.getcwd()
    os.chdir(workdir)
    env = {str(k): str(v) for k, v in (job.get("env") or {}).items()}
    os.environ.update(env)
    out: dict = {"ok": False, "phase": "load", "flow": None, "result": None, "state": None,
                 "records": None, "error": None}
    signal.alarm(int(job.get("timeout", 30)))
    try:
        try:
            project = load_project(app)
        except Exception as exc:  # noqa: BLE001 - every failure is data here
            out["error"] = describe(exc)
            return out
        program = project.program
        flow = pick_flow(program)
        out["flow"] = flow
        out["phase"] = "run"
        if flow is None:
            out["error"] = {"message": "no flow", "line": None, "column": None,
                            "raw_message": "no flow", "full_text": "no flow"}
            return out
        store = MemoryStore()
        try:
            result = execute_program_flow(program, flow, state=None, input=job.get("input") or {},
                                          store=store)
        except Exception as exc:  # noqa: BLE001
            out["error"] = describe(exc)
            return out
        out["ok"] = True
        out["result"] = wire(result.last_value)
        out["state"] = wire(result.state)
        out["records"] = wire({name: [{k: v for k, v in rec.items() if k not in ("id", "_id")}
                                      for rec in recs]
                               for name, recs in sorted(store._data.items())
                               if not name.startswith("__")})  # e.g. __n3_audit_log: timestamps
        return out
    except Timeout as exc:
        out["error"] = {"message": str(exc), "line": None, "column": None,
                        "raw_message": str(exc), "full_text": str(exc), "python_exception": "Timeout"}
        return out
    finally:
        signal.alarm(0)
        for key in env:
            os.environ.pop(key, None)
        os.chdir(here)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    jobs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    for key in list(os.environ):
        if key.startswith("N3_") or key.startswith("NAMEL3SS_"):
            del os.environ[key]
    signal.signal(signal.SIGALRM, _alarm)
    sys.setrecursionlimit(10000)
    results = []
    for job in jobs:
        try:
            runner = parse_job if job.get("mode") == "parse" else run_job
            results.append({"name": job["name"], **runner(job)})
        except BaseException as exc:  # noqa: BLE001 - keep going whatever happens
            if isinstance(exc, KeyboardInterrupt):
                raise
            results.append({"name": job["name"], "ok": False, "phase": "oracle",
                            "error": {"message": f"{type(exc).__name__}: {exc}", "line": None,
                                      "column": None, "raw_message": str(exc),
                                      "full_text": str(exc)}})
    Path(sys.argv[2]).write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
