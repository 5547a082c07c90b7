"""Training reports: the metrics JSON, the explain JSON and a self-contained HTML page.

This module holds the data (building, normalising, canonical JSON, schema validation) and
``write_reports``; the page itself is rendered by report_html.py.

``write_reports`` is called by the training pipeline after evaluation, with the report
directory inside its staging area; it writes three files atomically and returns their paths:

    docs/reports/training_metrics_<name>_<version>.json   (schemas/metrics-report.schema.json)
    docs/reports/training_explain_<name>_<version>.json   (schemas/explain-report.schema.json)
    docs/reports/training_report_<name>_<version>.html    (inline SVG, no external assets)

The JSON is canonical: sorted keys, indent 2, UTF-8, trailing newline, floats rounded to six
decimals, no absolute paths and no timestamp but ``created_at``, so the same training run
gives the same bytes everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Mapping

from n3lang.training.artifacts import atomic_write
from n3lang.training.metrics import rnd
from n3lang.training.report_html import render_html

DEFAULT_CREATED_AT = "1970-01-01T00:00:00Z"
REPORT_SUBDIR = Path("docs") / "reports"

# Top-level keys of each JSON report (anything else a caller passes goes under "extra").
MODEL_KEYS = (
    "name", "version", "mode", "base_model", "model_kind", "created_at", "dataset",
    "dataset_snapshot", "n_train", "n_validation", "labels", "config",
)
METRIC_KEYS = (
    "accuracy", "macro_f1", "per_class", "confusion_matrix", "majority_baseline", "history",
    "bleu", "token_f1", "exact_match", "wer", "transcript_accuracy", "ece", "calibration",
    "learning_check", "warnings",
)
EXPLAIN_KEYS = (
    "method", "hashing", "top_features", "examples", "saliency", "time_importance",
    "frequency_importance", "notes",
)
# n_validation may come from either side; metrics wins (it is measured).
_METRICS_ONLY_MODEL_KEYS = ("name", "version", "mode", "base_model", "model_kind", "created_at",
                            "dataset", "dataset_snapshot", "n_train", "n_validation", "config")


def default_report_dir(project_dir: Path) -> Path:
    """``<project>/docs/reports``: where reports land once a training run commits."""
    return Path(project_dir) / REPORT_SUBDIR


def report_paths(report_dir: Path, name: str, version: str) -> dict[str, Path]:
    """The three report paths for ``name`` at ``version`` (keys: metrics, explain, html)."""
    _check_name(name, "name")
    _check_name(version, "version")
    d = Path(report_dir)
    return {
        "metrics": d / f"training_metrics_{name}_{version}.json",
        "explain": d / f"training_explain_{name}_{version}.json",
        "html": d / f"training_report_{name}_{version}.html",
    }


def write_reports(
    report_dir: Path,
    name: str,
    version: str,
    metrics: dict,
    explain: dict,
    model_info: dict,
) -> dict[str, Path]:
    """Write the metrics JSON, explain JSON and HTML report; return ``{metrics, explain, html}``.

    ``report_dir`` need not exist (it is created). Each file is written to a temporary file in
    the same directory, fsynced and renamed into place, so a crash leaves either no file or a
    whole one. Raises ``ValueError`` if an argument does not have the documented shape (a bug
    in the caller, not a user error).

    ``metrics`` (what :func:`n3lang.training.metrics.evaluate` returns, plus ``history``):
        accuracy, macro_f1: float
        per_class: {label: {precision, recall, f1: float, support: int}}
        confusion_matrix: {labels: [str], matrix: [[int]], truncated: bool}
        majority_baseline: {label: str, accuracy: float}
        history: [{epoch: int, loss: float, val_accuracy: float}]  (also accepted:
            {"loss": [...], "val_accuracy": [...]}, one item per epoch)
        n_validation: int
        text adds bleu, token_f1 (and exact_match); audio adds wer, transcript_accuracy.
        ece, calibration: expected calibration error and its reliability table
            (metrics.calibration), when the confidences were measured.
        learning_check: learning.Verdict.to_json() (did the model learn?); warnings: [str]
            sentences for people (shown at the top of the page).
        Without validation rows, accuracy, macro_f1, majority_baseline and ece are None.
        Any other key is kept under "extra".

    ``explain`` (only what applies to the mode; every key optional):
        method: str                       how the explanation was computed, in one sentence
        hashing: {buckets: int, ...}      feature-hashing settings (text)
        top_features: {label: [{feature: str, weight: float, kind: str (e.g. "word 2-gram"),
            bucket: int, ngrams_in_bucket: int (distinct training n-grams sharing that bucket,
            1 = no collision), others: [str] (a few of those other n-grams)}]}   (text)
        examples: [{input: str, target: str, predicted: str, confidence: float,
            contributions: [{feature: str, weight: float, ...}]}]   a few validation rows
        (The hashed form the text handler produces is accepted too: a feature
        ``{"feature": <bucket>, "ngrams": [...], "n_ngrams": n, "weight"|"contribution": w}``
        becomes ``{"feature": ngrams[0], "bucket", "ngrams_in_bucket": n, "others", "weight"}``
        and ``prediction`` becomes ``predicted``.)
        saliency: {label: {...}}          per-class saliency summary (image), e.g.
            {"grid": [[float]], "peak": [row, col], "mean": float}
        time_importance, frequency_importance: [float]   (audio)
        notes: [str]
        Any other key is kept under "extra".

    ``model_info``: name, version, mode ("text" | "image" | "audio"), base_model, model_kind
        (e.g. "classifier" or "retrieval"), created_at (default 1970-01-01T00:00:00Z),
        dataset (path relative to the app; never absolute), dataset_snapshot (sha256),
        n_train, n_validation: int, labels: [str], config: {epochs, learning_rate, seed, ...}.
        Unknown keys are kept under "extra" of the metrics report.
    """
    paths = report_paths(report_dir, name, version)
    metrics_doc = build_metrics_report(name, version, metrics, model_info)
    explain_doc = build_explain_report(name, version, explain, model_info)
    validate_report("metrics-report", metrics_doc)
    validate_report("explain-report", explain_doc)
    page = render_html(metrics_doc, explain_doc)
    Path(report_dir).mkdir(parents=True, exist_ok=True)
    atomic_write(paths["metrics"], canonical_json(metrics_doc))
    atomic_write(paths["explain"], canonical_json(explain_doc))
    atomic_write(paths["html"], page.encode("utf-8"))
    return paths


# ----------------------------------------------------------------------------- documents


def build_metrics_report(name: str, version: str, metrics: Mapping, model_info: Mapping) -> dict:
    """The metrics report document (before serialisation)."""
    if not isinstance(metrics, Mapping):
        raise ValueError("metrics must be a dict")
    if not isinstance(model_info, Mapping):
        raise ValueError("model_info must be a dict")
    doc: dict[str, Any] = {"report": "training_metrics"}
    extra: dict[str, Any] = {}
    for key, value in model_info.items():
        if key in _METRICS_ONLY_MODEL_KEYS:
            doc[key] = value
        elif key != "labels":
            extra[key] = value
    for key, value in metrics.items():
        if key in METRIC_KEYS or key == "n_validation":
            doc[key] = value
        else:
            extra[key] = value
    doc["name"], doc["version"] = name, version
    doc.setdefault("created_at", DEFAULT_CREATED_AT)
    if "history" in doc:
        doc["history"] = _normalize_history(doc["history"])
    else:
        doc["history"] = []
    if extra:
        doc["extra"] = extra
    _check_relative(doc.get("dataset"), "model_info['dataset']")
    return canonical_value(doc)


def build_explain_report(name: str, version: str, explain: Mapping, model_info: Mapping) -> dict:
    """The explain report document (before serialisation)."""
    if not isinstance(explain, Mapping):
        raise ValueError("explain must be a dict")
    doc: dict[str, Any] = {"report": "training_explain", "name": name, "version": version}
    for key in ("mode", "base_model", "model_kind", "created_at"):
        if key in model_info:
            doc[key] = model_info[key]
    doc.setdefault("created_at", DEFAULT_CREATED_AT)
    extra: dict[str, Any] = {}
    for key, value in explain.items():
        if key in EXPLAIN_KEYS:
            doc[key] = value
        else:
            extra[key] = value
    if extra:
        doc["extra"] = extra
    if isinstance(doc.get("top_features"), Mapping):
        doc["top_features"] = {
            str(label): [_normalize_feature(f) for f in feats] if isinstance(feats, (list, tuple)) else feats
            for label, feats in doc["top_features"].items()
        }
    if isinstance(doc.get("examples"), (list, tuple)):
        doc["examples"] = [_normalize_example(ex) for ex in doc["examples"]]
    return canonical_value(doc)


def _normalize_feature(item: Any) -> Any:
    """One feature in the report's shape; also accepts the hashed form
    ``{"feature": <bucket int>, "ngrams": [str], "n_ngrams": int, "collision": bool,
    "weight" | "contribution": float}`` and turns it into readable text with the collision
    disclosed (``bucket``, ``ngrams_in_bucket``, ``others``)."""
    if not isinstance(item, Mapping):
        return item
    out = dict(item)
    if "weight" not in out and "contribution" in out:
        out["weight"] = out.pop("contribution")
    feature = out.get("feature")
    if isinstance(feature, int) and not isinstance(feature, bool):
        grams = [str(g) for g in out.pop("ngrams", None) or []]
        out.setdefault("bucket", feature)
        out["feature"] = grams[0] if grams else f"#{feature}"
        shared = out.pop("n_ngrams", len(grams))
        out["ngrams_in_bucket"] = max(int(shared), 1)
        if len(grams) > 1:
            out["others"] = grams[1:]
        out.pop("collision", None)
    return out


def _normalize_example(ex: Any) -> Any:
    if not isinstance(ex, Mapping):
        return ex
    out = dict(ex)
    if "predicted" not in out and "prediction" in out:
        out["predicted"] = out.pop("prediction")
    if isinstance(out.get("contributions"), (list, tuple)):
        out["contributions"] = [_normalize_feature(c) for c in out["contributions"]]
    return out


def _normalize_history(history: Any) -> list[dict]:
    """History as a list of per-epoch dicts numbered from 1."""
    if isinstance(history, Mapping):
        columns = {k: list(v) for k, v in history.items()}
        n = max((len(v) for v in columns.values()), default=0)
        history = [{k: v[i] for k, v in columns.items() if i < len(v)} for i in range(n)]
    if not isinstance(history, (list, tuple)):
        raise ValueError("metrics['history'] must be a list of per-epoch dicts")
    out = []
    for i, item in enumerate(history, start=1):
        if not isinstance(item, Mapping):
            raise ValueError(f"metrics['history'][{i - 1}] must be a dict")
        entry = dict(item)
        entry.setdefault("epoch", i)
        out.append(entry)
    return out


def canonical_value(value: Any) -> Any:
    """Plain JSON data: numpy scalars/arrays converted, floats rounded, keys made strings."""
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return rnd(value)
    if isinstance(value, PurePosixPath | PureWindowsPath):
        _check_relative(str(value), "a path")
        return value.as_posix()
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if tolist is not None:
        return canonical_value(tolist())
    raise ValueError(f"cannot put a {type(value).__name__} into a JSON report")


def canonical_json(doc: Any) -> bytes:
    """Sorted keys, indent 2, UTF-8 (not escaped), trailing newline."""
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def validate_report(schema_name: str, doc: dict) -> None:
    """Check ``doc`` against ``schemas/<schema_name>.schema.json``; ValueError on mismatch."""
    import jsonschema

    from n3lang.resources import load_schema

    schema = load_schema(schema_name)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors[:10]]
        raise ValueError(f"{schema_name} does not match its schema:\n  " + "\n  ".join(lines))


def _check_name(value: str, what: str) -> None:
    if (not isinstance(value, str) or not value or value.startswith(".") or "/" in value
            or "\\" in value or ".." in value or any(ord(c) < 32 for c in value)):
        raise ValueError(f"report {what} {value!r} cannot be used in a file name")


def _check_relative(path: Any, what: str) -> None:
    if isinstance(path, str) and (PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()):
        raise ValueError(f"{what} is an absolute path ({path!r}); reports store paths relative to the app")
