"""`n3 schema --write DIR`: every shipped schema into a folder, never replacing other content
without --force."""

from __future__ import annotations

import json

from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.resources import read_text, schema_names


def n3(*args):
    return CliRunner().invoke(cli, list(args))


def test_write_creates_the_folder_and_every_schema(tmp_path):
    folder = tmp_path / "a" / "schemas"
    out = n3("schema", "--write", str(folder))
    assert out.exit_code == 0
    assert out.stdout.splitlines() == [f"wrote {folder / n}.schema.json" for n in schema_names()]
    for n in schema_names():
        assert (folder / f"{n}.schema.json").read_text(encoding="utf-8") == read_text("schemas", f"{n}.schema.json")
    assert json.loads((folder / "training-config.schema.json").read_text())["title"] == "n3 training config (training.yaml)"


def test_writing_again_leaves_identical_files_alone(tmp_path):
    n3("schema", "--write", str(tmp_path))
    out = n3("schema", "--write", str(tmp_path))
    assert out.exit_code == 0
    assert out.stdout.splitlines() == [f"unchanged {tmp_path / n}.schema.json" for n in schema_names()]


def test_other_content_is_kept_unless_force(tmp_path):
    (tmp_path / "registry.schema.json").write_text("mine\n")
    (tmp_path / "metadata.schema.json").write_bytes(b"\xff\xfe not UTF-8")
    out = n3("schema", "--write", str(tmp_path), "--json")
    assert out.exit_code == 2  # --json is not an option of `n3 schema`
    out = n3("schema", "--write", str(tmp_path))
    assert out.exit_code == 1 and out.stdout == ""
    assert f"error: {tmp_path}/registry.schema.json already exists with other content; nothing was written " \
           "[schema-write-conflict]" in out.stderr
    assert "metadata.schema.json already exists with other content" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metadata.schema.json", "registry.schema.json"]  # all or nothing
    assert (tmp_path / "registry.schema.json").read_text() == "mine\n"
    out = n3("schema", "--write", str(tmp_path), "--force")
    assert out.exit_code == 0 and f"wrote {tmp_path}/registry.schema.json" in out.stdout.splitlines()
    assert (tmp_path / "registry.schema.json").read_text() == read_text("schemas", "registry.schema.json")


def test_a_file_in_the_way_of_the_folder_is_an_error(tmp_path):
    (tmp_path / "f").write_text("")
    out = n3("schema", "--write", str(tmp_path / "f" / "x"))
    assert out.exit_code == 1 and "[schema-write-failed]" in out.stderr and "Traceback" not in out.output


def test_name_and_write_together_is_a_usage_error(tmp_path):
    out = n3("schema", "registry", "--write", str(tmp_path))
    assert out.exit_code == 2 and "give either NAME or --write DIR, not both" in out.stderr
    assert list(tmp_path.iterdir()) == []
