"""The merge policies of an ``orchestration:`` block (namel3ss's
runtime/executor/orchestration/merge.py): its result shapes and failure messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from n3lang import ast as A
from n3lang.runtime.errors import RuntimeFailure


@dataclass(frozen=True)
class BranchOutcome:
    """One branch after its call: name, status ("ok" or "error"), value (when ok), error
    (namel3ss's text of the failure, when not)."""

    name: str
    status: str
    value: Any = None
    error: str | None = None


def failure_text(failure: RuntimeFailure) -> str:
    """A failure as namel3ss's ``str()`` of its error: ``[line L, col C] message``."""
    span = failure.span
    if span.line:
        return f"[line {span.line}, col {span.column or 1}] {failure.message}"
    return failure.message


def merge_settings(node: A.Orchestration) -> tuple[str, list[str] | None]:
    """The `merge:` block's policy and precedence (a list of names, or one name), as checked."""
    settings = {s.key: s.value for s in node.merge or ()}
    policy = settings.get("policy")
    precedence = settings.get("precedence")
    order: list[str] | None = None
    if isinstance(precedence, A.ListExpr):
        order = [str(item.value) for item in precedence.items if isinstance(item, A.Literal)]
    elif isinstance(precedence, A.Literal):
        order = [str(precedence.value)]
    return (str(policy.value) if isinstance(policy, A.Literal) else ""), order


def merge_outcomes(policy: str, branches: list[BranchOutcome],
                   precedence: list[str] | None) -> tuple[Any, str | None]:
    """(the merged value, None) or (None, the failure message) for ``policy``; the checker has
    made sure the policy is known and ``precedence`` names branches."""
    failed = [b.name for b in branches if b.status != "ok"]
    if policy == "collect":
        return [_collect_entry(b) for b in branches], None
    if policy in ("all_ok", "strict"):
        if failed:
            return None, (f"Orchestration merge failed: {policy} requires all branches to "
                          f"succeed. Failed branches: {', '.join(failed)}.")
        if policy == "all_ok":
            return [b.value for b in branches], None
        return {b.name: b.value for b in branches}, None
    if policy == "first_ok":
        chosen = next((b for b in branches if b.status == "ok"), None)
        if chosen is None:
            return None, "Orchestration merge failed: first_ok requires at least one successful branch."
        return chosen.value, None
    # prefer: the precedence first, then the other branches in their order
    by_name = {b.name: b for b in branches}
    order = list(precedence or ()) + [b.name for b in branches if b.name not in (precedence or ())]
    chosen = next((by_name[n] for n in order if n in by_name and by_name[n].status == "ok"), None)
    if chosen is None:
        return None, "Orchestration merge failed: prefer requires at least one successful branch."
    return chosen.value, None


def _collect_entry(branch: BranchOutcome) -> dict[str, Any]:
    if branch.status == "ok":
        return {"branch": branch.name, "status": "ok", "value": branch.value}
    return {"branch": branch.name, "status": "error", "error_type": "Namel3ssError",
            "error_message": branch.error or "Unknown error."}
