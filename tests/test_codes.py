"""One table of every diagnostic code (n3lang/codes.py), and docs/CODES.md generated from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from n3lang import codes
from n3lang.diagnostics import REGISTRY, make

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_codes", ROOT / "scripts" / "gen_codes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_registered_code_is_in_the_table_and_back():
    codes.load_homes()
    assert set(REGISTRY) == set(codes.CODES)


def test_each_code_is_registered_by_its_family_home():
    assert codes.registered_elsewhere() == {}
    assert set(f for f, _ in codes.CODES.values()) == set(codes.FAMILIES)


def test_every_code_has_a_one_line_summary_and_texts():
    for entry in codes.all_codes():
        assert entry.summary and "\n" not in entry.summary and "|" not in entry.summary, entry.code
        assert len(entry.summary) <= 100, entry.code
        assert entry.info.why and entry.info.fix, entry.code


def test_internal_error_is_registered():
    d = make("internal-error", "The checker failed: boom")
    assert d.why == "This is a bug in n3, not in your program."


def test_codes_md_is_fresh():
    current = (ROOT / "docs" / "CODES.md").read_text(encoding="utf-8")
    assert current == _generator().render(), "docs/CODES.md is stale: run python scripts/gen_codes.py"
