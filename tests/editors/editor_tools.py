"""What the editor tests share: where the VS Code extension lives, the token corpus, and
whether its Node tools can run.

The token tests run editors/vscode/scripts/tokenize.js (vscode-textmate + vscode-oniguruma,
the engine VS Code uses) once per test session over every file they need. Without Node or
without `npm ci --prefix editors/vscode` they skip and say which is missing; .ci/run installs
both.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"
GOLDEN = Path(__file__).resolve().parent / "golden"

#: The files whose tokens are kept as golden files: name -> path from the repository root.
CORPUS = {
    "example_commands": "examples/commands/app.ai",
    "example_digits": "examples/digits/app.ai",
    "example_emailtriage": "examples/emailtriage/app.ai",
    "example_supportbot": "examples/supportbot/app.ai",
    "valid_005_record_fields": "tests/data/valid/005_record_fields.ai",
    "valid_009_define_function": "tests/data/valid/009_define_function.ai",
    "valid_012_repeat": "tests/data/valid/012_repeat.ai",
    "valid_014_match": "tests/data/valid/014_match.ai",
    "valid_015_try_catch": "tests/data/valid/015_try_catch.ai",
    "valid_022_literals": "tests/data/valid/022_literals.ai",
    "valid_059_comment_edge_cases": "tests/data/valid/059_comment_edge_cases.ai",
    "valid_064_escaped_keywords": "tests/data/valid/064_escaped_keywords.ai",
    "valid_071_app_surface": "tests/data/valid/071_app_surface.ai",
    "valid_tools": "tests/data/valid/tools.ai",
    "conformance_s1_bad_escape": "tests/conformance/programs/s1_bad_escape.ai",
}


def grammar_keywords() -> list[str]:
    """Every keyword of the language (n3lang.syntax.keywords: the parser's own word terminals
    from its LALR tables, and the words its lexer makes tokens of)."""
    from n3lang.syntax.keywords import grammar_keywords as keywords

    return list(keywords())


def node_missing() -> str | None:
    """Why the Node tools cannot run here, or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed (.ci/run installs it)"
    for package in ("vscode-textmate", "vscode-oniguruma"):
        if not (VSCODE / "node_modules" / package / "package.json").is_file():
            return f"editors/vscode/node_modules has no {package}: run npm ci --prefix editors/vscode"
    return None
