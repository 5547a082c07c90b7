"""The VS Code extension in editors/vscode/: its manifest fits together (language, grammar,
settings, entry point), the language configuration indents and comments as documented, the
client loads, and `vsce package` builds a .vsix holding what VS Code needs and no dev tools."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from editor_tools import VSCODE  # noqa: E402

MANIFEST = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
CONFIG = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))


def test_language_n3_for_ai_files() -> None:
    (language,) = MANIFEST["contributes"]["languages"]
    assert language["id"] == "n3" and language["extensions"] == [".ai"]
    assert (VSCODE / language["configuration"]).is_file()
    assert MANIFEST["activationEvents"] == ["onLanguage:n3"]


def test_grammar_contribution_points_at_the_generated_grammar() -> None:
    (grammar,) = MANIFEST["contributes"]["grammars"]
    assert grammar["language"] == "n3"
    path = VSCODE / grammar["path"]
    assert json.loads(path.read_text(encoding="utf-8"))["scopeName"] == grammar["scopeName"] == "source.n3"


def test_server_settings_default_to_n3_lsp() -> None:
    settings = MANIFEST["contributes"]["configuration"]["properties"]
    assert settings["n3.server.path"]["default"] == "n3"
    assert settings["n3.server.args"]["default"] == ["lsp"]
    client = (VSCODE / MANIFEST["main"]).read_text(encoding="utf-8")
    # the client reads both settings, with the same defaults, and starts the server over stdio
    assert "getConfiguration('n3.server')" in client
    assert "config.get('path', 'n3')" in client and "config.get('args', ['lsp'])" in client
    assert "TransportKind.stdio" in client
    command = MANIFEST["contributes"]["commands"][0]["command"]
    assert f"registerCommand('{command}'" in client


def test_the_client_library_is_a_runtime_dependency() -> None:
    assert MANIFEST["dependencies"]["vscode-languageclient"].startswith("^9.")
    assert set(MANIFEST["devDependencies"]) == {"@vscode/vsce", "vscode-oniguruma", "vscode-textmate"}
    lock = json.loads((VSCODE / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"][""]["dependencies"] == MANIFEST["dependencies"]
    assert lock["packages"][""]["devDependencies"] == MANIFEST["devDependencies"]


INDENT_AFTER = [
    ('flow "answer":', True),
    ('  if total is at least 3:   # a comment', True),
    ("record 'User' version \"2\":", True),
    ("  with:", True),
    ("  return map:", True),
    ('  let x is "a:"', False),
    ("  # note: no block", False),
    ("  let y is 1 # ratio: 2", False),
    ("spec is \"1.0\"", False),
]


@pytest.mark.parametrize("line, indents", INDENT_AFTER)
def test_enter_after_a_block_header_indents(line: str, indents: bool) -> None:
    increase = re.compile(CONFIG["indentationRules"]["increaseIndentPattern"])
    (rule,) = CONFIG["onEnterRules"]
    assert bool(increase.search(line)) is indents
    assert bool(re.search(rule["beforeText"], line)) is indents
    assert rule["action"] == {"indent": "indent"}


@pytest.mark.parametrize(
    "line, dedents",
    [("  else:", True), ("      otherwise:", True), ("  with catch err:", True), ("  with:", False),
     ("  elsewhere is 1", False), ("  return otherwise", False)],
)
def test_closing_words_dedent(line: str, dedents: bool) -> None:
    assert bool(re.search(CONFIG["indentationRules"]["decreaseIndentPattern"], line)) is dedents


def test_comments_pairs_and_folding() -> None:
    assert CONFIG["comments"] == {"lineComment": "#"}
    assert CONFIG["folding"] == {"offSide": True}
    closing = {pair["open"]: pair["close"] for pair in CONFIG["autoClosingPairs"]}
    assert closing == {"[": "]", "(": ")", "{": "}", '"': '"', "'": "'", "`": "`"}
    assert re.fullmatch(CONFIG["wordPattern"], "`title`") and re.fullmatch(CONFIG["wordPattern"], "tenant_key")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (.ci/run installs it)")
    return node


def test_client_and_tokenizer_are_valid_javascript() -> None:
    node = _node()
    for script in (VSCODE / "extension.js", VSCODE / "scripts" / "tokenize.js"):
        run = subprocess.run([node, "--check", str(script)], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr


def test_vsce_packages_the_extension(tmp_path: Path) -> None:
    node = _node()
    vsce = VSCODE / "node_modules" / "@vscode" / "vsce" / "vsce"
    if not vsce.is_file():
        pytest.skip("editors/vscode/node_modules has no @vscode/vsce: run npm ci --prefix editors/vscode")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.skip(f"@vscode/vsce 3 needs Node.js 20 or later; this is {version}")
    out = tmp_path / "n3lang.vsix"
    run = subprocess.run(
        [node, str(vsce), "package", "--skip-license", "--allow-missing-repository", "--out", str(out)],
        cwd=VSCODE, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    with zipfile.ZipFile(out) as vsix:
        names = set(vsix.namelist())
        packaged = json.loads(vsix.read("extension/package.json"))
        grammar = vsix.read("extension/syntaxes/n3.tmLanguage.json")
    assert packaged["name"] == "n3lang" and packaged["contributes"] == MANIFEST["contributes"]
    assert grammar == (VSCODE / "syntaxes" / "n3.tmLanguage.json").read_bytes()
    assert {"extension/extension.js", "extension/language-configuration.json", "extension/readme.md"} <= names
    assert "extension/node_modules/vscode-languageclient/node.js" in names
    # the dev tools and the tokenizer script stay out
    for absent in ("extension/scripts/", "extension/.vscode/", "extension/node_modules/@vscode/", "extension/node_modules/vscode-textmate/",
                   "extension/node_modules/vscode-oniguruma/", "extension/package-lock.json"):
        assert not any(name.startswith(absent) for name in names), absent
