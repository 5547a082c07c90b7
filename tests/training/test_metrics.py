"""Metrics measured from predictions: known values, edge cases, scikit-learn agreement."""

from __future__ import annotations

import random

import pytest

from n3lang.training import metrics as M


def test_classification_known_values() -> None:
    out = M.classification_metrics(["a", "b", "a", "c"], ["a", "a", "a", "b"], ["a", "b", "c"])
    assert out["accuracy"] == 0.5
    assert out["macro_f1"] == 0.266667
    assert out["per_class"]["a"] == {"precision": 0.666667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert out["confusion_matrix"] == {"labels": ["a", "b", "c"], "matrix": [[2, 0, 0], [1, 0, 0], [0, 1, 0]],
                                       "truncated": False}
    assert out["majority_baseline"] == {"label": "a", "accuracy": 0.5}
    assert out["n_validation"] == 4


def test_unseen_labels_are_appended_and_baseline_uses_training_targets() -> None:
    out = M.classification_metrics(["x", "b"], ["b", "b"], ["b", "a"], train_targets=["a", "a", "b"])
    assert out["confusion_matrix"]["labels"] == ["b", "a", "x"]
    assert out["majority_baseline"] == {"label": "a", "accuracy": 0.0}
    assert set(out["per_class"]) == {"a", "b", "x"}
    # macro-F1 averages labels seen in y_true or y_pred (b, x), not 'a'
    assert out["macro_f1"] == pytest.approx((2 / 3 + 0) / 2, abs=1e-6)


def test_confusion_matrix_truncates_many_labels() -> None:
    y = [f"answer {i}" for i in range(80)] + ["answer 0"] * 5
    out = M.classification_metrics(y, y, sorted(set(y)), max_confusion_labels=10)
    cm = out["confusion_matrix"]
    assert cm["truncated"] and len(cm["labels"]) == 10 and "answer 0" in cm["labels"]
    assert len(cm["matrix"]) == 10 and all(len(r) == 10 for r in cm["matrix"])


def test_length_mismatch() -> None:
    with pytest.raises(ValueError):
        M.classification_metrics(["a"], [], ["a"])


def test_agrees_with_scikit_learn() -> None:
    """Expected values computed once with scikit-learn 1.9 (accuracy_score, f1_score(macro),
    precision_recall_fscore_support, confusion_matrix) on this very input."""
    rng = random.Random(3)
    labels = list("abcde")
    y_true = [rng.choice(labels[:4]) for _ in range(300)]
    y_pred = [t if rng.random() < 0.6 else rng.choice(labels) for t in y_true]
    out = M.classification_metrics(y_true, y_pred, labels)
    assert out["accuracy"] == pytest.approx(0.71, abs=1e-6)
    assert out["macro_f1"] == pytest.approx(0.5868019292024753, abs=1e-6)
    # scikit-learn's macro average counts 'e' (predicted, never true) with F1 0, as we do
    expected = {
        "a": (0.78481, 0.746988, 0.765432, 83), "b": (0.709677, 0.733333, 0.721311, 60),
        "c": (0.763889, 0.662651, 0.709677, 83), "d": (0.776119, 0.702703, 0.737589, 74),
    }
    for label, (p, r, f, n) in expected.items():
        assert out["per_class"][label] == {"precision": p, "recall": r, "f1": f, "support": n}
    assert out["confusion_matrix"]["matrix"] == [[62, 5, 9, 5, 2], [5, 44, 5, 6, 0], [5, 7, 55, 4, 12],
                                                 [7, 6, 3, 52, 6], [0, 0, 0, 0, 0]]


def test_bleu_and_token_f1() -> None:
    assert M.sentence_bleu("billing", "billing") == 1.0
    assert M.sentence_bleu("reset my password", "") == 0.0
    assert M.sentence_bleu("the cat sat on the mat", "dog") == 0.0
    partial = M.sentence_bleu("the cat sat on the mat", "the cat sat on a mat")
    assert 0.3 < partial < 1.0
    # brevity penalty: a prefix scores lower than the whole
    assert M.sentence_bleu("a b c d e f", "a b c") < M.sentence_bleu("a b c d e f", "a b c d e f")
    assert M.token_f1("Reset my password", "reset password") == pytest.approx(0.8)
    assert M.token_f1("", "") == 1.0 and M.token_f1("a", "b") == 0.0
    out = M.text_metrics(["Refund", "shipping"], ["refund", "billing"])
    assert out == {"bleu": 0.5, "token_f1": 0.5, "exact_match": 0.5}


def test_speech_metrics() -> None:
    assert M.edit_distance("kitten", "sitting") == 3
    out = M.speech_metrics(["turn on the light", "yes"], ["turn the light", "Yes"])
    assert out == {"wer": 0.2, "transcript_accuracy": 0.5}
    assert M.speech_metrics([], []) == {"wer": 0.0, "transcript_accuracy": 0.0}


def test_evaluate_by_mode() -> None:
    y = ["a", "b"]
    assert {"bleu", "token_f1"} <= set(M.evaluate("text", y, y, y))
    assert {"wer", "transcript_accuracy"} <= set(M.evaluate("audio", y, y, y))
    assert not {"bleu", "wer"} & set(M.evaluate("image", y, y, y))


def test_rounding_is_stable() -> None:
    assert M.rnd(1 / 3) == 0.333333 and M.rnd(-0.0) == 0.0 and str(M.rnd(-1e-9)) == "0.0"
    with pytest.raises(ValueError):
        M.rnd(float("inf"))


# ----------------------------------------------------------------------------- calibration
def test_ece_of_a_hand_example() -> None:
    # bins of width 1/15: 0.95 -> (14/15, 1], 0.6 -> (8/15, 9/15], 0.3 -> (4/15, 5/15]
    # |acc - conf| weighted by rows: 2/5 x |0.5 - 0.95| + 2/5 x |1 - 0.6| + 1/5 x |0 - 0.3| = 0.18 + 0.16 + 0.06
    out = M.calibration([0.95, 0.95, 0.6, 0.6, 0.3], [True, False, True, True, False])
    assert out["ece"] == 0.4
    assert out["bins"] == 15 and out["rows"] == 5 and len(out["reliability"]) == 15
    filled = [(i, b["count"], b["accuracy"], b["confidence"]) for i, b in enumerate(out["reliability"]) if b["count"]]
    assert filled == [(4, 1, 0.0, 0.3), (8, 2, 1.0, 0.6), (14, 2, 0.5, 0.95)]
    assert out["reliability"][0] == {"lower": 0.0, "upper": 0.066667, "count": 0, "accuracy": None, "confidence": None}
    assert out["reliability"][14]["upper"] == 1.0


def test_ece_bins_are_closed_on_the_right() -> None:
    out = M.calibration([0.0, 0.2, 0.2000001, 1.0, 1 / 15], [True, True, False, True, False])
    counts = [b["count"] for b in out["reliability"]]
    assert counts[0] == 2  # 0 and exactly 1/15
    assert counts[2] == 1 and counts[3] == 1  # 0.2 ends bin 3; just above it starts bin 4
    assert counts[14] == 1


def test_ece_is_zero_when_confidence_matches_accuracy_and_order_free() -> None:
    conf = [0.75] * 4 + [0.5] * 2
    right = [True, True, True, False, True, False]
    assert M.calibration(conf, right)["ece"] == 0.0
    rng = random.Random(3)
    conf = [rng.random() for _ in range(500)]
    right = [rng.random() < c for c in conf]
    pairs = list(zip(conf, right))
    rng.shuffle(pairs)
    a = M.calibration(conf, right)
    assert a == M.calibration([c for c, _ in pairs], [r for _, r in pairs])
    # the textbook formula, computed another way
    import numpy as np

    c, r = np.array(conf), np.array(right, dtype=float)
    idx = np.clip(np.ceil(c * 15).astype(int) - 1, 0, 14)
    expect = sum((idx == m).sum() / len(c) * abs(r[idx == m].mean() - c[idx == m].mean())
                 for m in range(15) if (idx == m).any())
    assert a["ece"] == pytest.approx(expect, abs=1e-6)


def test_ece_without_rows_and_bad_input() -> None:
    assert M.calibration([], [])["ece"] is None
    with pytest.raises(ValueError):
        M.calibration([1.5], [True])
    out = M.evaluate("image", ["a", "b"], ["a", "a"], ["a", "b"], confidences=[0.9, 0.8])
    assert out["ece"] == out["calibration"]["ece"] == 0.45  # (|1 - 0.9| + |0 - 0.8|) / 2, two bins
