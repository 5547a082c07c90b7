"""Capability gates: features that run only when the app declares a capability."""

from __future__ import annotations

from n3lang.ast import Program, Span
from n3lang.runtime.errors import CAPABILITY_ERROR, RuntimeFailure

TRAINING = "training"

#: What each gated feature is called in messages.
_FEATURES = {
    "predict": "`predict` with a trained model",
    "ask ai": "`ask ai` with a trained model",
}


def declared(program: Program) -> frozenset[str]:
    return frozenset(program.capabilities)


def require(capabilities: frozenset[str], capability: str, feature: str, span: Span) -> None:
    """Raise a runtime failure naming the capability to add, unless it is declared."""
    if capability in capabilities:
        return
    what = _FEATURES.get(feature, feature)
    raise RuntimeFailure(
        CAPABILITY_ERROR,
        f"{what[0].upper() + what[1:]} needs the '{capability}' capability.",
        span,
        why=f"Running trained models is part of the '{capability}' capability, and this app "
            f"does not declare it.",
        fix=f"Add `{capability}` to the app's `capabilities:` block.",
        example=f'spec is "1.0"\n\ncapabilities:\n  {capability}',
    )
