"""The text pieces: hashed features, split rule, trainers, safetensors files, inference."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from n3lang.training import artifacts, dataset, features
from n3lang.training.text_model import HashedSoftmax, Retrieval

DATA = Path(__file__).resolve().parent.parent / "data" / "training"


def rows(name):
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


# ------------------------------------------------------------------------------- features
def test_feature_indices_are_fixed():
    """Golden: the hash is fixed arithmetic, not Python's salted hash()."""
    m = features.featurize(["Hello world"], {"char_ngrams": [4, 5]})
    assert m.indices[:6].tolist() == GOLDEN_HELLO
    assert len(m) == 1 and m.indptr.tolist() == [0, len(m.indices)]
    assert np.isclose(float((m.data.astype(np.float64) ** 2).sum()), 1.0)


GOLDEN_HELLO = [585, 2356, 31607, 40832, 45827, 82332]  # poly64-splitmix64, 2^18 buckets, word 1-2 + char 4-5


def test_features_same_in_subprocess_with_other_hashseed():
    import os
    import subprocess
    import sys

    code = "from n3lang.training import features as f; print(f.featurize(['Hello world, café']).indices.tolist())"
    env = dict(os.environ, PYTHONHASHSEED="123",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert json.loads(out) == features.featurize(["Hello world, café"]).indices.tolist()


def test_features_chunking_and_empty_rows():
    texts = ["alpha beta", "", "!!!", "gamma"] * 5
    whole = features.featurize(texts)
    chunked = features.featurize(texts, chunk_rows=3)
    assert whole.indptr.tolist() == chunked.indptr.tolist()
    assert whole.indices.tolist() == chunked.indices.tolist()
    assert np.diff(whole.indptr)[1] == 0
    sub = whole.take(np.array([3, 0]))
    assert sub.indices.tolist() == whole.indices[whole.indptr[3]:whole.indptr[4]].tolist() + \
        whole.indices[whole.indptr[0]:whole.indptr[1]].tolist()


def test_gram_table_matches_features():
    texts = ["Where is my parcel?", "Café déjà vu 😀", "a b c"]
    table = features.gram_table(texts)
    assert set(table) == set(features.featurize(texts).indices.tolist())
    assert any("parcel" in g for grams in table.values() for g in grams)


# ------------------------------------------------------------------------------- split
def _split(canonical: list[str], seed: int, validation_split: float) -> np.ndarray:
    """The split of these canonical rows (what the reader computes row by row)."""
    fractions = np.array([dataset.split_fraction(seed, c.encode("utf-8")) for c in canonical])
    return dataset.split_mask(fractions, validation_split)


def test_split_is_append_stable_and_never_empty():
    canon = [dataset.canonical_row(f"text {i}", "a" if i % 2 else "b") for i in range(200)]
    mask = _split(canon, 13, 0.2)
    assert 20 < mask.sum() < 60
    more = _split(canon + [dataset.canonical_row(f"new {i}", "a") for i in range(50)], 13, 0.2)
    assert (more[:200] == mask).all()
    assert _split(canon[:2], 13, 0.01).sum() == 1
    assert _split(canon[:2], 13, 0.99).sum() == 1
    assert (_split(canon, 14, 0.2) != mask).any()


def _digest(canonical_rows: list[str]) -> str:
    return hashlib.sha256("".join(c + "\n" for c in canonical_rows).encode("utf-8")).hexdigest()


def test_the_reader_can_drop_the_inputs_and_gives_the_same_split_and_digests(tmp_path):
    """A sharded run's driver keeps no inputs: the split, its digests and any row read again
    are those of a reader that keeps them."""
    from n3lang.diagnostics import DiagnosticError
    from n3lang.training.modes import get_handler

    texts = [f"text {i}" for i in range(200)]
    targets = ["a" if i % 2 else "b" for i in range(200)]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"input": t, "target": y}) + "\n" for t, y in zip(texts, targets)))
    canon = [dataset.canonical_row(t, y) for t, y in zip(texts, targets)]
    handler = get_handler("text")
    kept = dataset.read(path, "d.jsonl", handler, seed=13, validation_split=0.2)
    lean = dataset.read(path, "d.jsonl", handler, seed=13, validation_split=0.2, keep_inputs=False)
    assert lean.inputs is None and kept.inputs == texts and lean.targets == targets and len(lean) == 200
    mask = _split(canon, 13, 0.2)
    assert (dataset.split_mask(lean.fractions, 0.2) == mask).all()
    expected = (_digest([c for c, v in zip(canon, mask) if not v]), _digest([c for c, v in zip(canon, mask) if v]))
    assert lean.split_digests(mask, 0.2) == kept.split_digests(mask, 0.2) == expected
    assert lean.inputs_at([3, 7, 199]) == ["text 3", "text 7", "text 199"]
    # a split that moved a row across (no row fell below 0.0001): its digests are read again
    moved = dataset.split_mask(lean.fractions, 0.0001)
    assert moved.sum() == 1
    assert lean.split_digests(moved, 0.0001) == (_digest([c for c, v in zip(canon, moved) if not v]),
                                                 _digest([c for c, v in zip(canon, moved) if v]))
    path.write_text(path.read_text().replace("text 150", "text 151"))  # the file changed since it was read
    with pytest.raises(DiagnosticError) as e:
        lean.inputs_at([3])
    d = e.value.diagnostics[0]
    assert (d.code, d.message) == ("training-failed", "dataset d.jsonl changed since training started; nothing was written")


# ------------------------------------------------------------------------------- trainers
def _xy(name):
    rs = rows(name)
    labels = sorted({r["target"] for r in rs})
    X = features.featurize([r["input"] for r in rs])
    y = np.array([labels.index(r["target"]) for r in rs])
    return X, y, labels


def test_softmax_learns_well_above_majority_baseline():
    X, y, labels = _xy("tickets.jsonl")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    tr, va = order[:33], order[33:]
    m = HashedSoftmax(len(labels), epochs=20, learning_rate=1.0, seed=0).fit(X.take(tr), y[tr], X.take(va), y[va])
    acc = float(np.mean(m.predict_proba(X.take(va)).argmax(axis=1) == y[va]))
    majority = np.bincount(y[va]).max() / len(va)
    assert acc >= 0.75 and acc > majority + 0.3
    assert m.history_[-1]["loss"] < m.history_[0]["loss"]
    assert [h["epoch"] for h in m.history_] == list(range(1, 21))


def test_fit_is_deterministic_and_idempotent():
    X, y, labels = _xy("tickets.jsonl")
    a = HashedSoftmax(len(labels), epochs=3, seed=5).fit(X, y).tensors()
    m = HashedSoftmax(len(labels), epochs=3, seed=5)
    m.fit(X, y)
    b = m.fit(X, y).tensors()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = HashedSoftmax(len(labels), epochs=3, seed=6).fit(X, y).tensors()
    assert not np.array_equal(a["weights"], c["weights"])


def test_round_trip_through_safetensors(tmp_path):
    X, y, labels = _xy("tickets.jsonl")
    m = HashedSoftmax(len(labels), epochs=3, seed=1).fit(X, y)
    raw = artifacts.safetensors_bytes(m.tensors(), {"format": "n3-model/1"})
    (tmp_path / "m.bin").write_bytes(raw)
    from safetensors.numpy import load_file

    lib = load_file(str(tmp_path / "m.bin"))
    mine, meta = artifacts.read_safetensors(tmp_path / "m.bin")
    assert meta == {"format": "n3-model/1"} and set(lib) == set(mine) == {"bias", "rows", "weights"}
    assert all(np.array_equal(lib[k], mine[k]) for k in lib)
    back = HashedSoftmax.from_tensors(mine, m.config())
    assert np.allclose(back.predict_proba(X), m.predict_proba(X))
    assert raw[:8] == len(raw[8: 8 + int.from_bytes(raw[:8], "little")]).to_bytes(8, "little")
    assert (8 + int.from_bytes(raw[:8], "little")) % 8 == 0


def test_retrieval_for_unique_targets():
    from n3lang.training.text_mode import HANDLER

    rs = rows("faq.jsonl")
    labels = sorted({r["target"] for r in rs})
    y = np.array([labels.index(r["target"]) for r in rs])
    trainer = HANDLER.make_trainer(None, {"seed": 0, "epochs": 1, "learning_rate": 1.0}, labels, y)
    assert isinstance(trainer, Retrieval)
    X = HANDLER.featurize([r["input"] for r in rs], DATA, trainer.feature_settings())
    trainer.fit(X, y)
    q = features.featurize(["how can I reset the password"], trainer.feature_settings())
    p = trainer.proba_one(q.indices, q.data)
    assert labels[int(np.argmax(p))] == "Use the Forgot password link on the sign-in page."
    back = Retrieval.from_tensors(trainer.tensors(), trainer.config())
    assert np.allclose(back.proba_one(q.indices, q.data), p)


# ------------------------------------------------------------------------------- end to end
@pytest.fixture
def trained(tmp_path, monkeypatch):
    from n3lang.training import config, trainer

    (tmp_path / "app.ai").write_text('spec is "1.0"\n\ncapabilities:\n  training\n')
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "faq.jsonl", tmp_path / "data" / "faq.jsonl")
    shutil.copy(DATA / "tickets.jsonl", tmp_path / "data" / "tickets.jsonl")
    for name, ds in (("faq_v1", "data/faq.jsonl"), ("tickets_v1", "data/tickets.jsonl")):
        cfg = config.load({"model_base": "text-base", "dataset": ds, "epochs": 5, "seed": 3, "output_name": name})
        trainer.train(trainer.prepare(tmp_path, cfg))
    return tmp_path


def test_retrieval_model_end_to_end(trained):
    from n3lang.training.inference import load_predictor

    meta = json.loads((trained / "models/faq_v1/1.0.0/metadata.json").read_text())
    assert meta["model_kind"] == "retrieval" and meta["trainer"]["kind"] == "retrieval"
    p = load_predictor(trained, "faq_v1")
    assert p.predict("Do you ship internationally?")["label"] == "Yes, we ship to over 40 countries."


def test_load_predictor_contract(trained):
    from n3lang.training.inference import load_predictor

    p = load_predictor(trained, "tickets_v1@1.0.0")
    out = p.predict("my parcel never arrived")
    assert set(out) == {"label", "confidence", "top"} and out["label"] == "shipping"
    assert out["top"][0]["label"] == out["label"] and len(out["top"]) == 3
    assert p.ranked("my parcel never arrived", 2) == [(t["label"], pytest.approx(t["confidence"], abs=5e-7))
                                                      for t in out["top"][:2]]
    # half a surrogate pair is not a word character: features ignore it, like punctuation
    assert p.predict("my parcel never arrived \udc80") == out


def test_a_media_path_that_is_not_text_is_a_predict_input_error(trained):
    from n3lang.diagnostics import DiagnosticError
    from n3lang.training.inference import load_predictor

    p = load_predictor(trained, "tickets_v1@1.0.0")

    class PathInput:  # what the image and audio handlers do with their input: open it
        @staticmethod
        def load_input(x, base_dir):
            return (base_dir / x).read_bytes()

    p.handler, p._featurize = PathInput(), None
    with pytest.raises(DiagnosticError) as exc:
        p.predict("scan\ud800.png")
    d = exc.value.diagnostics[0]
    assert (d.code, d.message) == ("predict-input-invalid", "input \\ud800 is an unpaired UTF-16 surrogate, not a character")
    with pytest.raises(DiagnosticError) as exc:
        load_predictor(trained, "missing")
    d = exc.value.diagnostics[0]
    assert d.code == "model-not-found" and "tickets_v1@1.0.0" in d.message
