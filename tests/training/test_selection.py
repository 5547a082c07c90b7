"""Epochs chosen on the validation rows, then a refit on every row (issue 15): what is recorded,
and that the refit model is byte-identical across processes, hash seeds, BLAS threads and
Python threads."""

from __future__ import annotations

import json
import threading

import jsonschema
import numpy as np
import pytest

from n3lang.training import selection
from n3lang.training.features import featurize
from tests.training.test_train_safety import artifacts, make_project, run

DEFAULTS = ["--model-base", "text-base", "--dataset", "data/support_tickets.jsonl", "--seed", "13",
            "--output-name", "m"]


def load_schema(name: str) -> dict:
    from tests.training.test_train_safety import ROOT

    return json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text())


def test_best_epoch_takes_the_most_epochs_among_the_best():
    h = [{"val_accuracy": a} for a in (0.5, 0.7, 0.6, 0.7, 0.65)]
    assert selection.best_epoch(h) == 4
    assert selection.best_epoch([{"val_accuracy": 0.2}]) == 1


def test_features_of_a_subset_are_the_rows_of_the_whole():
    """The refit featurizes every row once and takes the held-out split from it: the same
    features as featurizing the split's texts alone (features are per row)."""
    texts = ["alpha beta", "gamma", "delta epsilon zeta", "eta"] * 700  # more than one chunk
    whole = featurize(texts)
    rows = np.arange(1, len(texts), 3)
    part, alone = whole.take(rows), featurize([texts[i] for i in rows])
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(part, name), getattr(alone, name))


def test_defaults_choose_epochs_on_validation_and_refit_on_every_row(tmp_path):
    proj = make_project(tmp_path / "p")
    r = run(proj, "train", *DEFAULTS)
    assert r.returncode == 0, r.stderr
    meta = json.loads((proj / "models/m/1.0.0/metadata.json").read_text())
    jsonschema.validate(meta, load_schema("metadata"))
    training = meta["training"]
    chosen = training["chosen"]["epochs"]
    assert training["refit"] is True and training["searched"] == {
        "epochs": [1, selection.MAX_EPOCHS], "char_ngrams": [[0, 0], [4, 4]]}
    # a small set with no significant difference keeps char n-grams, and says why
    assert training["chosen"]["char_ngrams"] == [4, 4] == meta["features"]["char_ngrams"]
    assert training["feature_choice"]["decided_by"] == "no significant difference: char n-grams under 20,000 training rows"
    scale = training["chosen"]["logit_scale"]
    assert meta["trainer"]["config"]["logit_scale"] == scale and scale > 0
    assert 1 <= chosen <= selection.MAX_EPOCHS
    assert training["refit_rows"] == meta["dataset"]["rows"] == meta["split"]["train_rows"] + meta["split"]["validation_rows"]
    # the stored model is the refit with the chosen epochs; the metrics are the held-out fit's
    assert meta["trainer"]["config"]["epochs"] == meta["config"]["effective"]["epochs"] == chosen
    assert len(meta["metrics"]["history"]) == chosen
    assert meta["metrics"]["history"][-1]["val_accuracy"] == pytest.approx(meta["metrics"]["accuracy"], abs=0.02)
    searched = [h["val_accuracy"] for h in training["search_history"]]
    assert len(searched) == selection.MAX_EPOCHS and searched[chosen - 1] == max(searched)
    report = json.loads((proj / "docs/reports/training_metrics_m_1.0.0.json").read_text())
    assert report["config"]["refit"] is True and report["config"]["chosen"] == training["chosen"]
    page = (proj / "docs/reports/training_report_m_1.0.0.html").read_text()
    assert (f"Chosen on the validation rows: char_ngrams [4, 4], epochs {chosen}, logit_scale {scale}. "
            "The metrics are those of the held-out fit") in page


def test_given_epochs_are_used_as_given_without_refit(tmp_path):
    proj = make_project(tmp_path / "p")
    r = run(proj, "train", *DEFAULTS, "--epochs", "3")
    assert r.returncode == 0, r.stderr
    meta = json.loads((proj / "models/m/1.0.0/metadata.json").read_text())
    assert meta["training"] == {"refit": False, "refit_rows": None, "chosen": None}
    assert meta["trainer"]["config"]["epochs"] == 3


def test_refit_byte_identical_across_processes_hashseeds_and_blas_threads(tmp_path):
    a, b = make_project(tmp_path / "one"), make_project(tmp_path / "two")
    ra = run(a, "train", *DEFAULTS, env={"PYTHONHASHSEED": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    rb = run(b, "train", *DEFAULTS, env={"PYTHONHASHSEED": "2", "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"})
    assert ra.returncode == 0 and rb.returncode == 0, ra.stderr + rb.stderr
    fa, fb = artifacts(a), artifacts(b)
    assert json.loads(fa["models/m/1.0.0/metadata.json"])["training"]["refit"] is True
    assert len(fa) == 6 and fa == fb


def test_refit_identical_in_parallel_threads(tmp_path, monkeypatch):
    from n3lang.training import config, trainer

    monkeypatch.setenv("N3_TRAIN_CREATED_AT", "2026-01-01T00:00:00Z")
    projects = [make_project(tmp_path / f"t{i}") for i in range(2)]
    errors: list[BaseException] = []

    def train(proj):
        try:
            cfg = config.load({"model_base": "text-base", "dataset": "data/support_tickets.jsonl", "seed": 13,
                               "output_name": "m"})
            trainer.train(trainer.prepare(proj, cfg))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=train, args=(p,)) for p in projects]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    first, second = (artifacts(p) for p in projects)
    assert json.loads(first["models/m/1.0.0/metadata.json"])["training"]["refit"] is True
    assert first == second


def test_mcnemar_is_one_sided_and_exact():
    assert selection.mcnemar_p(0, 0) == 1.0
    assert selection.mcnemar_p(0, 6) == pytest.approx(1 / 64)  # six of six disagreements one way
    assert selection.mcnemar_p(6, 0) == 1.0
    assert selection.mcnemar_p(20, 40) < 0.05 < selection.mcnemar_p(25, 35)


def _fit_two(texts, labels, n_train):
    """(words right, chars right) after the feature search's short fits, and the choice."""
    y = np.array(labels)
    rows = np.arange(len(texts))
    made = []

    def make(epochs, char_ngrams, logit_scale):
        from n3lang.training.text_model import HashedSoftmax

        made.append(char_ngrams)
        return HashedSoftmax(int(y.max()) + 1, epochs=epochs, learning_rate=2.0, seed=0,
                             feature_settings={"char_ngrams": char_ngrams}, logit_scale=logit_scale)

    def featurize_with(char_ngrams):
        from n3lang.training.text_model import HeldRows

        X = featurize(texts, {"char_ngrams": char_ngrams})
        return X, HeldRows(X, rows[n_train:])

    return selection.search(make, featurize_with, y, rows[:n_train], rows[n_train:])


def test_char_ngrams_are_chosen_when_words_cannot_generalise():
    """Word forms never seen in training (plural/past endings) are only reachable through char
    n-grams: the McNemar test finds them significantly better."""
    stems = [("walk", 0), ("jump", 0), ("talk", 0), ("paint", 1), ("cook", 1), ("clean", 1)]
    train = [(f"{w} {w}er {w}ers", c) for w, c in stems] * 20
    val = [(f"{w}ing {w}ed", c) for w, c in stems for _ in range(10)]
    texts = [t for t, _ in train + val]
    labels = [c for _, c in train + val]
    chosen = _fit_two(texts, labels, len(train))
    assert chosen.chosen["char_ngrams"] == [4, 4]
    assert chosen.feature_choice["decided_by"] == "char n-grams significantly more accurate"


def test_logit_scale_minimises_validation_log_loss():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 5))
    y = (z * 3.0 + rng.gumbel(size=z.shape)).argmax(axis=1)  # the true scale is 3: under-confident logits
    s = selection.fit_logit_scale(z, y)
    assert 2.0 < s < 4.5 and s == round(s, 3)

    def loss(scale):
        p = np.exp(scale * z - (scale * z).max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return -np.mean(np.log(p[np.arange(len(y)), y]))

    assert loss(s) <= min(loss(s * 0.9), loss(s * 1.1), loss(1.0))
    assert selection.fit_logit_scale(np.zeros((0, 3)), np.zeros(0)) == 1.0


def test_the_dry_run_says_epochs_will_be_chosen(tmp_path):
    proj = make_project(tmp_path / "p")
    r = run(proj, "train", *DEFAULTS, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "  base text-base, mode text; epochs chosen on the validation rows (1-10), learning rate 2 (local step 2)" in r.stdout
    r = run(proj, "train", *DEFAULTS, "--dry-run", "--epochs", "3")
    assert "  base text-base, mode text; epochs 3, learning rate 2 (local step 2), seed 13" in r.stdout


@pytest.mark.skipif(__import__("n3lang.training.sgd", fromlist=["_sgd"])._sgd is None,
                    reason="the C kernel is not built: there is only one path")
def test_the_c_kernel_and_the_numpy_path_store_the_same_bytes(tmp_path):
    """The whole default pipeline (feature choice, epoch search, logit scale, refit) through
    the C kernel and through the numpy path: the same model.bin, metadata and reports."""
    a, b = make_project(tmp_path / "c"), make_project(tmp_path / "numpy")
    ra = run(a, "train", *DEFAULTS)
    rb = run(b, "train", *DEFAULTS, env={"N3_NUMPY_KERNEL": "1"})
    assert ra.returncode == 0 and rb.returncode == 0, ra.stderr + rb.stderr
    assert artifacts(a) == artifacts(b)
