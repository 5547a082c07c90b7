"""Did the model learn? The check `n3 train` runs on the validation predictions before it
writes anything, and the words it uses to say what it found.

The test: a one-sided exact binomial test of the number of validation rows predicted right
against the *no-information rate* -- the share of the validation rows that the most frequent
class among them holds, i.e. the best accuracy a model that ignores its input can reach (as
caret's ``confusionMatrix`` tests "accuracy > NIR" in R). Under "the model learned nothing",
each row is right with probability NIR, so the count of right rows is Binomial(n, NIR); the
model learned when P(X >= correct) < ALPHA.

- ALPHA is 0.01, fixed ("clearly" better: a model that learned nothing passes one time in a
  hundred). A model that learned, on a validation set of a few dozen rows, passes by far
  (supportbot: 69 of 78 right against 24%, p = 7e-33), while a model stuck at the majority
  class fails whatever the size (text-base at learning rate 2e-5 on 8,000 Debian package
  descriptions: 172 of 1654 right, exactly the majority's share, p = 0.51).
- Only the validation rows whose target occurs among the training targets count: no model can
  answer a class it never saw (a retrieval model answering free text often cannot), and such
  rows say nothing about whether it learned.
- A run stops only when the test could have shown learning: when a model right on half of
  the rows the no-information rule gets wrong (accuracy (1 + NIR) / 2) would pass it at these
  sizes. With fewer rows a p >= ALPHA says "too few rows to tell", not "did not learn": the
  verdict is "inconclusive", reported as a warning, and training goes on -- as it must for a
  toy set of 20-50 rows, whose 4-10 validation rows cannot show much (8 rows, NIR 37.5%, 6
  right: p = 0.036). A model that passes is "learned" whatever the size.
- Without validation rows (validation_split 0) the check is "not run", also a warning.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from n3lang.training.metrics import rnd

ALPHA = 0.01
TEST = ("one-sided exact binomial test of the validation rows predicted right against the "
        "no-information rate (the share of the most frequent class among them)")
LEARNED, NOT_LEARNED, INCONCLUSIVE, NOT_RUN = "learned", "not-learned", "inconclusive", "not-run"


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed exactly term by term in log space (no
    normal approximation: validation sets are often small)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    lfn = math.lgamma(n + 1)
    logs = [lfn - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq for i in range(k, n + 1)]
    top = max(logs)
    return min(1.0, math.exp(top) * math.fsum(math.exp(v - top) for v in logs))


@dataclass(frozen=True)
class Verdict:
    """What the check found: ``status`` (learned, not-learned, inconclusive, not-run), the
    rows it counted, how many were right, the no-information rate and its class, the p-value
    (None when the test did not run) and, when inconclusive, about how many rows it needs."""

    status: str
    rows: int = 0
    correct: int = 0
    rate: float = 0.0
    label: str = ""
    p_value: float | None = None
    rows_needed: int | None = None

    @property
    def blocks(self) -> bool:
        return self.status == NOT_LEARNED

    def to_json(self) -> dict:
        """The verdict for metadata and reports (floats to 6 places, as every metric: the same
        bytes on every machine)."""
        return {"test": TEST, "alpha": ALPHA, "verdict": self.status, "rows": self.rows, "correct": self.correct,
                "no_information_rate": rnd(self.rate), "no_information_label": self.label,
                "p_value": None if self.p_value is None else rnd(self.p_value)}

    def warning(self) -> str | None:
        """The sentence for the report, the metadata and the CLI; None when the model learned."""
        if self.status == NOT_RUN:
            return ("No validation rows (validation_split is 0): the model was trained on every row, so its "
                    "accuracy, macro-F1 and calibration are not measured and nothing checks that it learned.")
        if self.status == INCONCLUSIVE:
            return f"Too few validation rows to tell whether the model learned: {self._small()}"
        if self.status == NOT_LEARNED:
            return (f"The model is not clearly better than always answering {self.label!r}: {self.summary()}. "
                    "It was registered because allow_weak_model was set.")
        return None

    def summary(self) -> str:
        """``172 of 1654 validation rows right (10.4%), while 'libs' alone is 10.4% of them
        (one-sided binomial test p = 0.51; learning needs p < 0.01)``."""
        return (f"{self.correct} of {self.rows} validation rows right ({_pct(self.correct / self.rows)}), while "
                f"{self.label!r} alone is {_pct(self.rate)} of them (one-sided binomial test p = "
                f"{_p(self.p_value)}; learning needs p < {ALPHA:g})")

    def _small(self) -> str:
        if not self.rows:
            return ("no validation row has a target the training rows hold, and a model cannot answer a class "
                    "it never saw. Add rows, or raise validation_split.")
        if self.rate >= 1.0:
            return (f"all {self.rows} validation rows have the same target ({self.label!r}), so always answering "
                    "it scores 100%. Add rows of other targets, or raise validation_split.")
        needed = f"; about {self.rows_needed} rows would do" if self.rows_needed else ""
        return (f"{self.summary()}. {self.rows} rows are too few for this test to show learning: a model right on "
                f"every {self.label!r} row and on half of the others would fail it too{needed}. Add rows, or raise "
                "validation_split.")


def check(y_true: Sequence[str], y_pred: Sequence[str], train_targets: Sequence[str]) -> Verdict:
    """The verdict on validation targets ``y_true``, predictions ``y_pred`` and the training
    targets (which classes the model could learn)."""
    if not len(y_true):
        return Verdict(NOT_RUN)
    seen = set(train_targets)
    pairs = [(t, p) for t, p in zip(y_true, y_pred) if t in seen]
    if not pairs:
        return Verdict(INCONCLUSIVE)
    n = len(pairs)
    counts = Counter(t for t, _ in pairs)
    label = min(counts, key=lambda c: (-counts[c], c))
    rate = counts[label] / n
    correct = sum(t == p for t, p in pairs)
    if rate >= 1.0:  # one class only: answering it is always right, accuracy cannot tell
        return Verdict(INCONCLUSIVE, n, correct, rate, label)
    p_value = binomial_tail(correct, n, rate)
    if p_value < ALPHA:
        return Verdict(LEARNED, n, correct, rate, label, p_value)
    if not _can_show(n, counts[label]):
        return Verdict(INCONCLUSIVE, n, correct, rate, label, p_value, _rows_needed(n, rate))
    return Verdict(NOT_LEARNED, n, correct, rate, label, p_value)


def _can_show(n: int, majority: int) -> bool:
    """Would a model right on the majority class's rows and on half of the others -- at
    least ceil((n + majority) / 2) rows -- pass the test with ``n`` rows?"""
    return binomial_tail((n + majority + 1) // 2, n, majority / n) < ALPHA


def _rows_needed(n: int, rate: float, limit: int = 1 << 20) -> int | None:
    """About how many rows (at the same no-information rate) the test needs to show that
    halfway model learned: doubling, then bisection (the binomial's steps make it rough)."""
    def ok(m: int) -> bool:
        return binomial_tail(math.ceil(m * (1 + rate) / 2), m, rate) < ALPHA

    hi = max(n, 1)
    while not ok(hi):
        if hi >= limit:
            return None
        hi *= 2
    lo = max(hi // 2, n)
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _p(p: float | None) -> str:
    if p is None:
        return "-"
    return f"{p:.2g}" if p >= 1e-4 else "< 0.0001"


# ----------------------------------------------------------------------------- learning rates
def rate_text(value: float) -> str:
    """A learning rate as people write it: 2e-05 -> ``2e-5``, 1 -> ``1.0``, 0.01 -> ``0.01``."""
    text = f"{value:g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text if "." in text else text + ".0"


def scale_words(base, params: dict) -> str:
    """How ``base`` reads the learning rate: ``text-base takes it as its step size (lr_scale 1)``
    or ``gpt-4 reads it on the hosted fine-tuning scale: x lr_scale 50000 = local step 0.1``."""
    asked = params.get("requested_learning_rate", params["learning_rate"])
    if base.lr_scale == 1.0:
        return f"{base.name} takes it as its step size (lr_scale 1)"
    return (f"{base.name} reads it on the hosted fine-tuning scale: {rate_text(asked)} x lr_scale "
            f"{base.lr_scale:g} = local step {rate_text(params['learning_rate'])}")


def default_rate(base) -> float | None:
    value = base.defaults.get("learning_rate")
    return float(value) if value is not None else None


def not_learned_fix(base, params: dict) -> tuple[str, str]:
    """(fix, example) of model-did-not-learn: the learning rate that was used, the base's
    scale, and a value that works for that base (its default)."""
    asked = params.get("requested_learning_rate", params["learning_rate"])
    good = default_rate(base)
    anyway = ("To register this model anyway, with a warning, pass --allow-weak-model "
              "(allow_weak_model: true in training.yaml or the model block).")
    example_anyway = "n3 train ... --allow-weak-model"
    if good is None:  # a base without a default (none ships so); say what is known
        return (f"The learning rate was {rate_text(asked)}; {scale_words(base, params)}. {anyway}", example_anyway)
    if not math.isclose(asked, good, rel_tol=1e-9):
        return (f"The learning rate was {rate_text(asked)}; {scale_words(base, params)}. A value that works for "
                f"{base.name}: {rate_text(good)} (its default; leave learning_rate out to use it). {anyway}",
                f"n3 train ... --learning-rate {rate_text(good)}\n{example_anyway}")
    return (f"The learning rate was {rate_text(asked)}, {base.name}'s default ({scale_words(base, params)}), so it is "
            "not the likely cause: check that the inputs say something about the targets, add rows, or train longer "
            f"(--epochs {2 * int(params.get('epochs', 5))}). {anyway}",
            f"n3 train ... --epochs {2 * int(params.get('epochs', 5))}\n{example_anyway}")
