"""Hand-edited models_registry.yaml and metadata.json: every malformed value is a clean
registry-corrupted / model-corrupted error (exit 1) naming the place, never an internal error."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.diagnostics import DiagnosticError
from n3lang.training import registry

DATA = Path(__file__).resolve().parent.parent / "data" / "training"
APP = 'spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n'
NAME = "supportbot.faq_model_v2"
MODEL_DIR = f"models/{NAME}/2.0.0"
FLAGS = ["--model-base", "gpt-3.5-turbo", "--dataset", "data/support_tickets.jsonl", "--epochs", "1",
         "--seed", "13", "--output-name", NAME]


def n3(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    (root / "app.ai").write_text(APP)
    (root / "data").mkdir()
    shutil.copy(DATA / "tickets.jsonl", root / "data" / "support_tickets.jsonl")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("N3_TRAIN_CREATED_AT", raising=False)
        result = n3("train", *FLAGS)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def project(trained, tmp_path, monkeypatch):
    root = tmp_path / "p"
    shutil.copytree(trained, root)
    # these edits re-chain the registry by hand: without the head file n3 trusts its end as it
    # is (the head file's own checks are in test_hostile.py)
    (root / registry.HEAD_FILE).unlink()
    monkeypatch.chdir(root)
    monkeypatch.delenv("N3_TRAIN_CREATED_AT", raising=False)
    return root


def fails(args, code, *needles):
    """Run n3 ARGS --json: exit 1 with a diagnostic CODE whose message holds every needle."""
    result = n3(*args, "--json")
    assert result.exit_code == 1, result.output
    diags = json.loads(result.stdout)["diagnostics"]
    assert [d["code"] for d in diags] == [code], diags
    for d in diags:
        assert d["why"] and d["fix"], d
    for needle in needles:
        assert needle in diags[0]["message"], diags[0]["message"]
    return diags[0]


# ------------------------------------------------------------------------ models_registry.yaml
def edit_registry(project: Path, old: str | None, new: str) -> None:
    path = project / registry.REGISTRY_FILE
    text = path.read_text(encoding="utf-8")
    if old is None:
        text += new
    else:
        text, n = re.subn(old, new, text, count=1, flags=re.MULTILINE)
        assert n == 1, old
    path.write_text(text, encoding="utf-8")


def registry_line(project: Path, start: str) -> int:
    lines = (project / registry.REGISTRY_FILE).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(start))


COMMANDS = [("models", "list"), ("models", "show", NAME), ("models", "verify", NAME), ("predict", NAME, "hi"),
            ("models", "deprecate", NAME), ("train", *FLAGS[:-1], "other_v3")]

REGISTRY_EDITS = [
    ("date", r'^  created_at: .*$', "  created_at: 2024-01-01", "  created_at:",
     ["field created_at", "unquoted date", "not JSON data"]),
    ("timestamp", r'^  created_at: .*$', "  created_at: 2024-01-01T10:00:00Z", "  created_at:",
     ["field created_at", "unquoted timestamp"]),
    ("nan seed", r'^  training_seed: 13$', "  training_seed: .nan", "  training_seed:",
     ["field training_seed", "NaN"]),
    ("inf metric", r'"accuracy": [0-9.]+', '"accuracy": .inf', "  metrics:", ["field metrics.accuracy", "infinite"]),
    ("int key", None, "  1: x\n", "- name:", ["has the key 1", "keys must be strings"]),
    ("binary", None, "  blob: !!binary aGVsbG8=\n", "  blob:", ["field blob", "binary data"]),
    ("set", None, "  s: !!set {a, b}\n", "  s:", ["field s", "a set"]),
    ("metrics string", r'^  metrics: .*$', '  metrics: "x"', "  metrics:", ["field metrics", "must be a mapping"]),
    ("metrics list", r'^  metrics: .*$', "  metrics: [1, 2]", "  metrics:", ["field metrics", "must be a mapping"]),
    ("metric string", r'"accuracy": [0-9.]+', '"accuracy": "high"', "  metrics:",
     ["field metrics.accuracy", "must be a number"]),
    ("uri int", r'^  artifact_uri: .*$', "  artifact_uri: 5", "  artifact_uri:",
     ["field artifact_uri", "must be a string", "an integer"]),
    ("uri list", r'^  artifact_uri: .*$', "  artifact_uri: [a]", "  artifact_uri:",
     ["field artifact_uri", "must be a string", "a list"]),
    ("uri nul", r'^  artifact_uri: "models/', r'  artifact_uri: "models/\\0x', "  artifact_uri:",
     ["field artifact_uri", "NUL character"]),
    ("version float", r'^  version: .*$', "  version: 2.0", "  version:", ["field version", "must be a string"]),
    ("bad status", r'^  status: .*$', '  status: "retired"', "  status:", ["field status", "must be one of"]),
    ("surrogate", None, '  note: "\\ud800"\n', "  note:", []),
    # PyYAML 6.0.4 refuses deep nesting itself ("exceeded maximum nesting depth"); before it, our
    # own check does ("nested more than 1000 levels"): either way a clean error
    ("deep", None, "  deep: " + "[" * 5000 + "]" * 5000 + "\n", "  deep:", ["nest"]),
    ("very deep", None, "  deep: " + "[" * 100000 + "]" * 100000 + "\n", "  deep:", ["nest"]),
    ("deep mapping", None, "  deep: " + "{a: " * 80 + "1" + "}" * 80 + "\n", "  deep:",
     ["field deep.a.a", "nested more than 64"]),
]


@pytest.mark.parametrize("label, old, new, line_start, needles", REGISTRY_EDITS, ids=[e[0] for e in REGISTRY_EDITS])
def test_registry_values_of_the_wrong_kind(project, label, old, new, line_start, needles):
    edit_registry(project, old, new)
    before = (project / registry.REGISTRY_FILE).read_bytes()
    line = registry_line(project, line_start)
    for args in COMMANDS:
        d = fails(args, "registry-corrupted", f"models_registry.yaml is corrupted at line {line}", *needles)
        assert d["line"] == line, d
    assert (project / registry.REGISTRY_FILE).read_bytes() == before, "the registry was rewritten"
    assert not (project / "models" / "other_v3").exists()


def test_registry_checks_keep_unknown_fields_and_valid_files(project):
    assert n3("models", "list").exit_code == 0
    edit_registry(project, None, '  note: {"by": "ops", "tags": ["a", "b"], "n": 1.5}\n')
    entries = registry.read_entries(project)
    assert entries[0]["note"] == {"by": "ops", "tags": ["a", "b"], "n": 1.5}
    assert n3("predict", NAME, "I forgot my password").exit_code == 0


def test_status_event_fields_are_typed_too(project):
    assert n3("models", "deprecate", NAME, "--reason", "old").exit_code == 0
    edit_registry(project, r'^  reason: .*$', "  reason: 5")
    line = registry_line(project, "  reason:")
    fails(("models", "list"), "registry-corrupted", f"at line {line}", "field reason", "must be a string")


def test_registry_reading_errors_are_diagnostics_in_the_library(project):
    edit_registry(project, r'^  created_at: .*$', "  created_at: 2024-01-01")
    with pytest.raises(DiagnosticError) as exc:
        registry.read_entries(project)
    assert exc.value.diagnostics[0].code == "registry-corrupted"


def test_deep_nesting_in_training_yaml_is_a_config_error(project):
    (project / "training.yaml").write_text("x: " + "[" * 100000 + "]" * 100000 + "\n")
    fails(("train", "--config", "training.yaml"), "config-file-invalid", "nest")  # ours or PyYAML's message


# -------------------------------------------------------------------------------- metadata.json
def edit_metadata(project: Path, change, *, fix_sha: bool = True) -> None:
    """Rewrite metadata.json (``change`` maps the parsed dict to new bytes or a new value) and,
    with fix_sha, put its new sha256 in the registry so only the content is judged."""
    path = project / MODEL_DIR / "metadata.json"
    new = change(json.loads(path.read_text(encoding="utf-8")))
    raw = new if isinstance(new, bytes) else json.dumps(new).encode("utf-8")
    path.write_bytes(raw)
    if fix_sha:
        edit_registry(project, r'^  metadata_sha256: .*$', f'  metadata_sha256: "{hashlib.sha256(raw).hexdigest()}"')


def settings(**changes):
    def change(meta):
        meta["trainer"]["config"]["feature_settings"].update(changes)
        return meta
    return change


def with_labels(labels):
    def change(meta):
        meta["labels"] = labels
        return meta
    return change


def without(key):
    def change(meta):
        del meta[key]
        return meta
    return change


META_EDITS = [
    ("a list", lambda m: b"[1,2]", ["must be a mapping", "a list"]),
    ("not json", lambda m: b"{", ["is not valid JSON"]),
    ("not utf-8", lambda m: b'{"a": "\xff"}', ["is not valid JSON"]),
    ("too deep", lambda m: b"[" * 100000 + b"]" * 100000, ["is not valid JSON"]),
    ("nan", lambda m: b'{"x": NaN, ' + json.dumps(m).encode()[1:], ["field x", "NaN"]),
    ("labels ints", with_labels([1, 2, 3, 4, 5, 6, 7, 8]), ["field labels[0]", "must be a string"]),
    ("labels null", with_labels(None), ["field labels", "must be a list", "null"]),
    ("labels dict", with_labels({"a": 1}), ["field labels", "must be a list", "a mapping"]),
    ("labels empty", with_labels([]), ["field labels is empty"]),
    ("no labels", without("labels"), ["lacks labels"]),
    ("bad mode", lambda m: {**m, "mode": "video"}, ["field mode", "must be one of text, image, audio"]),
    ("log2 200", settings(n_features_log2=200), ["n_features_log2 must be an integer from 1 to 30", "200"]),
    ("log2 -1", settings(n_features_log2=-1), ["n_features_log2 must be an integer from 1 to 30", "-1"]),
    ("log2 x", settings(n_features_log2="x"), ["n_features_log2 must be an integer from 1 to 30", "'x'"]),
    ("log2 true", settings(n_features_log2=True), ["n_features_log2 must be an integer"]),
    ("log2 20", settings(n_features_log2=20), ["n_features_log2 is 20", "n_features is 262144"]),
    ("word ab", settings(word_ngrams="ab"), ["word_ngrams must be a pair of integers", "'ab'"]),
    ("word triple", settings(word_ngrams=[1, 2, 3]), ["word_ngrams must be a pair of integers"]),
    ("char 5", settings(char_ngrams=5), ["char_ngrams must be a pair of integers", "not 5"]),
    ("char huge", settings(char_ngrams=[1, 10**6]), ["char_ngrams must be a pair of integers"]),
    ("lowercase", settings(lowercase="yes"), ["lowercase must be true or false"]),
]


@pytest.mark.parametrize("label, change, needles", META_EDITS, ids=[e[0] for e in META_EDITS])
def test_metadata_hand_edits_are_model_corrupted(project, label, change, needles):
    edit_metadata(project, change)
    for args in (("predict", NAME, "I forgot my password"), ("models", "show", NAME)):
        if args[0] == "models" and label.startswith(("log2 20",)):
            continue  # needs the model itself to judge; show only reads the metadata
        fails(args, "model-corrupted", f"model {NAME}@2.0.0", f"{MODEL_DIR}/metadata.json", *needles)


@pytest.mark.parametrize("labels, needle", [(["a"], "lists 1 label(s)"), (["a", "b"], "lists 2 label(s)"),
                                            ([f"l{i}" for i in range(9)], "lists 9 label(s)")])
def test_labels_must_match_the_model_output(project, labels, needle):
    n_classes = len(json.loads((project / MODEL_DIR / "metadata.json").read_text())["labels"])
    assert n_classes == 3  # the test dataset's targets
    edit_metadata(project, with_labels(labels))
    d = fails(("predict", NAME, "hi"), "model-corrupted", needle, f"scores {n_classes} classes")
    assert "metadata.json" in d["message"]
    assert n3("models", "show", NAME).exit_code == 0  # the content itself is well formed


def test_metadata_edit_without_the_sha_is_still_a_mismatch(project):
    edit_metadata(project, with_labels(None), fix_sha=False)
    fails(("predict", NAME, "hi"), "model-corrupted", "metadata.json does not match the registry")


def test_show_without_metadata_still_shows_the_entry(project):
    (project / MODEL_DIR / "metadata.json").unlink()
    result = n3("models", "show", NAME, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["metadata"] is None


def test_valid_metadata_predicts_and_shows(project):
    edit_metadata(project, lambda m: {**m, "note": "unknown fields are kept"})
    assert n3("predict", NAME, "I forgot my password").exit_code == 0
    result = n3("models", "show", NAME)
    assert result.exit_code == 0 and "labels (" in result.output


def test_a_registry_number_of_over_4300_digits_is_corruption_not_a_crash(tmp_path):
    from n3lang.diagnostics import DiagnosticError
    from n3lang.training import registry

    (tmp_path / "models_registry.yaml").write_text("- name: m\n  training_seed: " + "9" * 5000 + "\n")
    with pytest.raises(DiagnosticError) as exc:
        registry.read_entries(tmp_path)
    d = exc.value.diagnostics[0]
    assert (d.code, d.message) == ("registry-corrupted",
                                   "models_registry.yaml is corrupted: it holds a number of over 4300 digits")
