"""Loading a registered model and predicting with it (used by `n3 predict` and the interpreter)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, cast

import numpy as np

from n3lang import surrogates
from n3lang.training import artifacts, errors, registry, shape
from n3lang.training.files import read_limited
from n3lang.training.single_text import featurizer_for

MAX_METADATA_BYTES = 64 << 20  # metadata.json lists labels; far larger is not n3's


class Predictor:
    """A loaded model: name, version, mode, labels, kind; ``predict(x)`` for one input."""

    def __init__(self, name, version, mode, labels, kind, handler, trainer, base_dir: Path, entry: dict):
        self.name = name
        self.version = version
        self.mode = mode
        self.labels = labels
        self.kind = kind
        self.handler = handler
        self.trainer = trainer
        self.base_dir = base_dir
        self.entry = entry
        self._featurize = featurizer_for(trainer.feature_settings()) if mode == "text" else None

    def proba(self, x) -> np.ndarray:
        try:
            value = self.handler.load_input(x, self.base_dir)
            if self._featurize is not None:
                return self.trainer.proba_one(*self._featurize(value))
            X = self.handler.featurize([value], self.base_dir, self.trainer.feature_settings())
        except UnicodeEncodeError as exc:  # text or a path holding an unpaired surrogate
            raise errors.fail(errors.PREDICT_INPUT, f"input {surrogates.describe(exc.object[exc.start])}",
                              fix=surrogates.FIX)
        return np.asarray(self.trainer.predict_proba(X))[0]

    def ranked(self, x, top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` most probable (label, probability) pairs for one input, most probable
        first, ties in label order."""
        p = self.proba(x)
        k = max(1, top)
        labels = self.labels
        if len(p) <= 64:  # a stable sort of a short Python list beats numpy's call overhead
            probs = p.tolist()
            # reverse=True keeps equal items in their original order, like a stable argsort of -p
            order = sorted(range(len(probs)), key=probs.__getitem__, reverse=True)[:k]
            return [(labels[i], probs[i]) for i in order]
        return [(labels[int(i)], float(p[int(i)])) for i in np.argsort(-p, kind="stable")[:k]]

    def predict(self, x, top: int = 3) -> dict:
        """{"label", "confidence", "top": [{"label", "confidence"}...]} for one input (as
        ``ranked``), confidences rounded to 6 places: the JSON form `n3 predict` prints."""
        tops = [{"label": label, "confidence": round(prob, 6)} for label, prob in self.ranked(x, top)]
        return {"label": tops[0]["label"], "confidence": tops[0]["confidence"], "top": tops}


def _known(entries: list[dict]) -> str:
    names = sorted({f"{e['name']}@{e['version']}" for e in entries})
    return ", ".join(names) if names else "(none registered)"


def find_entry(project_dir: Path, ref: str) -> dict:
    name, version = registry.parse_ref(ref)
    entries = registry.read_entries(project_dir)
    entry = registry.find(entries, name, version)
    if entry is None:
        raise errors.fail(errors.MODEL_NOT_FOUND,
                          f"model {ref!r} is not registered in {registry.REGISTRY_FILE}; known models: {_known(entries)}",
                          registry.REGISTRY_FILE)
    return entry


MAX_LOG2_FEATURES = 30  # 2**30 hashed buckets; n3 trains with 18
MAX_NGRAM = 32


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _feature_settings_problem(settings, n_features=None) -> str | None:
    """What is wrong with a text model's feature settings (trainer.config.feature_settings)."""
    if settings is None:
        return None
    if not isinstance(settings, dict):
        return f"trainer.config.feature_settings must be a mapping, not {shape.kind_of(settings)}"
    log2 = settings.get("n_features_log2", 18)
    if not _is_int(log2) or not 1 <= log2 <= MAX_LOG2_FEATURES:
        return (f"trainer.config.feature_settings.n_features_log2 must be an integer from 1 to "
                f"{MAX_LOG2_FEATURES}, not {shape.short(log2)}")
    if _is_int(n_features) and n_features != 1 << log2:
        return (f"trainer.config.feature_settings.n_features_log2 is {log2}, but trainer.config.n_features is "
                f"{n_features} (they must agree: n_features = 2 ** n_features_log2)")
    for key in ("word_ngrams", "char_ngrams"):
        pair = settings.get(key, [1, 2])
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_int(n) and 0 <= n <= MAX_NGRAM for n in pair)):
            return (f"trainer.config.feature_settings.{key} must be a pair of integers from 0 to {MAX_NGRAM} "
                    f"(shortest, longest), not {shape.short(pair)}")
    for key in ("lowercase", "sublinear_tf"):
        if key in settings and not isinstance(settings[key], bool):
            return f"trainer.config.feature_settings.{key} must be true or false, not {shape.short(settings[key])}"
    return None


def metadata_problem(meta) -> str | None:
    """What is wrong with a model's metadata.json content (already parsed), or None: its shape
    (schemas/metadata.schema.json), non-empty string labels, sane text feature settings."""
    from n3lang.resources import load_schema

    bad = shape.json_problem(meta) if isinstance(meta, (dict, list)) else None
    if bad is None:
        bad = shape.schema_problem(meta, load_schema("metadata"), strict=False)
    if bad is not None:
        path, problem = bad
        return f"{'field ' + shape.where(path) if path else 'the content'} {problem}"
    if not meta["labels"]:
        return "field labels is empty; a model has at least two labels"
    trainer_config = meta["trainer"]["config"]
    if not isinstance(trainer_config, dict):
        return f"field trainer.config must be a mapping, not {shape.kind_of(trainer_config)}"
    if meta["mode"] == "text":
        return _feature_settings_problem(trainer_config.get("feature_settings"), trainer_config.get("n_features"))
    return None


def _output_size(trainer, labels: list[str]) -> int | None:
    """How many classes the loaded model scores (None when it does not say)."""
    bias = getattr(trainer, "b_", None)
    if bias is not None:
        return int(np.asarray(bias).shape[-1])
    for attr in ("n_labels", "n_classes"):
        value = getattr(trainer, attr, None)
        if value is not None:
            return int(value)
    return None


def load_predictor(project_dir: Path, ref: str) -> Predictor:
    """Load ``name`` or ``name@version`` from the project's registry (checks the sha256)."""
    from n3lang.training.modes import get_handler

    project_dir = Path(project_dir)
    entry = find_entry(project_dir, ref)
    label = f"{entry['name']}@{entry['version']}"
    if str(entry.get("status", "active")) == "deprecated":
        line = int(entry.get("_status_line") or entry.get("_line", 1))
        reason = entry.get("status_reason")
        raise errors.fail(errors.MODEL_DEPRECATED,
                          f"model {label} is deprecated ({registry.REGISTRY_FILE} line {line}"
                          + (f": {reason})" if reason else ")"),
                          registry.REGISTRY_FILE, errors.span_at(line))
    model_path = project_dir / entry["artifact_uri"]
    try:
        raw = artifacts.map_file(model_path)
        meta_raw = read_limited(model_path.parent / "metadata.json", MAX_METADATA_BYTES)
    except OSError as exc:
        raise errors.fail(errors.MODEL_CORRUPTED, f"model {label}: cannot read {exc.filename or entry['artifact_uri']} "
                          f"({exc.strerror or exc})",
                          registry.REGISTRY_FILE)
    actual = hashlib.sha256(raw).hexdigest()
    if actual != entry["artifact_sha256"]:
        raise errors.fail(errors.MODEL_CORRUPTED,
                          f"model {label}: sha256 of {entry['artifact_uri']} is {actual}, the registry says "
                          f"{entry['artifact_sha256']}", registry.REGISTRY_FILE)
    if "metadata_sha256" in entry and hashlib.sha256(meta_raw).hexdigest() != entry["metadata_sha256"]:
        raise errors.fail(errors.MODEL_CORRUPTED, f"model {label}: metadata.json does not match the registry",
                          registry.REGISTRY_FILE)
    meta_rel = (Path(entry["artifact_uri"]).parent / "metadata.json").as_posix()

    def corrupted(problem: str) -> errors.DiagnosticError:
        return errors.fail(errors.MODEL_CORRUPTED, f"model {label}: {meta_rel} {problem}", registry.REGISTRY_FILE)

    try:
        meta = json.loads(meta_raw)
    except (ValueError, RecursionError) as exc:
        raise corrupted(f"is not valid JSON ({exc})")
    problem = metadata_problem(meta)
    if problem is not None:
        raise corrupted(problem)
    try:
        tensors, _ = artifacts.parse_safetensors(raw)
        handler = get_handler(meta["mode"])
        trainer = handler.load_trainer(meta["trainer"]["kind"], tensors, meta["trainer"]["config"])
        predictor = Predictor(entry["name"], str(entry["version"]), meta["mode"], meta["labels"],
                              meta["trainer"]["kind"], handler, trainer, project_dir, entry)
        size = _output_size(trainer, meta["labels"])
        if predictor._featurize is not None:  # a text model: score one text, as predict will
            size = len(cast(Any, trainer).proba_one(*predictor._featurize("probe")))  # text trainers
    except errors.DiagnosticError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoding problem is a corrupted model
        raise errors.fail(errors.MODEL_CORRUPTED, f"model {label} cannot be loaded: {exc}", registry.REGISTRY_FILE)
    if size is not None and size != len(meta["labels"]):
        raise corrupted(f"lists {len(meta['labels'])} label(s), but the model in {entry['artifact_uri']} "
                        f"scores {size} classes")
    return predictor


def verify_entry(project_dir: Path, ref: str) -> dict:
    """Recompute the artifact (and metadata) sha256 against the registry; the chain is checked on read."""
    project_dir = Path(project_dir)
    entry = find_entry(project_dir, ref)
    checks = []
    for what, rel, expected in (("model.bin", entry["artifact_uri"], entry["artifact_sha256"]),
                                ("metadata.json", str(Path(entry["artifact_uri"]).parent / "metadata.json"),
                                 entry.get("metadata_sha256"))):
        if expected is None:
            continue
        path = project_dir / rel
        actual = artifacts.sha256_file(path) if path.is_file() else None
        checks.append({"file": Path(rel).as_posix(), "expected": expected, "actual": actual, "match": actual == expected})
    return {"name": entry["name"], "version": str(entry["version"]), "chain": "ok",
            "ok": all(c["match"] for c in checks), "checks": checks}
