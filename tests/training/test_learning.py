"""A model that did not learn is not registered silently; `validation_split: 0` trains on every
row and says that nothing was measured; learning-rate advice fits the chosen base."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from n3lang.resources import load_schema
from n3lang.training import bases, config, learning
from tests.training.test_train_cli import APP, files, n3

ROOT = Path(__file__).resolve().parents[2]
TICKETS = ROOT / "examples" / "supportbot" / "data" / "support_tickets.jsonl"  # 400 rows, 8 classes
WEAK = ["--model-base", "text-base", "--dataset", "data/tickets.jsonl", "--learning-rate", "2e-5",
        "--output-name", "weak"]
REPORTS = "docs/reports/training_{}_weak_1.0.0.{}"


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "app.ai").write_text(APP)
    (tmp_path / "data").mkdir()
    shutil.copy(TICKETS, tmp_path / "data" / "tickets.jsonl")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("N3_TRAIN_CREATED_AT", raising=False)
    return tmp_path


WEAK_MESSAGE = ("the model trained with learning rate 2e-5 (text-base, lr_scale 1) is not clearly better than always "
                "answering 'account_locked': 8 of 77 validation rows right (10.4%), while 'account_locked' alone is "
                "16.9% of them (one-sided binomial test p = 0.96; learning needs p < 0.01); nothing was written")
WEAK_FIX = ("The learning rate was 2e-5; text-base takes it as its step size (lr_scale 1). A value that works for "
            "text-base: 2.0 (its default; leave learning_rate out to use it). To register this model anyway, with a "
            "warning, pass --allow-weak-model (allow_weak_model: true in training.yaml or the model block).")


# ---------------------------------------------------------------------------------- the stop
def test_a_model_that_did_not_learn_stops_before_anything_is_written(project):
    before = files(project)
    result = n3("train", *WEAK, "--json")
    assert result.exit_code == 1, result.output
    [d] = json.loads(result.stdout)["diagnostics"]
    assert d["code"] == "model-did-not-learn"
    assert d["message"] == WEAK_MESSAGE
    assert d["fix"] == WEAK_FIX
    assert d["example"] == "n3 train ... --learning-rate 2.0\nn3 train ... --allow-weak-model"
    assert d["file"] == "<command line>"  # the flag to change
    assert files(project) == before  # no model dir, no staging dir, no registry, no report
    assert not (project / "models").exists() and not (project / "docs").exists()


def test_the_stop_rendered_for_people(project):
    result = n3("train", *WEAK)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert f"command line: error: {WEAK_MESSAGE} [model-did-not-learn]" in lines
    assert f"  Fix: {WEAK_FIX}" in lines


def test_from_training_yaml_the_stop_points_at_the_learning_rate(project):
    (project / "training.yaml").write_text("model_base: text-base\ndataset: data/tickets.jsonl\nlearning_rate: 2e-5\n"
                                           "output_name: weak\n")
    result = n3("train", "--config", "training.yaml", "--json")
    [d] = json.loads(result.stdout)["diagnostics"]
    assert (d["code"], d["file"], d["line"], d["column"]) == ("model-did-not-learn", "training.yaml", 3, 16)


def test_a_hosted_base_is_told_its_own_scale(project):
    result = n3("train", "--model-base", "gpt-4", "--dataset", "data/tickets.jsonl", "--learning-rate", "2e-10",
                "--output-name", "weak", "--json")
    [d] = json.loads(result.stdout)["diagnostics"]
    assert d["code"] == "model-did-not-learn"
    assert d["message"].startswith("the model trained with learning rate 2e-10 (gpt-4, lr_scale 100000) is not "
                                   "clearly better than always answering 'account_locked'")
    assert d["fix"].startswith("The learning rate was 2e-10; gpt-4 reads it on the hosted fine-tuning scale: 2e-10 x "
                               "lr_scale 100000 = local step 2e-5. A value that works for gpt-4: 2e-5 (its default;")
    assert d["example"].startswith("n3 train ... --learning-rate 2e-5\n")


# ---------------------------------------------------------------------------------- allowed anyway
WEAK_WARNING = ("The model is not clearly better than always answering 'account_locked': 8 of 77 validation rows "
                "right (10.4%), while 'account_locked' alone is 16.9% of them (one-sided binomial test p = 0.96; "
                "learning needs p < 0.01). It was registered because allow_weak_model was set.")


def test_allow_weak_model_registers_with_a_warning_everywhere(project):
    result = n3("train", *WEAK, "--allow-weak-model")
    assert result.exit_code == 0, result.output
    assert f"  warning: {WEAK_WARNING}" in result.stdout.splitlines()
    meta = json.loads((project / "models/weak/1.0.0/metadata.json").read_text())
    assert meta["warnings"] == [WEAK_WARNING]
    check = meta["metrics"]["learning_check"]
    assert (check["verdict"], check["rows"], check["correct"], check["no_information_label"]) == \
        ("not-learned", 77, 8, "account_locked")
    assert check["no_information_rate"] == round(13 / 77, 6) and 0.95 < check["p_value"] < 1
    report = json.loads((project / REPORTS.format("metrics", "json")).read_text())
    jsonschema.validate(report, load_schema("metrics-report"))
    jsonschema.validate(meta, load_schema("metadata"))
    assert report["warnings"] == [WEAK_WARNING] and report["learning_check"] == check
    page = (project / REPORTS.format("report", "html")).read_text()
    assert '<p class="warn"><strong>Warning:</strong> The model is not clearly better than always answering ' \
           "&#x27;account_locked&#x27;" in page
    entry = yaml.safe_load((project / "models_registry.yaml").read_text())[0]
    assert entry["name"] == "weak" and entry["status"] == "active"
    verify = n3("train", "--verify", "weak")  # retraining reproduces the weak model and its warning
    assert verify.exit_code == 0 and "every sha256 matches" in verify.stdout


def test_allow_weak_model_in_training_yaml_and_in_a_model_block(project):
    (project / "training.yaml").write_text("model_base: text-base\ndataset: data/tickets.jsonl\nlearning_rate: 2e-5\n"
                                           "output_name: weak\nallow_weak_model: true\n")
    assert n3("train", "--config", "training.yaml").exit_code == 0
    (project / "app.ai").write_text(APP + '\nmodel "weak_v2":\n  model_base is "text-base"\n'
                                    '  dataset is "data/tickets.jsonl"\n  learning_rate is 0.00002\n'
                                    "  allow_weak_model is true\n")
    assert n3("check", "app.ai").exit_code == 0
    result = n3("train", "app.ai", "--json")
    assert result.exit_code == 0, result.output
    [trained] = json.loads(result.stdout)["trained"]
    assert trained["name"] == "weak_v2" and trained["warnings"][0].startswith("The model is not clearly better")


def test_a_model_that_learned_has_no_warning(project):
    result = n3("train", "--model-base", "text-base", "--dataset", "data/tickets.jsonl", "--output-name", "good",
                "--json")
    [trained] = json.loads(result.stdout)["trained"]
    assert trained["warnings"] == [] and trained["metrics"]["learning_check"]["verdict"] == "learned"


def test_a_toy_set_of_twenty_rows_trains_and_says_it_is_too_small_to_tell(project):
    words = {"billing": ["invoice", "charge", "refund", "payment", "bill"],
             "account": ["password", "login", "locked", "email", "username"]}
    rows = [{"input": f"my {w} {extra} problem", "target": t}
            for t, ws in words.items() for w in ws for extra in ("again", "today")]
    (project / "data" / "toy.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = n3("train", "--model-base", "text-base", "--dataset", "data/toy.jsonl", "--output-name", "toy", "--json")
    assert result.exit_code == 0, result.output
    [trained] = json.loads(result.stdout)["trained"]
    check = trained["metrics"]["learning_check"]
    assert (check["verdict"], check["rows"], check["correct"]) == ("inconclusive", 3, 3)
    assert trained["warnings"] == [
        "Too few validation rows to tell whether the model learned: 3 of 3 validation rows right (100.0%), while "
        "'account' alone is 66.7% of them (one-sided binomial test p = 0.3; learning needs p < 0.01). 3 rows are too "
        "few for this test to show learning: a model right on every 'account' row and on half of the others would "
        "fail it too; about 44 rows would do. Add rows, or raise validation_split."]


# ---------------------------------------------------------------------------------- validation_split 0
def test_validation_split_zero_trains_on_every_row_and_says_nothing_was_measured(project):
    plan = n3("train", "--model-base", "text-base", "--dataset", "data/tickets.jsonl", "--output-name", "all_rows",
              "--validation-split", "0", "--dry-run")
    assert "400 rows -> 400 training, 0 validation (validation_split 0; every row trains and nothing is measured)" \
        in plan.stdout
    result = n3("train", "--model-base", "text-base", "--dataset", "data/tickets.jsonl", "--output-name", "all_rows",
                "--validation-split", "0")
    assert result.exit_code == 0, result.output
    warning = ("No validation rows (validation_split is 0): the model was trained on every row, so its accuracy, "
               "macro-F1 and calibration are not measured and nothing checks that it learned.")
    assert result.stdout.splitlines()[1:3] == ["  trained on all 400 rows; no validation rows, so nothing was measured",
                                               f"  warning: {warning}"]
    meta = json.loads((project / "models/all_rows/1.0.0/metadata.json").read_text())
    jsonschema.validate(meta, load_schema("metadata"))
    assert meta["split"]["train_rows"] == 400 and meta["split"]["validation_rows"] == 0
    m = meta["metrics"]
    assert (m["accuracy"], m["macro_f1"], m["majority_baseline"], m["ece"], m["n_train"], m["n_validation"]) == \
        (None, None, None, None, 400, 0)
    assert m["learning_check"]["verdict"] == "not-run" and meta["warnings"] == [warning]
    assert all(h["val_accuracy"] is None for h in m["history"])
    report = json.loads((project / "docs/reports/training_metrics_all_rows_1.0.0.json").read_text())
    jsonschema.validate(report, load_schema("metrics-report"))
    assert report["accuracy"] is None and report["warnings"] == [warning] and report["per_class"] == {}
    page = (project / "docs/reports/training_report_all_rows_1.0.0.html").read_text()
    assert f'<p class="warn"><strong>Warning:</strong> {warning}</p>' in page and "<h2>Calibration</h2>" not in page
    entry = yaml.safe_load((project / "models_registry.yaml").read_text())[0]
    assert entry["metrics"]["accuracy"] is None and entry["config"]["validation_split"] == 0
    assert n3("models", "list").stdout.splitlines()[1].split()[5] == "-"
    assert n3("train", "--verify", "all_rows").exit_code == 0
    assert n3("predict", "all_rows", "my invoice is wrong", "--json").exit_code == 0


# ---------------------------------------------------------------------------------- the test itself
def test_binomial_tail_exact_values():
    assert learning.binomial_tail(9, 10, 0.5) == pytest.approx(11 / 1024, rel=1e-12)
    assert learning.binomial_tail(0, 10, 0.3) == 1.0 and learning.binomial_tail(11, 10, 0.3) == 0.0
    exact = sum(math.comb(50, i) * 0.2 ** i * 0.8 ** (50 - i) for i in range(17, 51))
    assert learning.binomial_tail(17, 50, 0.2) == pytest.approx(exact, rel=1e-10)
    assert learning.binomial_tail(3, 10, 0.0) == 0.0 and learning.binomial_tail(3, 10, 1.0) == 1.0


def test_verdicts():
    # stuck on the majority class of a big set: not learned (the example)
    v = learning.check(["a"] * 60 + ["b"] * 40, ["a"] * 100, ["a", "b"])
    assert (v.status, v.correct, v.rate, v.label) == ("not-learned", 60, 0.6, "a") and v.blocks
    # clearly better
    v = learning.check(["a"] * 60 + ["b"] * 40, ["a"] * 60 + ["b"] * 30 + ["a"] * 10, ["a", "b"])
    assert v.status == "learned" and v.p_value < 1e-6 and v.warning() is None
    # 8 rows: 6 right against 37.5% is p = 0.036, but a halfway model (7 right) would fail too: too few to tell
    v = learning.check(list("aaabbbcc"), list("aaabbbab"), list("abc"))
    assert (v.status, round(v.p_value, 4), v.rows_needed) == ("inconclusive", 0.036, 17) and not v.blocks
    # a perfect score passes even on a small set
    assert learning.check(list("aabbcc") * 2, list("aabbcc") * 2, list("abc")).status == "learned"
    # rows whose class the training rows never had do not count
    v = learning.check(["a", "b", "zz", "zz"], ["a", "b", "a", "a"], ["a", "b"])
    assert v.rows == 2 and v.status == "inconclusive"
    assert learning.check(["zz"], ["a"], ["a", "b"]).warning().startswith(
        "Too few validation rows to tell whether the model learned: no validation row has a target")
    assert learning.check(["a", "a"], ["a", "a"], ["a", "b"]).warning().startswith(
        "Too few validation rows to tell whether the model learned: all 2 validation rows have the same target")
    assert learning.check([], [], ["a", "b"]).status == "not-run"


def test_learning_rate_words():
    assert [learning.rate_text(v) for v in (2e-5, 1.0, 0.01, 5e6, 0.5)] == ["2e-5", "1.0", "0.01", "5e6", "0.5"]


def test_the_learning_rate_defaults_named_before_the_base_is_known_are_the_catalogs():
    named = {name: rate for rate, names in config.LEARNING_RATE_DEFAULTS for name in names}
    assert named == {b.name: learning.rate_text(float(b.defaults["learning_rate"]))
                     for b in bases.catalog() if b.trainable}
    problem = config.check_setting("learning_rate", 0)[1]
    assert problem is not None and problem.fix == (
        "Set `learning_rate` to a positive number on the base's scale, or leave it out to use the base's default: "
        "2.0 for text-base, 2e-5 for gpt-3.5-turbo, gpt-4 and gpt-4o-mini (the hosted fine-tuning scale), 0.01 for "
        "vision-classifier and speech-to-text.")
