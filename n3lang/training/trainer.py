"""The training pipeline: config -> plan (validated; nothing written) -> train -> stage -> commit.

``prepare(project_dir, cfg)`` checks everything (base, mode, name, registry, the whole dataset)
and returns a Plan without writing anything (``--dry-run`` prints it). ``execute(plan)`` fits
the model, evaluates it on the validation rows, writes model.bin + metadata.json + reports into
a staging directory beside the final one (fsynced), then, under the registry lock, checks the
name is still free, renames the model directory into place, moves the reports in and appends
the registry entry last (the commit point). The model dir carries a ``.n3-uncommitted``
marker until its entry is written, so a kill at any moment leaves either no registry entry
(and a marked leftover that the next commit removes under the lock) or the whole model (whose
marker, if still there, the next commit drops). A directory without the marker is never
deleted: n3 did not make it. Reports are listed (with their sha256) in a
``.n3-uncommitted-<name>_<version>`` ledger in report_dir before they are moved in, and the
ledger goes after the append: an unregistered run's listed reports are removed by the next
commit, a registered one's kept; any other file at a report path stops the run before
training (n3 never overwrites it). Outputs stay inside the project unless
``allow_outside_project``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from n3lang import __version__
from n3lang.span import UNKNOWN
from n3lang.training import artifacts, bases, errors, registry
from n3lang.training import config as config_mod
from n3lang.training import dataset as dataset_mod
from n3lang.training.bases import BaseSpec
from n3lang.training.config import TrainingConfig
from n3lang.training.modes import ModeHandler, get_handler

DEFAULT_CREATED_AT = "1970-01-01T00:00:00Z"
DEFAULT_OUTPUT_DIR = "models"
DEFAULT_REPORT_DIR = "docs/reports"
DEFAULT_VALIDATION_SPLIT = 0.2
STAGING_PREFIX = ".staging-"
UNCOMMITTED = ".n3-uncommitted"  # inside a model dir until its registry entry is written
# beside the reports in report_dir until the registry entry is written: ".n3-uncommitted-<name>_<version>"
# lists the report files the run moved in (name -> sha256). Shorter than the longest report name.
REPORTS_LEDGER_PREFIX = UNCOMMITTED + "-"
FORMAT = "n3-model/1"


@dataclass
class Plan:
    """Everything decided before training: resolved settings, the validated data and the split."""

    project_dir: Path
    cfg: TrainingConfig
    base: BaseSpec
    handler: ModeHandler
    name: str
    version: str
    requested: dict
    params: dict
    data: dataset_mod.Dataset
    dataset_path: Path
    val_mask: np.ndarray
    labels: list
    output_dir: Path
    report_dir: Path

    @property
    def model_dir(self) -> Path:
        return self.output_dir / self.name / self.version

    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.project_dir)).as_posix()

    def _searches(self, n_val: int) -> bool:
        """Whether build will choose epochs (and features) on the validation rows: a text
        softmax without epochs given (selection.applies; retrieval, for mostly unique
        targets, does not train in epochs)."""
        from n3lang.training.text_mode import RETRIEVAL_UNIQUE_SHARE

        n_train = len(self.data) - n_val
        return (self.cfg.mode == "text" and self.requested.get("epochs") is None and n_val > 0
                and len(self.labels) <= RETRIEVAL_UNIQUE_SHARE * max(n_train, 1))

    def summary(self) -> dict:
        n_val = int(self.val_mask.sum())
        counts: dict[str, int] = {}
        for t in self.data.targets:
            counts[t] = counts.get(t, 0) + 1
        reports_ = {k: self.rel(self.report_dir / f"training_{k}_{self.name}_{self.version}.{ext}")
                    for k, ext in (("metrics", "json"), ("explain", "json"), ("report", "html"))}
        return {
            "name": self.name,
            "version": self.version,
            "base_model": self.base.name,
            "mode": self.cfg.mode,
            "dataset": self.data.display,
            "dataset_snapshot": self.data.snapshot,
            "rows": len(self.data),
            "train_rows": len(self.data) - n_val,
            "validation_rows": n_val,
            "classes": len(self.labels),
            "class_counts": dict(sorted(counts.items())),
            "config": {"requested": self.requested, "effective": self.params},
            "epochs_chosen_on_validation": self._searches(n_val),
            "paths": {
                "model": self.rel(self.model_dir / "model.bin"),
                "metadata": self.rel(self.model_dir / "metadata.json"),
                "registry": registry.REGISTRY_FILE,
                "metrics_report": reports_["metrics"],
                "explain_report": reports_["explain"],
                "html_report": reports_["report"],
            },
        }


def dataset_location(project_dir: Path, dataset: str) -> tuple[Path, str]:
    """(path to read, path to record) of a dataset setting. Artifacts never hold an absolute
    path: a dataset given by absolute path is recorded relative to the project directory
    (``../shared/rows.jsonl`` for one outside it), so `--verify` finds it again from the
    registry as long as the two folders keep their places."""
    ds_path = Path(dataset)
    if not ds_path.is_absolute():
        return project_dir / ds_path, ds_path.as_posix()
    root = project_dir.resolve()
    try:
        return ds_path, ds_path.resolve().relative_to(root).as_posix()
    except (ValueError, OSError, RuntimeError):
        return ds_path, Path(os.path.relpath(ds_path, root)).as_posix()


def _resolve_dir(project_dir: Path, value: str | None, default: str) -> Path:
    p = Path(value) if value else Path(default)
    return p if p.is_absolute() else project_dir / p


def resolve_params(cfg: TrainingConfig, base: BaseSpec) -> tuple[dict, dict]:
    """(requested, effective) hyperparameters."""
    d = base.defaults
    requested = {
        "model_base": cfg.model_base,
        "dataset": cfg.dataset,
        "epochs": cfg.epochs,
        "learning_rate": cfg.learning_rate,
        "seed": cfg.seed,
        "output_name": cfg.output_name,
        "mode": cfg.mode,
        "validation_split": cfg.validation_split,
    }
    lr = cfg.learning_rate if cfg.learning_rate is not None else float(d.get("learning_rate", 0.5))
    effective = {k: v for k, v in d.items() if k not in ("epochs", "learning_rate", "seed", "validation_split")}
    effective.update({
        "epochs": int(cfg.epochs if cfg.epochs is not None else d.get("epochs", 5)),
        "learning_rate": float(lr) * base.lr_scale,
        "requested_learning_rate": float(lr),
        "lr_scale": base.lr_scale,
        "seed": int(cfg.seed if cfg.seed is not None else d.get("seed", 0)),
        "validation_split": float(cfg.validation_split if cfg.validation_split is not None
                                  else d.get("validation_split", DEFAULT_VALIDATION_SPLIT)),
    })
    if cfg.shards is not None:  # recorded only when given: a run without it keeps its bytes
        requested["shards"] = effective["shards"] = cfg.shards
    return requested, effective


def prepare(project_dir: Path, cfg: TrainingConfig, *, check_registry: bool = True,
            allow_outside_project: bool = False) -> Plan:
    """Validate everything and read the dataset; writes nothing. Raises DiagnosticError.

    ``output_dir`` and ``report_dir`` must lie inside the project directory (after following
    symlinks) unless ``allow_outside_project`` (the `--allow-outside-project` flag) says the
    user means it."""
    if cfg.model_base is None or cfg.dataset is None or cfg.output_name is None:
        raise errors.DiagnosticError(config_mod.missing_required(cfg, None))
    project_dir = Path(project_dir)
    file, span = cfg.where("model_base")
    base = bases.resolve(cfg.model_base, cfg.mode, file, span)
    handler = get_handler(cfg.mode)
    name = cfg.output_name
    if check_registry:
        registry.check_name_free(registry.read_entries(project_dir), name)
    requested, params = resolve_params(cfg, base)
    if cfg.executor == "dask":  # before reading any data: a run that cannot start its tasks stops now
        from n3lang.training import executors

        executors.check(cfg.scheduler, cfg.where("executor"))
    ds_path, display = dataset_location(project_dir, cfg.dataset)
    requested["dataset"] = display
    from n3lang.training.reports import report_paths

    version = config_mod.version_of(name)
    output_dir = _resolve_dir(project_dir, cfg.output_dir, DEFAULT_OUTPUT_DIR)
    report_dir = _resolve_dir(project_dir, cfg.report_dir, DEFAULT_REPORT_DIR)
    if not allow_outside_project:
        for key, where in (("output_dir", output_dir), ("report_dir", report_dir)):
            _check_inside(project_dir, cfg, key, where)
    if check_registry:
        check_model_dir_free(cfg, output_dir / name / version, project_dir)
    # before reading any data: a run must not train for minutes and then fail to write
    _check_output_paths(cfg, {"output_dir": output_dir / name / version,
                              "report_dir": max(report_paths(report_dir, name, version).values(),
                                                key=lambda p: len(p.name))})
    if check_registry:  # after the length checks: a too-long name cannot even be looked up
        check_report_files_free(cfg, report_dir, name, version, project_dir)
    # messages name the file as the user gave it; artifacts record ``display`` (never absolute)
    shown = cfg.dataset if display.startswith("../") and Path(cfg.dataset).is_absolute() else display
    # a sharded run's tasks read their own rows: the inputs are checked here, not kept
    sharded = cfg.mode == "text" and (cfg.shards is not None or cfg.executor == "dask")
    data = dataset_mod.read(ds_path, shown, handler, allow_absolute=Path(cfg.dataset).is_absolute(),
                            seed=params["seed"], validation_split=params["validation_split"], keep_inputs=not sharded)
    data.display = display
    mask = dataset_mod.split_mask(data.fractions, params["validation_split"])
    labels = sorted(set(data.targets))
    return Plan(project_dir, cfg, base, handler, name, version, requested, params, data,
                ds_path, mask, labels, output_dir, report_dir)


def _check_inside(project_dir: Path, cfg: TrainingConfig, key: str, path: Path) -> None:
    """config-invalid at the setting when ``path`` is outside the project directory."""
    root = project_dir.resolve()
    try:
        inside = path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop: not a place to write
        inside = False
    if inside:
        return
    file, span = cfg.where(key)
    default = DEFAULT_OUTPUT_DIR if key == "output_dir" else DEFAULT_REPORT_DIR
    raise errors.fail(errors.CONFIG_INVALID,
                      f"`{key}` {getattr(cfg, key)!r} is outside the project directory {root}: "
                      "n3 writes models and reports inside the project unless told otherwise",
                      file, span, fix=f"Use a folder inside the project (the default is {default}/), or pass "
                      "--allow-outside-project to write there on purpose.",
                      example=f"n3 train --config training.yaml --{key.replace('_', '-')} ../shared/{default} "
                              "--allow-outside-project")


def check_model_dir_free(cfg: TrainingConfig, model_dir: Path, project_dir: Path) -> None:
    """A model directory that exists and that n3 did not leave behind (no UNCOMMITTED marker)
    is the user's: n3 never deletes it, so the run stops before training."""
    if not model_dir.exists() and not model_dir.is_symlink():
        return
    if model_dir.is_dir() and not model_dir.is_symlink() and (model_dir / UNCOMMITTED).is_file():
        return  # an interrupted run's model: cleaned (or adopted) under the registry lock
    file, span = cfg.where("output_name")
    shown = os.path.relpath(model_dir, project_dir)
    raise errors.fail(errors.OUTPUT_NAME_EXISTS,
                      f"{shown} already exists and is not a model n3 registered; n3 never deletes or overwrites "
                      "files it did not make", file, span,
                      fix=f"Move {shown} away (or delete it yourself), or train under another output_name.")


def reports_ledger_path(report_dir: Path, name: str, version: str) -> Path:
    return report_dir / f"{REPORTS_LEDGER_PREFIX}{name}_{version}"


def read_reports_ledger(ledger: Path) -> dict | None:
    """The ledger a run wrote before moving its reports in: {"name", "version", "files":
    {file name: sha256}}; None when it is missing, a symlink or not one n3 wrote."""
    from n3lang.training.files import read_limited

    if ledger.is_symlink() or not ledger.is_file():
        return None
    try:
        doc = json.loads(read_limited(ledger, 1 << 20))
    except (OSError, ValueError, RecursionError):
        return None
    if not (isinstance(doc, dict) and isinstance(doc.get("name"), str) and isinstance(doc.get("version"), str)
            and isinstance(doc.get("files"), dict)):
        return None
    files = {k: v for k, v in doc["files"].items()
             if isinstance(k, str) and isinstance(v, str) and k and "/" not in k and k not in (".", "..")}
    return {"name": doc["name"], "version": doc["version"], "files": files}


def _is_leftover_report(path: Path, ledger: dict | None) -> bool:
    """``path`` is a report file an interrupted n3 run moved in: its ledger lists it with
    exactly these bytes (a file the user has since put there or edited is theirs)."""
    if ledger is None or path.is_symlink() or not path.is_file():
        return False
    want = ledger["files"].get(path.name)
    try:
        return want is not None and artifacts.sha256_file(path) == want
    except OSError:
        return False


def check_report_files_free(cfg: TrainingConfig, report_dir: Path, name: str, version: str,
                            project_dir: Path) -> None:
    """A report file the run would write that already exists and that n3 did not leave behind
    (not listed, with these bytes, in the reports ledger of an interrupted run) is the user's:
    n3 never overwrites it, so the run stops before training. (The name is free, so no
    registered model records a report of this name and version.)"""
    from n3lang.training.reports import report_paths

    ledger = read_reports_ledger(reports_ledger_path(report_dir, name, version))
    for path in report_paths(report_dir, name, version).values():
        try:
            if not path.exists() and not path.is_symlink():
                continue
        except OSError:  # not even looked up (no permission): writing it fails later, as training-failed
            continue
        if _is_leftover_report(path, ledger):
            continue  # an interrupted run's report: cleaned under the registry lock
        file, span = cfg.where("output_name")
        shown = os.path.relpath(path, project_dir)
        raise errors.fail(errors.OUTPUT_NAME_EXISTS,
                          f"{shown} already exists and n3 did not write it (no registered model records it and "
                          "it is not left over from an interrupted n3 run); n3 never deletes or overwrites files "
                          "it did not make", file, span,
                          why="A training run writes its reports under report_dir; n3 never overwrites a file "
                              "it did not write, so the run stops before training.",
                          fix=f"Move {shown} away (or delete it yourself), train under another output_name, or "
                              "set report_dir to another folder.",
                          example=f"mv {shown} {shown}.bak")


def _check_output_paths(cfg: TrainingConfig, targets: dict[str, Path]) -> None:
    """Each path a run will create (the model directory, the longest report file) must be one
    the file system can hold: every existing part a directory, every name short enough."""
    for key, target in targets.items():
        file, span = cfg.where(key)
        problem = None
        for part in (target, *target.parents):
            if len(os.fsencode(part.name)) > 255:
                problem = f"the name {part.name[:40]}... is longer than the 255 bytes a file name may have"
                if cfg.output_name and cfg.output_name in part.name:  # made from the model's name: point at it
                    file, span = cfg.where("output_name")
                break
        if problem is None:
            existing = next((p for p in (target.parent, *target.parent.parents) if p.exists()), None)
            if existing is not None and not existing.is_dir():
                problem = f"{existing} is a file, not a directory"
        if problem:
            raise errors.fail(errors.CONFIG_INVALID, f"cannot write {target}: {problem}", file, span,
                              fix=f"Set `{key}` to a directory (it is created if missing), and keep "
                                  "`output_name` short.")


@contextlib.contextmanager
def _file_system_errors():
    """An OSError while writing the model or reports, as a training-failed diagnostic."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or "the output"
        raise errors.fail(errors.TRAINING_FAILED, f"cannot write {where}: {exc.strerror or exc}; nothing was "
                          "registered", str(where), fix="Check that output_dir and report_dir are directories "
                          "you can write.") from None


def created_at_value() -> str:
    return os.environ.get("N3_TRAIN_CREATED_AT") or DEFAULT_CREATED_AT


@dataclass
class Built:
    """A trained, evaluated model staged on disk (not yet committed)."""

    stage: Path
    entry: dict
    metadata: dict
    report_files: dict
    trainer: object


def build(plan: Plan, stage_parent: Path, *, progress=None, created_at: str | None = None,
          require_learning: bool = False) -> Built:
    """Train, evaluate and write model dir + reports into a new staging dir under stage_parent.

    With ``require_learning``, a model that is not clearly better than always answering the
    most frequent class (learning.check) stops the run with model-did-not-learn before
    anything is written; without it (allow_weak_model, `--verify`) the model is built and its
    metadata and reports carry the warning -- the same bytes either way."""
    from n3lang.training import shards

    created_at = created_at or created_at_value()
    handler, data, labels = plan.handler, plan.data, plan.labels
    label_id = {t: i for i, t in enumerate(labels)}
    y_all = np.fromiter((label_id[t] for t in data.targets), dtype=np.int64, count=len(data))
    tr = np.flatnonzero(~plan.val_mask)
    va = np.flatnonzero(plan.val_mask)
    trainer = handler.make_trainer(plan.base, dict(plan.params), list(labels), y_all[tr])
    runner = shards.Runner.start(plan, trainer, y_all)
    try:
        return _build(plan, stage_parent, trainer, runner, y_all, tr, va, progress, created_at, require_learning)
    finally:
        if runner is not None:
            runner.close()


def _build(plan: Plan, stage_parent: Path, trainer, runner, y_all, tr, va, progress, created_at: str,
           require_learning: bool) -> Built:
    """build() once the trainer is made: ``runner`` (shards.Runner) trains it sharded, or None.
    A sharded run's driver never holds the inputs or features of the dataset: the tasks
    featurize, train and measure (shards.ShardedRows) and explain reads its few rows again."""
    from threadpoolctl import threadpool_limits

    from n3lang.training import learning, selection
    from n3lang.training import metrics as metrics_mod
    from n3lang.training.text_model import HeldRows

    handler, data, labels = plan.handler, plan.data, plan.labels
    y_tr, y_va = y_all[tr], y_all[va]
    dataset_dir = plan.dataset_path.parent
    if runner is None:
        train_inputs, val_inputs = data.inputs_at(tr), data.inputs_at(va)
    # a diverging run is reported by _require_finite, not by numpy's overflow warnings
    with threadpool_limits(limits=1), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        settings = trainer.feature_settings()
        chosen, X_va, measure = None, None, None
        if selection.applies(plan.requested.get("epochs"), trainer, len(va)):
            def make(epochs: int, char_ngrams: list, logit_scale: float):
                params = {**plan.params, "epochs": epochs, "char_ngrams": char_ngrams, "logit_scale": logit_scale}
                return handler.make_trainer(plan.base, params, list(labels), y_tr)

            def features(char_ngrams: list):
                with_chars = {**settings, "char_ngrams": char_ngrams}
                if runner is not None:  # the tasks featurize their shards
                    return None, runner.validation(va, len(tr), with_chars)
                X = handler.featurize(data.inputs_at(range(len(data))), dataset_dir, with_chars)
                return X, HeldRows(X, va)

            # every row featurized once per feature set (features are per row): the held-out
            # fits train and measure on row numbers of it and the refit trains on all of it
            held_fit = None if runner is None else (lambda t, m: runner.fit(t, tr, m, y_va, progress))
            chosen = selection.search(make, features, y_all, tr, va, progress, fit=held_fit)
            trainer, measure = chosen.held_out, chosen.measure
            plan = dataclasses.replace(plan, params={**plan.params, "epochs": chosen.chosen["epochs"]})
            # the stored model: the chosen settings refit on every row, in dataset order
            final = make(chosen.chosen["epochs"], chosen.chosen["char_ngrams"], chosen.chosen["logit_scale"])
            if runner is not None:
                runner.fit(final, np.arange(len(data), dtype=np.int64), None, None, progress)
            else:
                final.fit(chosen.features, y_all, None, None, progress)
                X_va = chosen.features.take(va)
            chosen.features = chosen.measure = None
        else:
            if runner is not None:
                measure = runner.validation(va, len(tr), settings) if len(va) else None
                runner.fit(trainer, tr, measure, y_va, progress)
            else:
                X_va = handler.featurize(val_inputs, dataset_dir, settings)
                X_tr = handler.featurize(train_inputs, dataset_dir, settings)
                trainer.fit(X_tr, y_tr, X_va, y_va, progress)
                del X_tr
            final = trainer
        tensors = final.tensors()
        _require_finite(tensors, trainer.history_ + (final.history_ if final is not trainer else []), plan.params, plan.cfg.where("learning_rate"), plan.base)
        if runner is None:
            pred, confidence = _predict_validation(trainer, X_va, len(va))
        elif measure is not None:
            pred, confidence = measure.stored(trainer)
        else:
            pred, confidence = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        y_true = [labels[i] for i in y_va]
        y_pred = [labels[i] for i in pred]
        train_targets = [labels[i] for i in y_tr]
        verdict = learning.check(y_true, y_pred, train_targets)
        if require_learning and verdict.blocks:  # before the staging dir exists: nothing is written
            raise _not_learned(plan, verdict)
        if runner is None:
            explain = handler.explain(trainer, X_va, y_va, val_inputs, list(labels), train_inputs)
        else:  # the rows explain shows and names n-grams from, read again
            explain = _explain_sharded(handler, trainer, data, tr, va, y_va, list(labels), dataset_dir)
    if len(va):
        metrics = metrics_mod.evaluate(plan.cfg.mode, y_true, y_pred, list(labels), train_targets=train_targets,
                                       confidences=confidence.tolist())
    else:  # validation_split 0: every row trained, nothing to measure (the reports say so)
        metrics = metrics_mod.unmeasured()
    metrics["history"] = [dict(h) for h in trainer.history_]
    metrics["n_validation"] = int(len(va))
    metrics["learning_check"] = verdict.to_json()
    warnings = [w for w in (verdict.warning(),) if w]
    if warnings:
        metrics["warnings"] = warnings

    digests = data.split_digests(plan.val_mask, plan.params["validation_split"])
    kind = trainer.kind
    model_kind = "retrieval" if kind == "retrieval" else "classifier"
    st_meta = {"format": FORMAT, "name": plan.name, "version": plan.version, "mode": plan.cfg.mode,
               "base_model": plan.base.name, "trainer": kind}
    model_bytes = artifacts.safetensors_bytes(tensors, st_meta)
    model_sha = artifacts.sha256_bytes(model_bytes)
    summary_metrics = {
        "accuracy": metrics.get("accuracy"),
        "macro_f1": metrics.get("macro_f1"),
        "majority_baseline": (metrics.get("majority_baseline") or {}).get("accuracy"),
        "ece": metrics.get("ece"),
        "n_train": int(len(tr)),
        "n_validation": int(len(va)),
    }
    for extra in ("bleu", "token_f1", "wer", "transcript_accuracy"):
        if extra in metrics:
            summary_metrics[extra] = metrics[extra]
    metadata = {
        "format": FORMAT,
        "name": plan.name,
        "version": plan.version,
        "base_model": plan.base.name,
        "base": {"name": plan.base.name, "trainer": plan.base.trainer, "lr_scale": plan.base.lr_scale,
                 "adapter_for_hosted_base": plan.base.lr_scale != 1.0},
        "mode": plan.cfg.mode,
        "model_kind": model_kind,
        "trainer": {"kind": kind, "config": final.config()},
        "training": (chosen.to_json(len(data)) if chosen is not None else
                     {"refit": False, "refit_rows": None, "chosen": None}),
        "config": {"requested": plan.requested, "effective": plan.params},
        "labels": list(labels),
        "features": trainer.feature_settings(),
        "dataset": {"path": data.display, "snapshot": data.snapshot, "bytes": data.n_bytes, "rows": len(data),
                    **({"shards": runner.plan_json()} if runner is not None and runner.recorded else {})},
        "split": {
            "rule": "validation iff sha256(f'{seed}:{canonical_row}') / 2**256 < validation_split",
            "seed": plan.params["seed"],
            "validation_split": plan.params["validation_split"],
            "train_rows": int(len(tr)),
            "validation_rows": int(len(va)),
            "train_digest": digests[0],
            "validation_digest": digests[1],
        },
        "metrics": {**summary_metrics, "history": metrics["history"], "learning_check": metrics["learning_check"]},
        "warnings": warnings,
        "artifact": {"file": "model.bin", "format": "safetensors", "sha256": model_sha, "bytes": len(model_bytes),
                     "tensors": {k: {"dtype": str(np.asarray(v).dtype), "shape": list(np.asarray(v).shape)}
                                 for k, v in sorted(tensors.items())}},
        "environment": {"python": platform.python_version(), "numpy": np.__version__, "n3lang": __version__},
        "created_at": created_at,
    }
    meta_bytes = artifacts.canonical_json(metadata)

    stage_parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=stage_parent))
    try:
        return _write_stage(plan, stage, model_bytes, model_sha, meta_bytes, metadata, metrics, explain, final,
                            created_at, model_kind, tr, va)
    except BaseException:  # a failed build leaves nothing behind (the staging dir is n3's own)
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _explain_sharded(handler, trainer, data, tr, va, y_va, labels: list, dataset_dir: Path) -> dict:
    """handler.explain with only what it reads: the example rows (the first validation rows),
    featurized here, and the training rows it names n-grams from."""
    from n3lang.training.text_mode import EXPLAIN_EXAMPLES, GRAM_TABLE_ROWS

    head, grams = va[:EXPLAIN_EXAMPLES], tr[:GRAM_TABLE_ROWS]
    both = np.union1d(head, grams)  # one pass over the file for the two sets of rows
    inputs = dict(zip(both.tolist(), data.inputs_at(both)))
    val_inputs = [inputs[i] for i in head.tolist()]
    X_head = handler.featurize(val_inputs, dataset_dir, trainer.feature_settings())
    return handler.explain(trainer, X_head, y_va[:len(head)], val_inputs, labels, [inputs[i] for i in grams.tolist()])


def _not_learned(plan: Plan, verdict) -> errors.DiagnosticError:
    """model-did-not-learn: what the check found, and the learning rate against the base's scale."""
    from n3lang.training import learning

    fix, example = learning.not_learned_fix(plan.base, plan.params)
    if plan.cfg.learning_rate is not None:  # the setting to change, where it was given
        file, span = plan.cfg.where("learning_rate")
    else:
        file, span = plan.data.display, UNKNOWN
    asked = plan.params.get("requested_learning_rate", plan.params["learning_rate"])
    return errors.fail(errors.MODEL_NOT_LEARNED,
                       f"the model trained with learning rate {learning.rate_text(asked)} ({plan.base.name}, lr_scale "
                       f"{plan.base.lr_scale:g}) is not clearly better than always answering {verdict.label!r}: "
                       f"{verdict.summary()}; nothing was written", file, span, fix=fix, example=example)


def _predict_validation(trainer, X_va, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(label ids, probability of each predicted label) of the validation rows, from the model
    as stored. A trainer may offer ``predict_confidence`` (retrieval does: no n x labels matrix)."""
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if hasattr(trainer, "predict_confidence"):
        ids, conf = trainer.predict_confidence(X_va)
        return np.asarray(ids, dtype=np.int64), np.asarray(conf, dtype=np.float64)
    proba = np.asarray(trainer.predict_proba(X_va), dtype=np.float64)
    ids = proba.argmax(axis=1)
    return ids.astype(np.int64), proba[np.arange(n), ids]


def _write_stage(plan: Plan, stage: Path, model_bytes: bytes, model_sha: str, meta_bytes: bytes, metadata: dict,
                 metrics: dict, explain, trainer, created_at: str, model_kind: str, tr, va) -> Built:
    """Write model.bin, metadata.json and the reports into ``stage``; the Built to commit."""
    from n3lang.training import reports

    data, labels = plan.data, plan.labels
    model_stage = stage / "model"
    model_stage.mkdir()
    artifacts.write_durable(model_stage / "model.bin", model_bytes)
    artifacts.write_durable(model_stage / "metadata.json", meta_bytes)
    # n3's mark on the model dir until the registry entry is written (see commit)
    artifacts.write_durable(model_stage / UNCOMMITTED, f"{plan.name}@{plan.version}\n".encode("utf-8"))
    artifacts.fsync_dir(model_stage)
    model_info = {
        "name": plan.name, "version": plan.version, "mode": plan.cfg.mode, "base_model": plan.base.name,
        "model_kind": model_kind, "created_at": created_at, "dataset": data.display,
        "dataset_snapshot": data.snapshot, "n_train": int(len(tr)), "n_validation": int(len(va)),
        "labels": list(labels),
        "config": {**{k: plan.params[k] for k in ("epochs", "learning_rate", "requested_learning_rate", "seed",
                                                  "validation_split")},
                   "refit": metadata["training"]["refit"], "chosen": metadata["training"]["chosen"]},
    }
    report_files = reports.write_reports(stage / "reports", plan.name, plan.version, metrics, explain, model_info)
    artifacts.fsync_dir(stage)
    entry = {
        "name": plan.name,
        "version": plan.version,
        "base_model": plan.base.name,
        "domain": plan.cfg.mode,
        "status": "active",
        "artifact_uri": plan.rel(plan.model_dir / "model.bin"),
        "artifact_sha256": model_sha,
        "metadata_sha256": artifacts.sha256_bytes(meta_bytes),
        "dataset": data.display,
        "dataset_snapshot": data.snapshot,
        "training_seed": plan.params["seed"],
        "created_at": created_at,
        "metrics": _round_floats({k: v for k, v in metadata["metrics"].items()
                                  if k not in ("history", "learning_check")}),  # numbers only
        "config": {
            "mode": plan.cfg.mode,
            "epochs": plan.requested["epochs"],
            "learning_rate": plan.requested["learning_rate"],
            "validation_split": plan.requested["validation_split"],
            "output_dir": plan.rel(plan.output_dir),
            "report_dir": plan.rel(plan.report_dir),
            "model_kind": model_kind,
            **({"shards": plan.params["shards"]} if "shards" in plan.params else {}),
        },
    }
    return Built(stage, entry, metadata, {k: Path(v) for k, v in report_files.items()}, trainer)


def _round_floats(d: dict) -> dict:
    return {k: (float(f"{v:.6f}") if isinstance(v, float) else v) for k, v in d.items()}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale_staging(parent: Path) -> None:
    """Remove staging dirs of processes that no longer run (crashed trainings)."""
    if not parent.is_dir():
        return
    for p in parent.iterdir():
        if not p.name.startswith(STAGING_PREFIX):
            continue
        try:
            pid = int(p.name[len(STAGING_PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def _interruptions_deferred():
    """Hold Ctrl-C (SIGINT) and SIGTERM while the model is put in place and registered, so an
    interruption lands before (nothing written) or after (registered), never in between; a
    held signal is delivered when the block ends. POSIX main thread only; elsewhere a no-op."""
    held = (signal.SIGINT, signal.SIGTERM)
    can = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if can:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        if can:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def settle_leftovers(output_dir: Path, entries: list[dict], project_dir: Path) -> list[str]:
    """Model dirs a killed run left under ``output_dir`` (they hold the UNCOMMITTED marker):
    a registered one is adopted (the marker goes: the kill came after the registry append,
    the commit point), an unregistered one is removed (n3 made it, nothing refers to it).
    Called under the registry lock, where no other run can be inside its commit window.
    Returns what was removed, relative to the project."""
    removed: list[str] = []
    if not output_dir.is_dir():
        return removed
    registered = {(Path(project_dir) / str(e.get("artifact_uri", ""))).parent.resolve() for e in entries}
    for marker in sorted(output_dir.glob(f"*/*/{UNCOMMITTED}")):
        model_dir = marker.parent
        if model_dir.parent.name.startswith(".") or model_dir.is_symlink() or model_dir.parent.is_symlink():
            continue  # a staging dir (its run is alive, or _clean_stale_staging removes it), or not n3's
        if model_dir.resolve() in registered:
            marker.unlink(missing_ok=True)
            artifacts.fsync_dir(model_dir)
            continue
        _remove_leftover(model_dir, output_dir)
        with contextlib.suppress(OSError):  # the name's folder, when nothing else is in it
            model_dir.parent.rmdir()
        removed.append(os.path.relpath(model_dir, project_dir))
    if removed:
        artifacts.fsync_dir(output_dir)
    return removed


def _remove_leftover(model_dir: Path, output_dir: Path) -> None:
    """Remove a leftover model dir so that a kill midway cannot leave part of it without its
    marker (it would then look like a dir n3 did not make, and stay forever): it is first
    renamed into a staging dir of this process, in one atomic step, and deleted there; a kill
    during the delete leaves a staging dir of a dead process, which the next run removes."""
    trash = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=output_dir))
    os.replace(model_dir, trash / "removed")
    artifacts.fsync_dir(model_dir.parent)
    shutil.rmtree(trash)


def settle_report_leftovers(report_dir: Path, entries: list[dict], project_dir: Path) -> list[str]:
    """Reports a killed run left in ``report_dir`` (listed in a reports ledger): a registered
    run's are adopted (the ledger goes), an unregistered run's are removed -- only the files
    the ledger lists with the bytes it records, never a symlink or a file since changed --
    then the ledger goes. Called under the registry lock. Returns what was removed."""
    removed: list[str] = []
    if not report_dir.is_dir() or report_dir.is_symlink():
        return removed
    for tmp in report_dir.glob(f".{REPORTS_LEDGER_PREFIX}*.tmp"):  # a ledger write cut short
        if tmp.is_file() and not tmp.is_symlink():
            tmp.unlink(missing_ok=True)
    for ledger_path in sorted(report_dir.glob(f"{REPORTS_LEDGER_PREFIX}*")):
        if ledger_path.name.endswith(".tmp"):
            continue
        ledger = read_reports_ledger(ledger_path)
        if ledger is None:
            continue  # not one n3 wrote: left alone
        if registry.find(entries, ledger["name"], ledger["version"]) is None:
            for file_name in sorted(ledger["files"]):
                path = report_dir / file_name
                if _is_leftover_report(path, ledger):
                    path.unlink()
                    removed.append(os.path.relpath(path, project_dir))
        ledger_path.unlink(missing_ok=True)
    artifacts.fsync_dir(report_dir)
    return removed


def _test_pause() -> None:
    """Tests only (N3_TEST_COMMIT_PAUSE seconds): widen the commit window so a kill test can
    land inside it."""
    pause = os.environ.get("N3_TEST_COMMIT_PAUSE")
    if pause:
        import time

        time.sleep(float(pause))


def commit(plan: Plan, built: Built) -> dict:
    """Under the registry lock: name still free -> settle what killed runs left -> reports
    ledger -> model dir into place (still marked UNCOMMITTED) -> reports -> registry entry
    (the commit point) -> marker and ledger removed. A kill before the append leaves a marked, unregistered dir that the next
    commit removes; a kill after it, a registered model whose marker the next commit drops."""
    final = plan.model_dir
    try:
        with _interruptions_deferred(), registry.locked(plan.project_dir):
            entries = registry.read_entries(plan.project_dir)
            registry.check_name_free(entries, plan.name)
            _clean_stale_staging(plan.output_dir)
            for tmp in plan.project_dir.glob(".models_registry.*.tmp"):  # a crashed append's temp file
                tmp.unlink(missing_ok=True)
            settle_leftovers(plan.output_dir, entries, plan.project_dir)
            settle_report_leftovers(plan.report_dir, entries, plan.project_dir)
            # anything still there is the user's (it may have appeared while the model trained)
            check_model_dir_free(plan.cfg, final, plan.project_dir)
            check_report_files_free(plan.cfg, plan.report_dir, plan.name, plan.version, plan.project_dir)
            plan.report_dir.mkdir(parents=True, exist_ok=True)
            ledger = reports_ledger_path(plan.report_dir, plan.name, plan.version)
            artifacts.atomic_write(ledger, artifacts.canonical_json({
                "name": plan.name, "version": plan.version,
                "files": {src.name: artifacts.sha256_file(src) for src in built.report_files.values()}}))
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(built.stage / "model", final)
            artifacts.fsync_dir(final.parent)
            for src in built.report_files.values():
                os.replace(src, plan.report_dir / src.name)
            artifacts.fsync_dir(plan.report_dir)
            _test_pause()
            entry = registry.append(plan.project_dir, built.entry)
            with contextlib.suppress(OSError):  # registered: a marker left here is dropped by the next commit
                (final / UNCOMMITTED).unlink(missing_ok=True)
                artifacts.fsync_dir(final)
            with contextlib.suppress(OSError):  # likewise the reports ledger
                ledger.unlink(missing_ok=True)
                artifacts.fsync_dir(plan.report_dir)
    finally:
        shutil.rmtree(built.stage, ignore_errors=True)
    return entry


def _require_finite(tensors: dict, history: list, params: dict, where: tuple = (), base: BaseSpec | None = None) -> None:
    """Stop with training-failed when training diverged (a loss or a stored weight is inf or
    nan): such a model would predict nothing, and its metrics could not be written."""
    losses = [h.get("loss") for h in history if isinstance(h.get("loss"), float)]
    weights_ok = all(np.isfinite(t).all() for t in tensors.values() if np.asarray(t).dtype.kind == "f")
    if weights_ok and all(math.isfinite(v) for v in losses):
        return
    from n3lang.training import learning

    lr = params["learning_rate"]
    asked = params.get("requested_learning_rate", lr)
    scaled = f", {lr:g} after the base's scaling" if asked != lr else ""
    lower = learning.rate_text(float(f"{asked / 10:.3g}"))
    good = learning.default_rate(base) if base is not None else None
    default = f" ({learning.rate_text(good)} for {base.name})" if base is not None and good is not None else ""
    scale = f" ({learning.scale_words(base, params)})" if base is not None else ""
    raise errors.fail(errors.TRAINING_FAILED,
                      f"training diverged: the {'loss' if weights_ok else 'learned weights'} became infinite or "
                      f"not a number (learning rate {asked:g}{scaled}); nothing was written", *where,
                      fix=f"Lower learning_rate{scale}: try {lower} or less, or leave it unset to use the "
                          f"base's default{default}.",
                      example=f"n3 train --config training.yaml --learning-rate {lower}")


def train(plan: Plan, *, progress=None) -> dict:
    """Build and commit; returns a result summary (the registry entry and paths)."""
    with _file_system_errors():
        built = build(plan, plan.output_dir, progress=progress, require_learning=not plan.cfg.allow_weak_model)
        try:
            entry = commit(plan, built)
        except BaseException:
            shutil.rmtree(built.stage, ignore_errors=True)
            raise
    out = plan.summary()
    out["entry"] = entry
    out["model_kind"] = built.metadata["model_kind"]
    out["metrics"] = built.metadata["metrics"]
    out["warnings"] = built.metadata["warnings"]
    return out


# ------------------------------------------------------------------------------ verify
def verify_retrain(project_dir: Path, ref: str) -> dict:
    """Retrain NAME[@VERSION] from its registry record in a temporary dir; compare every sha256."""
    project_dir = Path(project_dir)
    name, version = registry.parse_ref(ref)
    entries = registry.read_entries(project_dir)
    entry = registry.find(entries, name, version)
    if entry is None:
        known = ", ".join(sorted({e["name"] for e in entries})) or "(none)"
        raise errors.fail(errors.MODEL_NOT_FOUND, f"model {ref!r} is not in {registry.REGISTRY_FILE}; known: {known}",
                          registry.REGISTRY_FILE)
    cfg = _config_of_entry(entry, _requested_of(project_dir, entry))
    plan = prepare(project_dir, cfg, check_registry=False, allow_outside_project=True)
    checks = []
    with tempfile.TemporaryDirectory(prefix="n3-verify-") as tmp:
        built = build(plan, Path(tmp), created_at=str(entry["created_at"]))
        checks.append(_check("dataset_snapshot", entry["dataset_snapshot"], plan.data.snapshot))
        checks.append(_check("model.bin", entry["artifact_sha256"],
                             artifacts.sha256_file(built.stage / "model" / "model.bin")))
        if "metadata_sha256" in entry:
            checks.append(_check("metadata.json", entry["metadata_sha256"],
                                 artifacts.sha256_file(built.stage / "model" / "metadata.json")))
        for src in built.report_files.values():
            existing = plan.report_dir / src.name
            if existing.is_file() and src.suffix == ".json":
                checks.append(_check(plan.rel(existing), artifacts.sha256_file(existing), artifacts.sha256_file(src)))
        shutil.rmtree(built.stage, ignore_errors=True)
    return {"name": name, "version": str(entry["version"]), "ok": all(c["match"] for c in checks), "checks": checks}


def _requested_of(project_dir: Path, entry: dict) -> dict:
    """The settings the run was given (metadata.json's config.requested), when the model's
    metadata.json is there and matches the registry; else {}. Retraining from them, not only
    from the effective values, reproduces metadata.json (it records both)."""
    from n3lang.training.files import read_limited

    try:
        raw = read_limited(project_dir / Path(str(entry["artifact_uri"])).parent / "metadata.json", 64 << 20)
    except (OSError, ValueError, KeyError):
        return {}
    if artifacts.sha256_bytes(raw) != entry.get("metadata_sha256"):
        return {}
    try:
        requested = json.loads(raw)["config"]["requested"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return {}
    return {k: v for k, v in requested.items() if k in config_mod.FIELDS} if isinstance(requested, dict) else {}


def _config_of_entry(entry: dict, requested: dict | None = None) -> TrainingConfig:
    """The training config a registry entry records, checked like any other config: an entry
    that does not record what retraining needs (a hand-written or older entry without
    ``dataset``) or records a value training would refuse is an error at the entry's line."""
    label = f"{entry.get('name')}@{entry.get('version')}"
    where = (registry.REGISTRY_FILE, errors.span_at(int(entry.get("_line", 1))))
    if not isinstance(entry.get("dataset"), str) or not entry["dataset"]:
        raise errors.fail(errors.TRAINING_FAILED,
                          f"cannot retrain {label}: its registry entry (line {entry.get('_line')}) does not record "
                          "the dataset it was trained on", *where,
                          fix="Retrain it under a new name with `n3 train --dataset FILE ...`; entries written by "
                              "`n3 train` always record `dataset`.")
    config = entry.get("config")
    c: dict[str, Any] = config if isinstance(config, dict) else {}
    values = {"model_base": entry.get("base_model"), "dataset": entry["dataset"], "seed": entry.get("training_seed"),
              "output_name": entry.get("name"), "mode": c.get("mode", entry.get("domain"))}
    for key in ("epochs", "learning_rate", "validation_split", "output_dir", "report_dir"):
        if c.get(key) is not None:
            values[key] = c[key]
    if requested:  # as the run was given them: a setting left unset stays unset (the base's default)
        for key in ("seed", "epochs", "learning_rate", "validation_split", "shards"):
            values.pop(key, None)
            if requested.get(key) is not None:
                values[key] = requested[key]
    cfg, problems = config_mod.coerce(values, {k: where for k in values})
    if problems:
        d = problems[0]
        raise errors.fail(errors.TRAINING_FAILED, f"cannot retrain {label}: its registry entry (line "
                          f"{entry.get('_line')}) records a setting training refuses: {d.message}", *where)
    return cfg


def _check(what: str, expected: str, actual: str) -> dict:
    return {"file": what, "expected": expected, "actual": actual, "match": expected == actual}


# ------------------------------------------------------------------------------ app models
def configs_from_app(app) -> list[tuple[str, dict, dict]]:
    """(name, values, origins) for each `model "name":` block of the app."""
    out = []
    for decl in app.models:
        values, origins = {}, {}
        for s in decl.settings:
            key = s.key
            v = _setting_value(s.value)
            if isinstance(v, Decimal):
                v = int(v) if v == int(v) and key in ("epochs", "seed", "shards") else float(v)
            values[key] = v
            origins[key] = (app.display, s.span)
            origins["@" + key] = (app.display, s.span)
        values.setdefault("output_name", decl.name)
        origins.setdefault("output_name", (app.display, decl.name_span))
        out.append((decl.name, values, origins))
    return out


def _setting_value(node):
    """The plain value of a `model` setting: a literal, or a signed number literal (-1); any
    other expression becomes config.Expression, which the config check reports."""
    from n3lang import ast as A

    if isinstance(node, A.Literal):
        return node.value
    if isinstance(node, A.Unary) and isinstance(node.operand, A.Literal) and isinstance(node.operand.value, Decimal):
        return -node.operand.value if node.op == "-" else node.operand.value
    words = {"ListExpr": "a list", "MapExpr": "a map", "Binary": "arithmetic", "Name": "a name",
             "Attribute": "a field of a value"}
    return config_mod.Expression(words.get(type(node).__name__, "a computed value"))
