"""What the language front end may ask of training: the one seam between the checker and
the training package (tests/test_layers.py holds the checker to it).

Data in, data or a typed error out; nothing here swallows an exception. The heavier training
modules (config pulls in PyYAML, the registry its hash chain) are imported inside the
functions, so importing this module costs nothing until an app declares a model.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:  # pragma: no cover - names for annotations only
    from n3lang.training.config import SettingProblem

REGISTRY_FILE = "models_registry.yaml"  # kept equal to registry.REGISTRY_FILE (tests/training)

_EXPRESSION_WORDS = {"ListExpr": "a list", "MapExpr": "a map", "Binary": "arithmetic", "Name": "a name",
                     "Attribute": "a field of a value"}


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``name@version`` -> (name, version); the version is None when absent or empty. The one
    reader of model references (the registry, inference and the checker all use it)."""
    name, _, version = ref.partition("@")
    return name, (version or None)


def setting_value(key: str, expr: object) -> object:
    """The plain value of a `model` block setting: a literal (a whole number as an int, any
    other number as a float), or a signed number (-1); any other expression becomes
    config.Expression, which validation reports. (`n3 train app.ai` reads blocks with
    trainer.configs_from_app, which makes whole numbers floats except for epochs and seed:
    the same verdicts, since validation reads 3 and 3.0 alike.)"""
    from n3lang import ast as A
    from n3lang.training.config import Expression

    value: object
    if isinstance(expr, A.Literal):
        value = expr.value
    elif isinstance(expr, A.Unary) and isinstance(expr.operand, A.Literal) and isinstance(expr.operand.value, Decimal):
        value = -expr.operand.value if expr.op == "-" else expr.operand.value
    else:
        return Expression(_EXPRESSION_WORDS.get(type(expr).__name__, "a computed value"))
    if isinstance(value, Decimal):
        value = int(value) if value == int(value) else float(value)
    return value


def validate_settings(values: Mapping[str, object]) -> list[SettingProblem]:
    """Every problem of a mapping of model settings (see config.validate_settings)."""
    from n3lang.training.config import validate_settings as validate

    return validate(values)


def setting_names() -> tuple[str, ...]:
    """Every setting a model block or training.yaml may hold."""
    from n3lang.training.config import SETTINGS

    return SETTINGS


def predictor_loader() -> Callable[[Path, str], Any]:
    """The function that loads a registered model for prediction (project_dir, "name[@version]")
    -> predictor; it raises DiagnosticError. Importing it pulls in numpy: ImportError here
    means this installation cannot run models."""
    from n3lang.training.inference import load_predictor

    return load_predictor


def registered_models(project_dir: Path | str) -> list[dict] | None:
    """The models registered in ``project_dir`` (status events folded in), or None when it has
    no registry. Raises DiagnosticError (registry-corrupted) when the registry is unreadable."""
    folder = Path(project_dir)
    if not (folder / REGISTRY_FILE).is_file():
        return None
    from n3lang.training.registry import read_entries

    return [e for e in read_entries(folder) if isinstance(e, dict)]
