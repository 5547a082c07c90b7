"""`n3 init`: a new app folder that trains and runs with the commands it prints, written the
same way every time, never over an existing file and never outside its folder."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.resources import read_text, schema_names, template_files, template_names

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = [f".n3/schemas/{n}.schema.json" for n in schema_names()]


def n3(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def shell(tmp_path: Path) -> dict[str, str]:
    """An environment with `n3` on PATH running this checkout's code, as after `pip install`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "n3"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m n3lang.cli.main "$@"\n')
    shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(ROOT))
    env.pop("N3_TRAIN_CREATED_AT", None)
    return env


def printed_commands(stdout: str) -> list[str]:
    """The indented command lines init prints after its summary."""
    return [line.strip() for line in stdout.splitlines() if line.startswith("  ") and not line.startswith("  kept")]


def test_templates_are_the_four_documented():
    assert template_names() == ["audio", "blank", "image", "text"]


@pytest.mark.parametrize("template", ["text", "image", "audio", "blank"])
def test_init_then_the_printed_commands_train_and_run(tmp_path, template):
    env = shell(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    init = subprocess.run(["n3", "init", "demo", "--template", template], cwd=work, env=env,
                          capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    commands = printed_commands(init.stdout)
    trains = template != "blank"
    assert commands[0] == "cd demo"
    assert commands[1:-1] == (["n3 train --config training.yaml"] if trains else [])
    assert commands[-1].startswith("n3 run app.ai --input '{")
    # the printed lines, run as printed, one shell session
    done = subprocess.run(["bash", "-e", "-c", "\n".join(commands)], cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # training's summary comes first; the flow's result is the last thing printed
    result = json.loads(done.stdout[done.stdout.rindex("\n{\n") + 1:]) if trains else done.stdout
    if template == "text":
        assert result["intent"] == "billing"
    elif template == "image":
        assert result["shape"] == "circle"
    elif template == "audio":
        assert result["whistle"] == "rising"
    else:
        assert result == "Hello, Ada!\n"
    if trains:  # line 1 of training.yaml points at the schema init wrote, and the registry's too
        demo = work / "demo"
        modeline = (demo / "training.yaml").read_text().splitlines()[0]
        assert modeline == "# yaml-language-server: $schema=.n3/schemas/training-config.schema.json"
        registry_line = (demo / "models_registry.yaml").read_text().splitlines()[0]
        assert (demo / registry_line.split("$schema=")[1]).is_file()


def test_the_text_model_learned_the_intents(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert n3("init", "demo").exit_code == 0
    monkeypatch.chdir(tmp_path / "demo")
    assert n3("train", "--config", "training.yaml").exit_code == 0
    cases = {
        "I forgot my password and can't log in": "password",
        "where is my package? it still hasn't arrived": "shipping",
        "please cancel my subscription": "cancel",
        "why was my card charged twice": "billing",
    }
    for message, intent in cases.items():
        out = n3("run", "app.ai", "--json", "--input", json.dumps({"message": message}))
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["result"]["intent"] == intent, message


def test_what_init_writes_and_prints(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = n3("init", "demo")
    assert out.exit_code == 0
    assert out.stdout == (
        "Created 10 files in demo/ (text template: a support inbox with a text model).\n"
        "\n"
        "Train the model, then run the app:\n"
        "\n"
        "  cd demo\n"
        "  n3 train --config training.yaml\n"
        """  n3 run app.ai --input '{"message": "I was charged twice this month"}'\n""")
    written = files(tmp_path / "demo")
    assert sorted(written) == sorted([rel for rel, _ in template_files("text")] + SCHEMAS)
    for n in schema_names():
        assert written[f".n3/schemas/{n}.schema.json"] == read_text("schemas", f"{n}.schema.json").encode()
    rows = [json.loads(line) for line in written["data/messages.jsonl"].decode().splitlines()]
    assert len(rows) == 80 and {r["target"] for r in rows} == {"billing", "password", "shipping", "cancel"}


def test_blank_has_no_training_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = n3("init", "b", "--template", "blank")
    assert out.exit_code == 0
    assert sorted(files(tmp_path / "b")) == ["README.md", "app.ai"]
    assert out.stdout.splitlines()[2:] == ["Next:", "", "  cd b", """  n3 run app.ai --input '{"name": "Ada"}'"""]


def test_two_inits_are_byte_identical(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for template in template_names():
        assert n3("init", f"a-{template}", "-t", template).exit_code == 0
        assert n3("init", f"b-{template}", "-t", template).exit_code == 0
        assert files(tmp_path / f"a-{template}") == files(tmp_path / f"b-{template}")


def test_the_current_folder_when_empty_and_a_quoted_cd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = n3("init", "-t", "blank")
    assert out.exit_code == 0
    assert out.stdout.startswith("Created 2 files in the current folder (blank template")
    assert "cd " not in out.stdout
    assert n3("init", "my app", "-t", "blank").stdout.splitlines()[4] == "  cd 'my app'"


def test_a_non_empty_folder_is_refused_and_left_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    out = n3("init", "demo")
    assert out.exit_code == 1
    assert out.stdout == ""
    assert out.stderr.splitlines()[:2] == [
        "demo: error: demo is not empty (1 entry: notes.txt); nothing was written [init-folder-not-empty]",
        "  What happened: demo is not empty (1 entry: notes.txt); nothing was written",
    ]
    assert "Fix: Name a new or empty folder, or pass --into-existing" in out.stderr
    assert files(tmp_path / "demo") == {"notes.txt": b"mine"}
    (tmp_path / "demo" / "notes.txt").unlink()
    (tmp_path / "demo" / ".git").mkdir()  # hidden entries count too
    assert n3("init", "demo").exit_code == 1
    assert "current folder is not empty (1 entry: demo)" in n3("init").stderr


def test_into_existing_keeps_every_existing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    demo = tmp_path / "demo"
    (demo / "data").mkdir(parents=True)
    (demo / "app.ai").write_text("my own app\n")
    (demo / "data" / "messages.jsonl").write_text("{}\n")
    out = n3("init", "demo", "--into-existing")
    assert out.exit_code == 0
    assert out.stdout.splitlines()[:3] == [
        "Created 8 files in demo/ (text template: a support inbox with a text model).",
        "  kept app.ai: it was already there and is left as it is",
        "  kept data/messages.jsonl: it was already there and is left as it is",
    ]
    assert (demo / "app.ai").read_text() == "my own app\n"
    assert (demo / "data" / "messages.jsonl").read_text() == "{}\n"
    again = n3("init", "demo", "--into-existing")
    assert again.stdout.startswith("Created 0 files in demo/")
    assert again.stdout.count("  kept ") == 10


def test_nothing_is_written_through_a_symbolic_link(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "data").symlink_to(outside, target_is_directory=True)
    (demo / "app.ai").symlink_to(outside / "app.ai")  # dangling: O_EXCL does not follow it
    (demo / ".n3").symlink_to(outside, target_is_directory=True)
    out = n3("init", "demo", "--into-existing")
    assert out.exit_code == 0
    assert list(outside.iterdir()) == []
    kept = [line.split()[1].rstrip(":") for line in out.stdout.splitlines() if line.startswith("  kept")]
    assert kept == ["app.ai", "data/messages.jsonl", *SCHEMAS]
    assert (demo / "training.yaml").is_file()


def test_a_file_in_the_way(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").write_text("x")
    out = n3("init", "demo")
    assert out.exit_code == 1
    assert "error: demo exists and is not a folder [init-not-a-folder]" in out.stderr
    assert "Traceback" not in out.output


def test_an_unknown_template_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli, ["init", "demo", "--template", "video"])
    assert out.exit_code == 2
    assert "'video' is not one of 'text', 'image', 'audio', 'blank'" in out.output
    assert not (tmp_path / "demo").exists()


def test_the_help_shows_examples():
    out = n3("init", "--help")
    assert "n3 init shapes --template image" in out.stdout
    assert "--into-existing" in out.stdout


def test_the_media_are_what_the_generator_draws(tmp_path):
    spec = importlib.util.spec_from_file_location("gen_templates", ROOT / "scripts" / "gen_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--out", str(tmp_path)])
    for template in ("image", "audio"):
        drawn = files(tmp_path / template)
        shipped = {rel: data for rel, data in template_files(template) if rel.startswith(("data/", "samples/"))}
        assert drawn == shipped, template


def test_a_folder_that_cannot_be_made_is_a_located_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("x")
    out = n3("init", "f/demo")
    assert out.exit_code == 1
    assert out.stderr.splitlines()[0] == "f/demo: error: cannot create f/demo: Not a directory [init-write-failed]"
    assert "Traceback" not in out.output
