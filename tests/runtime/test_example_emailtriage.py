"""examples/emailtriage as its README runs it: check, train the model block, run the flow that
calls the Python tool and then the trained model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "emailtriage"


@pytest.fixture(scope="module")
def trained_app(tmp_path_factory) -> Path:
    app_dir = tmp_path_factory.mktemp("emailtriage") / "app"
    shutil.copytree(EXAMPLE, app_dir, ignore=shutil.ignore_patterns(
        "models", "docs", "models_registry.*", "__pycache__"))
    runner = CliRunner()
    result = runner.invoke(cli, ["check", str(app_dir / "app.ai")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["train", str(app_dir / "app.ai")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return app_dir


def run_triage(app_dir: Path, payload: str) -> dict:
    result = CliRunner().invoke(cli, ["run", str(app_dir / "app.ai"), "triage", "--input", payload,
                                      "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_sample_email_is_cleaned_by_the_tool_and_classified_by_the_model(trained_app):
    out = run_triage(trained_app, "@" + str(trained_app / "data" / "sample_email.json"))
    assert out["result"]["cleaned_text"] == ("Hi there, I was charged twice for my plan this "
                                             "month, can you refund one of them? See")
    assert out["result"]["intent"] == "billing"
    assert [t["type"] for t in out["traces"]] == ["tool_call", "predict"]
    assert out["traces"][0]["status"] == "ok"


def test_the_tool_keeps_only_the_customers_words(trained_app):
    email = "Subject: parcel\nmy parcel never arrived https://t.co/x\n> old quote\n--\nBob"
    out = run_triage(trained_app, json.dumps({"email": email}))
    assert out["result"]["cleaned_text"] == "my parcel never arrived"
    assert out["result"]["intent"] == "shipping"


def test_running_the_tool_writes_nothing_into_the_app(trained_app):
    run_triage(trained_app, json.dumps({"email": "I forgot my password"}))
    assert not list(trained_app.rglob("__pycache__"))


def test_a_wrong_input_type_is_a_located_error_not_a_traceback(trained_app):
    result = CliRunner().invoke(cli, ["run", str(trained_app / "app.ai"), "triage", "--input",
                                      '{"email": 42}'], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "app.ai:31:18: error: Tool input field \"raw email\" must be text." in result.output
