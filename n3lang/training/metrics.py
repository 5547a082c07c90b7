"""Evaluation metrics, measured from predictions (never derived from anything else).

Pure functions of lists of strings; counting is done with numpy integer arrays, every ratio is
computed from exact integers and rounded with :func:`rnd` so the JSON reports are
byte-stable across machines, processes and BLAS thread counts.

- :func:`classification_metrics`: accuracy, macro-F1, per-class precision/recall/F1/support,
  confusion matrix and the majority-class baseline (every mode).
- :func:`text_metrics`: sentence-level smoothed BLEU (up to 4-grams) and token-level F1
  (text mode: the prediction is compared with the target as text).
- :func:`speech_metrics`: word error rate and exact transcript accuracy (audio mode).
- :func:`calibration`: expected calibration error and the reliability table (every mode).
- :func:`evaluate`: the above combined for one mode, the shape ``write_reports`` takes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

DECIMALS = 6
MAX_CONFUSION_LABELS = 50
BLEU_MAX_ORDER = 4
CALIBRATION_BINS = 15

_TOKEN_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def rnd(x: float) -> float:
    """A float rounded to DECIMALS places (no -0.0; NaN/inf are refused: they are bugs)."""
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"metric value is not finite: {value!r}")
    value = round(value, DECIMALS)
    return 0.0 if value == 0 else value


def _ratio(num: int | float, den: int | float) -> float:
    return rnd(num / den) if den else 0.0


# ----------------------------------------------------------------------------- classification


def _label_order(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> list[str]:
    """The given labels in their order, then any label seen only in the data (sorted)."""
    order = [str(label) for label in labels]
    known = set(order)
    extra = sorted({str(y) for y in list(y_true) + list(y_pred)} - known)
    return order + extra


def confusion_counts(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Integer matrix C with C[i, j] = rows whose true label is labels[i], predicted labels[j]."""
    index = {label: i for i, label in enumerate(labels)}
    n = len(labels)
    t = np.fromiter((index[str(y)] for y in y_true), dtype=np.int64, count=len(y_true))
    p = np.fromiter((index[str(y)] for y in y_pred), dtype=np.int64, count=len(y_pred))
    return np.bincount(t * n + p, minlength=n * n).reshape(n, n)


def majority_baseline(y_true: Sequence[str], train_targets: Iterable[str] | None = None) -> dict:
    """Accuracy of always predicting the most frequent label.

    The label is the most frequent one of ``train_targets`` when given (what a trivial model
    would learn), else of ``y_true``; ties go to the label that sorts first.
    """
    source = [str(t) for t in (train_targets if train_targets is not None else y_true)]
    if not source:
        return {"label": "", "accuracy": 0.0}
    counts = Counter(source)
    label = min(counts, key=lambda k: (-counts[k], k))
    hits = sum(1 for y in y_true if str(y) == label)
    return {"label": label, "accuracy": _ratio(hits, len(y_true))}


def classification_metrics(
    y_true: list[str],
    y_pred: list[str],
    labels: list[str],
    *,
    train_targets: Iterable[str] | None = None,
    max_confusion_labels: int = MAX_CONFUSION_LABELS,
) -> dict:
    """Accuracy, macro-F1, per-class scores, confusion matrix and majority baseline.

    ``labels`` is the model's label list (its order is kept in the confusion matrix); labels
    seen only in ``y_true``/``y_pred`` are appended, sorted. Macro-F1 averages the F1 of every
    label that occurs in ``y_true`` or ``y_pred`` (as scikit-learn does by default). When
    there are more than ``max_confusion_labels`` labels (retrieval models answer with free
    text), the confusion matrix keeps the most frequent true labels and says so with
    ``truncated: true``.

    Returns ``{"accuracy", "macro_f1", "n_validation", "per_class": {label: {"precision",
    "recall", "f1", "support"}}, "confusion_matrix": {"labels", "matrix", "truncated"},
    "majority_baseline": {"label", "accuracy"}}``.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items but y_pred has {len(y_pred)}")
    order = _label_order(y_true, y_pred, labels)
    cm = confusion_counts(y_true, y_pred, order)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    n = int(cm.sum())

    per_class: dict[str, dict] = {}
    f1s: list[float] = []
    for i, label in enumerate(order):
        t, s, p = int(tp[i]), int(support[i]), int(predicted[i])
        precision = t / p if p else 0.0
        recall = t / s if s else 0.0
        f1 = 2 * t / (s + p) if (s + p) else 0.0
        if s or p:
            f1s.append(f1)
        if s or label in labels:
            per_class[label] = {
                "precision": rnd(precision),
                "recall": rnd(recall),
                "f1": rnd(f1),
                "support": s,
            }
    macro_f1 = rnd(math.fsum(f1s) / len(f1s)) if f1s else 0.0

    truncated = len(order) > max_confusion_labels
    if truncated:
        keep = sorted(range(len(order)), key=lambda i: (-int(support[i]), order[i]))[:max_confusion_labels]
        keep.sort()
        cm_labels = [order[i] for i in keep]
        matrix = cm[np.ix_(keep, keep)]
    else:
        cm_labels, matrix = order, cm
    return {
        "accuracy": _ratio(int(tp.sum()), n),
        "macro_f1": macro_f1,
        "n_validation": n,
        "per_class": per_class,
        "confusion_matrix": {
            "labels": cm_labels,
            "matrix": [[int(v) for v in row] for row in matrix],
            "truncated": bool(truncated),
        },
        "majority_baseline": majority_baseline(y_true, train_targets),
    }


# ----------------------------------------------------------------------------- text


def normalize_text(text: str) -> str:
    """NFC, lower-cased, whitespace collapsed: how predictions and references are compared."""
    return " ".join(unicodedata.normalize("NFC", str(text)).lower().split())


def tokenize(text: str) -> list[str]:
    """Word and punctuation tokens of the normalised text."""
    return _TOKEN_RE.findall(normalize_text(text))


def token_f1(reference: str, hypothesis: str) -> float:
    """Token-overlap F1 of one pair (bag of tokens, as in SQuAD); 1.0 when both are empty."""
    ref, hyp = tokenize(reference), tokenize(hypothesis)
    if not ref and not hyp:
        return 1.0
    common = sum((Counter(ref) & Counter(hyp)).values())
    if common == 0:
        return 0.0
    precision = common / len(hyp)
    recall = common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def sentence_bleu(reference: str, hypothesis: str, max_order: int = BLEU_MAX_ORDER) -> float:
    """Sentence BLEU with add-one smoothing for orders above 1 (Lin and Och, 2004).

    Geometric mean of the clipped n-gram precisions for n = 1..max_order times the brevity
    penalty. A hypothesis equal to its reference scores 1.0 however short it is; an empty
    hypothesis scores 0.0.
    """
    ref, hyp = tokenize(reference), tokenize(hypothesis)
    if not hyp:
        return 1.0 if not ref else 0.0
    log_sum = 0.0
    for n in range(1, max_order + 1):
        h, r = _ngrams(hyp, n), _ngrams(ref, n)
        matches = sum((h & r).values())
        total = max(len(hyp) - n + 1, 0)
        if n == 1:
            if matches == 0:
                return 0.0
            log_sum += math.log(matches / total)
        else:
            log_sum += math.log((matches + 1) / (total + 1))
    bp = 1.0 if len(hyp) >= len(ref) else math.exp(1 - len(ref) / len(hyp))
    return bp * math.exp(log_sum / max_order)


def text_metrics(references: list[str], hypotheses: list[str]) -> dict:
    """Mean sentence BLEU, mean token F1 and exact-match rate over the validation rows."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    n = len(references)
    if n == 0:
        return {"bleu": 0.0, "token_f1": 0.0, "exact_match": 0.0}
    # a classifier's pairs repeat (at most labels^2 distinct): each is scored once; fsum is
    # exact, so the sums are the same as scoring every row
    pairs = list(zip(references, hypotheses))
    scores = {pair: (sentence_bleu(*pair), token_f1(*pair)) for pair in set(pairs)}
    bleu = math.fsum(scores[pair][0] for pair in pairs) / n
    f1 = math.fsum(scores[pair][1] for pair in pairs) / n
    exact = sum(normalize_text(r) == normalize_text(h) for r, h in zip(references, hypotheses))
    return {"bleu": rnd(bleu), "token_f1": rnd(f1), "exact_match": _ratio(exact, n)}


# ----------------------------------------------------------------------------- speech


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences (substitution, insertion, deletion)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def speech_metrics(references: list[str], hypotheses: list[str]) -> dict:
    """Word error rate (total word edits / total reference words) and exact-match accuracy."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    edits = words = exact = 0
    for r, h in zip(references, hypotheses):
        ref, hyp = normalize_text(r).split(), normalize_text(h).split()
        edits += edit_distance(ref, hyp)
        words += len(ref)
        exact += ref == hyp
    wer = edits / words if words else (0.0 if edits == 0 else 1.0)
    return {"wer": rnd(wer), "transcript_accuracy": _ratio(exact, len(references))}


# ----------------------------------------------------------------------------- calibration


def calibration(confidences: Sequence[float], correct: Sequence[bool], n_bins: int = CALIBRATION_BINS) -> dict:
    """Expected calibration error over ``n_bins`` equal-width confidence bins, and the table
    a reliability diagram draws.

    The standard definition (Naeini et al. 2015; Guo et al. 2017): each row's confidence is
    the probability of its predicted class; bin m (1-based) holds the rows whose confidence is
    in ((m-1)/M, m/M] (a confidence of 0 goes to the first bin); ECE = sum over bins of
    |B_m|/n x |accuracy(B_m) - mean confidence(B_m)|. The edges are the floats m/M (so a
    confidence of 0.2 lies in the bin that ends at 3/15 == 0.2), and sums are exactly rounded
    (math.fsum): the result does not depend on the order of the rows.

    Returns ``{"ece", "bins": M, "rows": n, "reliability": [{"lower", "upper", "count",
    "accuracy", "confidence"}]}`` (accuracy and confidence are None for an empty bin; ece is
    None when there are no rows).
    """
    if len(confidences) != len(correct):
        raise ValueError(f"{len(confidences)} confidences but {len(correct)} correctness flags")
    edges = [m / n_bins for m in range(n_bins + 1)]
    members: list[list[tuple[float, bool]]] = [[] for _ in range(n_bins)]
    for c, ok in zip(confidences, correct):
        c = float(c)
        if not (0.0 <= c <= 1.0):
            raise ValueError(f"confidence {c!r} is not a probability")
        members[max(bisect_left(edges, c) - 1, 0)].append((c, bool(ok)))
    n = len(confidences)
    table, gaps = [], []
    for m, rows in enumerate(members):
        count = len(rows)
        acc = conf = None
        if count:
            hits = sum(ok for _, ok in rows)
            mean_conf = math.fsum(c for c, _ in rows) / count
            gaps.append(count / n * abs(hits / count - mean_conf))
            acc, conf = _ratio(hits, count), rnd(mean_conf)
        table.append({"lower": rnd(edges[m]), "upper": rnd(edges[m + 1]), "count": count,
                      "accuracy": acc, "confidence": conf})
    return {"ece": rnd(math.fsum(gaps)) if n else None, "bins": n_bins, "rows": n, "reliability": table}


# ----------------------------------------------------------------------------- combined


def unmeasured() -> dict:
    """The metrics of a model trained without validation rows (validation_split 0): nothing
    is measured (None) and the tables are empty, in the shape ``evaluate`` returns."""
    return {"accuracy": None, "macro_f1": None, "n_validation": 0, "per_class": {},
            "confusion_matrix": {"labels": [], "matrix": [], "truncated": False},
            "majority_baseline": None, "ece": None}


def evaluate(
    mode: str,
    y_true: list[str],
    y_pred: list[str],
    labels: list[str],
    *,
    train_targets: Iterable[str] | None = None,
    confidences: Sequence[float] | None = None,
) -> dict:
    """Every metric that applies to ``mode`` ("text", "image" or "audio") in one flat dict.

    With ``confidences`` (the probability of each predicted class) it adds ``ece`` and
    ``calibration`` (see :func:`calibration`). The result is the ``metrics`` argument of
    ``reports.write_reports`` minus ``history`` (which the trainer adds).
    """
    out = classification_metrics(y_true, y_pred, labels, train_targets=train_targets)
    if confidences is not None:
        out["calibration"] = calibration(confidences, [str(t) == str(p) for t, p in zip(y_true, y_pred)])
        out["ece"] = out["calibration"]["ece"]
    if mode == "text":
        out.update(text_metrics(y_true, y_pred))
    elif mode == "audio":
        out.update(speech_metrics(y_true, y_pred))
    return out
