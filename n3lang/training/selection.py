"""Settings chosen on the validation rows, then a refit on every row (issue 15).

When ``epochs`` is left out, a text softmax chooses two settings on the validation rows:

1. **Features.** Words (1-2-grams) alone, or words plus char n-grams (the default feature
   settings). Each is trained for ``FEATURE_EPOCHS`` epochs on the training rows and measured
   on the validation rows; an exact McNemar test on the rows the two disagree about decides
   when one is significantly more accurate (p < ``ALPHA``, one-sided each way). When neither
   is, char n-grams are kept below ``SMALL_ROWS`` training rows (they generalise across word
   forms, which matters most with little data, and cost little there) and dropped above it:
   they cost 2-5x the work per row, and measured on three large sets they paid for it only on
   dictionary glosses (+0.9 pt, significant); on package synopses and descriptions words alone
   were as good.
2. **Epochs.** With the chosen features, a fit of ``MAX_EPOCHS`` epochs measures validation
   accuracy after each; the chosen count is the largest among those with the best accuracy
   (a tie also spares the second fit). If that is fewer, the held-out model is trained again
   with exactly that count (the step schedule depends on the count), so the validation metrics
   are those of a held-out fit with the chosen settings.
3. **Confidence.** The logit scale (1 / temperature) that minimises the held-out model's log
   loss on the validation rows (temperature scaling, Guo et al. 2017): without it the models
   were under-confident on the bench sets (ECE 0.035 on Debian sections). It changes no
   prediction, only the probabilities; the validation metrics include it (it was fit on those
   rows, so their calibration error is a little optimistic; bench/RESULTS.md measures it on
   test rows).

The stored model is then a refit on all rows (training + validation) with the chosen
settings: the validation rows are no longer wasted. Every fit trains on row numbers of one
feature matrix (no copies), and everything is seeded: the same rows give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from n3lang.training.features import DEFAULT_SETTINGS, Csr
from n3lang.training.learning import binomial_tail

# the held-out search's epochs: measured on the Debian sections and synopsis sets, accuracy
# still rises between 5 and 10 epochs (the old fixed default was 5)
MAX_EPOCHS = 10
CHOSEN_BY = ("features: words alone or with char n-grams, by an exact McNemar test after 2 epochs "
             "each (p < 0.05; no significant difference: char n-grams under 20,000 training rows); epochs: validation "
             "accuracy (the most epochs among those with the best); logit_scale: the validation "
             "log loss (temperature scaling)")
FEATURE_EPOCHS = 2
ALPHA = 0.05
SMALL_ROWS = 20_000
WORDS_ONLY = [0, 0]
_LOSS_BLOCK = 4096  # validation rows per block of fit_logit_scale's temporaries


@dataclass
class Selection:
    """What the search chose, the held-out trainer that goes with it and its features."""

    chosen: dict
    searched: dict
    search_history: list = field(default_factory=list)
    feature_choice: dict = field(default_factory=dict)
    held_out: Any = None
    features: Any = None
    measure: Any = None

    def to_json(self, n_rows: int) -> dict:
        return {"refit": True, "refit_rows": int(n_rows), "chosen": dict(self.chosen),
                "chosen_by": CHOSEN_BY, "searched": dict(self.searched),
                "search_history": [dict(h) for h in self.search_history],
                "feature_choice": dict(self.feature_choice)}


def applies(cfg_epochs, trainer, n_validation: int) -> bool:
    """The search runs when epochs were not given, there are validation rows and the trainer
    trains in epochs (retrieval does not)."""
    return cfg_epochs is None and n_validation > 0 and getattr(trainer, "kind", None) == "hashed-softmax"


def best_epoch(history: list[dict]) -> int:
    """1-based epoch count with the highest validation accuracy (the last on ties)."""
    accs = [h.get("val_accuracy") for h in history]
    best, at = -1.0, len(history)
    for i, a in enumerate(accs, 1):
        if a is not None and a >= best:
            best, at = a, i
    return max(at, 1)


def mcnemar_p(only_first_right: int, only_second_right: int) -> float:
    """One-sided exact McNemar p-value that the second model is the more accurate: the chance
    of at least ``only_second_right`` of the disagreements going its way if both were equal."""
    return binomial_tail(only_second_right, only_first_right + only_second_right, 0.5)


def _right(trainer, measure, y_val) -> np.ndarray:
    """Which of the measured rows the trainer's last weights get right (the kernel's own logits)."""
    return measure.predicted(trainer.W_.astype(np.float32), trainer.b_) == np.asarray(y_val)


def fit_logit_scale(z: np.ndarray, y: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """The factor s minimising the mean log loss of softmax(s * z) on the rows' targets ``y``
    (golden-section search over log s: the loss is convex in s), rounded to 3 decimals so that
    last-bit differences in the logits cannot change it. ``z`` (float64) is shifted in place;
    the loss is computed in blocks of rows (each row's value, hence the mean, is the same)."""
    z = np.asarray(z, dtype=np.float64)
    if not len(z):
        return 1.0
    z -= z.max(axis=1, keepdims=True)
    zy = z[np.arange(len(z)), np.asarray(y, dtype=np.int64)]
    per_row = np.empty(len(z), dtype=np.float64)

    def loss(log_s: float) -> float:
        s = np.exp(log_s)
        for lo in range(0, len(z), _LOSS_BLOCK):  # bounded temporaries however many rows
            zs = s * z[lo:lo + _LOSS_BLOCK]
            top = zs.max(axis=1)
            per_row[lo:lo + _LOSS_BLOCK] = top + np.log(np.exp(zs - top[:, None]).sum(axis=1)) - s * zy[lo:lo + _LOSS_BLOCK]
        return float(np.mean(per_row))

    a, b = np.log(low), np.log(high)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(c), loss(d)
    for _ in range(60):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(d)
    return round(float(np.exp((a + b) / 2.0)), 3)


def search(make_trainer: Callable[..., Any], featurize: Callable[[list], tuple], y, train_rows, val_rows,
           progress=None, max_epochs: int = MAX_EPOCHS, fit: Callable[..., Any] | None = None) -> Selection:
    """The whole search (see the module docstring). ``make_trainer(epochs, char_ngrams,
    logit_scale)`` builds an untrained trainer; ``featurize(char_ngrams)`` gives (every row
    featurized with those char n-grams, or None when tasks hold the features; the measure of
    the validation rows: text_model.HeldRows or shards.ShardedRows). The returned Selection
    carries the chosen ones (``features``, ``measure``) for the refit and the evaluation.
    ``fit(trainer, measure)``, when given, trains a held-out trainer instead of its own ``fit``
    (the sharded fit of shards.py)."""
    chars = [int(n) for n in DEFAULT_SETTINGS["char_ngrams"]]  # type: ignore[attr-defined]
    y_val = np.asarray(y)[val_rows]

    def held_out(X: Csr | None, measure, epochs: int, char_ngrams: list):
        if fit is not None:
            return fit(make_trainer(epochs, char_ngrams, 1.0), measure)
        return make_trainer(epochs, char_ngrams, 1.0).fit(X, y, X, y, progress, rows=train_rows, val_rows=val_rows)

    X_words, m_words = featurize(WORDS_ONLY)
    words_right = _right(held_out(X_words, m_words, FEATURE_EPOCHS, WORDS_ONLY), m_words, y_val)
    X_chars, m_chars = featurize(chars)
    chars_right = _right(held_out(X_chars, m_chars, FEATURE_EPOCHS, chars), m_chars, y_val)
    only_words = int(np.sum(words_right & ~chars_right))
    only_chars = int(np.sum(chars_right & ~words_right))
    p_chars, p_words = mcnemar_p(only_words, only_chars), mcnemar_p(only_chars, only_words)
    if p_chars < ALPHA:
        use_chars, decided_by = True, "char n-grams significantly more accurate"
    elif p_words < ALPHA:
        use_chars, decided_by = False, "words alone significantly more accurate"
    elif len(train_rows) < SMALL_ROWS:
        use_chars, decided_by = True, f"no significant difference: char n-grams under {SMALL_ROWS:,} training rows"
    else:
        use_chars, decided_by = False, f"no significant difference: words alone (cheaper) at {SMALL_ROWS:,}+ training rows"
    X, measure, char_ngrams = (X_chars, m_chars, chars) if use_chars else (X_words, m_words, WORDS_ONLY)
    del X_words, X_chars, m_words, m_chars
    choice = {"epochs": FEATURE_EPOCHS, "decided_by": decided_by,
              "p_value_chars_better": round(p_chars, 6), "p_value_words_better": round(p_words, 6),
              "candidates": [{"char_ngrams": WORDS_ONLY, "val_accuracy": round(float(np.mean(words_right)), 6)},
                             {"char_ngrams": chars, "val_accuracy": round(float(np.mean(chars_right)), 6)}],
              "disagreements": {"only_words_right": only_words, "only_chars_right": only_chars}}

    first = held_out(X, measure, max_epochs, char_ngrams)
    history = [dict(h) for h in first.history_]
    chosen = best_epoch(history)
    held = first if chosen == max_epochs else held_out(X, measure, chosen, char_ngrams)
    held.logit_scale = fit_logit_scale(measure.logits(held.W_.astype(np.float32), held.b_), y_val)
    return Selection({"epochs": chosen, "char_ngrams": char_ngrams, "logit_scale": held.logit_scale},
                     {"epochs": [1, max_epochs], "char_ngrams": [WORDS_ONLY, chars]},
                     history, choice, held, X, measure)
