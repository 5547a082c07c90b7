"""Text trainers over hashed sparse features (features.Csr).

* :class:`HashedSoftmax` - a multinomial logistic regression (softmax) over the hashed
  features, trained by per-example SGD with a linearly decaying step (fastText-style schedule).
  Training runs sgd.py's kernel (C, or numpy with the same bits); predictions gather rows and
  ``np.einsum`` per row. Never BLAS, so the result is bit-identical whatever the thread count.
  Weights are float32 while training and stored as float16 (the stored model is the one
  evaluated).
* :class:`Retrieval` - nearest training input by cosine over the same features (an inverted
  index), answering with its target; used when most targets are unique (question -> answer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from n3lang.training import sgd
from n3lang.training.features import Csr

_max, _sum, _add = np.maximum.reduce, np.add.reduce, np.add
try:  # what np.einsum calls when optimize is False (its default), minus the dispatch layers
    from numpy._core.multiarray import c_einsum as _einsum
except ImportError:  # pragma: no cover - other numpy layouts
    _einsum = np.einsum
# stored float16 rows up to this size are widened to float32 once, when a model is loaded,
# instead of per prediction; bigger ones are not: widening the 27 MB Debian model took 54 ms,
# more than the whole 50 ms load budget
WIDEN_AT_LOAD_BYTES = 4 << 20


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class HeldRows:
    """Rows of a feature matrix held in this process, measured with the kernel's own logits
    (shards.ShardedRows measures rows that tasks hold, with the same bits)."""

    def __init__(self, X: Csr, rows: np.ndarray | None = None):
        self.X = X
        self.rows = np.arange(len(X), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)

    def logits(self, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        """float64 logits [rows, labels] of the float32 weights."""
        return sgd.logits(W, b, self.X, self.rows)

    def predicted(self, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The label id each row's logits pick."""
        return self.logits(W, b).argmax(axis=1)


def epoch_entry(epoch: int, loss: float, W: np.ndarray, b: np.ndarray, measure, y_val) -> dict:
    """One epoch's history entry: its mean loss and, when ``measure`` (a HeldRows or
    ShardedRows) is given, the accuracy of the float32 weights on its rows, whose targets are
    ``y_val``."""
    entry: dict[str, float | None] = {"epoch": epoch, "loss": loss, "val_accuracy": None}
    if measure is not None:
        entry["val_accuracy"] = float(np.mean(measure.predicted(W, b) == np.asarray(y_val)))
    return entry


class HashedSoftmax:
    """Softmax regression on hashed n-grams: hyperparameters in __init__, state in ``*_``."""

    kind = "hashed-softmax"
    # learned state: W_ (all rows, or None when loaded sparse), Wc_ (the stored rows), Wz_
    # (stored rows + a zero row) and _rowmap (bucket -> row of Wz_), set by fit / from_tensors
    W_: Any = None
    Wc_: Any = None
    Wz_: Any = None
    _rowmap: Any = None

    def __init__(self, n_labels: int, *, n_features: int = 1 << 18, epochs: int = 5,
                 learning_rate: float = 0.5, seed: int = 0, margin: float = 0.1,
                 feature_settings: dict | None = None, logit_scale: float = 1.0):
        self.n_labels = int(n_labels)
        self.n_features = int(n_features)
        self.epochs = int(epochs)
        self.learning_rate = float(learning_rate)
        self.seed = int(seed)
        self.margin = float(margin)
        # the logits are multiplied by this before the softmax (1 / temperature): chosen on
        # the validation rows so that confidences match accuracy (selection.fit_logit_scale)
        self.logit_scale = float(logit_scale)
        self._feature_settings = dict(feature_settings or {})
        self.history_: list[dict] = []

    # --- the trainer protocol -------------------------------------------------------------
    def config(self) -> dict:
        return {"n_labels": self.n_labels, "n_features": self.n_features, "epochs": self.epochs,
                "learning_rate": self.learning_rate, "seed": self.seed, "margin": self.margin,
                "logit_scale": self.logit_scale, "feature_settings": self.feature_settings()}

    def feature_settings(self) -> dict:
        return dict(self._feature_settings)

    def fit(self, X: Csr, y: np.ndarray, X_val: Csr | None = None, y_val: np.ndarray | None = None,
            progress=None, *, rows: np.ndarray | None = None, val_rows: np.ndarray | None = None) -> "HashedSoftmax":
        """Per-example SGD (rows in a seeded random order each epoch), step decaying linearly to 0.

        ``rows`` / ``val_rows`` choose the rows of ``X`` / ``X_val`` to train on and to measure
        (default: all), so a split needs no copy of the features; ``y`` / ``y_val`` have one
        target per row of ``X`` / ``X_val``. The arithmetic is sgd.sgd_pass's. Rows the model
        already gets right with p(target) > 1 - margin are not updated (their gradient is tiny):
        measured on the Debian set, margin 0.1 saves ~25% of the fit time at the same accuracy."""
        K = self.n_labels
        y = np.asarray(y, dtype=np.int64)
        rows = np.arange(len(X), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        measure, y_measured = None, None
        if X_val is not None and y_val is not None and len(X_val) > 0:
            measure = HeldRows(X_val, val_rows)
            y_measured = np.asarray(y_val)[measure.rows]
            if not len(measure.rows):
                measure = None
        n = len(rows)
        W = np.zeros((self.n_features, K), dtype=np.float32)
        b = np.zeros(K, dtype=np.float32)
        rng = np.random.default_rng(self.seed)
        total_steps = max(1, self.epochs * n)
        step = 0
        report_every = max(1, n // 50)
        self.history_ = []
        for epoch in range(1, self.epochs + 1):
            order = rows[rng.permutation(n)]
            loss_sum = 0.0
            for start in range(0, n, report_every):  # the kernel runs in slices: progress between them
                part = order[start:start + report_every]
                loss_sum += sgd.sgd_pass(W, b, X, y, part, lr0=self.learning_rate, step0=step,
                                         total_steps=total_steps, margin=self.margin)
                step += len(part)
                if progress is not None:
                    progress(epoch, self.epochs, start + len(part), loss_sum / (start + len(part)))
            self.history_.append(epoch_entry(epoch, loss_sum / max(n, 1), W, b, measure, y_measured))
        self.keep(W, b, self.history_)
        return self

    def keep(self, W: np.ndarray, b: np.ndarray, history: list[dict]) -> None:
        """Keep the trained weights (HashedSoftmax.fit and the sharded fit of shards.py alike).

        The model is stored (and evaluated) with float16 weights: half the file, load and sha256
        time; predictions are unchanged in practice (3 significant digits per weight)."""
        self.history_ = history
        with np.errstate(over="ignore"):  # a diverged model overflows here; the trainer reports it
            self.W_, self.b_ = W.astype(np.float16), b
        self._rowmap = None

    def predict_proba(self, X: Csr) -> np.ndarray:
        """Row by row (a gather and an einsum each): no BLAS, no big temporaries."""
        out = np.zeros((len(X), self.n_labels), dtype=np.float64)
        indptr = X.indptr.tolist()
        for i in range(len(X)):
            a, e = indptr[i], indptr[i + 1]
            out[i] = self.proba_one(X.indices[a:e], X.data[a:e])
        return out

    def proba_one(self, indices: np.ndarray, data: np.ndarray) -> np.ndarray:
        """Class probabilities of one featurized text (the fast path).

        The gathered float16 rows are widened to float32 first (exact) so einsum runs its
        float32 kernel directly instead of casting through buffers (3x slower for one text);
        the products and sums are the same float32 arithmetic either way. The float32 logits
        and the bias are added in float64, in one ufunc call, then scaled by logit_scale."""
        g = self._gather(indices)
        if g.dtype != np.float32:
            g = g.astype(np.float32)
        z = _add(_einsum("i,ij->j", data, g), self.b_, dtype=np.float64)
        if self.logit_scale != 1.0:
            z *= self.logit_scale
        z -= _max(z)  # ufunc reductions: what z.max() / z.sum() call, minus a Python layer
        np.exp(z, out=z)
        z /= _sum(z)
        return z

    def _gather(self, indices: np.ndarray) -> np.ndarray:
        if getattr(self, "W_", None) is not None:
            return self.W_.take(indices, axis=0)
        # Wz_ is the stored rows plus one zero row, and the row map sends buckets that were
        # never stored to it: one gather, the same values as gathering and zeroing
        return self.Wz_.take(self._rowmap[indices], axis=0)

    def tensors(self) -> dict:
        """Only the feature rows that were touched are stored (``rows`` + ``weights``)."""
        used = np.flatnonzero(np.any(self.W_ != 0, axis=1)).astype(np.int32)
        return {"rows": used, "weights": np.ascontiguousarray(self.W_[used]), "bias": self.b_.copy()}

    @classmethod
    def from_tensors(cls, tensors: dict, config: dict) -> "HashedSoftmax":
        m = cls(config["n_labels"], n_features=config["n_features"], epochs=config["epochs"],
                learning_rate=config["learning_rate"], seed=config["seed"], margin=config.get("margin", 0.1),
                feature_settings=config.get("feature_settings"), logit_scale=config.get("logit_scale", 1.0))
        m.W_ = None
        m.Wc_ = np.asarray(tensors["weights"])
        m.b_ = np.asarray(tensors["bias"], dtype=np.float32)
        if len(tensors["rows"]) == m.n_features:  # every bucket stored: index directly
            m.W_ = m.Wc_
            return m
        rowmap = np.full(m.n_features, len(m.Wc_), dtype=np.int32)
        rowmap[np.asarray(tensors["rows"], dtype=np.int64)] = np.arange(len(tensors["rows"]), dtype=np.int32)
        m._rowmap = rowmap
        m.Wz_ = np.concatenate([m.Wc_, np.zeros((1, m.Wc_.shape[1]), dtype=m.Wc_.dtype)])
        if m.Wz_.nbytes <= WIDEN_AT_LOAD_BYTES:  # widened once here, not per prediction (exact)
            m.Wz_ = m.Wz_.astype(np.float32)
        return m

    def weight_column(self, label: int) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, weights) for one class (explanations)."""
        if getattr(self, "W_", None) is not None:
            return np.arange(self.n_features), self.W_[:, label]
        return np.flatnonzero(self._rowmap < len(self.Wc_)), self.Wc_[:, label]


class Retrieval:
    """Nearest training input by cosine similarity; answers with its target."""

    kind = "retrieval"

    def __init__(self, n_labels: int, *, n_features: int = 1 << 18, seed: int = 0,
                 temperature: float = 20.0, feature_settings: dict | None = None, **_ignored):
        self.n_labels = int(n_labels)
        self.n_features = int(n_features)
        self.seed = int(seed)
        self.temperature = float(temperature)
        self._feature_settings = dict(feature_settings or {})
        self.history_: list[dict] = []

    def config(self) -> dict:
        return {"n_labels": self.n_labels, "n_features": self.n_features, "seed": self.seed,
                "temperature": self.temperature, "feature_settings": self.feature_settings()}

    def feature_settings(self) -> dict:
        return dict(self._feature_settings)

    def fit(self, X: Csr, y, X_val=None, y_val=None, progress=None) -> "Retrieval":
        self.X_ = X
        self.y_ = np.asarray(y, dtype=np.int32)
        self._index()
        if progress is not None:
            progress(1, 1, len(X), 0.0)
        entry = {"epoch": 1, "loss": 0.0, "val_accuracy": None}
        if X_val is not None and y_val is not None and len(X_val):
            entry["val_accuracy"] = float(np.mean(self.predict(X_val) == np.asarray(y_val)))
        self.history_ = [entry]
        return self

    def _index(self) -> None:
        X = self.X_
        rid = X.row_ids()
        perm = np.argsort(X.indices, kind="stable")
        self._post_rows = rid[perm].astype(np.int64)
        self._post_data = X.data[perm]
        counts = np.bincount(X.indices, minlength=self.n_features)
        self._col_ptr = np.zeros(self.n_features + 1, dtype=np.int64)
        np.cumsum(counts, out=self._col_ptr[1:])

    def similarities(self, indices: np.ndarray, data: np.ndarray) -> np.ndarray:
        """Cosine similarity of one featurized text to every training row."""
        starts = self._col_ptr[indices]
        lengths = self._col_ptr[indices + 1] - starts
        total = int(lengths.sum())
        csum = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=csum[1:])
        pos = np.repeat(starts - csum[:-1], lengths) + np.arange(total, dtype=np.int64)
        weights = self._post_data[pos].astype(np.float64) * np.repeat(data.astype(np.float64), lengths)
        return np.bincount(self._post_rows[pos], weights=weights, minlength=len(self.y_))

    def proba_one(self, indices: np.ndarray, data: np.ndarray) -> np.ndarray:
        sims = self.similarities(indices, data)
        best = np.full(self.n_labels, -1.0)
        np.maximum.at(best, self.y_, sims)
        present = best >= 0
        z = np.where(present, best * self.temperature, -np.inf)
        z = z - z[present].max()
        e = np.where(present, np.exp(z), 0.0)
        return e / e.sum()

    def predict(self, X: Csr) -> np.ndarray:
        """Label ids (no dense n x labels matrix: retrieval can have one label per row)."""
        out = np.zeros(len(X), dtype=np.int64)
        for i in range(len(X)):
            a, b = X.indptr[i], X.indptr[i + 1]
            out[i] = int(np.argmax(self.proba_one(X.indices[a:b], X.data[a:b])))
        return out

    def predict_confidence(self, X: Csr) -> tuple[np.ndarray, np.ndarray]:
        """(label ids, probability of each), row by row: what `predict` picks, with its confidence."""
        ids = np.zeros(len(X), dtype=np.int64)
        conf = np.zeros(len(X), dtype=np.float64)
        for i in range(len(X)):
            a, b = X.indptr[i], X.indptr[i + 1]
            p = self.proba_one(X.indices[a:b], X.data[a:b])
            ids[i] = int(np.argmax(p))
            conf[i] = p[ids[i]]
        return ids, conf

    def predict_proba(self, X: Csr) -> np.ndarray:
        out = np.zeros((len(X), self.n_labels))
        for i in range(len(X)):
            a, b = X.indptr[i], X.indptr[i + 1]
            out[i] = self.proba_one(X.indices[a:b], X.data[a:b])
        return out

    def tensors(self) -> dict:
        return {"train_indptr": self.X_.indptr.astype(np.int64), "train_indices": self.X_.indices.astype(np.int32),
                "train_data": self.X_.data.astype(np.float32), "train_labels": self.y_.astype(np.int32)}

    @classmethod
    def from_tensors(cls, tensors: dict, config: dict) -> "Retrieval":
        m = cls(config["n_labels"], n_features=config["n_features"], seed=config["seed"],
                temperature=config.get("temperature", 20.0), feature_settings=config.get("feature_settings"))
        m.X_ = Csr(np.asarray(tensors["train_indptr"]), np.asarray(tensors["train_indices"]),
                   np.asarray(tensors["train_data"]), m.n_features)
        m.y_ = np.asarray(tensors["train_labels"])
        m._index()
        return m
