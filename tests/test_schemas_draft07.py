"""The shipped JSON Schemas read the same to a draft-07 tool (yaml-language-server,
check-jsonschema, older IDE plugins) as to a 2020-12 one, and are fit for editor hover.

They declare draft 2020-12 (n3's own validation uses it) but keep to the keywords whose meaning
did not change between draft-07 and 2020-12. Allowed are ALLOWED below. Not allowed, because
draft-07 does not know them or reads them differently: ``$defs`` (use ``definitions``: a ``$ref``
JSON pointer reaches either), ``prefixItems``, ``items`` as an array, ``additionalItems``,
``unevaluatedProperties``, ``unevaluatedItems``, ``dependentRequired``, ``dependentSchemas``,
``dependencies``, ``$anchor``, ``$dynamicRef``, ``$dynamicAnchor``, ``$recursiveRef``,
``minContains``, ``maxContains``, ``format`` (assertion in some draft-07 tools, annotation in
2020-12). A ``$ref`` stands alone: draft-07 ignores its siblings.

Every property has a description (what editors show on hover), and every object schema with
``properties`` says ``additionalProperties: false`` so a typo is an error. Objects without
``properties`` are maps whose keys are data (labels, metric names, trainer settings): each is
listed in FREE_FORM with the reason. Objects whose keys each trainer extends (OPEN) keep
``additionalProperties`` open: the reports are written by n3, not by users, and closing them
needs every trainer's keys listed first.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from n3lang.resources import data_path, schema_names

ALLOWED = {
    "$schema", "$id", "$ref", "definitions", "title", "description", "default", "examples",
    "type", "enum", "const", "properties", "required", "additionalProperties", "patternProperties",
    "propertyNames", "minProperties", "maxProperties", "items", "minItems", "maxItems", "uniqueItems",
    "contains", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "anyOf", "oneOf", "allOf", "not", "if", "then", "else",
    "readOnly", "writeOnly",
}
SCHEMA_MAPS = {"properties", "patternProperties", "definitions"}  # name -> subschema
SCHEMA_VALUES = {"items", "additionalProperties", "propertyNames", "contains", "not", "if", "then", "else"}
SCHEMA_LISTS = {"anyOf", "oneOf", "allOf"}

# Objects whose keys are data, not field names: (schema, JSON pointer) -> why no fixed properties.
FREE_FORM = {
    ("explain-report", "/properties/extra"): "whatever further values a trainer reports",
    ("explain-report", "/properties/hashing"): "the text trainer's hashing settings, as the trainer names them",
    ("explain-report", "/properties/top_features"): "keyed by class label",
    ("explain-report", "/properties/saliency"): "keyed by class label",
    ("explain-report", "/properties/saliency/additionalProperties"): "each trainer's own saliency summary",
    ("metadata", "/properties/base"): "the base's catalog entry, whose keys the catalog defines",
    ("metadata", "/properties/trainer"): "hyperparameters of the trainer kind, different per kind",
    ("metadata", "/properties/config"): "requested and effective settings, whose keys are the settings",
    ("metadata", "/properties/features"): "feature settings, different per mode",
    ("metadata", "/properties/dataset"): "dataset facts recorded by the trainer",
    ("metadata", "/properties/split"): "split facts recorded by the trainer",
    ("metadata", "/properties/metrics"): "keyed by metric name",
    ("metadata", "/properties/artifact"): "includes tensors keyed by tensor name",
    ("metadata", "/properties/environment"): "keyed by package name",
    ("metrics-report", "/properties/extra"): "whatever further values a trainer reports",
    ("metrics-report", "/properties/config"): "keyed by setting name",
    ("metrics-report", "/properties/per_class"): "keyed by class label",
    ("registry", "/definitions/model/properties/metrics"): "keyed by metric name",
    ("registry", "/definitions/model/properties/config"): "keyed by setting name",
}

# Objects with properties that stay open: (schema, JSON pointer) -> the keys trainers add.
OPEN = {
    ("explain-report", "/properties/top_features/additionalProperties/items"):
        "the text trainer's hashed-feature keys (e.g. collision) ride along",
    ("explain-report", "/properties/examples/items"):
        "image adds thumbnail; the retrieval model adds nearest_training_row and similarity",
    ("explain-report", "/properties/examples/items/properties/contributions/items"):
        "the text trainer's hashed-feature keys ride along",
    ("metrics-report", "/properties/history/items"): "each trainer reports its own per-epoch values",
}


def subschemas(schema, pointer=""):
    """(pointer, subschema) for ``schema`` and every schema inside it, keyword by keyword."""
    yield pointer, schema
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key in SCHEMA_MAPS:
            for name, sub in value.items():
                yield from subschemas(sub, f"{pointer}/{key}/{name}")
        elif key in SCHEMA_VALUES and not isinstance(value, list):
            yield from subschemas(value, f"{pointer}/{key}")
        elif key in SCHEMA_LISTS:
            for i, sub in enumerate(value):
                yield from subschemas(sub, f"{pointer}/{key}/{i}")


def problems(name: str, schema: dict) -> list[str]:
    found = []
    for pointer, sub in subschemas(schema):
        if not isinstance(sub, dict):
            continue
        where = f"{name}{pointer or '/'}"
        found += [f"{where}: keyword {k!r} is not in the draft-07 allow-list" for k in sub if k not in ALLOWED]
        if isinstance(sub.get("items"), list):
            found.append(f"{where}: 'items' as an array means prefixItems in 2020-12")
        if pointer and ({"$schema", "$id"} & set(sub)):
            found.append(f"{where}: $schema/$id only at the root")
        if "$ref" in sub and set(sub) != {"$ref"}:
            found.append(f"{where}: $ref has siblings, which draft-07 ignores")
        for prop, psub in sub.get("properties", {}).items():
            if not (isinstance(psub, dict) and psub.get("description")):
                found.append(f"{where}: property {prop!r} has no description")
        if "properties" in sub and sub.get("additionalProperties") is not False and (name, pointer) not in OPEN:
            found.append(f"{where}: has properties but not additionalProperties: false")
        if sub.get("type") == "object" and "properties" not in sub and (name, pointer) not in FREE_FORM:
            found.append(f"{where}: object without properties is not a listed free-form map")
    return found


@pytest.mark.parametrize("name", schema_names())
def test_schema_keeps_to_draft07_keywords_and_describes_every_property(name):
    schema = json.loads(data_path("schemas", f"{name}.schema.json").read_text(encoding="utf-8"))
    assert problems(name, schema) == []
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft202012Validator.check_schema(schema)


def test_exception_lists_name_only_existing_schemas():
    for name, pointer in FREE_FORM:
        schema = json.loads(data_path("schemas", f"{name}.schema.json").read_text(encoding="utf-8"))
        sub = dict(subschemas(schema))[pointer]
        assert sub.get("type") == "object" and "properties" not in sub, (name, pointer)
    for name, pointer in OPEN:
        schema = json.loads(data_path("schemas", f"{name}.schema.json").read_text(encoding="utf-8"))
        sub = dict(subschemas(schema))[pointer]
        assert "properties" in sub and "additionalProperties" not in sub, (name, pointer)


@pytest.mark.parametrize("bad, message", [
    ({"$defs": {}}, "x/: keyword '$defs' is not in the draft-07 allow-list"),
    ({"items": {"prefixItems": []}}, "x/items: keyword 'prefixItems' is not in the draft-07 allow-list"),
    ({"properties": {"a": {"unevaluatedProperties": False, "description": "A."}}, "additionalProperties": False},
     "x/properties/a: keyword 'unevaluatedProperties' is not in the draft-07 allow-list"),
    ({"dependentRequired": {}}, "x/: keyword 'dependentRequired' is not in the draft-07 allow-list"),
    ({"anyOf": [{"$anchor": "a"}]}, "x/anyOf/0: keyword '$anchor' is not in the draft-07 allow-list"),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": False}, "x/: property 'a' has no description"),
    ({"properties": {"a": {"description": "A."}}}, "x/: has properties but not additionalProperties: false"),
    ({"items": {"$ref": "#/definitions/a", "description": "A."}}, "x/items: $ref has siblings, which draft-07 ignores"),
    ({"type": "object"}, "x/: object without properties is not a listed free-form map"),
    ({"items": [{}]}, "x/: 'items' as an array means prefixItems in 2020-12"),
])
def test_the_walk_reports_each_kind_of_problem(bad, message):
    assert problems("x", bad) == [message]
