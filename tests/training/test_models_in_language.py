"""Trained models inside the language (issue 6), end to end through the CLI.

A tiny project declares two `model` blocks (a text classifier and an image classifier), an
`ai` over the text model and flows that use them with `ask ai` and `predict`. The module
fixture trains them once with `n3 train app.ai`; every test then works on a copy. Golden files
(tests/data/golden/models/) hold the full `n3 run --json` payloads: training is deterministic,
so they are exact. Regenerate with N3_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from n3lang.cli.main import cli

DATA = Path(__file__).resolve().parent.parent / "data" / "training"
GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden" / "models"
UPDATE = bool(os.environ.get("N3_UPDATE_GOLDEN"))

CAPS = 'capabilities:\n  training\n\n'
APP = '''spec is "1.0"

{caps}model "tickets_v1":
  model_base is "text-base"
  dataset is "data/tickets.jsonl"
  epochs is 5
  seed is 7

model "shapes_v1":
  model_base is "vision-classifier"
  mode is "image"
  dataset is "data/shapes.jsonl"
  epochs is 3
  seed is 4

ai "helpdesk":
  model is "tickets_v1"

flow "answer":
  ask ai "helpdesk" with input: input.question as reply
  return reply

flow "score":
  let scored is predict "tickets_v1@1.0.0" with input.question
  return map:
    label is scored.label
    confidence is scored.confidence
    top is scored.top

flow "triage":
  let answers is ""
  for each q in input.questions:
    ask ai "helpdesk" with input: q as reply
    set answers is answers + reply + ";"
  return answers

flow "shape":
  return predict "shapes_v1" with input.path

model "words_v1":
  model_base is "speech-to-text"
  mode is "audio"
  dataset is "data/words.jsonl"
  epochs is 4
  seed is 2

flow "hear":
  let heard is predict "words_v1" with input.path
  return heard.label
'''
# (line, column) of each model use in APP with the capabilities block (3 lines fewer without)
AT = {"ask_answer": (23, 3), "predict_score": (27, 17), "predict_shape": (41, 10)}


def app_text(caps: bool = True) -> str:
    return APP.format(caps=CAPS if caps else "")


def make_shapes(root: Path) -> None:
    """36 10x10 greyscale images of three patterns (rows, columns, a box), as in test_media_e2e."""
    from PIL import Image

    rng = np.random.default_rng(0)
    (root / "data" / "img").mkdir(parents=True)
    lines = []
    for i in range(36):
        k = i % 3
        a = rng.integers(0, 50, size=(10, 10)).astype(np.int64)
        if k == 0:
            a[::3, :] += 190
        elif k == 1:
            a[:, ::3] += 190
        else:
            a[3:7, 3:7] += 190
        Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), mode="L").save(root / "data" / "img" / f"{i}.png")
        lines.append(json.dumps({"image": f"img/{i}.png", "target": ["rows", "cols", "box"][k]}))
    (root / "data" / "shapes.jsonl").write_text("\n".join(lines) + "\n")


def make_words(root: Path) -> None:
    """24 short WAV utterances of three sounds (a hum, a hiss, a tone), as in test_media_e2e."""
    from n3lang.training.audio import write_wav

    rng = np.random.default_rng(1)
    (root / "data" / "wav").mkdir(parents=True)
    lines = []
    for i in range(24):
        k = i % 3
        rate = (16000, 22050)[i % 2]
        t = np.arange(int(rate * 0.3)) / rate
        f = [250.0, 2500.0, 900.0][k] * float(rng.uniform(0.9, 1.1))
        x = 0.4 * np.sin(2 * np.pi * f * t) + rng.normal(0, 0.01, len(t))
        write_wav(root / "data" / "wav" / f"{i}.wav", np.concatenate([np.zeros(800), x, np.zeros(800)]), rate)
        lines.append(json.dumps({"audio": f"wav/{i}.wav", "transcript": ["hum", "hiss", "tone"][k]}))
    (root / "data" / "words.jsonl").write_text("\n".join(lines) + "\n")


def n3(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The project after `n3 train app.ai --model tickets_v1`, then `n3 train app.ai`."""
    root = tmp_path_factory.mktemp("models") / "project"
    make_shapes(root)
    make_words(root)
    shutil.copy(DATA / "tickets.jsonl", root / "data" / "tickets.jsonl")
    (root / "app.ai").write_text(app_text())
    old = Path.cwd()
    saved = os.environ.pop("N3_TRAIN_CREATED_AT", None)
    os.chdir(root)
    try:
        first = n3("train", "app.ai", "--model", "tickets_v1", "--json")
        assert first.exit_code == 0, first.output
        second = n3("train", "app.ai", "--json")
        assert second.exit_code == 0, second.output
        third = n3("train", "app.ai", "--json")
        assert third.exit_code == 0, third.output
    finally:
        os.chdir(old)
        if saved is not None:
            os.environ["N3_TRAIN_CREATED_AT"] = saved
    return root, [json.loads(r.stdout) for r in (first, second, third)]


@pytest.fixture
def project(trained, tmp_path, monkeypatch):
    """A fresh copy of the trained project as the working directory."""
    root = tmp_path / "app"
    shutil.copytree(trained[0], root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("N3_TRAIN_CREATED_AT", raising=False)
    return root


def run_json(*args) -> tuple[int, dict]:
    r = n3("run", "--json", "app.ai", *args)
    return r.exit_code, json.loads(r.stdout)


def check_golden(name: str, payload: dict) -> None:
    text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (N3_UPDATE_GOLDEN=1 to refresh)"


def only_error(payload: dict) -> tuple:
    assert payload["ok"] is False and len(payload["diagnostics"]) == 1, payload
    d = payload["error"]
    return d["code"], d["line"], d["column"], d["message"]


QUESTION = '{"question": "I was charged twice on my card"}'


# ------------------------------------------------------------------------------ training
def test_n3_train_app_trains_declared_models_once(trained):
    root, (first, second, third) = trained
    assert [t["name"] for t in first["trained"]] == ["tickets_v1"] and first["up_to_date"] == []
    assert [t["name"] for t in second["trained"]] == ["shapes_v1", "words_v1"]
    assert second["up_to_date"] == ["tickets_v1"]
    assert third["trained"] == [] and third["up_to_date"] == ["tickets_v1", "shapes_v1", "words_v1"]
    entries = yaml.safe_load((root / "models_registry.yaml").read_text())
    assert [(e["name"], e["version"], e["domain"], e["status"]) for e in entries] == [
        ("tickets_v1", "1.0.0", "text", "active"), ("shapes_v1", "1.0.0", "image", "active"),
        ("words_v1", "1.0.0", "audio", "active")]


# ------------------------------------------------------------------------------ golden runs
def test_ask_ai_runs_the_trained_model(project):
    code, payload = run_json("answer", "--input", QUESTION)
    assert code == 0 and payload["ok"] and payload["result"] == "billing"
    check_golden("answer.json", payload)


def test_predict_returns_label_confidence_top(project):
    code, payload = run_json("score", "--input", QUESTION)
    assert code == 0, payload
    result = payload["result"]
    assert result["label"] == "billing" and result["top"][0] == {"label": "billing",
                                                                   "confidence": result["confidence"]}
    assert [t["label"] for t in result["top"]] and len(result["top"]) == 3
    check_golden("score.json", payload)


def test_ask_ai_in_a_loop(project):
    questions = ["my parcel is late", "refund the double charge", "cannot sign in to my account"]
    code, payload = run_json("triage", "--input", json.dumps({"questions": questions}))
    assert code == 0, payload
    assert payload["result"] == "shipping;billing;account;"
    check_golden("triage.json", payload)


def test_image_predict_with_a_path_relative_to_the_app(project, monkeypatch):
    code, payload = run_json("shape", "--input", '{"path": "data/img/0.png"}')
    assert code == 0, payload
    # not a golden file: the image network is still being tuned; the shape of the answer is fixed
    result = payload["result"]
    assert result["label"] == result["top"][0]["label"] == "rows"
    assert sorted(t["label"] for t in result["top"]) == ["box", "cols", "rows"]
    assert result["confidence"] == result["top"][0]["confidence"] and 0 < result["confidence"] <= 1
    assert payload["traces"] == [{"label": "rows", "model": "shapes_v1", "type": "predict"}]
    # from another directory: the path is still resolved against the app's directory
    monkeypatch.chdir(project.parent)
    r = n3("run", "--json", "app/app.ai", "shape", "--input", '{"path": "data/img/0.png"}')
    assert r.exit_code == 0 and json.loads(r.stdout) == payload


def test_audio_predict_with_a_path_relative_to_the_app(project, monkeypatch):
    # not a golden file: the audio network is still being tuned; the shape of the answer is fixed
    code, payload = run_json("hear", "--input", '{"path": "data/wav/0.wav"}')
    assert code == 0, payload
    word = payload["result"]
    assert word in ("hum", "hiss", "tone")
    assert payload["traces"] == [{"label": word, "model": "words_v1", "type": "predict"}]
    monkeypatch.chdir(project / "data")
    r = n3("run", "--json", "../app.ai", "hear", "--input", '{"path": "data/wav/0.wav"}')
    assert r.exit_code == 0 and json.loads(r.stdout) == payload


def test_image_predict_missing_file_is_an_error_at_the_statement(project):
    code, payload = run_json("shape", "--input", '{"path": "data/img/nope.png"}')
    assert code == 1
    got = only_error(payload)
    assert got[:3] == ("predict-input-invalid", *AT["predict_shape"])


def test_model_is_loaded_once_per_run(project):
    from n3lang.runtime import run_flow
    from n3lang.syntax import parse_source
    from n3lang.training.inference import load_predictor

    program, _ = parse_source(app_text(), "app.ai")
    loads = []

    def loader(folder, ref):
        loads.append(ref)
        return load_predictor(folder, ref)

    res = run_flow(program, "triage", {"questions": ["late parcel", "card charged", "login", "parcel"]},
                   project_dir=project, predictor_loader=loader)
    assert res.ok and loads == ["tickets_v1"]
    assert [t["type"] for t in res.traces] == ["ask_ai"] * 4


# ------------------------------------------------------------------------------ failures
def test_missing_model_fails_at_the_statement(project):
    (project / "models_registry.yaml").unlink()
    assert n3("check", "app.ai").exit_code == 0  # declared in the app: `n3 train` will make it
    code, payload = run_json("answer", "--input", QUESTION)
    assert code == 1
    assert only_error(payload) == (
        "model-not-found", *AT["ask_answer"],
        "model 'tickets_v1' is not registered in models_registry.yaml; known models: (none registered)")
    code, payload = run_json("score", "--input", QUESTION)
    assert only_error(payload)[:3] == ("model-not-found", *AT["predict_score"])


def test_unknown_model_is_a_check_error_naming_the_known_ones(project):
    text = app_text().replace('predict "tickets_v1@1.0.0"', 'predict "tickets_v9"')
    (project / "app.ai").write_text(text)
    r = n3("check", "--json", "app.ai")
    assert r.exit_code == 1
    errors = [d for d in json.loads(r.stdout) if d["severity"] == "error"]
    assert [(d["code"], d["line"], d["column"], d["message"]) for d in errors] == [
        ("unknown-model", 27, 25, "Unknown model 'tickets_v9'; did you mean 'tickets_v1'?")]
    assert errors[0]["fix"] == "Use one of the known models: shapes_v1, tickets_v1, words_v1."


def test_tampered_model_fails_with_model_corrupted(project):
    path = project / "models" / "tickets_v1" / "1.0.0" / "model.bin"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0x01
    path.write_bytes(bytes(raw))
    actual = hashlib.sha256(bytes(raw)).hexdigest()
    message = (f"model tickets_v1@1.0.0: sha256 of models/tickets_v1/1.0.0/model.bin is {actual}, "
               f"the registry says {expected}")
    code, payload = run_json("answer", "--input", QUESTION)
    assert code == 1 and only_error(payload) == ("model-corrupted", *AT["ask_answer"], message)
    code, payload = run_json("score", "--input", QUESTION)
    assert only_error(payload) == ("model-corrupted", *AT["predict_score"], message)
    # the other model is untouched and still runs
    assert run_json("shape", "--input", '{"path": "data/img/0.png"}')[0] == 0
    r = n3("run", "app.ai", "answer", "--input", QUESTION)
    assert r.exit_code == 1
    assert f"app.ai:{AT['ask_answer'][0]}:{AT['ask_answer'][1]}: error: {message} [model-corrupted]" in r.stderr


def test_deprecate_appends_a_status_event(project):
    reg = project / "models_registry.yaml"
    before = reg.read_bytes()
    r = n3("models", "deprecate", "tickets_v1@1.0.0", "--reason", "superseded by tickets_v2")
    assert r.exit_code == 0, r.output
    assert r.stdout == ("tickets_v1@1.0.0 deprecated (superseded by tickets_v2); "
                        "status event appended to models_registry.yaml.\n")
    after = reg.read_bytes()
    assert after.startswith(before) and len(after) > len(before)  # earlier bytes unchanged
    chain = yaml.safe_load(after)
    event = chain[-1]
    assert {k: v for k, v in event.items() if k != "previous_sha256"} == {
        "event": "status", "name": "tickets_v1", "version": "1.0.0", "status": "deprecated",
        "reason": "superseded by tickets_v2", "created_at": "1970-01-01T00:00:00Z"}
    assert chain[0]["status"] == "active"  # the model entry itself is not rewritten
    import jsonschema

    from n3lang.resources import load_schema

    jsonschema.validate(chain, load_schema("registry"))
    # again: nothing to append
    r = n3("models", "deprecate", "tickets_v1@1.0.0")
    assert r.exit_code == 0 and "already deprecated" in r.stdout and reg.read_bytes() == after

    # n3 run: model-deprecated at the statement
    message = f"model tickets_v1@1.0.0 is deprecated (models_registry.yaml line {len(before.decode().splitlines()) + 1}: superseded by tickets_v2)"
    code, payload = run_json("answer", "--input", QUESTION)
    assert code == 1 and only_error(payload) == ("model-deprecated", *AT["ask_answer"], message)
    code, payload = run_json("score", "--input", QUESTION)
    assert only_error(payload) == ("model-deprecated", *AT["predict_score"], message)
    # n3 check: warnings, exit 0
    r = n3("check", "--json", "app.ai")
    assert r.exit_code == 0
    warned = [(d["code"], d["severity"], d["line"], d["column"], d["message"])
              for d in json.loads(r.stdout)]
    text = "Model 'tickets_v1@1.0.0' is deprecated: superseded by tickets_v2"
    assert warned == [("deprecated-model", "warning", 20, 3, text), ("deprecated-model", "warning", 27, 25, text)]
    # n3 models list / show
    listed = json.loads(n3("models", "list", "--json").stdout)["models"]
    assert [(m["name"], m["status"], m.get("status_reason")) for m in listed] == [
        ("tickets_v1", "deprecated", "superseded by tickets_v2"), ("shapes_v1", "active", None),
        ("words_v1", "active", None)]
    table = n3("models", "list").stdout.splitlines()
    assert table[1].split()[:5] == ["tickets_v1", "1.0.0", "text-base", "text", "deprecated"]
    assert n3("models", "verify", "tickets_v1").exit_code == 0  # the chain still verifies
    # training appends after the event and keeps the chain
    text = app_text().replace('model "shapes_v1":', 'model "tickets_v2":\n  model_base is "text-base"\n'
                              '  dataset is "data/tickets.jsonl"\n  epochs is 5\n  seed is 7\n\nmodel "shapes_v1":')
    (project / "app.ai").write_text(text)
    r = n3("train", "app.ai", "--model", "tickets_v2", "--json")
    assert r.exit_code == 0, r.output
    assert reg.read_bytes().startswith(after)
    assert [m["name"] for m in json.loads(n3("models", "list", "--json").stdout)["models"]] == [
        "tickets_v1", "shapes_v1", "words_v1", "tickets_v2"]


def test_activate_undoes_a_deprecation_by_appending(project):
    reg = project / "models_registry.yaml"
    r = n3("models", "activate", "tickets_v1@1.0.0")
    assert r.exit_code == 0 and r.stdout == "tickets_v1@1.0.0 is already active; nothing appended.\n"
    assert n3("models", "deprecate", "tickets_v1@1.0.0", "--reason", "bad labels").exit_code == 0
    deprecated = reg.read_bytes()
    assert run_json("score", "--input", QUESTION)[0] == 1
    r = n3("models", "activate", "tickets_v1", "--reason", "labels fixed", "--json")
    assert r.exit_code == 0, r.output
    payload = json.loads(r.stdout)
    assert (payload["model"], payload["status"], payload["changed"]) == ("tickets_v1@1.0.0", "active", True)
    assert reg.read_bytes().startswith(deprecated)  # appended, never rewritten
    assert [(e.get("event"), e["status"]) for e in yaml.safe_load(reg.read_bytes())[-2:]] == [
        ("status", "deprecated"), ("status", "active")]
    assert run_json("score", "--input", QUESTION)[0] == 0
    assert n3("models", "verify", "tickets_v1").exit_code == 0


def test_deprecate_unknown_model(project):
    r = n3("models", "deprecate", "nope@1.0.0", "--json")
    assert r.exit_code == 1
    d = json.loads(r.stdout)["diagnostics"][0]
    assert (d["code"], d["message"]) == (
        "model-not-found", ("model 'nope@1.0.0' is not registered in models_registry.yaml; "
                            "known models: shapes_v1@1.0.0, tickets_v1@1.0.0, words_v1@1.0.0"))


def test_in_place_status_edit_still_deprecates(project):
    reg = project / "models_registry.yaml"
    text = reg.read_text()
    reg.write_text(text.replace('status: "active"', 'status: "deprecated"', 1))
    _, payload = run_json("answer", "--input", QUESTION)
    assert only_error(payload)[:3] == ("model-deprecated", *AT["ask_answer"])


def test_forged_status_event_breaks_the_chain(project):
    reg = project / "models_registry.yaml"
    assert n3("models", "deprecate", "tickets_v1@1.0.0").exit_code == 0
    assert n3("models", "deprecate", "shapes_v1@1.0.0").exit_code == 0  # the next entry hashes the first event
    reg.write_text(reg.read_text().replace('status: "deprecated"', 'status: "active"', 1))
    r = n3("models", "list", "--json")
    assert r.exit_code == 1
    d = json.loads(r.stdout)["diagnostics"][0]
    assert d["code"] == "registry-corrupted" and "hash chain is broken" in d["message"]


def test_without_the_training_capability(project):
    (project / "app.ai").write_text(app_text(caps=False))
    r = n3("check", "--json", "app.ai")
    assert r.exit_code == 1
    got = [(d["code"], d["line"], d["column"], d["message"]) for d in json.loads(r.stdout)]
    assert got == [
        ("training-required", 3, 7, "Model 'tickets_v1' requires the 'training' capability"),
        ("training-required", 9, 7, "Model 'shapes_v1' requires the 'training' capability"),
        ("training-required", 20, 3,
         "ask ai \"helpdesk\" uses trained model 'tickets_v1', which requires the 'training' capability"),
        ("training-required", 24, 17, "predict with model 'tickets_v1' requires the 'training' capability"),
        ("training-required", 33, 5,
         "ask ai \"helpdesk\" uses trained model 'tickets_v1', which requires the 'training' capability"),
        ("training-required", 38, 10, "predict with model 'shapes_v1' requires the 'training' capability"),
        ("training-required", 40, 7, "Model 'words_v1' requires the 'training' capability"),
        ("training-required", 48, 16, "predict with model 'words_v1' requires the 'training' capability"),
    ]
    # n3 run refuses the same way, before running anything
    code, payload = run_json("answer", "--input", QUESTION)
    assert code == 1 and payload["ok"] is False
    assert [(d["code"], d["line"]) for d in payload["diagnostics"]] == [(c, ln) for c, ln, _, _ in got]
    # the runtime gate itself (for callers that skip the checker)
    from n3lang.runtime import run_flow
    from n3lang.syntax import parse_source

    program, _ = parse_source(app_text(caps=False), "app.ai")
    res = run_flow(program, "score", {"question": "hi"}, project_dir=project)
    assert not res.ok
    assert (res.error.code, res.error.span.line, res.error.span.column, res.error.message) == (
        "runtime-capability-missing", 24, 17, "`predict` with a trained model needs the 'training' capability.")


# ------------------------------------------------------------------------------ the example
def test_supportbot_example_answers_with_its_trained_model(tmp_path, monkeypatch):
    """examples/supportbot as its README runs it: `n3 train app.ai`, then `n3 run app.ai answer`."""
    example = Path(__file__).resolve().parents[2] / "examples" / "supportbot"
    root = tmp_path / "supportbot"
    shutil.copytree(example, root, ignore=shutil.ignore_patterns("models", "docs", "models_registry.yaml", "*.db"))
    monkeypatch.chdir(root)
    monkeypatch.delenv("N3_TRAIN_CREATED_AT", raising=False)
    r = n3("train", "app.ai", "--json")
    assert r.exit_code == 0, r.output
    assert [t["name"] for t in json.loads(r.stdout)["trained"]] == ["supportbot.faq_model_v2"]
    code, payload = run_json("answer", "--input", '{"question": "I was charged twice this month"}')
    assert code == 0, payload
    assert payload["result"]["reply"] == payload["result"]["intent"] == "billing"
    check_golden("supportbot_answer.json", payload)
    r = n3("run", "app.ai", "answer", "--input", '{"question": "I was charged twice this month"}')
    assert r.exit_code == 0 and json.loads(r.stdout) == payload["result"]
