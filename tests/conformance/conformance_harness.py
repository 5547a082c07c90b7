"""Run a conformance program with OUR implementation and compare it with its expectation.

Shared by tests/conformance/test_conformance.py and `scripts/record_conformance.py --compare`.
Only our package and the recorded files are needed (no namel3ss).
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import conformance_canon as C

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
EXPECTED = HERE / "expected"
KNOWN_FAILURES = HERE / "known_failures.txt"

# What is compared: ok always; result/state/records on success; the error's message, line
# and column on failure. `records` maps a record name to its stored records in insertion
# order, each without its `id`/`_id` key (ids are compared through results instead).
# When namel3ss's error has no line (e.g. "Spec declaration is missing."), only the message
# is compared.
COMPARED_ON_SUCCESS = ("result", "state", "records")
COMPARED_ON_ERROR = ("message", "line", "column")


# A program is either one file, programs/NAME.ai, with optional sidecars NAME.input.json
# (the flow input), NAME.identity.json (the identity, a JSON object) and NAME.env.json
# (environment variables such as N3_IDENTITY_ROLE), or a directory, programs/NAME/app.ai,
# with the same sidecars inside it as input.json / identity.json / env.json and any other
# files beside app.ai (.namel3ss/tools.yaml, tools/*.py, modules, included files). Both
# implementations run a directory program on a fresh copy of it (minus the sidecars), so
# nothing either writes (.namel3ss/, __pycache__/) lands in the corpus. The copy's path in an
# error message reads <app_root> on both sides.
SIDECARS = ("input", "identity", "env")


def program_names() -> list[str]:
    files = {p.stem for p in PROGRAMS.glob("*.ai")}
    dirs = {p.parent.name for p in PROGRAMS.glob("*/app.ai")}
    return sorted(files | dirs)


def program_dir(name: str) -> Path | None:
    """The folder of a directory program, else None."""
    folder = PROGRAMS / name
    return folder if (folder / "app.ai").is_file() else None


def program_path(name: str) -> Path:
    folder = program_dir(name)
    return folder / "app.ai" if folder is not None else PROGRAMS / f"{name}.ai"


def program_label(name: str) -> str:
    """How expectations name the program: NAME.ai or NAME/app.ai."""
    return f"{name}/app.ai" if program_dir(name) is not None else f"{name}.ai"


def sidecar(name: str, kind: str) -> Path:
    folder = program_dir(name)
    return folder / f"{kind}.json" if folder is not None else PROGRAMS / f"{name}.{kind}.json"


def copy_program(name: str, dest: Path) -> Path:
    """Copy a directory program (without its sidecars and caches) into dest; app.ai's path."""
    import shutil

    folder = program_dir(name)
    assert folder is not None
    skip = {f"{kind}.json" for kind in SIDECARS}
    shutil.copytree(folder, dest, dirs_exist_ok=True,
                    ignore=lambda d, names: [n for n in names if n == "__pycache__"
                                             or (Path(d) == folder and n in skip)])
    return dest / "app.ai"


def program_env(name: str) -> dict[str, str]:
    """The environment a program runs with: its env sidecar, plus its identity sidecar as
    N3_IDENTITY_JSON (how namel3ss, and n3 run, take an identity; LANGUAGE.md §9)."""
    env: dict[str, str] = {}
    path = sidecar(name, "env")
    if path.exists():
        env.update({str(k): str(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()})
    path = sidecar(name, "identity")
    if path.exists():
        env["N3_IDENTITY_JSON"] = path.read_text(encoding="utf-8").strip()
    return env


def section_of(name: str) -> str:
    m = re.match(r"(s\d+)_", name)
    return m.group(1) if m else "other"


def read_input(name: str):
    path = sidecar(name, "input")
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=Decimal)


def read_expected(name: str) -> dict:
    return C.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))


def read_known_failures() -> dict[str, str]:
    out: dict[str, str] = {}
    if not KNOWN_FAILURES.exists():
        return out
    for raw in KNOWN_FAILURES.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        out[name] = reason.strip(" -#")
    return out


def expected_view(expected: dict) -> dict:
    """What we must produce: namel3ss's recording, with the `override` keys on top (§12)."""
    view = {k: expected.get(k) for k in ("ok", "result", "state", "records", "error")}
    override = expected.get("override")
    if isinstance(override, dict):
        for key, value in override.items():
            if key != "reason":
                view[key] = value
    return view


def run_ours(name: str, flow: str | None) -> dict:
    """Parse, check and run a program with n3lang; the outcome in the recorder's shape."""
    import tempfile

    if program_dir(name) is None:
        return _run_ours_at(name, program_path(name), flow)
    with tempfile.TemporaryDirectory(prefix="n3conf-ours-") as tmp:
        out = _run_ours_at(name, copy_program(name, Path(tmp) / name), flow)
        error = out.get("error")
        if error and isinstance(error.get("message"), str):  # as the recorder does namel3ss's
            for root in {str(Path(tmp) / name), str((Path(tmp) / name).resolve())}:
                error["message"] = error["message"].replace(root, "<app_root>")
        return out


def _run_ours_at(name: str, path: Path, flow: str | None) -> dict:
    from n3lang import ast as A
    from n3lang.checker import check_program
    from n3lang.cli.run_cmd import read_identity
    from n3lang.runtime import SQLiteStore, run_flow
    from n3lang.syntax.loader import load_project

    project = load_project(path)  # as n3 check and n3 run: the files it includes or uses too
    program, diagnostics, source = project.program, project.diagnostics, project.sources[str(path)]
    errors = [d for d in diagnostics if d.is_error]
    if program is not None and not errors:
        errors = [d for d in check_program(program, project_dir=path.parent) if d.is_error]
    if program is None or errors:
        return {"ok": False, "phase": "load", "error": _error(errors[0]) if errors else
                {"message": "no program", "line": None, "column": None}}
    env = program_env(name)
    identity, problem = read_identity(None, environ=env)  # as n3 run reads the environment
    if problem is not None:
        return {"ok": False, "phase": "run", "error": _error(problem)}
    store = SQLiteStore(None)
    try:
        with _environment({k: v for k, v in env.items() if not k.startswith("N3_IDENTITY_")}):
            outcome = run_flow(program, flow, read_input(name), source=source,
                               project_dir=path.parent, store=store, identity=identity)
        if not outcome.ok:
            return {"ok": False, "phase": "run", "error": _error(outcome.error)}
        records = {}
        for decl in program.of_type(A.RecordDecl):
            rows = store.scan(decl.name)
            if rows:
                records[decl.name] = [{k: v for k, v in data.items() if k not in ("id", "_id")}
                                      for _, data in rows]
        return {"ok": True, "phase": "run", "result": outcome.result, "state": outcome.state,
                "records": records}
    finally:
        store.close()


@contextmanager
def _environment(values: dict[str, str]):
    """Other variables of the env sidecar (e.g. secrets) set for the run, then restored."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _error(diagnostic) -> dict:
    line = diagnostic.span.line or None
    column = diagnostic.span.column or None
    return {"message": diagnostic.message, "line": line, "column": column}


@dataclass
class Verdict:
    name: str
    passed: bool
    differences: list[str]


def compare(name: str) -> Verdict:
    expected = read_expected(name)
    want = expected_view(expected)
    try:
        got = run_ours(name, expected.get("flow"))
    except Exception as exc:  # a crash of ours is a difference, not a harness failure
        return Verdict(name, False, [f"our implementation raised {type(exc).__name__}: {exc}"])
    got = C.canon(got)
    diffs: list[str] = []
    if got["ok"] != want["ok"]:
        if want["ok"]:
            e = got.get("error") or {}
            diffs.append(f"namel3ss succeeds; we fail: {e.get('message')!r} at "
                         f"{e.get('line')}:{e.get('column')}")
        else:
            e = want.get("error") or {}
            diffs.append(f"namel3ss fails with {e.get('message')!r} at "
                         f"{e.get('line')}:{e.get('column')}; we succeed")
        return Verdict(name, False, diffs)
    if want["ok"]:
        for key in COMPARED_ON_SUCCESS:
            w, g = want.get(key), got.get(key)
            if key in ("state", "records"):
                w, g = w or {}, g or {}
            if key == "records":  # a record with no rows left is the same as none stored
                w = {k: v for k, v in w.items() if v}
                g = {k: v for k, v in g.items() if v}
            if w != g:
                diffs.append(f"{key}: expected {_short(w)} got {_short(g)}")
    else:
        we, ge = want.get("error") or {}, got.get("error") or {}
        for key in COMPARED_ON_ERROR:
            w, g = we.get(key), ge.get(key)
            if key not in we:
                continue  # an override may name only some of the error's parts
            if key != "message" and we.get("line") is None:
                continue  # namel3ss gives no location for this error: nothing to compare
            if isinstance(w, C.Number):
                w = int(w.text)
            if isinstance(g, C.Number):
                g = int(g.text)
            if w != g:
                diffs.append(f"error {key}: expected {w!r} got {g!r}")
    return Verdict(name, not diffs, diffs)


def _short(value) -> str:
    text = " ".join(C.dumps(value, indent=0).split())
    return text if len(text) <= 300 else text[:297] + "..."
