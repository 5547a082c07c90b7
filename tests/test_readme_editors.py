"""README's Editors section gives a check-jsonschema pre-commit hook: it must pick out every
training.yaml (and nothing else) and point at the file `n3 schema --write .n3/schemas` writes,
with the hook id check-jsonschema's repository defines. (The hook itself was run with
check-jsonschema 0.39.0 on the examples; CI does not install it.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def hook() -> dict:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if b.startswith("repos:")]
    [repo] = yaml.safe_load(block)["repos"]
    assert repo["repo"] == "https://github.com/python-jsonschema/check-jsonschema"
    assert re.fullmatch(r"\d+\.\d+\.\d+", repo["rev"])
    [entry] = repo["hooks"]
    return entry


def test_the_hook_validates_training_yaml_files_against_the_written_schema():
    entry = hook()
    assert entry["id"] == "check-jsonschema"
    assert entry["args"] == ["--schemafile", ".n3/schemas/training-config.schema.json"]


def test_the_files_pattern_takes_every_training_yaml_and_nothing_else():
    files = re.compile(hook()["files"])  # pre-commit searches the path relative to the repository
    assert [p for p in ("training.yaml", "app/training.yaml", "examples/supportbot/training.yaml")
            if not files.search(p)] == []
    assert [p for p in ("my_training.yaml", "training.yaml.bak", "training.yml", "models_registry.yaml")
            if files.search(p)] == []
