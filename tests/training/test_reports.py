"""Reports: golden files for a small fixed input, schema validity, atomicity, HTML shape.

Regenerate the golden files after an intended change with
``N3_UPDATE_GOLDEN=1 pytest tests/training/test_reports.py``.
"""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from n3lang.resources import load_schema
from n3lang.training import reports
from n3lang.training.metrics import evaluate
from n3lang.training.reports import write_reports

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden" / "reports"
NAME, VERSION = "supportbot.faq_model_v2", "2.0.0"

Y_TRUE = ["billing", "refund", "billing", "shipping", "refund", "billing", "shipping", "billing"]
Y_PRED = ["billing", "refund", "refund", "shipping", "billing", "billing", "shipping", "billing"]
LABELS = ["billing", "refund", "shipping"]
CONFIDENCES = [0.91, 0.8, 0.55, 0.97, 0.62, 0.7, 0.93, 0.85]


def fixture_args() -> tuple[dict, dict, dict]:
    metrics = evaluate("text", Y_TRUE, Y_PRED, LABELS, train_targets=Y_TRUE + ["billing"], confidences=CONFIDENCES)
    metrics["history"] = {"loss": [np.float32(1.0986), 0.61234567, 0.4], "val_accuracy": [0.5, 0.625, 0.75]}
    explain = {
        "method": "weight x feature value of the linear model, per class",
        "hashing": {"buckets": 262144, "word_ngrams": [1, 2], "char_ngrams": [3, 5]},
        "top_features": {
            "billing": [
                {"feature": "invoice", "weight": 1.25, "kind": "word 1-gram", "bucket": 1021, "ngrams_in_bucket": 1},
                {"feature": "charged twice", "weight": 0.9, "kind": "word 2-gram", "bucket": 77,
                 "ngrams_in_bucket": 2, "others": ["<b>tag</b>"]},
            ],
            "refund": [{"feature": "money back", "weight": 1.1, "kind": "word 2-gram", "bucket": 5, "ngrams_in_bucket": 1}],
            "shipping": [{"feature": "parcel", "weight": 0.8, "kind": "word 1-gram", "bucket": 9, "ngrams_in_bucket": 1},
                         {"feature": "refund", "weight": -0.3, "kind": "word 1-gram", "bucket": 10, "ngrams_in_bucket": 1}],
        },
        "examples": [
            {"input": "I was charged twice & want my money back <now>", "target": "refund", "predicted": "billing",
             "confidence": np.float64(0.5123456789),
             "contributions": [{"feature": "charged twice", "weight": 0.9}, {"feature": "money back", "weight": -0.4}]},
        ],
        "notes": ["Validation rows only."],
        "seed_used": 13,
    }
    model_info = {
        "name": NAME, "version": VERSION, "mode": "text", "base_model": "gpt-3.5-turbo",
        "model_kind": "classifier", "created_at": "1970-01-01T00:00:00Z",
        "dataset": "data/support_tickets.jsonl", "dataset_snapshot": "ab" * 32,
        "n_train": 32, "n_validation": 8, "labels": LABELS,
        "config": {"epochs": 3, "learning_rate": 2e-5, "effective_learning_rate": 0.2, "seed": 13},
        "trainer": "linear-softmax",
    }
    return metrics, explain, model_info


@pytest.fixture()
def written(tmp_path: Path) -> dict[str, Path]:
    metrics, explain, model_info = fixture_args()
    return write_reports(tmp_path / "staging" / "docs" / "reports", NAME, VERSION, metrics, explain, model_info)


def test_paths_are_exactly_the_contract(written: dict[str, Path]) -> None:
    assert set(written) == {"metrics", "explain", "html"}
    assert written["metrics"].name == "training_metrics_supportbot.faq_model_v2_2.0.0.json"
    assert written["explain"].name == "training_explain_supportbot.faq_model_v2_2.0.0.json"
    assert written["html"].name == "training_report_supportbot.faq_model_v2_2.0.0.html"
    assert sorted(p.name for p in written["metrics"].parent.iterdir()) == sorted(p.name for p in written.values())


@pytest.mark.parametrize("key,golden", [
    ("metrics", "training_metrics.json"), ("explain", "training_explain.json"), ("html", "training_report.html"),
])
def test_golden(written: dict[str, Path], key: str, golden: str) -> None:
    data = written[key].read_bytes()
    target = GOLDEN / golden
    if os.environ.get("N3_UPDATE_GOLDEN"):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    assert data == target.read_bytes(), f"{golden} changed; rerun with N3_UPDATE_GOLDEN=1 if intended"


def test_json_is_canonical_and_valid(written: dict[str, Path]) -> None:
    for key, schema in (("metrics", "metrics-report"), ("explain", "explain-report")):
        raw = written[key].read_text(encoding="utf-8")
        doc = json.loads(raw)
        assert raw == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        jsonschema.Draft202012Validator(load_schema(schema)).validate(doc)
        assert str(written[key].parent) not in raw


def test_metrics_content(written: dict[str, Path]) -> None:
    doc = json.loads(written["metrics"].read_text())
    assert doc["accuracy"] == 0.75
    assert doc["majority_baseline"] == {"label": "billing", "accuracy": 0.5}
    assert doc["history"][0] == {"epoch": 1, "loss": 1.0986, "val_accuracy": 0.5}
    assert doc["history"][1]["loss"] == 0.612346
    assert doc["confusion_matrix"]["labels"] == LABELS
    assert doc["confusion_matrix"]["matrix"] == [[3, 1, 0], [1, 1, 0], [0, 0, 2]]
    assert {"bleu", "token_f1"} <= set(doc)
    assert doc["extra"] == {"trainer": "linear-softmax"}
    explain = json.loads(written["explain"].read_text())
    assert explain["extra"] == {"seed_used": 13}
    assert explain["examples"][0]["confidence"] == 0.512346


def test_calibration_in_the_metrics_and_the_page(written: dict[str, Path]) -> None:
    doc = json.loads(written["metrics"].read_text())
    # right: 0.91 0.8 0.97 0.7 0.93 0.85; wrong: 0.55 0.62; (13/15, 14/15] holds 0.91 and 0.93 (both
    # right, so their bin's gap is the sum of theirs), every other row is alone in its bin
    gaps = [1 - 0.91, 1 - 0.8, 0.55, 1 - 0.97, 0.62, 1 - 0.7, 1 - 0.93, 1 - 0.85]
    assert doc["ece"] == round(sum(gaps) / 8, 6) == doc["calibration"]["ece"]
    assert [b["count"] for b in doc["calibration"]["reliability"]][8:] == [1, 1, 1, 1, 1, 2, 1]
    page = written["html"].read_text()
    assert "<h2>Calibration</h2>" in page and 'aria-label="reliability diagram' in page
    assert "Calibration error (ECE)" in page and f"{doc['ece']:.3f}" in page
    assert "confidence 0.867–0.933: 2 rows, accuracy 1.000, mean confidence 0.920" in page
    assert "confidence 0.933–1.000: 1 row, accuracy 1.000, mean confidence 0.970" in page


def test_same_input_same_bytes(tmp_path: Path) -> None:
    outs = []
    for sub in ("a", "b"):
        metrics, explain, model_info = fixture_args()
        paths = write_reports(tmp_path / sub, NAME, VERSION, metrics, explain, model_info)
        outs.append({k: p.read_bytes() for k, p in paths.items()})
    assert outs[0] == outs[1]


class _Checker(HTMLParser):
    VOID = {"meta", "br", "img", "input", "link", "hr", "circle", "rect", "line", "polyline", "path"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: dict[str, int] = {}
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href") or (value and "url(" in value):
                self.errors.append(f"external reference {name}={value}")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def test_html_is_well_formed_and_self_contained(written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    assert checker.tags["svg"] >= 4  # loss curve, confusion matrix, reliability diagram, top features
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # user text is escaped
    assert "&lt;now&gt;" in page and "<now>" not in page
    assert "&lt;b&gt;" not in page or "<b>tag</b>" not in page


def test_rejects_bad_shapes(tmp_path: Path) -> None:
    metrics, explain, model_info = fixture_args()
    with pytest.raises(ValueError, match="absolute"):
        write_reports(tmp_path, NAME, VERSION, metrics, explain, dict(model_info, dataset="/home/x/data.jsonl"))
    with pytest.raises(ValueError, match="file name"):
        write_reports(tmp_path, "../evil", VERSION, metrics, explain, model_info)
    with pytest.raises(ValueError, match="schema"):
        write_reports(tmp_path, NAME, VERSION, dict(metrics, accuracy="high"), explain, model_info)
    with pytest.raises(ValueError, match="finite"):
        write_reports(tmp_path, NAME, VERSION, dict(metrics, accuracy=float("nan")), explain, model_info)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "new" / "dir" / "f.json"
    reports.atomic_write(target, b"{}\n")
    reports.atomic_write(target, b"[]\n")
    assert target.read_bytes() == b"[]\n"
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


def test_image_and_audio_explanations_render(tmp_path: Path) -> None:
    metrics = evaluate("audio", ["yes", "no", "yes"], ["yes", "yes", "yes"], ["no", "yes"])
    metrics["history"] = [{"loss": 0.5, "val_accuracy": 0.66}]
    explain = {"time_importance": [0.1, 0.5, 0.2], "frequency_importance": [0.3, 0.0, 0.9]}
    paths = write_reports(tmp_path, "kw", "1.0.0", metrics, explain, {"mode": "audio"})
    doc = json.loads(paths["metrics"].read_text())
    assert doc["wer"] == pytest.approx(1 / 3, abs=1e-6) and doc["transcript_accuracy"] == pytest.approx(0.666667)
    assert "What the model listens to" in paths["html"].read_text()
    metrics = evaluate("image", ["0", "1"], ["0", "1"], ["0", "1"])
    explain = {"saliency": {"0": {"grid": [[0.0, 1.0], [0.5, 0.25]], "peak": [0, 1]}}}
    paths = write_reports(tmp_path, "digits", "1.0.0", metrics, explain, {"mode": "image"})
    assert "Saliency per class" in paths["html"].read_text()
    assert "bleu" not in json.loads(paths["metrics"].read_text())


def test_accepts_the_text_handlers_hashed_explain_shape(tmp_path: Path) -> None:
    metrics, _, model_info = fixture_args()
    explain = {
        "kind": "hashed-softmax",
        "note": "features are hashed",
        "top_features": {"billing": [
            {"feature": 1021, "ngrams": ["invoice", "tea"], "collision": True, "n_ngrams": 2, "weight": 1.5},
            {"feature": 7, "ngrams": [], "collision": False, "n_ngrams": 0, "weight": 0.5},
        ]},
        "examples": [{"input": "invoice wrong", "target": None, "prediction": "billing", "confidence": 0.9,
                      "contributions": [{"feature": 1021, "ngrams": ["invoice"], "collision": False,
                                         "n_ngrams": 1, "contribution": 0.7}]}],
    }
    paths = write_reports(tmp_path, NAME, VERSION, metrics, explain, model_info)
    doc = json.loads(paths["explain"].read_text())
    assert doc["top_features"]["billing"][0] == {"feature": "invoice", "bucket": 1021, "ngrams_in_bucket": 2,
                                                 "others": ["tea"], "weight": 1.5}
    assert doc["top_features"]["billing"][1]["feature"] == "#7"
    ex = doc["examples"][0]
    assert ex["predicted"] == "billing" and ex["contributions"][0]["weight"] == 0.7
    assert doc["extra"] == {"kind": "hashed-softmax", "note": "features are hashed"}


def test_many_free_text_targets_render_readably(tmp_path: Path) -> None:
    answers = [f"Use the reset link, step {i}." for i in range(60)]
    preds = answers[:50] + answers[:10]
    metrics = evaluate("text", answers, preds, answers)
    metrics["history"] = [{"epoch": 1, "loss": 0.0, "val_accuracy": 0.8}]
    explain = {"examples": [{"input": "reset?", "target": answers[0], "predicted": answers[0],
                             "confidence": 0.2, "nearest_training_row": 3, "similarity": 0.95}]}
    paths = write_reports(tmp_path, "faq.qa", "1.0.0", metrics, explain, {"mode": "text", "model_kind": "retrieval"})
    page = paths["html"].read_text()
    assert "too many for a readable matrix" in page and "Training curve" not in page
    assert "similarity 0.95" in page and "most frequent of 60 targets" in page
    assert json.loads(paths["metrics"].read_text())["confusion_matrix"]["truncated"] is True
