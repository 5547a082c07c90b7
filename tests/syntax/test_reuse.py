"""parse_source with reuse_declarations() (the language server) gives what it gives without:
the same AST, spans included, and the same diagnostics in the same order, for every file of
the corpus, cold and after edits (a keystroke in one declaration, a line added above others,
a syntax error typed and fixed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from n3lang.syntax import parser
from n3lang.syntax.dump import dump

REPO = Path(__file__).resolve().parents[2]


def corpus() -> list[Path]:
    """The test programs and examples, and every third conformance program (the LSP tests send
    every one of them through the server, which parses with reuse)."""
    files = sorted((REPO / "tests/data").rglob("*.ai")) + sorted(REPO.glob("examples/*/app.ai"))
    return files + sorted((REPO / "tests/conformance/programs").rglob("*.ai"))[::3]


def parsed(text: str, path: str) -> tuple[str, list]:
    program, diagnostics = parser.parse_source(text, path)
    shown = dump(program) if program is not None else ""
    return shown, [(d.code, d.severity, d.message, d.span, d.file, d.why) for d in diagnostics]


def both(text: str, path: str):
    """(without reuse, with reuse): the cache of earlier calls stays for the second."""
    saved = parser._reused
    parser._reused = None
    try:
        plain = parsed(text, path)
    finally:
        parser._reused = saved
    return plain, parsed(text, path)


@pytest.fixture
def reuse():
    parser.reuse_declarations(True)
    yield
    parser.reuse_declarations(False)


def edits(text: str) -> list[str]:
    """A few edits of the text: a letter typed in the middle, a line above, a broken line."""
    middle = len(text) // 2
    line_end = text.find("\n", middle)
    out = [text[:line_end] + "x" + text[line_end:]] if line_end > 0 else []
    out.append("# a comment above\n" + text)
    out.append(text + "\nflow \"tail\":\n  let a is (\n")
    out.append(text)  # and back: everything from the cache
    return out


def test_every_corpus_file_parses_the_same_with_reuse(reuse):
    files = corpus()
    assert len(files) > 450
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        plain, reused = both(text, str(path))
        assert reused == plain, path


def test_edits_parse_the_same_with_reuse(reuse):
    files = sorted((REPO / "tests/data/valid").glob("*.ai")) + sorted(REPO.glob("examples/*/app.ai"))
    files += sorted((REPO / "tests/data/syntax_errors").glob("*.ai"))[::4]
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        both(text, str(path))  # the cache holds the file's declarations
        for version in edits(text):
            plain, reused = both(version, str(path))
            assert reused == plain, (path, version)


def test_tokens_typed_per_declaration_are_those_of_the_whole_file():
    """shifted_tokens lexes each declaration on its own (and remembers it): the words of a file
    that parses are typed as the lexer types them over the whole file."""
    driver, builder, _ = parser.get_parser()
    files = sorted((REPO / "tests/data/valid").glob("*.ai")) + sorted(REPO.glob("examples/*/app.ai"))
    checked = 0
    for path in files:
        text = path.read_bytes().decode("utf-8").lstrip("\ufeff").replace("\r\n", "\n")
        if '"""' in text:
            continue
        with parser._lock:
            whole = parser._traced(driver, builder, text, 0, len(text), 1, whole=True)
        parts = parser.shifted_tokens(text)
        assert [(t.type, t.value, t.line, t.column) for t in parts] == \
               [(t.type, t.value, t.line, t.column) for t in whole], path
        checked += 1
    assert checked > 50
