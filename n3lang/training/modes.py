"""The mode seam: how text, image and audio plug into one training pipeline.

The pipeline (trainer.py) owns everything mode-independent: config, base catalog, reading the
JSONL file (UTF-8, JSON, "is an object", target field and type), normalisation, the split,
labels, metrics, artifacts, reports, registry. A *mode handler* owns what depends on the kind
of input. A handler is any object with these attributes and methods:

``name: str``
    The mode ("text", "image", "audio").
``input_fields: tuple[str, ...]``
    Keys that may carry the input, in preference order (text: ``("input",)``;
    image: ``("image", "pixels")``; audio: ``("audio",)``). Used in messages.
``check_input(row: dict, ctx: RowContext) -> tuple[object | None, list[Diagnostic]]``
    Validate one row's input (the target is already checked by the pipeline). Return the
    normalised input value (JSON-serialisable: it is part of the canonical row that decides
    the split, so it must be stable - e.g. NFC-stripped text, a dataset-relative path string,
    a nested pixel list) or None, plus every problem found, as diagnostics made with
    ``ctx.problem(message, column=..)`` so they read ``data/x.jsonl:17:5: ...``.
    Files referenced by a row must be checked here (exists, decodable, sample rate...).
``featurize(inputs: list, dataset_dir: Path, settings: dict) -> X``
    Turn normalised inputs (as returned by check_input, or by load_input at predict time)
    into the trainer's input (a numpy array, or any object the trainer understands).
    ``settings`` is ``trainer.feature_settings()`` of the trainer that will consume X
    (``make_trainer`` is called first), so predict time featurizes exactly like training.
``make_trainer(base: BaseSpec, params: dict, labels: list[str], y: np.ndarray) -> Trainer``
    A fresh, unfitted trainer. ``params`` holds the effective hyperparameters (``epochs``,
    ``learning_rate`` already multiplied by the base's ``lr_scale``, ``seed``, plus every key
    of the base's ``defaults`` that the config did not override); ``y`` the training label
    ids (a text handler uses it to pick classifier vs retrieval).
``load_trainer(kind: str, tensors: dict[str, np.ndarray], config: dict) -> Trainer``
    Rebuild a fitted trainer from model.bin's tensors and ``trainer.config()`` (both stored in
    the model directory; ``config`` comes back from metadata.json). The rebuilt trainer must
    have ``predict_proba`` and ``feature_settings()``.
``explain(trainer, X_val, y_val, val_inputs: list, labels: list[str], train_inputs: list) -> dict``
    JSON-serialisable data for the explainability report (text: top n-grams per class and
    per-example contributions; image: saliency summaries; audio: time/frequency importance).
``load_input(value: str, base_dir: Path) -> object``
    Predict-time: turn a user-given value (text, or a file path resolved against base_dir)
    into the same kind of normalised input ``featurize`` accepts; raise DiagnosticError
    (code ``predict-input-invalid``) when it is unusable.

A *trainer* follows scikit-learn's shape (hyperparameters in ``__init__``, learned state ends
in ``_``, all randomness from ``np.random.default_rng(seed)``):

``kind: str``                         e.g. "hashed-softmax", "retrieval", "cnn"
``fit(X, y, X_val, y_val, progress=None) -> self``
    ``progress(epoch, epochs, rows_done, loss)`` may be called during training (stderr bar).
    Sets ``history_``: a list of ``{"epoch": int, "loss": float, "val_accuracy": float}``.
``predict_proba(X) -> np.ndarray``    shape (n, len(labels)), rows sum to 1
``predict_confidence(X) -> (ids, probabilities)``  optional: label ids and the probability of
                                      each; used for the validation metrics (accuracy, calibration)
                                      when present, instead of predict_proba (saves the n x labels
                                      matrix)
``tensors() -> dict[str, np.ndarray]`` learned state for model.bin (little-endian numeric)
``config() -> dict``                  JSON-serialisable hyperparameters for load_trainer
                                      (include the feature settings if load needs them)
``feature_settings() -> dict``        JSON-serialisable settings handed to ``featurize``

Training must be deterministic: same inputs give bit-identical tensors whatever the BLAS
thread count (the pipeline pins BLAS to one thread with threadpoolctl while fitting).

Registering: the text handler is built in. Image and audio handlers live in their own modules
(``n3lang.training.image`` and ``n3lang.training.audio``), which define a module attribute
``HANDLER``; ``get_handler`` imports them lazily on first use. ``register(handler)`` adds any
other handler (tests can register fakes).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from n3lang.diagnostics import Diagnostic
from n3lang.training import errors

MODES = ("text", "image", "audio")

# mode -> module defining HANDLER (imported on first use)
_LAZY = {
    "text": "n3lang.training.text_mode",
    "image": "n3lang.training.image",
    "audio": "n3lang.training.audio",
}
_HANDLERS: dict[str, Any] = {}

Progress = Callable[[int, int, int, float], None]


@dataclass(frozen=True)
class RowContext:
    """Where a row came from: display file name, 1-based line, the raw line text, the
    dataset's directory (media paths are relative to it) and whether absolute paths are allowed."""

    file: str
    line: int
    line_text: str
    dataset_dir: Path
    allow_absolute: bool = False

    def column_of(self, key: str) -> int:
        """1-based column of ``"key"`` in the raw line (1 when not found)."""
        pos = self.line_text.find('"' + key + '"')
        return pos + 1 if pos >= 0 else 1

    def problem(self, message: str, *, key: str | None = None, column: int | None = None,
                fix: str | None = None, example: str | None = None) -> Diagnostic:
        """A ``dataset-row-invalid`` diagnostic at this row (column of ``key`` when given)."""
        col = column if column is not None else (self.column_of(key) if key else 1)
        end = col + (len(key) + 2 if key else 1)
        return errors.error(errors.DATASET_ROW, message, self.file, errors.span_at(self.line, col, end),
                            fix=fix, example=example)


class Trainer(Protocol):
    kind: str
    history_: list

    def fit(self, X, y, X_val, y_val, progress: Progress | None = None) -> "Trainer": ...
    def predict_proba(self, X): ...
    def tensors(self) -> dict: ...
    def config(self) -> dict: ...
    def feature_settings(self) -> dict: ...


class ModeHandler(Protocol):
    name: str
    input_fields: tuple[str, ...]

    def check_input(self, row: dict, ctx: RowContext) -> tuple[Any, list[Diagnostic]]: ...
    def featurize(self, inputs: list, dataset_dir: Path, settings: dict) -> Any: ...
    def make_trainer(self, base, params: dict, labels: list[str], y) -> Trainer: ...
    def load_trainer(self, kind: str, tensors: dict, config: dict) -> Trainer: ...
    def explain(self, trainer, X_val, y_val, val_inputs: list, labels: list[str],
                train_inputs: list) -> dict: ...
    def load_input(self, value: str, base_dir: Path) -> Any: ...


def register(handler: Any) -> Any:
    """Make ``handler`` the handler of ``handler.name``; returns it."""
    _HANDLERS[handler.name] = handler
    return handler


def get_handler(mode: str) -> ModeHandler:
    """The handler for ``mode`` (imports image/audio modules lazily)."""
    if mode not in _HANDLERS:
        module = _LAZY.get(mode)
        if module is None:
            raise errors.fail(errors.MODE_UNSUPPORTED, f"mode {mode!r} is not supported; use one of: {', '.join(MODES)}")
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise errors.fail(errors.MODE_UNSUPPORTED,
                              f"mode {mode!r} is not available in this installation ({exc})") from exc
        handler = getattr(mod, "HANDLER", None)
        if handler is None:
            raise errors.fail(errors.MODE_UNSUPPORTED, f"mode {mode!r} is not available in this installation")
        _HANDLERS.setdefault(mode, handler)
    return _HANDLERS[mode]
