"""The session fixture of the editor tests: one run of the Node tokenizer for every file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from editor_tools import CORPUS, ROOT, VSCODE, grammar_keywords, node_missing  # noqa: E402


@pytest.fixture(scope="session")
def tokens(tmp_path_factory) -> dict[str, str]:
    """Token listings by the real engine: CORPUS name -> listing, plus "keywords" (one keyword
    per line, indented so that no line reads as a column-1 declaration)."""
    reason = node_missing()
    if reason:
        pytest.skip(reason)
    keywords = tmp_path_factory.mktemp("tokens") / "keywords.ai"
    keywords.write_text("".join(f"  {word}\n" for word in grammar_keywords()), encoding="utf-8")
    files = {name: str(ROOT / path) for name, path in CORPUS.items()}
    files["keywords"] = str(keywords)
    run = subprocess.run(
        ["node", str(VSCODE / "scripts" / "tokenize.js"), "--json", *files.values()],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    listings = json.loads(run.stdout)
    return {name: listings[path] for name, path in files.items()}
