"""Conformance: each program of tests/conformance/programs behaves as namel3ss recorded.

The expectations were recorded from namel3ss 0.1.0a24 by scripts/record_conformance.py (CI
does not need namel3ss). Where LANGUAGE.md §12 says namel3ss is wrong on purpose, the
expectation's "override" holds our answer. Programs listed in known_failures.txt are
xfail(strict=True): one that starts passing fails the suite until its line is removed.

Summary without pytest: python scripts/record_conformance.py --compare [-v]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import conformance_harness as H  # noqa: E402

KNOWN = H.read_known_failures()
NAMES = H.program_names()


def _params():
    for name in NAMES:
        marks = []
        if name in KNOWN:
            marks.append(pytest.mark.xfail(reason=KNOWN[name] or "known failure", strict=True))
        yield pytest.param(name, id=name, marks=marks)


def test_every_program_has_an_expectation():
    missing = [n for n in NAMES if not (H.EXPECTED / f"{n}.json").exists()]
    assert not missing, f"record them: python scripts/record_conformance.py --missing ({missing})"


def test_known_failures_name_real_programs():
    unknown = sorted(set(KNOWN) - set(NAMES))
    assert not unknown, f"known_failures.txt names programs that do not exist: {unknown}"


def test_overrides_cite_the_language_reference():
    """An override (our answer where we differ from namel3ss on purpose) names the section of
    LANGUAGE.md that decides it: §12 for namel3ss's bugs, §13 for syntax messages LANGUAGE.md
    does not quote, or the section whose text we follow."""
    for name in NAMES:
        path = H.EXPECTED / f"{name}.json"
        if path.exists():
            override = H.read_expected(name).get("override")
            if override is not None:
                assert re.match(r"LANGUAGE\.md §\d+", str(override.get("reason", ""))), name


@pytest.mark.parametrize("name", list(_params()))
def test_conformance(name):
    if not (H.EXPECTED / f"{name}.json").exists():
        pytest.skip("no expectation recorded")
    verdict = H.compare(name)
    assert verdict.passed, "\n".join([f"{name}.ai differs from namel3ss:"] + verdict.differences)


def test_directory_programs_are_found_with_their_files(tmp_path):
    """A directory program is programs/NAME/app.ai; its copy holds every file beside app.ai
    (.namel3ss/tools.yaml, tools/) but not its sidecars (input.json, identity.json, env.json)."""
    name = "s9_spec_tools_call_binding"
    assert name in NAMES and H.program_path(name) == H.PROGRAMS / name / "app.ai"
    assert H.program_label(name) == f"{name}/app.ai"
    app = H.copy_program(name, tmp_path / "copy")
    copied = sorted(p.relative_to(app.parent).as_posix() for p in app.parent.rglob("*") if p.is_file())
    assert copied == [".namel3ss/tools.yaml", "app.ai", "tools/__init__.py", "tools/echo.py"]
    assert H.read_input(name) == {"payload": {"message": "hi"}}


def test_identity_and_env_sidecars_become_the_environment():
    assert H.program_env("s9_spec_identity_defaults") == {"N3_IDENTITY_EMAIL": "user@example.com"}
    env = H.program_env("s9_identity_field_read")
    assert list(env) == ["N3_IDENTITY_JSON"]
    assert json.loads(env["N3_IDENTITY_JSON"]) == {"email": "ada@example.com"}
    assert H.program_env("s1_crlf") == {}
