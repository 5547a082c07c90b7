#!/usr/bin/env python3
"""Write the two generated tables of docs/training.md: the settings (from the JSON Schema of
training.yaml, schemas/training-config.schema.json) and the bases (from models/bases.yaml).

    python scripts/gen_training_docs.py            # rewrite the tables in docs/training.md
    python scripts/gen_training_docs.py --check    # exit 1 when they are stale

Each table sits between ``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->``;
the rest of the page is written by hand. tests/docs/test_training_tables.py runs the same
comparison, so a setting or a base that changes without the page fails the suite.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "training.md"


def _cell(text: str) -> str:
    """Table-cell text: one line, pipes escaped, a word with `<name>` in it as code (so
    Markdown does not read it as an HTML tag)."""
    words = [f"`{w}`" if "<" in w and "`" not in w else w for w in str(text).split()]
    return " ".join(words).replace("|", "\\|")


def _number(v) -> str:
    """A default as it is written in training.yaml (true/false, not Python's True/False)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _allowed(prop: dict) -> str:
    """The range or the allowed values of one setting, in words."""
    if "enum" in prop:
        return ", ".join(f"`{v}`" for v in prop["enum"])
    if prop.get("type") == "boolean":
        return "`true`, `false`"
    parts = []
    if "minimum" in prop and "maximum" in prop:
        parts.append(f"{_number(prop['minimum'])} to {_number(prop['maximum'])}")
    elif "minimum" in prop:
        parts.append(f"at least {_number(prop['minimum'])}")
    elif "maximum" in prop:
        parts.append(f"at most {_number(prop['maximum'])}")
    if "exclusiveMinimum" in prop:
        parts.append(f"more than {_number(prop['exclusiveMinimum'])}")
    if "exclusiveMaximum" in prop:
        parts.append(f"less than {_number(prop['exclusiveMaximum'])}")
    if "maxLength" in prop:
        parts.append(f"at most {prop['maxLength']} characters")
    return ", ".join(parts) or "any"


# settings whose default is not a value the schema can hold
DEFAULT_WORDS = {"scheduler": "`$N3_DASK_SCHEDULER`"}


def settings_table() -> str:
    sys.path.insert(0, str(ROOT))
    from n3lang.resources import load_schema

    schema = load_schema("training-config")
    required = set(schema.get("required", []))
    rows = ["| setting | type | default | allowed | what it does |", "|---|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        kind = "integer" if "integer" in types else "number" if "number" in types else types[0]
        if name in required:
            default = "required"
        elif "default" in prop:
            default = f"`{_number(prop['default'])}`"
        elif name in DEFAULT_WORDS:
            default = DEFAULT_WORDS[name]
        else:
            default = "the base's (below)"
        rows.append(f"| `{name}` | {kind} | {default} | {_cell(_allowed(prop))} | {_cell(prop['description'])} |")
    return "\n".join(rows)


def bases_table() -> str:
    sys.path.insert(0, str(ROOT))
    from n3lang.training.bases import catalog

    rows = ["| base | mode | trains here | epochs | learning_rate | seed | lr_scale | what it is |",
            "|---|---|---|---|---|---|---|---|"]
    for b in catalog():
        d = b.defaults
        local = "yes" if b.trainable else "no"
        cells = [_number(d[k]) if k in d else "-" for k in ("epochs", "learning_rate", "seed")]
        rows.append(f"| `{b.name}` | {b.mode} | {local} | {' | '.join(cells)} | {_number(b.lr_scale)} "
                    f"| {_cell(b.description)} |")
    return "\n".join(rows)


TABLES = {"settings": settings_table, "bases": bases_table}


def render(page: str) -> str:
    """``page`` with every generated table replaced by its current text."""
    for name, make in TABLES.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(\n<!-- end generated: {name} -->)", re.S)
        if not pattern.search(page):
            raise SystemExit(f"{PAGE}: no <!-- generated: {name} --> ... <!-- end generated: {name} --> section")
        page = pattern.sub(lambda m: m[1] + make() + m[2], page)
    return page


def main(argv: list[str]) -> int:
    current = PAGE.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in argv:
        if fresh != current:
            print(f"{PAGE} is stale: run python scripts/gen_training_docs.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(fresh, encoding="utf-8", newline="\n")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
