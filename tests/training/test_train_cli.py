"""`n3 train` in-process: the seed quickstart, the config file, every bad input of the contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from n3lang.cli.main import cli

DATA = Path(__file__).resolve().parent.parent / "data" / "training"
APP = 'spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n'
APP_NO_TRAINING = 'spec is "1.0"\n\nflow "demo":\n  return "ok"\n'
SEED_FLAGS = ["--model-base", "gpt-3.5-turbo", "--dataset", "data/support_tickets.jsonl", "--epochs", "3",
              "--learning-rate", "2e-5", "--seed", "13", "--output-name", "supportbot.faq_model_v2"]
SEED_YAML = """model_base: gpt-3.5-turbo
dataset: data/support_tickets.jsonl
epochs: 3
learning_rate: 2e-5
seed: 13
output_name: supportbot.faq_model_v2
mode: text
validation_split: 0.2
"""
MODEL_DIR = "models/supportbot.faq_model_v2/2.0.0"
OUTPUTS = [f"{MODEL_DIR}/model.bin", f"{MODEL_DIR}/metadata.json", "models_registry.yaml",
           "docs/reports/training_metrics_supportbot.faq_model_v2_2.0.0.json",
           "docs/reports/training_explain_supportbot.faq_model_v2_2.0.0.json"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "app.ai").write_text(APP)
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "tickets.jsonl", tmp_path / "data" / "support_tickets.jsonl")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("N3_TRAIN_CREATED_AT", raising=False)
    return tmp_path


def n3(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def diagnostics(result) -> list[dict]:
    return json.loads(result.stdout)["diagnostics"]


def assert_fails(project, args, code, *needles, json_out=True):
    before = files(project)
    result = n3("train", *args, *(["--json"] if json_out else []))
    assert result.exit_code == 1, result.output
    diags = diagnostics(result)
    assert code in [d["code"] for d in diags], diags
    text = " ".join(d["message"] for d in diags)
    for needle in needles:
        assert needle in text, text
    for d in diags:
        assert d["why"] and d["fix"] and d["example"], d
    assert files(project) == before, "a failed training run wrote files"
    return diags


# ---------------------------------------------------------------------------------- happy paths
def check_outputs(project: Path):
    for rel in OUTPUTS:
        assert (project / rel).is_file(), rel
    assert (project / "docs/reports/training_report_supportbot.faq_model_v2_2.0.0.html").is_file()
    entries = yaml.safe_load((project / "models_registry.yaml").read_text())
    assert len(entries) == 1
    e = entries[0]
    assert e["name"] == "supportbot.faq_model_v2" and e["version"] == "2.0.0"
    assert e["base_model"] == "gpt-3.5-turbo" and e["domain"] == "text" and e["status"] == "active"
    assert e["training_seed"] == 13 and e["created_at"] == "1970-01-01T00:00:00Z"
    assert e["artifact_uri"] == f"{MODEL_DIR}/model.bin"
    assert len(e["dataset_snapshot"]) == 64 and e["previous_sha256"] == "0" * 64
    assert set(e["metrics"]) >= {"accuracy", "macro_f1"}
    meta = json.loads((project / MODEL_DIR / "metadata.json").read_text())
    assert meta["config"]["requested"]["learning_rate"] == 2e-5
    assert meta["config"]["effective"]["learning_rate"] == pytest.approx(2e-5 * 100000)
    assert meta["artifact"]["sha256"] == e["artifact_sha256"]
    assert meta["model_kind"] == "classifier" and meta["labels"] == ["account", "billing", "shipping"]
    from safetensors.numpy import load_file

    tensors = load_file(str(project / MODEL_DIR / "model.bin"))
    assert tensors["weights"].dtype == np.float16 and tensors["weights"].shape[1] == 3
    import jsonschema

    from n3lang.resources import load_schema

    jsonschema.validate(entries, load_schema("registry"))
    jsonschema.validate(meta, load_schema("metadata"))
    for rel in OUTPUTS:
        assert str(project) not in (project / rel).read_bytes().decode("utf-8", "replace"), rel


def test_seed_quickstart_flags(project):
    result = n3("train", *SEED_FLAGS)
    assert result.exit_code == 0, result.output
    assert "Trained supportbot.faq_model_v2 2.0.0" in result.stdout
    check_outputs(project)


def test_seed_config_file(project):
    (project / "training.yaml").write_text(SEED_YAML)
    result = n3("train", "--config", "training.yaml", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] and payload["trained"][0]["name"] == "supportbot.faq_model_v2"
    check_outputs(project)


def test_flags_override_config(project):
    (project / "training.yaml").write_text(SEED_YAML.replace("seed: 13", "seed: 99"))
    result = n3("train", "--config", "training.yaml", "--seed", "13", "--output-name", "other_v3")
    assert result.exit_code == 0, result.output
    e = yaml.safe_load((project / "models_registry.yaml").read_text())[0]
    assert e["training_seed"] == 13 and e["name"] == "other_v3" and e["version"] == "3.0.0"


def test_app_argument_and_parent_lookup(project):
    sub = project / "deep" / "er"
    sub.mkdir(parents=True)
    import os

    os.chdir(sub)
    result = n3("train", *SEED_FLAGS)
    assert result.exit_code == 0, result.output
    assert (project / MODEL_DIR / "model.bin").is_file()


def test_dry_run_writes_nothing(project):
    before = files(project)
    result = n3("train", *SEED_FLAGS, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)["plans"][0]
    assert plan["rows"] == 45 and plan["train_rows"] + plan["validation_rows"] == 45
    assert plan["classes"] == 3 and plan["paths"]["model"] == f"{MODEL_DIR}/model.bin"
    assert files(project) == before


def test_created_at_env(project, monkeypatch):
    monkeypatch.setenv("N3_TRAIN_CREATED_AT", "2024-05-01T12:00:00Z")
    assert n3("train", *SEED_FLAGS).exit_code == 0
    e = yaml.safe_load((project / "models_registry.yaml").read_text())[0]
    assert e["created_at"] == "2024-05-01T12:00:00Z"


def test_version_inference():
    from n3lang.training.config import version_of

    assert version_of("supportbot.faq_model_v2") == "2.0.0"
    assert version_of("faq_model_v12") == "12.0.0"
    assert version_of("faq_model") == "1.0.0"


# ---------------------------------------------------------------------------------- capability gate
def test_capability_missing_exits_before_reading_dataset(project):
    (project / "app.ai").write_text(APP_NO_TRAINING)
    (project / "data" / "support_tickets.jsonl").unlink()  # would be dataset-missing if read
    diags = assert_fails(project, SEED_FLAGS, "training-capability-missing", "training")
    assert len(diags) == 1


def test_capability_missing_human_message(project):
    (project / "app.ai").write_text(APP_NO_TRAINING)
    result = n3("train", *SEED_FLAGS)
    assert result.exit_code == 1
    for part in ("What happened:", "Why:", "Fix:", "Example:", "capabilities:"):
        assert part in result.stderr, result.stderr


def test_no_app_at_all(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = n3("train", *SEED_FLAGS, "--json")
    assert result.exit_code == 1
    d = diagnostics(result)[0]
    assert d["code"] == "training-app-missing" and "app.ai" in d["message"]
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------- config errors
def test_missing_required_flags(project):
    diags = assert_fails(project, ["--epochs", "3"], "config-missing-field")
    missing = {d["message"].split("`")[1] for d in diags}
    assert missing == {"model_base", "dataset", "output_name"}
    assert all("--" in d["message"] for d in diags)


def test_no_flags_at_all(project):
    diags = assert_fails(project, [], "config-missing-field", "--model-base", "--dataset", "--output-name")
    assert len(diags) == 3


@pytest.mark.parametrize("flag,value,needle", [
    ("--epochs", "0", "`epochs` must be at least 1"),
    ("--epochs", "-2", "`epochs` must be at least 1"),
    ("--epochs", "three", "`epochs` must be a whole number"),
    ("--learning-rate", "0", "`learning_rate` must be greater than 0"),
    ("--learning-rate", "-1e-5", "`learning_rate` must be greater than 0"),
    ("--validation-split", "-0.1", "`validation_split` must be at least 0 and less than 1, got -0.1"),
    ("--validation-split", "1", "`validation_split` must be at least 0 and less than 1, got 1"),
    ("--validation-split", "1.5", "`validation_split` must be at least 0 and less than 1"),
    ("--seed", "-1", "`seed` must be between 0"),
])
def test_bad_numbers(project, flag, value, needle):
    args = list(SEED_FLAGS)
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    assert_fails(project, args, "config-invalid-value", needle)


def test_unknown_mode(project):
    assert_fails(project, SEED_FLAGS + ["--mode", "video"], "mode-unsupported", "text, image, audio")


@pytest.mark.parametrize("base,mode,code,needle", [
    ("vision-generator", "image", "base-unsupported", "cannot be trained locally"),
    ("speech-synth", "audio", "base-unsupported", "cannot be trained locally"),
    ("llama-70b", "text", "base-unsupported", "text-base, gpt-3.5-turbo, gpt-4, gpt-4o-mini"),
    ("vision-classifier", "text", "base-mode-mismatch", "text-base, gpt-3.5-turbo, gpt-4, gpt-4o-mini"),
    ("gpt-4", "image", "base-mode-mismatch", "vision-classifier"),
])
def test_unsupported_base(project, base, mode, code, needle):
    args = list(SEED_FLAGS)
    args[args.index("--model-base") + 1] = base
    assert_fails(project, args + ["--mode", mode], code, needle, "supported")


@pytest.mark.parametrize("name", ["a/b", "..", "x..y", ".hidden", "a\\b", "bad\x01name", "/abs"])
def test_output_name_not_a_path(project, name):
    args = list(SEED_FLAGS)
    args[args.index("--output-name") + 1] = name
    assert_fails(project, args, "output-name-invalid", "output_name")


def test_existing_output_name(project):
    assert n3("train", *SEED_FLAGS).exit_code == 0
    reg = (project / "models_registry.yaml").read_bytes()
    diags = assert_fails(project, SEED_FLAGS, "output-name-exists", "already registered")
    assert diags[0]["file"] == "models_registry.yaml" and diags[0]["line"] == 4  # after the 3-line header (modeline, 2 comments)
    assert (project / "models_registry.yaml").read_bytes() == reg


def test_config_unknown_key_suggests(project):
    (project / "training.yaml").write_text(SEED_YAML + "learnig_rate: 0.1\n")
    diags = assert_fails(project, ["--config", "training.yaml"], "config-unknown-key", "did you mean `learning_rate`")
    assert diags[0]["file"] == "training.yaml" and diags[0]["line"] == 9 and diags[0]["column"] == 1


def test_config_bad_value_points_into_yaml(project):
    (project / "training.yaml").write_text(SEED_YAML.replace("epochs: 3", "epochs: 0"))
    diags = assert_fails(project, ["--config", "training.yaml"], "config-invalid-value", "epochs")
    assert (diags[0]["file"], diags[0]["line"], diags[0]["column"]) == ("training.yaml", 3, 9)


@pytest.mark.parametrize("text,needle", [
    ("- a\n- b\n", "must be a mapping"),
    ("just text\n", "must be a mapping"),
    ("", "must be a mapping"),
    ("model_base: [unclosed\n", "not valid YAML"),
    ("!!python/object:os.system {}\n", "not valid YAML"),
])
def test_config_file_not_a_mapping(project, text, needle):
    (project / "training.yaml").write_text(text)
    assert_fails(project, ["--config", "training.yaml"], "config-file-invalid", needle)


def test_config_file_too_large(project):
    (project / "training.yaml").write_text(SEED_YAML + "# " + "x" * (1 << 20) + "\n")
    assert_fails(project, ["--config", "training.yaml"], "config-file-invalid", "larger than")


def test_config_file_missing(project):
    assert_fails(project, ["--config", "nope.yaml"], "config-file-invalid", "nope.yaml")


# ---------------------------------------------------------------------------------- dataset errors
def with_dataset(project, content: bytes | str):
    p = project / "data" / "support_tickets.jsonl"
    p.write_bytes(content.encode() if isinstance(content, str) else content)


def test_dataset_missing(project):
    (project / "data" / "support_tickets.jsonl").unlink()
    assert_fails(project, SEED_FLAGS, "dataset-missing", "data/support_tickets.jsonl")


def test_dataset_empty(project):
    with_dataset(project, "\n\n")
    assert_fails(project, SEED_FLAGS, "dataset-empty")


def test_dataset_not_utf8(project):
    with_dataset(project, '{"input": "ok", "target": "a"}\n{"input": "caf\xe9", "target": "b"}\n'.encode("latin-1"))
    diags = assert_fails(project, SEED_FLAGS, "dataset-encoding", "line 2", "0xe9")
    assert diags[0]["line"] == 2 and diags[0]["column"] == 15


def test_dataset_unpaired_surrogate_is_a_row_error_not_a_crash(project):
    good = '{"input": "hello there", "target": "a"}\n{"input": "bye now \\ud83d\\ude00", "target": "b"}\n'
    with_dataset(project, good + '{"input": "half \\ud800 pair", "target": "a"}\n')
    diags = assert_fails(project, SEED_FLAGS, "dataset-row-invalid")
    assert [(d["line"], d["column"]) for d in diags] == [(3, 17)]
    assert diags[0]["message"] == "\\ud800 is an unpaired UTF-16 surrogate, not a character"


def test_dataset_every_problem_at_once(project):
    good = '{"input": "hello there", "target": "a"}\n{"input": "bye now", "target": "b"}\n'
    bad = (good + '{"input": "x", "target": \n'          # line 3: bad JSON
           + '["not", "an", "object"]\n'                   # line 4
           + '{"input": "no target"}\n'                    # line 5
           + '{"input": 42, "target": "a"}\n'             # line 6: wrong type
           + '{"input": "   ", "target": "a"}\n'          # line 7: empty
           + '{"text": "x", "label": "a"}\n')             # line 8: missing input
    with_dataset(project, bad)
    diags = assert_fails(project, SEED_FLAGS, "dataset-row-invalid")
    assert [d["line"] for d in diags] == [3, 4, 5, 6, 7, 8]
    assert all(d["file"] == "data/support_tickets.jsonl" for d in diags)
    assert "not valid JSON" in diags[0]["message"] and diags[0]["column"] == 26
    assert "must be a JSON object" in diags[1]["message"]
    assert 'missing field "target"' in diags[2]["message"]
    assert '"input" must be a string' in diags[3]["message"] and diags[3]["column"] == 2
    assert '"input" is empty' in diags[4]["message"]
    assert 'missing field "input"' in diags[5]["message"]


def test_dataset_rendered_as_file_line_col(project):
    with_dataset(project, '{"input": "a", "target": "x"}\n{"input": "b", "target": }\n')
    result = n3("train", *SEED_FLAGS)
    assert result.exit_code == 1
    assert "data/support_tickets.jsonl:2:" in result.stderr and "[dataset-row-invalid]" in result.stderr


def test_dataset_single_class(project):
    with_dataset(project, "".join(json.dumps({"input": f"text {i}", "target": "same"}) + "\n" for i in range(5)))
    assert_fails(project, SEED_FLAGS, "dataset-single-class", "single target")


def test_dataset_too_small(project):
    with_dataset(project, '{"input": "only one", "target": "a"}\n')
    assert_fails(project, SEED_FLAGS, "dataset-too-small", "1 usable row")


def test_target_aliases(project):
    rows = [{"input": "pay my bill", "label": "billing"}, {"input": "reset password", "output": "account"},
            {"input": "where is my parcel", "transcript": "shipping"}, {"input": "refund please", "target": "billing"}]
    with_dataset(project, "".join(json.dumps(r) + "\n" for r in rows))
    assert n3("train", *SEED_FLAGS).exit_code == 0


# ---------------------------------------------------------------------------------- registry errors
def test_corrupted_registry_names_line_and_is_untouched(project):
    reg = project / "models_registry.yaml"
    content = b"# yaml-language-server: $schema=x\n- name: a\n  version: [unclosed\n"
    reg.write_bytes(content)
    diags = assert_fails(project, SEED_FLAGS, "registry-corrupted", "line")
    assert diags[0]["file"] == "models_registry.yaml" and diags[0]["line"] >= 3
    assert reg.read_bytes() == content


def test_registry_broken_chain(project):
    assert n3("train", *SEED_FLAGS).exit_code == 0
    args = list(SEED_FLAGS)
    args[args.index("--output-name") + 1] = "second_v2"
    assert n3("train", *args).exit_code == 0
    reg = project / "models_registry.yaml"
    tampered = reg.read_text().replace('training_seed: 13', 'training_seed: 14', 1).encode()
    reg.write_bytes(tampered)
    args[args.index("--output-name") + 1] = "third"
    assert_fails(project, args, "registry-corrupted", "hash chain")
    assert reg.read_bytes() == tampered


def test_schema_comment_line_survives_appends(project):
    reg = project / "models_registry.yaml"
    head = b"# yaml-language-server: $schema=./registry.schema.json\n"
    reg.write_bytes(head)
    assert n3("train", *SEED_FLAGS).exit_code == 0
    first = reg.read_bytes()
    assert first.startswith(head)
    args = list(SEED_FLAGS)
    args[args.index("--output-name") + 1] = "second"
    assert n3("train", *args).exit_code == 0
    assert reg.read_bytes().startswith(first)  # append-only: earlier bytes never rewritten
    from n3lang.training import registry

    entries = registry.read_entries(project)
    assert [e["name"] for e in entries] == ["supportbot.faq_model_v2", "second"]
    assert entries[1]["previous_sha256"] == registry.entry_sha256(
        {k: v for k, v in entries[0].items() if k != "_line"})


# ---------------------------------------------------------------------------------- app model blocks
def test_app_model_blocks(project):
    (project / "app.ai").write_text(APP + '''
model "tickets_v1":
  model_base is "text-base"
  dataset is "data/support_tickets.jsonl"
  epochs is 3
  seed is 5

model "tickets_v2":
  model_base is "gpt-4o-mini"
  dataset is "data/support_tickets.jsonl"
  learning_rate is 0.00002
''')
    result = n3("train", "--model", "tickets_v2", "--json")
    assert result.exit_code == 0, result.output
    assert [t["name"] for t in json.loads(result.stdout)["trained"]] == ["tickets_v2"]
    result = n3("train", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [t["name"] for t in payload["trained"]] == ["tickets_v1"]
    assert payload["up_to_date"] == ["tickets_v2"]
    result = n3("train")
    assert result.exit_code == 0 and "up to date" in result.output


# ---------------------------------------------------------------------------------- other commands
def test_models_and_predict_commands(project):
    assert n3("train", *SEED_FLAGS).exit_code == 0
    out = n3("models", "list")
    assert "supportbot.faq_model_v2" in out.stdout and "2.0.0" in out.stdout
    out = n3("models", "show", "supportbot.faq_model_v2@2.0.0", "--json")
    assert json.loads(out.stdout)["entry"]["version"] == "2.0.0"
    out = n3("models", "verify", "supportbot.faq_model_v2")
    assert out.exit_code == 0 and "verified" in out.stdout
    out = n3("models", "bases", "--json")
    names = [b["name"] for b in json.loads(out.stdout)["bases"]]
    assert names[:4] == ["text-base", "gpt-3.5-turbo", "gpt-4", "gpt-4o-mini"]
    assert "vision-classifier" in names and "speech-to-text" in names
    out = n3("predict", "supportbot.faq_model_v2", "I forgot my password", "--json")
    assert out.exit_code == 0, out.output
    pred = json.loads(out.stdout)
    assert pred["label"] == "account" and 0 < pred["confidence"] <= 1
    out = n3("predict", "supportbot.faq_model_v2", "--dataset", "data/support_tickets.jsonl", "--json")
    lines = [json.loads(x) for x in out.stdout.splitlines()]  # one line per row, nothing else
    assert len(lines) == 45 and set(lines[0]) == {"line", "label", "prediction", "confidence", "target"}
    assert all(r["label"] == r["prediction"] for r in lines)  # `prediction`: the old name, for one release
    assert lines[0]["label"] == json.loads(n3("predict", "supportbot.faq_model_v2", first_input(project),
                                              "--json").stdout)["label"]
    accuracy = sum(r["label"] == r["target"] for r in lines) / len(lines)
    assert out.stderr.strip() == f"accuracy {accuracy:.3f}, macro-F1 {out.stderr.split()[3]} over 45 rows with a target"
    out = n3("predict", "supportbot.faq_model_v2", "--dataset", "data/support_tickets.jsonl")
    rows = out.stdout.splitlines()
    assert len(rows) == 45 and rows[0].split("\t")[:2] == ["1", lines[0]["label"]]
    assert out.stderr.startswith("accuracy ") and "accuracy" not in out.stdout


def first_input(project: Path) -> str:
    return json.loads((project / "data" / "support_tickets.jsonl").read_text().splitlines()[0])["input"]


def test_models_verify_detects_tampering(project):
    assert n3("train", *SEED_FLAGS).exit_code == 0
    p = project / MODEL_DIR / "model.bin"
    data = bytearray(p.read_bytes())
    data[-1] ^= 1
    p.write_bytes(bytes(data))
    out = n3("models", "verify", "supportbot.faq_model_v2")
    assert out.exit_code == 1 and "MISMATCH" in out.stdout
    out = n3("predict", "supportbot.faq_model_v2", "hello", "--json")
    assert out.exit_code == 1 and diagnostics(out)[0]["code"] == "model-corrupted"


def test_predict_errors(project):
    out = n3("predict", "nope", "hello", "--json")
    assert out.exit_code == 1 and diagnostics(out)[0]["code"] == "model-not-found"
    assert n3("train", *SEED_FLAGS).exit_code == 0
    out = n3("predict", "nope@1.0.0", "hello", "--json")
    assert "supportbot.faq_model_v2@2.0.0" in diagnostics(out)[0]["message"]
    reg = project / "models_registry.yaml"
    reg.write_text(reg.read_text().replace('status: "active"', 'status: "deprecated"'))
    out = n3("predict", "supportbot.faq_model_v2", "hello", "--json")
    assert out.exit_code == 1 and diagnostics(out)[0]["code"] == "model-deprecated"


def test_schema_command():
    out = n3("schema")
    assert {"training-config", "registry", "metadata"} <= set(out.stdout.split())
    out = n3("schema", "training-config")
    schema = json.loads(out.stdout)
    assert schema["$schema"].endswith("2020-12/schema") and schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"model_base", "dataset", "epochs", "learning_rate", "seed", "output_name",
                                         "mode", "validation_split", "output_dir", "report_dir", "allow_weak_model",
                                         "shards", "executor", "scheduler"}
    assert all(p.get("description") for p in schema["properties"].values())
    assert n3("schema", "nonsense").exit_code == 1


def test_config_schema_accepts_seed_yaml():
    import jsonschema

    from n3lang.resources import load_schema

    jsonschema.validate(yaml.safe_load(SEED_YAML), load_schema("training-config"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**yaml.safe_load(SEED_YAML), "learnig_rate": 1}, load_schema("training-config"))


def test_output_and_report_dirs(project):
    result = n3("train", *SEED_FLAGS, "--output-dir", "build/m", "--report-dir", "build/r")
    assert result.exit_code == 0, result.output
    assert (project / "build/m/supportbot.faq_model_v2/2.0.0/model.bin").is_file()
    assert (project / "build/r/training_metrics_supportbot.faq_model_v2_2.0.0.json").is_file()
    e = yaml.safe_load((project / "models_registry.yaml").read_text())[0]
    assert e["artifact_uri"] == "build/m/supportbot.faq_model_v2/2.0.0/model.bin"
    assert n3("predict", "supportbot.faq_model_v2", "where is my package").exit_code == 0


def test_progress_bar_draws_epochs_rows_and_loss(capsys):
    from n3lang.cli import train_cmd

    bar = train_cmd.ProgressBar("m", 200)
    bar(2, 4, 100, 0.5)
    bar.done()
    err = capsys.readouterr().err
    assert "epoch 2/4" in err and "100 rows" in err and "rows/s" in err and "loss 0.5000" in err
    assert "[#########..............." in err


def test_no_progress_bar_without_a_terminal(project):
    result = n3("train", *SEED_FLAGS)
    assert result.exit_code == 0 and "\r" not in result.stderr


def test_models_list_on_corrupted_registry(project):
    (project / "models_registry.yaml").write_text("- name: x\n  bad: [\n")
    out = n3("models", "list", "--json")
    assert out.exit_code == 1 and diagnostics(out)[0]["code"] == "registry-corrupted"


def test_absolute_dataset_inside_project_is_recorded_relative(project):
    args = list(SEED_FLAGS)
    args[args.index("--dataset") + 1] = str(project / "data" / "support_tickets.jsonl")
    assert n3("train", *args).exit_code == 0
    for rel in OUTPUTS:
        assert str(project).encode() not in (project / rel).read_bytes(), rel


def test_predict_refuses_text_that_is_not_unicode(project):
    assert n3("train", *SEED_FLAGS).exit_code == 0
    out = n3("predict", "supportbot.faq_model_v2", "ok", "caf\udcff", "--json")  # argv bytes that were not UTF-8
    assert out.exit_code == 1
    assert diagnostics(out)[0]["message"] == "INPUT 2 is not UTF-8 text: \\udcff is an unpaired UTF-16 surrogate, not a character"
    rows = project / "rows.jsonl"
    rows.write_text('{"input": "where is my parcel"}\n{"input": "x \\udc00"}\n')
    out = n3("predict", "supportbot.faq_model_v2", "--dataset", "rows.jsonl", "--json")
    assert out.exit_code == 1 and [json.loads(x)["line"] for x in out.stdout.splitlines()[:1]] == [1]
    rows.write_bytes(b'{"input": "ok"}\n{"input": "caf\xe9"}\n')
    out = n3("predict", "supportbot.faq_model_v2", "--dataset", "rows.jsonl", "--json")
    d = diagnostics(out)[0]
    assert out.exit_code == 1 and (d["code"], d["line"], d["column"]) == ("dataset-encoding", 2, 15)


def test_a_diverging_learning_rate_stops_with_training_failed(project):
    args = [*SEED_FLAGS]
    args[args.index("--learning-rate") + 1] = "100"  # x 100,000 for this base: the weights overflow
    diags = assert_fails(project, args, "training-failed")
    assert diags[0]["message"] == ("training diverged: the learned weights became infinite or not a number "
                                   "(learning rate 100, 1e+07 after the base's scaling); nothing was written")
    assert diags[0]["fix"] == ("Lower learning_rate (gpt-3.5-turbo reads it on the hosted fine-tuning scale: 100.0 x "
                               "lr_scale 100000 = local step 1e7): try 10.0 or less, or leave it unset to use "
                               "the base's default (2e-5 for gpt-3.5-turbo).")
    assert diags[0]["example"] == "n3 train --config training.yaml --learning-rate 10.0"


def test_config_that_is_not_a_regular_file(project):
    for path, what in (("/dev/zero", "is not a regular file"), ("data", "is a directory")):
        diags = assert_fails(project, ["--config", path], "config-file-invalid")
        assert diags[0]["message"] == f"config file {path} {what}"


def test_dataset_rows_json_cannot_hold(project):
    good = '{"input": "hello there", "target": "a"}\n{"input": "bye now", "target": "b"}\n'
    with_dataset(project, good + '{"input": "x", "target": ' + "9" * 5000 + "}\n"
                 + '{"input": "x", "target": "a", "z": ' + "[" * 3000 + "]" * 3000 + "}\n")
    diags = assert_fails(project, SEED_FLAGS, "dataset-row-invalid")
    assert [(d["line"], d["column"], d["message"]) for d in diags] == [
        (3, 26, "line is not valid JSON: a number has more than 4300 digits"),
        (4, 1, "line is not valid JSON: the value is nested too deeply (about a thousand levels)")]


def test_absurd_numbers_in_training_yaml(project):
    base = "model_base: text-base\ndataset: data/support_tickets.jsonl\noutput_name: m1\n"
    (project / "t.yaml").write_text(base + "epochs: " + "9" * 5000 + "\n")
    diags = assert_fails(project, ["--config", "t.yaml"], "config-file-invalid")
    assert diags[0]["message"] == "config file t.yaml cannot be read: a number has more than 4300 digits"
    (project / "t.yaml").write_text(base + "epochs: " + "9" * 400 + "\nlearning_rate: " + "9" * 400 + "\n")
    diags = assert_fails(project, ["--config", "t.yaml"], "config-invalid-value")
    assert "`epochs` must be at least 1 (and at most 10000), got a number of 400 digits" in [
        d["message"] for d in diags]
    assert any(d["message"].startswith("`learning_rate` must be a number") for d in diags)


def test_model_block_settings_take_plain_values(project):
    app = project / "m.ai"
    for setting, message in (
            ("epochs is -1", "`epochs` must be at least 1 (and at most 10000), got -1"),
            ("epochs is 1 + 2", "`epochs` must be a whole number, got an expression (arithmetic); a model "
                                "setting takes a plain value: text, a number or true/false")):
        app.write_text('spec is "1.0"\n\ncapabilities:\n  training\n\nmodel "mm":\n  model_base is "text-base"\n'
                       f'  dataset is "data/support_tickets.jsonl"\n  {setting}\n\nflow "f":\n  return 1\n')
        diags = assert_fails(project, ["m.ai"], "config-invalid-value")
        assert (diags[0]["line"], diags[0]["message"]) == (9, message)


@pytest.mark.parametrize("extra, code, needle", [
    ({"output_dir": "app.ai"}, "config-invalid-value", "app.ai is a file, not a directory"),
    ({"report_dir": "r" * 300}, "config-invalid-value", "is longer than the 255 bytes a file name may have"),
    ({"output_name": "m_v" + "9" * 120}, "config-invalid-value", "is longer than the 255 bytes"),
    ({"output_dir": "a\0b"}, "config-invalid-value", "`output_dir` contains a NUL character"),
    ({"dataset": "d" * 5000}, "dataset-missing", "cannot be read: File name too long"),
], ids=["output-dir-is-a-file", "report-dir-name-too-long", "version-makes-names-too-long", "nul", "dataset-name"])
def test_output_paths_are_checked_before_training(project, extra, code, needle):
    cfg = {"model_base": "text-base", "dataset": "data/support_tickets.jsonl", "output_name": "m1", **extra}
    (project / "t.yaml").write_text(json.dumps(cfg))  # JSON is YAML, and spells the NUL
    diags = assert_fails(project, ["--config", "t.yaml"], code, needle)
    assert diags[0]["file"] == ("t.yaml" if "dataset" not in extra else extra["dataset"])


def test_nan_is_not_a_json_number_in_datasets(project):
    good = '{"input": "hello there", "target": "a"}\n{"input": "bye now", "target": "b"}\n'
    with_dataset(project, good + '{"input": "x", "target": NaN}\n')
    diags = assert_fails(project, SEED_FLAGS, "dataset-row-invalid")
    assert [(d["line"], d["column"], d["message"]) for d in diags] == [
        (3, 26, "line is not valid JSON: NaN is not a JSON number")]


def test_predict_dataset_reports_bad_rows_at_their_line_and_goes_on(project):
    assert n3("train", *SEED_FLAGS).exit_code == 0
    (project / "rows.jsonl").write_text('{"input": 5}\n{"input": "where is my parcel"}\n')
    out = n3("predict", "supportbot.faq_model_v2", "--dataset", "rows.jsonl")
    assert out.exit_code == 1 and out.stdout.startswith("2\t")
    assert "rows.jsonl:1:2: error: a text model needs text, got a number [predict-input-invalid]" in out.stderr


def test_deprecate_reason_must_be_text(project):
    assert n3("train", *SEED_FLAGS).exit_code == 0
    reg = (project / "models_registry.yaml").read_bytes()
    out = n3("models", "deprecate", "supportbot.faq_model_v2", "--reason", "bad \udcff", "--json")
    assert out.exit_code == 1 and "--reason is not UTF-8 text" in diagnostics(out)[0]["message"]
    assert (project / "models_registry.yaml").read_bytes() == reg
