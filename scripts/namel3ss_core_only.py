"""Which .ai files use only the core language (LANGUAGE.md §1–§8)? Runs INSIDE the reference venv.

    REF_PYTHON scripts/namel3ss_core_only.py FILES.json OUT.json

FILES.json is a list of paths. Each file is parsed with namel3ss's own parser
(namel3ss.parser.core.parse, as load_project calls it) and its AST is walked: the file is
core-only when every node is of a core class (below) and the program declares nothing but
spec, capabilities, records and flows (every other Program field keeps the value it has for a
bare `spec is "1.0"`). Flows must have a body (a declarative flow is §9), and no expression may
read `identity` (§9). OUT.json maps each path to {"parses": bool, "core": bool, "why": [...]}
where "why" names what is not core (a node class, a Program field, "identity").

This reads namel3ss's AST as the classification's authority, so a file counts as core-only by
what namel3ss parsed, not by what our parser makes of it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

# AST classes of LANGUAGE.md §1–§8 (module tail . class name), as namel3ss 0.1.0a24 names them.
CORE_CLASSES = {
    "program.Program", "program.Flow",
    "records.RecordDecl", "records.FieldDecl", "records.FieldConstraint",
    # §5 statements
    "statements.Let", "statements.Set", "statements.If", "statements.Repeat",
    "statements.RepeatWhile", "statements.ForEach", "statements.Match", "statements.MatchCase",
    "statements.TryCatch", "statements.Return", "statements.Create", "statements.Find",
    "statements.Update", "statements.UpdateField", "statements.Delete", "statements.Save",
    "statements.LogStmt", "statements.MetricStmt", "statements.OrderList",
    "statements.KeepFirst", "statements.SetStateWith", "statements.StateWithEntry",
    # §6 expressions
    "expressions.Literal", "expressions.VarReference", "expressions.AttrAccess",
    "expressions.StatePath", "expressions.BinaryOp", "expressions.UnaryOp",
    "expressions.Comparison", "expressions.ListExpr", "expressions.MapExpr",
    "expressions.MapEntry", "expressions.ListOpExpr", "expressions.MapOpExpr",
    "expressions.ListMapExpr", "expressions.ListFilterExpr", "expressions.ListReduceExpr",
    "expressions.BuiltinCallExpr", "expressions.IndexExpr", "expressions.ListIndexExpr",
    "expressions.NotExpr", "expressions.BoolOp",
}
# Builtins of §6 that need no §9 feature (has_role/has_permission read identity, secret needs
# secrets + the environment: counted as not core).
CORE_BUILTINS = {"sum", "min", "max", "mean", "median"}
CORE_PROGRAM_FIELDS = {"spec_version", "capabilities", "flows", "records"}


def fields_of(node):
    # vars() first: the parser also sets attributes that are not dataclass fields
    # (app_permissions, pack_allowlist, theme_definition, ...).
    if hasattr(node, "__dict__"):
        return dict(vars(node))
    if dataclasses.is_dataclass(node):
        return {f.name: getattr(node, f.name, None) for f in dataclasses.fields(node)}
    return {}


def walk(node, why: set, seen: set) -> None:
    if id(node) in seen or node is None or isinstance(node, (str, int, float, bool, bytes)):
        return
    seen.add(id(node))
    if isinstance(node, (list, tuple, set, frozenset)):
        for x in node:
            walk(x, why, seen)
        return
    if isinstance(node, dict):
        for x in node.values():
            walk(x, why, seen)
        return
    module = type(node).__module__
    if not module.startswith("namel3ss"):
        return
    name = module.split(".")[-1] + "." + type(node).__name__
    if name not in CORE_CLASSES:
        why.add(name)
    attrs = fields_of(node)
    if name == "expressions.VarReference" and attrs.get("name") == "identity":
        why.add("identity")
    if name == "expressions.AttrAccess" and attrs.get("base") == "identity":
        why.add("identity")
    if name == "expressions.BuiltinCallExpr" and attrs.get("name") not in CORE_BUILTINS:
        why.add(f"builtin {attrs.get('name')}")
    if name == "program.Flow":
        if attrs.get("declarative") or attrs.get("steps"):
            why.add("declarative flow")
        if attrs.get("ai_metadata"):
            why.add("ai flow metadata")
    for key, value in attrs.items():
        if key in ("line", "column"):
            continue
        walk(value, why, seen)


def classify(path: str, baseline: dict) -> dict:
    from namel3ss.parser.core import parse

    try:
        program = parse(Path(path).read_text(encoding="utf-8"), allow_legacy_type_aliases=True)
    except Exception as exc:  # noqa: BLE001
        return {"parses": False, "core": False, "why": [f"namel3ss rejects: {exc}"[:200]]}
    why: set = set()
    for key, value in fields_of(program).items():
        if key in CORE_PROGRAM_FIELDS:
            walk(value, why, set())
        elif repr(value) != baseline.get(key):
            why.add(f"Program.{key}")
    return {"parses": True, "core": not why, "why": sorted(why)}


def main() -> int:
    from namel3ss.parser.core import parse

    files = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    base = parse('spec is "1.0"\n', allow_legacy_type_aliases=True)
    baseline = {k: repr(v) for k, v in fields_of(base).items()}
    out = {f: classify(f, baseline) for f in files}
    Path(sys.argv[2]).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
