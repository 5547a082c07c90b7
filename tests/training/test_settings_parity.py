"""One validator for model settings: a `model` block (`n3 check`) and training.yaml (`n3 train`)
give every setting the same verdict, because both go through training.config.check_setting.
The JSON Schema documents exactly the settings the code knows, and never rejects a value the
code accepts (the code is the validator; the schema cannot express ranges of numbers written
as text)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from n3lang.diagnostics import DiagnosticError
from n3lang.frontend import analyze
from n3lang.resources import load_schema
from n3lang.training import config, interface

BASE = {"model_base": "text-base", "dataset": "data/rows.jsonl", "output_name": "demo.model"}

# (key, value, accepted?) - values a user could write in either place, string-typed numbers
# included (YAML 1.1 reads 2e-5 as text, and a block may quote a number).
SAMPLES = [
    ("model_base", "text-base", True), ("model_base", "", False), ("model_base", 3, False),
    ("model_base", True, False),
    ("dataset", "data/rows.jsonl", True), ("dataset", "", False), ("dataset", 5, False),
    ("epochs", 3, True), ("epochs", "3", True), ("epochs", 0, False), ("epochs", -1, False),
    ("epochs", 10001, False), ("epochs", "three", False), ("epochs", 3.5, False), ("epochs", "3.0", False),
    ("epochs", 10**50, False), ("epochs", None, False),
    ("learning_rate", 0.1, True), ("learning_rate", 1, True), ("learning_rate", "2e-5", True),
    ("learning_rate", "0.5", True), ("learning_rate", -1, False), ("learning_rate", "-1", False),
    ("learning_rate", 0, False), ("learning_rate", "abc", False), ("learning_rate", False, False),
    ("seed", 13, True), ("seed", "13", True), ("seed", 0, True), ("seed", -1, False),
    ("seed", 4294967296, False), ("seed", 1.5, False), ("seed", "-1", False),
    ("output_name", "demo.model_v2", True), ("output_name", "../escape", False), ("output_name", "", False),
    ("output_name", ".hidden", False), ("output_name", 7, False),
    ("mode", "text", True), ("mode", "image", True), ("mode", "video", False), ("mode", 1, False),
    ("validation_split", 0.2, True), ("validation_split", "0.5", True), ("validation_split", 1.5, False),
    ("validation_split", 0, True), ("validation_split", "0", True), ("validation_split", -0.1, False),
    ("validation_split", "x", False), ("validation_split", "1", False),
    ("output_dir", "build", True), ("output_dir", None, True), ("output_dir", "", False),
    ("report_dir", "docs/reports", True), ("report_dir", 3, False),
    ("allow_weak_model", True, True), ("allow_weak_model", False, True), ("allow_weak_model", "yes", False),
    ("allow_weak_model", 1, False), ("allow_weak_model", None, False),
    ("epoch", 3, False), ("learnig_rate", 0.1, False),
    ("shards", 4, True), ("shards", "4", True), ("shards", 1, True), ("shards", 0, False), ("shards", 4097, False),
    ("shards", 2.5, False), ("shards", "two", False), ("shards", True, False),
    ("executor", "local", True), ("executor", "dask", True), ("executor", "ray", False), ("executor", 1, False),
    ("scheduler", "tcp://127.0.0.1:8786", True), ("scheduler", "local", True), ("scheduler", "127.0.0.1:8786", False),
    ("scheduler", "", False), ("scheduler", 8786, False),
]


def _ai(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _yaml(value) -> str:
    return "null" if value is None else ("true" if value is True else "false" if value is False else
                                         json.dumps(value) if isinstance(value, str) else str(value))


def _settings(key, value) -> list[tuple[str, object]]:
    return [(k, v) for k, v in BASE.items() if k != key] + [(key, value)]


def check_verdict(tmp: Path, key, value) -> list[str]:
    """Messages of the errors `n3 check` reports on the setting's line of a model block."""
    lines = ['spec is "1.0"', "", "capabilities:", "  training", "", 'model "demo.model":']
    lines += [f"  {k} is {_ai(v)}" for k, v in _settings(key, value)]
    lines += ["", 'flow "demo":', '  return "ok"', ""]
    app = tmp / "app.ai"
    app.write_text("\n".join(lines), encoding="utf-8")
    line = len(lines) - 4  # the setting under test is the block's last line
    diagnostics = list(analyze(app).diagnostics)
    assert all(d.code != "internal-error" for d in diagnostics), diagnostics
    return [d.message for d in diagnostics if d.is_error and d.span.line == line]


def yaml_verdict(tmp: Path, key, value) -> list[str]:
    """Messages of the problems the training config loader reports on the setting's line."""
    lines = [f"{k}: {_yaml(v)}" for k, v in _settings(key, value)]
    path = tmp / "training.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        config.load({}, path)
    except DiagnosticError as exc:
        return [d.message for d in exc.diagnostics if d.span.line == len(lines)]
    return []


@pytest.mark.parametrize("key,value,accepted", SAMPLES, ids=lambda x: repr(x))
def test_same_verdict_from_model_block_and_training_yaml(tmp_path, key, value, accepted):
    from_check = check_verdict(tmp_path, key, value)
    from_yaml = yaml_verdict(tmp_path, key, value)
    assert (not from_check) == (not from_yaml) == accepted, (from_check, from_yaml)
    if key in config.SETTINGS:  # same words too (an unknown key is phrased for its place)
        assert from_check == from_yaml


@pytest.mark.parametrize("key,value,accepted", SAMPLES, ids=lambda x: repr(x))
def test_interface_verdict(key, value, accepted):
    problems = interface.validate_settings(dict(_settings(key, value)))
    assert (not problems) == accepted, problems


def test_schema_properties_are_the_settings_the_code_knows():
    schema = load_schema("training-config")
    assert tuple(schema["properties"]) == config.SETTINGS == interface.setting_names()
    assert tuple(schema["required"]) == config.REQUIRED
    assert set(config.EXAMPLES) == set(config.SETTINGS)
    from n3lang.training.modes import MODES

    assert tuple(schema["properties"]["mode"]["enum"]) == MODES


@pytest.mark.parametrize("key,value,accepted", [s for s in SAMPLES if s[2]], ids=lambda x: repr(x))
def test_schema_accepts_what_the_code_accepts(key, value, accepted):
    instance = {k: v for k, v in _settings(key, value) if v is not None}
    jsonschema.validate(instance, load_schema("training-config"))


def test_missing_settings_are_reported_by_the_same_code():
    problems = interface.validate_settings({"epochs": 3})
    assert [(p.key, p.kind) for p in problems] == [("model_base", "missing"), ("dataset", "missing"),
                                                  ("output_name", "missing")]
