"""The TextMate grammar as VS Code runs it (vscode-textmate + oniguruma, through
editors/vscode/scripts/tokenize.js): golden token listings of the example apps and a few test
programs, and the scope every keyword gets. Regenerate the listings after an intended change
with ``N3_UPDATE_GOLDEN=1 pytest tests/editors`` and review the diff."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from editor_tools import CORPUS, GOLDEN, grammar_keywords  # noqa: E402

#: The scopes a keyword may get (scripts/gen_textmate.py KEYWORD_SCOPES).
KEYWORD_SCOPE = re.compile(r"^(keyword\.|storage\.type\.n3$|constant\.language\.n3$)")


def _tokens_of(listing: str) -> dict[int, list[tuple[str, list[str]]]]:
    """line number -> [(text, scopes)] from a listing of tokenize.js."""
    out: dict[int, list[tuple[str, list[str]]]] = {}
    line = 0
    for row in listing.splitlines():
        if not row.startswith("  "):
            line = int(row.split(":", 1)[0])
            out[line] = []
            continue
        found = re.match(r'  \d+-\d+ ("(?:[^"\\]|\\.)*")(?: (.*))?$', row)
        assert found, row
        text = json.loads(found.group(1))
        out[line].append((text, (found.group(2) or "").split()))
    return out


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_golden_tokens(tokens, name: str) -> None:
    golden = GOLDEN / f"{name}.tokens"
    if os.environ.get("N3_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(tokens[name], encoding="utf-8")
    assert tokens[name] == golden.read_text(encoding="utf-8"), (
        f"{CORPUS[name]} tokenizes differently from {golden.name}; rerun with N3_UPDATE_GOLDEN=1 if intended"
    )


def test_every_keyword_is_one_keyword_token(tokens) -> None:
    listing = _tokens_of(tokens["keywords"])
    words = grammar_keywords()
    assert len(listing) == len(words)
    for number, word in enumerate(words, start=1):
        assert len(listing[number]) == 1, (word, listing[number])
        text, scopes = listing[number][0]
        assert text == word
        assert len(scopes) == 1 and KEYWORD_SCOPE.match(scopes[0]), (word, scopes)


def _scopes(tokens, name: str, line: int, text: str) -> list[str]:
    found = [scopes for t, scopes in _tokens_of(tokens[name])[line] if t == text]
    assert found, (name, line, text)
    return found[0]


def test_what_a_reader_sees(tokens) -> None:
    # a declared name, a control word, a constant, a word operator
    assert _scopes(tokens, "example_supportbot", 21, '"answer"') == ["entity.name.function.flow.n3"]
    assert _scopes(tokens, "valid_014_match", 5, "match") == ["keyword.control.n3"]
    assert _scopes(tokens, "valid_022_literals", 11, "true") == ["constant.language.n3"]
    assert _scopes(tokens, "valid_005_record_fields", 5, "least") == ["keyword.operator.word.n3"]
    # `#` inside a string is text; an escaped keyword is a name; `\q` is not an escape
    assert _scopes(tokens, "valid_059_comment_edge_cases", 5, "a # inside a string is not a comment") == [
        "string.quoted.double.n3"
    ]
    assert _scopes(tokens, "valid_064_escaped_keywords", 4, "`if`") == ["variable.other.escaped.n3"]
    assert _scopes(tokens, "conformance_s1_bad_escape", 4, "\\q") == [
        "string.quoted.double.n3", "invalid.illegal.unknown-escape.n3"
    ]
    # a triple-quoted string spans lines
    assert _scopes(tokens, "valid_022_literals", 16, 'second line with "quotes"') == ["string.quoted.triple.n3"]
