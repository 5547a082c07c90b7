"""Bounded fuzzing of the training side (issue 12): datasets, training.yaml and registry files.

The strategies are those of scripts/fuzz_training.py (the long run, in subprocesses); here
they run in-process through click's test runner, few examples each, so the whole file stays
well under a minute. Every case must end with exit 0 or 1 and no exception escaping n3.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from n3lang.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("fuzz_training", ROOT / "scripts" / "fuzz_training.py")
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

FAST = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    proj = fuzz.make_project(tmp_path_factory.mktemp("fuzz") / "base")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(proj)
        r = CliRunner().invoke(cli, ["train", "--model-base", "text-base", "--dataset", "data/rows.jsonl",
                                     "--epochs", "1", "--output-name", "m_v1"])
    assert r.exit_code == 0, r.output
    return proj


@pytest.fixture
def project(trained, tmp_path, monkeypatch):
    proj = tmp_path / "p"
    shutil.copytree(trained, proj)
    monkeypatch.chdir(proj)
    return proj


def invoke(args) -> None:
    r = CliRunner().invoke(cli, args)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception  # hypothesis shrinks and shows the case
    assert r.exit_code in (0, 1), (args, r.exit_code, r.output)
    assert "Traceback" not in r.output and "internal error" not in r.output


@FAST
@given(data=fuzz.dataset_bytes)
def test_fuzzed_datasets_are_trained_or_reported(project, data):
    (project / "data" / "rows.jsonl").write_bytes(data)
    invoke(["train", "--model-base", "text-base", "--dataset", "data/rows.jsonl", "--epochs", "1",
            "--output-name", "fz_v1", "--dry-run"])


@settings(FAST, max_examples=8)
@given(data=fuzz.dataset_bytes)
def test_fuzzed_datasets_train_for_real(project, data):
    (project / "data" / "rows.jsonl").write_bytes(data)
    name = f"fz{abs(hash(data)) % 10**9}_v1"
    invoke(["train", "--model-base", "text-base", "--dataset", "data/rows.jsonl", "--epochs", "1",
            "--output-name", name, "--json"])


@FAST
@given(text=fuzz.config_texts)
def test_fuzzed_training_yaml_is_read_or_reported(project, text):
    (project / "training.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    invoke(["train", "--config", "training.yaml", "--dry-run"])


@settings(FAST, max_examples=60)
@given(ops=fuzz.registry_ops, keep_head=fuzz.st.booleans(), command=fuzz.st.sampled_from(fuzz.REGISTRY_COMMANDS))
def test_fuzzed_registry_files_are_read_or_reported(project, trained, ops, keep_head, command):
    text = fuzz.mutate((trained / "models_registry.yaml").read_text(), ops)
    (project / "models_registry.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    head = project / "models_registry.head"
    if keep_head:
        shutil.copy(trained / "models_registry.head", head)
    else:
        head.unlink(missing_ok=True)
    invoke(list(command))
