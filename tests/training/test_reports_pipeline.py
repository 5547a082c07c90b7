"""Reports written by a real training run: schema-valid, self-contained, identical across dirs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema

from n3lang.resources import load_schema

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "supportbot"
NAME = "supportbot.faq_model_v2"


def _train(project: Path) -> dict[str, bytes]:
    from n3lang.training import config, trainer

    (project / "data").mkdir(parents=True)
    shutil.copyfile(EXAMPLE / "app.ai", project / "app.ai")
    lines = (EXAMPLE / "data" / "support_tickets.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (project / "data" / "support_tickets.jsonl").write_text("".join(lines[:120]), encoding="utf-8")
    cfg = config.load({"model_base": "gpt-3.5-turbo", "dataset": "data/support_tickets.jsonl", "epochs": 3,
                       "learning_rate": 2e-5, "seed": 13, "output_name": NAME, "mode": "text",
                       "validation_split": 0.2}, None)
    trainer.train(trainer.prepare(project, cfg))
    reports = project / "docs" / "reports"
    return {p.name: p.read_bytes() for p in sorted(reports.iterdir())}


def test_training_run_reports(tmp_path: Path) -> None:
    a = _train(tmp_path / "one")
    assert sorted(a) == [f"training_explain_{NAME}_2.0.0.json", f"training_metrics_{NAME}_2.0.0.json",
                         f"training_report_{NAME}_2.0.0.html"]
    metrics = json.loads(a[f"training_metrics_{NAME}_2.0.0.json"])
    explain = json.loads(a[f"training_explain_{NAME}_2.0.0.json"])
    jsonschema.Draft202012Validator(load_schema("metrics-report")).validate(metrics)
    jsonschema.Draft202012Validator(load_schema("explain-report")).validate(explain)
    assert metrics["accuracy"] > metrics["majority_baseline"]["accuracy"]
    assert len(metrics["history"]) == 3 and {"bleu", "token_f1"} <= set(metrics)
    assert explain["top_features"] and all(isinstance(f["feature"], str)
                                           for feats in explain["top_features"].values() for f in feats)
    page = a[f"training_report_{NAME}_2.0.0.html"].decode("utf-8")
    assert page.count("<svg") >= 3 and "<script" not in page
    # same inputs in another directory: the same bytes, and no path of either directory inside
    b = _train(tmp_path / "two")
    assert a == b
    for data in a.values():
        assert str(tmp_path).encode() not in data
