"""The keywords of the language, from the grammar: one list for every highlighter.

``grammar_keywords()`` is what the parser itself treats as keywords: the grammar's word
terminals (``SPEC: "spec"``, taken from the parse tables, so lark is not imported when they are
cached) plus the words the lexer makes tokens of itself (``map``/``filter``/``reduce`` before
``with``). The site's Pygments lexer (syntax/highlight.py) and the editor's TextMate grammar
(scripts/gen_textmate.py) colour exactly these words; nothing is listed by hand.
"""

from __future__ import annotations


def grammar_keywords() -> tuple[str, ...]:
    """Every keyword of grammar/n3.lark, and the lexer's own keyword tokens, sorted."""
    from n3lang.syntax.lexer import _EACH_WORDS
    from n3lang.syntax.parser import get_parser

    _, _, tables = get_parser()
    return tuple(sorted(set(tables["keywords"]) | set(_EACH_WORDS)))


def declaration_keywords() -> tuple[str, ...]:
    """The words that open a top-level declaration at column 1 (``flow``, ``record``, the app
    surface's ``page``...): what error recovery restarts at, from the same tables."""
    from n3lang.syntax.parser import get_parser
    from n3lang.syntax.words import SURFACE_WORDS

    _, _, tables = get_parser()
    row = tables["states"][tables["start"]]
    words = {word for word, name in tables["keywords"].items() if name in row}
    if "SURFACE" in row:  # §10: the app-surface words start a declaration too
        words |= SURFACE_WORDS
    return tuple(sorted(words))
