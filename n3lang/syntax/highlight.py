"""A Pygments lexer for .ai files, for the documentation site (```ai fences).

Registered in pyproject.toml under the ``pygments.lexers`` entry points (aliases ``n3`` and
``ai``), so pymdownx.highlight finds it by name. The keywords are ``grammar_keywords()``, the
list the parser and the editor grammar use; pygments is imported only here, and nothing in
n3lang imports this module.

Like any regex highlighter it does not know the parser's context: a keyword used as a name
(``let value is 3``) is still shown as a keyword, except after a ``.`` (``input.title``).
"""

from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

from n3lang.syntax.keywords import declaration_keywords, grammar_keywords

KEYWORDS = frozenset(grammar_keywords())
#: The literal words (LANGUAGE.md §6), shown as constants; they are grammar keywords too.
CONSTANTS = frozenset(("true", "false", "null")) & KEYWORDS
#: Words that open a declaration at column 1 (``flow "x":``).
DECLARATIONS = declaration_keywords()

_ESCAPES = (r"""\\[nt\\"']""", String.Escape)


def _word(lexer, match):
    """A word: a constant, a keyword or a name."""
    word = match.group()
    if word in CONSTANTS:
        token = Keyword.Constant
    elif word in KEYWORDS:
        token = Keyword
    else:
        token = Name
    yield match.start(), token, word


class N3Lexer(RegexLexer):
    """The .ai language of n3lang (namel3ss's language)."""

    name = "n3"
    aliases = ["n3", "ai"]
    filenames = ["*.ai"]
    mimetypes = ["text/x-n3"]
    url = "https://github.com/namel3ss-Ai/namel3ss"
    flags = re.MULTILINE | re.UNICODE

    tokens = {
        "root": [
            (r"\n", Whitespace),
            (r"[ \t]+", Whitespace),
            (r"#.*$", Comment.Single),
            (r'"""', String.Doc, "triple"),
            (r'"', String.Double, "double"),
            (r"'", String.Single, "single"),
            (r"`[^`\n]*`", Name),
            (r"\b[0-9]+(?:\.[0-9]+)?\b", Number),
            (r"^(%s)\b" % "|".join(re.escape(w) for w in sorted(DECLARATIONS, key=lambda w: (-len(w), w))),
             Keyword.Declaration),
            (r"(\.)([^\W\d]\w*)", bygroups(Punctuation, Name.Attribute)),
            (r"[^\W\d]\w*", _word),
            (r"\*\*|[-+*/%=<>|!]", Operator),
            (r"[:.,()\[\]{}]", Punctuation),
            (r".", Text),
        ],
        "triple": [_ESCAPES, (r'"""', String.Doc, "#pop"), (r'[^"\\]+|"|\\', String.Doc)],
        "double": [_ESCAPES, (r'"', String.Double, "#pop"), (r"\n", Whitespace, "#pop"),
                   (r'[^"\\\n]+|\\', String.Double)],
        "single": [_ESCAPES, (r"'", String.Single, "#pop"), (r"\n", Whitespace, "#pop"),
                   (r"[^'\\\n]+|\\", String.Single)],
    }
