"""Every example's training.yaml starts with a yaml-language-server modeline whose $schema is a
path relative to the file that reaches the shipped training-config schema (works offline, in a
checkout, with no setting), and the file is valid under that schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "# yaml-language-server: $schema="
FILES = sorted((ROOT / "examples").glob("*/training.yaml"))


def test_there_are_examples():
    assert [f.parent.name for f in FILES] == ["commands", "digits", "supportbot"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.parent.name)
def test_line_1_names_the_schema_relative_to_the_file(path):
    line1 = path.read_text(encoding="utf-8").splitlines()[0]
    assert line1 == PREFIX + "../../schemas/training-config.schema.json"
    target = (path.parent / line1[len(PREFIX):]).resolve()
    assert target == ROOT / "schemas" / "training-config.schema.json"
    jsonschema.Draft202012Validator(json.loads(target.read_text(encoding="utf-8"))).validate(
        yaml.safe_load(path.read_text(encoding="utf-8")))
