"""The Helix and Neovim settings in editors/ and the README's copies of them start `n3 lsp` for
`*.ai` files."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from editor_tools import ROOT  # noqa: E402

HELIX = ROOT / "editors" / "helix" / "languages.toml"
NEOVIM = ROOT / "editors" / "neovim" / "n3.lua"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_helix_languages_toml() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11 and later")
    settings = tomllib.loads(HELIX.read_text(encoding="utf-8"))
    assert settings["language-server"]["n3"] == {"command": "n3", "args": ["lsp"]}
    (language,) = settings["language"]
    assert language["file-types"] == ["ai"] and language["language-servers"] == ["n3"]
    assert language["scope"] == "source.n3" and language["comment-token"] == "#"


def test_readme_shows_the_helix_file() -> None:
    body = "\n".join(line for line in HELIX.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    blocks = re.findall(r"```toml\n(.*?)```", README, re.S)
    assert body.strip() + "\n" in blocks


def test_neovim_settings_start_n3_lsp_for_ai_files() -> None:
    lua = NEOVIM.read_text(encoding="utf-8")
    assert "vim.filetype.add({ extension = { ai = 'n3' } })" in lua
    assert lua.count("cmd = { 'n3', 'lsp' }") == 2  # the vim.lsp.config form and the lspconfig one
    assert "root_markers = { 'app.ai', '.git' }" in lua and "root_pattern('app.ai', '.git')" in lua
    assert "vim.lsp.config('n3', { cmd = { 'n3', 'lsp' }, filetypes = { 'n3' }" in README
