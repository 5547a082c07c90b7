"""The base catalog (models/bases.yaml): which model bases can be trained, for which mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from n3lang import resources
from n3lang.training import errors


@dataclass(frozen=True)
class BaseSpec:
    """One catalog entry: name, mode, trainer (None = not trainable), lr_scale, defaults, description."""

    name: str
    mode: str
    trainer: str | None
    lr_scale: float = 1.0
    defaults: dict = field(default_factory=dict)
    description: str = ""

    @property
    def trainable(self) -> bool:
        return self.trainer is not None

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "mode": self.mode,
            "trainer": self.trainer,
            "trainable": self.trainable,
            "lr_scale": self.lr_scale,
            "defaults": dict(self.defaults),
            "description": self.description,
        }


@lru_cache(maxsize=1)
def catalog() -> tuple[BaseSpec, ...]:
    """Every base in the shipped catalog, in file order."""
    data = yaml.safe_load(resources.read_text("models", "bases.yaml"))
    return tuple(
        BaseSpec(
            name=str(b["name"]),
            mode=str(b["mode"]),
            trainer=b.get("trainer"),
            lr_scale=float(b.get("lr_scale", 1.0)),
            defaults=dict(b.get("defaults") or {}),
            description=" ".join(str(b.get("description", "")).split()),
        )
        for b in data["bases"]
    )


def supported(mode: str) -> list[str]:
    """Names of trainable bases for ``mode``."""
    return [b.name for b in catalog() if b.mode == mode and b.trainable]


def find(name: str) -> BaseSpec | None:
    for b in catalog():
        if b.name == name:
            return b
    return None


def resolve(name: str, mode: str, file: str = "<input>", span=None) -> BaseSpec:
    """The trainable base ``name`` for ``mode``, or a DiagnosticError listing the supported bases."""
    kw = {"span": span} if span is not None else {}
    names = supported(mode)
    listing = ", ".join(names) if names else "(none)"
    base = find(name)
    if base is None:
        raise errors.fail(
            errors.BASE_UNSUPPORTED,
            f"model_base {name!r} is not a known base and cannot be trained locally; "
            f"supported bases for mode {mode!r}: {listing}",
            file, example=f"model_base: {names[0] if names else 'text-base'}", **kw)
    if base.mode != mode:
        raise errors.fail(
            errors.BASE_MODE_MISMATCH,
            f"model_base {name!r} is a {base.mode} base and does not fit mode {mode!r}; "
            f"supported bases for mode {mode!r}: {listing}",
            file, example=f"mode: {mode}\nmodel_base: {names[0] if names else 'text-base'}", **kw)
    if not base.trainable:
        raise errors.fail(
            errors.BASE_UNSUPPORTED,
            f"model_base {name!r} cannot be trained locally (unsupported); "
            f"supported bases for mode {mode!r}: {listing}",
            file, example=f"mode: {mode}\nmodel_base: {names[0] if names else 'text-base'}", **kw)
    return base
