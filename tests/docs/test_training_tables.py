"""docs/training.md's settings and bases tables are generated from the training-config JSON
Schema and the base catalog (scripts/gen_training_docs.py): a setting or base that changes
without the page fails here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_training_docs", ROOT / "scripts" / "gen_training_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_tables_are_fresh():
    page = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    assert page == _generator().render(page), "docs/training.md is stale: run python scripts/gen_training_docs.py"


def test_every_setting_and_base_has_a_row():
    from n3lang.resources import load_schema
    from n3lang.training.bases import catalog

    page = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    for name in load_schema("training-config")["properties"]:
        assert f"\n| `{name}` |" in page, name
    for base in catalog():
        assert f"\n| `{base.name}` | {base.mode} |" in page, base.name
    assert "| `epochs` | integer | the base's (below) | 1 to 10000 |" in page


def test_a_changed_table_is_noticed():
    gen = _generator()
    page = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    stale = page.replace("| `validation_split` | number | `0.2` |", "| `validation_split` | number | `0.3` |")
    assert stale != page and gen.render(stale) == page
