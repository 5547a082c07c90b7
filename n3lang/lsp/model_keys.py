"""The keys of a `model` block, described by the training-config JSON Schema.

A model block takes exactly the keys of training.yaml (LANGUAGE.md §7); the schema we ship
(`n3 schema training-config`) lists them with a description, type, default and examples, and
tests/training/test_settings_parity.py keeps it equal to the validator's fields. Completion,
hover and the quick fix for an unknown key read it here.
"""

from __future__ import annotations

import json
from decimal import Decimal

from n3lang.resources import load_schema


def ai_literal(value: object) -> str:
    """A JSON value as .ai source: text quoted, numbers without an exponent (2e-05 is 0.00002)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return json.dumps(value)


def model_keys() -> dict[str, dict]:
    """Key -> its schema property, in the schema's order."""
    return dict(load_schema("training-config")["properties"])


def required_keys() -> tuple[str, ...]:
    return tuple(load_schema("training-config").get("required", ()))


def _type_words(prop: dict) -> str:
    kinds = prop.get("type", "")
    if isinstance(kinds, list):
        return " or ".join(kinds)
    return str(kinds)


def key_markdown(key: str) -> str | None:
    """The description of a model-block key as Markdown: description, type, default,
    allowed values, examples, whether required; None for an unknown key."""
    prop = model_keys().get(key)
    if prop is None:
        return None
    parts = [f"**{key}** (model block setting)", "", prop.get("description", "")]
    facts = [f"- type: `{_type_words(prop)}`"]
    if "default" in prop:
        facts.append(f"- default: `{ai_literal(prop['default'])}`")
    if "enum" in prop:
        facts.append("- one of: " + ", ".join(f"`{ai_literal(v)}`" for v in prop["enum"]))
    if prop.get("examples"):
        facts.append("- example: " + ", ".join(f"`{key} is {ai_literal(v)}`" for v in prop["examples"]))
    if key in required_keys():
        facts.append("- required (`output_name` defaults to the block's name)" if key == "output_name"
                     else "- required")
    return "\n".join(parts + [""] + facts)


def key_values(key: str) -> list[str]:
    """Values worth offering after `key is`: the allowed ones, else the examples, as .ai text."""
    prop = model_keys().get(key) or {}
    values = prop.get("enum") or prop.get("examples") or []
    return [ai_literal(v) for v in values]
