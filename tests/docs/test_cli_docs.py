"""docs/cli.md is generated from the click commands (scripts/gen_cli_docs.py) and kept current."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import click

from n3lang.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current():
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == _generator().render(), "docs/cli.md is stale: run python scripts/gen_cli_docs.py"


def _commands(group, path):
    ctx = click.Context(group, info_name=path[-1])
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield command, [*path, name]
        if isinstance(command, click.Group):
            yield from _commands(command, [*path, name])


def test_every_command_and_option_is_documented():
    text = _generator().render()
    for command, path in _commands(cli, ["n3"]):
        assert f"`{' '.join(path)}`" in text
        for param in command.params:
            if isinstance(param, click.Option):
                assert f"| `{param.opts[0]}`" in text.split(f"`{' '.join(path)}`\n", 1)[1], (path, param.opts)
    # a value-taking option shows its metavar, and a default when it has one
    assert "| `--time-limit` | `SECONDS` | `2.0` |" in text
    assert "| `--epochs` | `N` |  |" in text


def test_markdown_is_escaped_outside_code():
    gen = _generator()
    assert gen.escape("N3_IDENTITY_<FIELD> and `a_b <c>`") == r"N3\_IDENTITY\_\<FIELD\> and `a_b <c>`"
