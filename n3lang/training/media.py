"""Helpers shared by the media modes (image and audio): the error type for a media input,
resolving a dataset-relative media path safely, checking a media file before it is read,
and the wrapper trainer around :class:`n3lang.training.nets.NetClassifier`.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any, Callable

import numpy as np

from n3lang.training.nets import F32, NetClassifier


class MediaError(ValueError):
    """A media input that cannot be used; the message reads after the field name."""


# ----------------------------------------------------------------------------- paths
def resolve_media_path(value: str, dataset_dir: Path, allow_absolute: bool = False) -> Path:
    """The file a dataset-relative media path names; raises MediaError when it is not allowed.

    Relative paths are resolved against the dataset's directory and may not leave it (``..``
    or symlinks pointing outside); absolute paths only when ``allow_absolute``.
    """
    if not value.strip():
        raise MediaError("is an empty path")
    if "\x00" in value:
        raise MediaError("contains a NUL character")
    p = Path(value)
    base = Path(dataset_dir).resolve()
    if p.is_absolute() or value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        if not allow_absolute:
            raise MediaError(f"path {value!r} is absolute; give a path relative to the dataset file")
        return p
    try:
        target = (base / p).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.10-3.12)
        raise MediaError(f"path {short_path(value)} cannot be followed: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        target.relative_to(base)
    except ValueError:
        raise MediaError(f"path {short_path(value)} escapes the dataset's directory") from None
    return target


def short_path(value: str) -> str:
    """A path for a message, cut to 80 characters."""
    return repr(value if len(value) <= 80 else value[:77] + "...")


def check_file(path: Path, shown: str, max_bytes: int) -> None:
    """MediaError unless ``path`` is a non-empty regular file of at most ``max_bytes``."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise MediaError(f"file {short_path(shown)} does not exist") from None
    except (OSError, ValueError) as exc:  # a symlink loop, a name too long, ...
        raise MediaError(f"file {short_path(shown)} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise MediaError(f"path {short_path(shown)} is not a file")
    size = info.st_size
    if size == 0:
        raise MediaError(f"file {shown!r} is empty")
    if size > max_bytes:
        raise MediaError(f"file {shown!r} is {size} bytes, over the {max_bytes // (1024 * 1024)} MiB limit")


# ----------------------------------------------------------------------------- trainer
class MediaNetTrainer:
    """Wraps NetClassifier for the pipeline: standardises inputs, adapts progress, serialises.

    ``settings`` are the feature settings handed to featurize (the image layout, or the audio
    feature parameters); the pipeline keeps them in metadata so prediction featurizes alike.
    """

    def __init__(self, kind: str = "cnn", conv=(16, 32), hidden=(128,), epochs: int = 10,
                 learning_rate: float = 0.002, batch_size: int = 32, weight_decay: float = 1e-4,
                 augment_shift: int = 0, seed: int = 0, settings: dict | None = None,
                 n_classes: int | None = None):
        self.kind = kind
        self.conv = tuple(int(c) for c in conv)
        self.hidden = tuple(int(h) for h in hidden)
        self.epochs = int(epochs)
        self.learning_rate = float(learning_rate)
        self.batch_size = int(batch_size)
        self.weight_decay = float(weight_decay)
        self.augment_shift = int(augment_shift)
        self.seed = int(seed)
        self.settings = settings if settings is not None else {}
        self.n_classes = n_classes

    def fit(self, X, y, X_val=None, y_val=None, progress: Callable | None = None) -> "MediaNetTrainer":
        X = np.asarray(X, dtype=F32)
        # channel-wise standardisation from the training rows (float64 sums, fixed order)
        axes = tuple(range(X.ndim - 1))
        self.mean_ = X.astype(np.float64).mean(axis=axes).astype(F32)
        std = X.astype(np.float64).std(axis=axes)
        self.std_ = np.where(std > 1e-6, std, 1.0).astype(F32)
        Xv = None if X_val is None or len(X_val) == 0 else self._norm(X_val)

        def report(rec: dict) -> None:
            if progress is not None:
                progress(rec["epoch"], rec["epochs"], rec["rows"] * rec["epoch"], rec["loss"])

        self.net_ = NetClassifier(
            kind=self.kind, conv=self.conv, hidden=self.hidden, epochs=self.epochs,
            learning_rate=self.learning_rate, batch_size=self.batch_size,
            weight_decay=self.weight_decay, augment_shift=self.augment_shift, seed=self.seed,
        ).fit(self._norm(X), y, n_classes=self.n_classes, X_val=Xv,
              y_val=None if Xv is None else np.asarray(y_val), progress=report)
        self.history_ = list(self.net_.history_)
        return self

    def _norm(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=F32)
        return ((X - self.mean_) / self.std_).astype(F32)

    def predict_proba(self, X) -> np.ndarray:
        return self.net_.predict_proba(self._norm(X))

    def input_gradients(self, X, classes) -> np.ndarray:
        return self.net_.input_gradients(self._norm(X), np.asarray(classes)) / self.std_

    def tensors(self) -> dict[str, np.ndarray]:
        out = {"input.mean": np.ascontiguousarray(self.mean_, dtype=F32),
               "input.std": np.ascontiguousarray(self.std_, dtype=F32)}
        out.update(self.net_.tensors())
        return out

    def config(self) -> dict:
        return {
            "network": self.kind, "conv": list(self.conv), "hidden": list(self.hidden),
            "epochs": self.epochs, "learning_rate": self.learning_rate,
            "batch_size": self.batch_size, "weight_decay": self.weight_decay,
            "augment_shift": self.augment_shift, "seed": self.seed,
            "n_classes": int(self.n_classes if self.n_classes is not None else self.net_.architecture_["n_classes"]),
            "architecture": getattr(self, "net_", None) and self.net_.architecture_,
            "settings": dict(self.settings),
        }

    def feature_settings(self) -> dict:
        return self.settings

    @classmethod
    def load(cls, tensors: dict, config: dict) -> "MediaNetTrainer":
        t = cls(kind=config["network"], conv=config.get("conv", ()), hidden=config.get("hidden", ()),
                epochs=config.get("epochs", 1), learning_rate=config.get("learning_rate", 0.002),
                batch_size=config.get("batch_size", 32), weight_decay=config.get("weight_decay", 0.0),
                augment_shift=config.get("augment_shift", 0), seed=config.get("seed", 0),
                n_classes=int(config["n_classes"]))
        t.mean_ = np.asarray(tensors["input.mean"], dtype=F32)
        t.std_ = np.asarray(tensors["input.std"], dtype=F32)
        net_tensors = {k: v for k, v in tensors.items() if not k.startswith("input.")}
        t.net_ = NetClassifier.from_tensors(config["architecture"], net_tensors)
        t.settings = dict(config.get("settings") or {})
        t.history_ = []
        return t


def _tuple_param(params: dict, key: str, default: tuple) -> tuple:
    v = params.get(key, default)
    if isinstance(v, int):
        return (v,)
    if isinstance(v, (list, tuple)):
        return tuple(int(x) for x in v)
    return default


def trainer_from_params(params: dict, n_classes: int, *, default_kind: str = "cnn",
                        defaults: dict | None = None) -> MediaNetTrainer:
    """A MediaNetTrainer from the pipeline's effective hyperparameters."""
    d: dict[str, Any] = dict(defaults or {})
    kind = str(params.get("network", d.get("network", default_kind)))
    t = MediaNetTrainer(
        kind=kind,
        conv=_tuple_param(params, "conv", tuple(d.get("conv", (16, 32)))),
        hidden=_tuple_param(params, "hidden", tuple(d.get("hidden", (128,)))),
        epochs=int(params.get("epochs", d.get("epochs", 10))),
        learning_rate=float(params.get("learning_rate", d.get("learning_rate", 0.002))),
        batch_size=int(params.get("batch_size", d.get("batch_size", 32))),
        weight_decay=float(params.get("weight_decay", d.get("weight_decay", 1e-4))),
        augment_shift=int(params.get("augment_shift", d.get("augment_shift", 0))),
        seed=int(params.get("seed", 0)),
        settings={},
        n_classes=n_classes,
    )
    return t
