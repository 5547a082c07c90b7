"""The site's .ai highlighter (n3lang/syntax/highlight.py) colours the grammar's keywords."""

from __future__ import annotations

from pathlib import Path

import pytest

pygments = pytest.importorskip("pygments", reason="the docs extra (pip install -e '.[docs]')")

from pygments.token import Comment, Keyword, Name, Number, String  # noqa: E402

from n3lang.syntax.highlight import N3Lexer  # noqa: E402
from n3lang.syntax.keywords import declaration_keywords, grammar_keywords  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def tokens(text: str) -> list[tuple[object, str]]:
    return [(t, v) for t, v in N3Lexer().get_tokens(text) if v.strip()]


def test_the_keywords_are_the_parsers():
    words = grammar_keywords()
    # the grammar's word terminals and the lexer's own tokens (map/filter/reduce before `with`)
    assert {"spec", "flow", "record", "let", "is", "return", "true", "null", "map", "filter", "reduce"} <= set(words)
    assert "count" not in words and "item" in words  # count is a plain name; `with item as` is grammar
    assert list(words) == sorted(set(words))


def test_the_keywords_are_the_grammars_word_terminals():
    """Read from lark's own load of grammar/n3.lark (as scripts/gen_textmate.py reads it), not
    from the cached parse tables: the two agree, so the site and the editor colour alike."""
    from lark.lexer import PatternStr
    from lark.load_grammar import load_grammar

    from n3lang.syntax.lexer import _EACH_WORDS

    path = ROOT / "grammar" / "n3.lark"
    grammar, _ = load_grammar(path.read_text(encoding="utf-8"), str(path), [], False)
    terminals, _, _ = grammar.compile(["start"], ())
    words = {t.pattern.value for t in terminals
             if isinstance(t.pattern, PatternStr) and t.pattern.value.replace("_", "").isalpha()}
    assert set(grammar_keywords()) == words | set(_EACH_WORDS)


@pytest.mark.parametrize("word", grammar_keywords())
def test_every_keyword_is_a_keyword_token(word):
    # mid-line (after a name) and at the start of a line, where declarations are told apart
    [(_, name), (kind, text)] = tokens(f"x {word}")
    assert (name, text) == ("x", word) and kind in Keyword
    [(kind, text)] = tokens(word)
    assert text == word and kind in Keyword


def test_declarations_constants_and_attributes():
    assert "flow" in declaration_keywords() and "page" in declaration_keywords()  # §10's words too
    assert tokens('flow "demo":')[0] == (Keyword.Declaration, "flow")
    assert tokens("page")[0] == (Keyword.Declaration, "page")
    assert tokens("  let x is true")[-1] == (Keyword.Constant, "true")
    # after a dot a keyword is a field name (input.title), not a keyword
    assert tokens("input.title")[-1] == (Name.Attribute, "title")
    assert tokens("let `title` is 1")[1] == (Name, "`title`")


def test_strings_comments_numbers():
    assert tokens("# a comment: flow is not a keyword here") == [(Comment.Single, "# a comment: flow is not a keyword here")]
    assert tokens("let x is 3.25 # after code")[-2:] == [(Number, "3.25"), (Comment.Single, "# after code")]
    doubles = tokens(r'let s is "say \"flow\"\n"')[3:]
    assert [t for t, _ in doubles] == [String.Double, String.Double, String.Escape, String.Double,
                                       String.Escape, String.Escape, String.Double]
    assert "".join(v for _, v in doubles) == r'"say \"flow\"\n"'
    assert tokens("let s is 'it''s'")[3:] == [(String.Single, "'"), (String.Single, "it"), (String.Single, "'"),
                                               (String.Single, "'"), (String.Single, "s"), (String.Single, "'")]
    triple = tokens('let t is """one\nreturn # not code"""')[3:]
    assert {t for t, _ in triple} == {String.Doc} and "".join(v for _, v in triple) == '"""one\nreturn # not code"""'


def test_registered_for_ai_fences():
    """pyproject.toml registers the lexer with Pygments under the names the site's fences use."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]
    assert entry["pygments.lexers"] == {"n3": "n3lang.syntax.highlight:N3Lexer"}
    assert {"n3", "ai"} <= set(N3Lexer.aliases) and N3Lexer.filenames == ["*.ai"]
