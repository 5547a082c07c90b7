"""Syntax error messages phrased in words.

Lark reports an unexpected token with the set of terminal names the parser could accept.
``describe_unexpected`` turns that, plus the tokens just before it, into a sentence such as
``Expected ':' after the flow header`` or ``Expected an expression after 'is'``; raw names
like ``_NL`` never reach the user. ``hint_for`` gives the fix and example of the commonest.
"""

from __future__ import annotations

import difflib

from n3lang.ast import Span
from n3lang.syntax.words import KEYWORD_OF_WORD, KEYWORDS, PUNCTUATION

# Terminals that only continue an expression (operators and postfix forms), and words that
# may follow a complete expression or type; neither is worth listing in a message when the
# line could also have ended.
_OPERATORS = frozenset("PLUS MINUS STAR SLASH PERCENT POW LSQB DOT LPAR VBAR LESSTHAN".split())
_CONTINUATIONS = _OPERATORS | frozenset("IS AND OR CONSTANT MUST".split())
_END = frozenset(("_NL", "$END", "_DEDENT"))

# What a header line is called, by its first keyword.
_HEADER = {
    "FLOW": "the flow header",
    "RECORD": "the record header",
    "IDENTITY": "the identity header",
    "FIELDS": "'fields'",
    "DEFINE": "the function header",
    "INPUT": "'input'",
    "OUTPUT": "'output'",
    "AI": "the ai header",
    "MODEL": "the model header",
    "CAPABILITIES": "'capabilities'",
    "IF": "the if condition",
    "ELSE": "'else'",
    "REPEAT": "the repeat header",
    "FOR": "the for each header",
    "MATCH": "the match subject",
    "WITH": "'with'",
    "WHEN": "the when value",
    "OTHERWISE": "'otherwise'",
    "TRY": "'try'",
    "UPDATE": "the update header",
}
_QUOTED_NAME = {
    "FLOW": "flow",
    "RECORD": "record",
    "FUNCTION": "function",
    "AI": "ai",
    "MODEL": "model",
    "CREATE": "record",
    "FIND": "record",
    "UPDATE": "record",
    "DELETE": "record",
    "SAVE": "record",
    "PREDICT": "model",
}


def word_for(terminal: str) -> str:
    """A terminal name as words: ``COLON`` -> ``':'``, ``_NL`` -> ``the end of the line``."""
    if terminal in KEYWORDS:
        return f"'{KEYWORDS[terminal]}'"
    if terminal in PUNCTUATION:
        return f"'{PUNCTUATION[terminal]}'"
    return {
        "NAME": "a name",
        "BQ_NAME": "a name",
        "NUMBER": "a number",
        "STRING": "a string",
        "_NL": "the end of the line",
        "_INDENT": "an indented block",
        "_DEDENT": "the end of the block",
        "$END": "the end of the file",
    }.get(terminal, "something else")


def describe_token(token) -> str:
    """How the user sees a token in a message."""
    kind = token.type
    if kind in _END:
        return "the end of the line" if kind != "$END" else "the end of the file"
    if kind == "_INDENT":
        return "an indented block"
    text = str(token)
    if kind == "STRING":
        return text if len(text) <= 24 and "\n" not in text else "a string"
    if len(text) > 24:
        text = text[:21] + "..."
    return f"'{text}'"


def _join(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


# Order in which expected items are listed (most helpful first).
_ORDER = {"COLON": 0, "_NL": 90, "_INDENT": 1, "$END": 95, "_DEDENT": 91}


_TOP_LEVEL = "a declaration (spec, capabilities, record, flow, define function, ai or model)"


def describe_unexpected(token, expected: set[str], prev, line_first, prev_line_first) -> tuple[str, Span]:
    """The message and span for a token the parser cannot accept.

    ``expected`` holds the terminals that could have come instead; ``prev`` is the
    significant token before ``token`` (None at the start of the file); ``line_first`` is the
    first token of the line ``token`` is on (None right after a line break) and
    ``prev_line_first`` that of the line before.
    """
    kind = token.type
    at_end = kind in _END
    if prev is not None and at_end:
        span = Span(prev.end_line, prev.end_column, prev.end_line, prev.end_column + 1)
    else:
        span = _token_span(token)
    prev_word = describe_token(prev) if prev is not None else "the start of the file"
    found = "" if at_end else f", found {describe_token(token)}"
    header_tok = line_first or prev_line_first
    if header_tok is token:
        header_tok = prev_line_first
    header = _HEADER.get(header_tok.type) if header_tok is not None else None

    # A keyword where a name was expected (the lexer read it as a name, e.g. `let is 3`).
    if (
        prev is not None
        and prev.type == "NAME"
        and KEYWORD_OF_WORD.get(prev.value) in expected
    ):
        return f"Expected a name before '{prev.value}'", _token_span(prev)
    if prev is not None and prev.type == "CALL" and "FUNCTION" in expected \
            and token.value != "pipeline":  # `call pipeline` is namel3ss's, not old syntax
        # §9 namel3ss's words for `call tool "x"` and other calls that are not function/flow
        return "Old tool syntax is no longer supported.", _token_span(prev)
    if kind == "NAME" and "REQUIRE" in expected and "INPUT" in expected:
        # a word where a declarative flow's step belongs (namel3ss's flow_steps.py words)
        steps = ("input", "require", "create", "update", "delete", "call foreign")
        close = difflib.get_close_matches(token.value, steps, n=1, cutoff=0.6)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return f"Unknown flow step '{token.value}'.{hint}", span
    if token.value == "." and line_first is token:  # namel3ss's words for a line's first '.'
        return "Unexpected token 'DOT' in statement", span
    if "BRANCH" in expected:  # inside `orchestration:` (namel3ss's words)
        return "Expected 'branch' in orchestration block", span
    statement = _statement_message(kind, expected, prev, header_tok, at_end)
    if statement is not None:
        return statement, span
    if kind == "IS" and ("AND" in expected or "_NL" in expected):
        return (
            "Only one comparison is allowed in an expression; join comparisons with 'and' or 'or'",
            span,
        )
    if header_tok is not None and header_tok.type == "CAPABILITIES" and "LSQB" in expected:
        return (
            "Expected '[' or the end of the line after 'capabilities:' "
            "(write `capabilities: [training, http]` or one token per indented line)",
            span,
        )
    if at_end and "COLON" in expected and "NUMBER" not in expected:
        return f"Expected ':' after {header or prev_word}", span
    if expected and expected <= {"_INDENT"}:
        if prev is not None and prev.type == "STRING" and header_tok is not None \
                and header_tok.type in ("CREATE", "UPDATE", "DELETE"):
            # a declarative flow's step without its block (namel3ss's flow_steps.py words)
            return f"Expected indented {header_tok.value.lower()} block", span
        return f"Expected an indented block after {header or prev_word}", span
    if kind in ("LESSTHAN", "MORETHAN") and kind not in expected:
        word = "less" if kind == "LESSTHAN" else "greater"
        return (
            f"Comparisons are written in English: use 'is {word} than' instead of "
            f"'{token.value}'",
            span,
        )
    if expected == {"INPUT"} and header_tok is not None and header_tok.type == "DEFINE":
        if line_first is token:  # the body's first line is not `input:` (namel3ss's words)
            return "Function input block is required", _token_span(header_tok)
        return f"Expected the 'input:' block first in the function{found}", span
    if (expected == {"INPUT"} and prev is not None and prev.type == "COLON"
            and line_first in (None, token)):  # the first line of a `call flow` block
        return "Expected flow input block", span  # namel3ss's words
    if expected == {"WITH"}:
        return f"Expected 'with catch <name>:' after the 'try:' block{found}", span
    if "FLOW" in expected and "RECORD" in expected:
        return "Unexpected top-level token", span  # namel3ss's words; the fix lists the kinds
    if "NUMBER" in expected and kind == "LSQB":
        return "Unexpected expression", span  # namel3ss's words: there is no `[1, 2]` literal
    if "NUMBER" in expected:
        hint = " (lists are written `list: 1, 2`)" if kind == "LSQB" else ""
        return f"Expected an expression after {prev_word}{found}{hint}", span
    if "NULL" in expected and "LIST" in expected:
        return (
            f"Expected a type (text, number, boolean, json, list, map or a record name) "
            f"after {prev_word}{found}",
            span,
        )
    if "NAME" in expected or "BQ_NAME" in expected:
        return f"Expected a name after {prev_word}{found}", span
    if expected == {"STRING"}:
        if prev is not None and prev.type == "IS" and header_tok is not None and header_tok.type == "SPEC":
            return "Expected the version in quotes after 'spec is', like \"1.0\"", span
        what = _QUOTED_NAME.get(prev.type) if prev is not None else None
        thing = f"the {what} name in quotes" if what else "a string"
        return f"Expected {thing} after {prev_word}{found}", span
    if kind == "ELSE":
        return "Found 'else' without an 'if' block just above it at the same indentation", span
    drop = _CONTINUATIONS if "_NL" in expected else _OPERATORS
    structural = [t for t in expected if t not in drop] or sorted(expected)
    words = list(
        dict.fromkeys(
            word_for(t) for t in sorted(structural, key=lambda t: (_ORDER.get(t, 50), t))
        )
    )
    if 1 <= len(words) <= 8 and not (at_end and words == ["the end of the line"]):
        return f"Expected {_join(words)} after {prev_word}{found}", span
    return f"Unexpected {describe_token(token)} after {prev_word}", span


# ---- §5 statements (added): namel3ss's messages for its statement forms, chosen by the
# token before the error, the keyword that starts the line, and what could have come.
_BLOCK_AFTER = {
    "LET": "Expected an indented block after 'let:'.",
    "CALC": "Expected an indented block after 'calc:'.",
}


def _statement_message(kind, expected, prev, header_tok, at_end) -> str | None:
    head = header_tok.type if header_tok is not None else None
    before = prev.type if prev is not None else None
    if before == "ELSE" and kind != "COLON":
        return "Expected ':' after else"
    if head == "CREATE" and "WITH" in expected:
        return "Create statement is missing 'with'."
    if expected == {"WITH"}:
        return "Expected 'with' inside match" if head == "MATCH" else "Expected 'with' introducing catch"
    if expected == {"CATCH"}:
        return "Expected 'catch' after 'with'"
    if "WHEN" in expected and "OTHERWISE" in expected and kind not in expected:
        return "Expected 'when' or 'otherwise' in match"
    # `let:` / `calc:` (the colon right after the word).
    header_colon = (
        before == "COLON" and head in _BLOCK_AFTER and prev.column == header_tok.end_column
    )
    if expected and expected <= {"_INDENT"} and header_colon and head is not None:
        return _BLOCK_AFTER[head]
    if header_colon and not at_end and "_NL" in expected:
        return f"Expected newline after {header_tok.value}:"
    if at_end and (before == "RETURN" or (before == "IS" and head in ("LET", "SET"))):
        return "Unexpected expression"
    if kind in expected:
        return None
    if head == "REPEAT":
        if before == "LIMIT":
            return "Expected loop limit number"
        if before == "NUMBER" and expected == {"COLON"}:
            return "Expected ':' after loop limit"
        if "TIMES" in expected:
            return "Expected 'times' after repeat count"
        if "LIMIT" in expected:
            return "Expected 'limit'"
    if head == "FOR" and "IN" in expected:
        return "Expected 'in' in for-each loop"
    if "COLON" in expected and head == "IF" and before != "ELSE":
        return "Expected ':' after condition"
    if "COLON" in expected and head == "WHEN":
        return "Expected ':' after when pattern"
    if "IS" in expected and "PLUS" not in expected and head == "LET":
        return "Expected 'is' in declaration"
    if "IS" in expected and "WITH" in expected and "PLUS" not in expected and head == "SET":
        return "Expected 'is' in assignment"
    if "EQUALS" in expected:
        return "Expected '=' in calc assignment"
    if before == "EQUALS" and at_end:
        return "Calc assignment is missing the right-hand expression."
    if "ITEMS" in expected:
        return "Expected 'items'."
    if "BY" in expected:
        return "Expected 'by'."
    if "FROM" in expected:
        return "Expected 'from'."
    if head == "LOG" and at_end and "NUMBER" in expected:
        return "Log statement is missing a message."
    if "SET" in expected and head == "UPDATE":
        return "Update statement is missing 'set'."
    if head == "CREATE" and "WITH" in expected:
        return "Create statement is missing 'with'."
    if head == "CREATE" and "AS" in expected:
        return "Create statement is missing 'as'."
    return None


def _token_span(token) -> Span:
    line = getattr(token, "line", None) or 1
    column = getattr(token, "column", None) or 1
    end_line = getattr(token, "end_line", None) or line
    end_column = getattr(token, "end_column", None) or column + 1
    if end_line == line and end_column <= column:
        end_column = column + 1
    return Span(line, column, end_line, end_column)


def char_repr(ch: str) -> str:
    """A character as shown in ``Unsupported character '...'``: ``\\t``, ``^``, ``\\x00``."""
    if ch.isprintable() and ch not in "\\'":
        return ch
    return repr(ch)[1:-1] if ch != "'" else "\\'"


# Fix and example texts for the commonest syntax errors, by the start of their message (the
# registered texts of `syntax-error` stay the default for the rest).
_HINTS = (
    (
        "Expected ':' after",
        "End the header line with ':' and indent its body below it.",
        'flow "greet":\n  return "hello"',
    ),
    (
        "Expected an indented block",
        "Indent the lines of the block (with spaces) under the line ending in ':'.",
        'if total is greater than 10:\n  return "big"',
    ),
    (
        "Expected an expression",
        "Write a value there: a number, a string, a name, a `list:` or `map:`, or an "
        "expression built from them.",
        "let total is price * quantity\nlet names is list: \"a\", \"b\"",
    ),
    (
        "Only one comparison",
        "Compare once per expression, and join several comparisons with 'and' or 'or'.",
        "let ok is age is at least 18 and age is at most 65",
    ),
    (
        "There is no 'else if'",
        "Nest the second test inside the 'else:' block.",
        "if n is 1:\n  return \"one\"\nelse:\n  if n is 2:\n    return \"two\"",
    ),
    (
        "Expected a name",
        "Write a name (letters, digits and _, not starting with a digit); escape a reserved "
        "word with backticks.",
        "let total is 0\nlet `title` is \"x\"",
    ),
    (
        "Unexpected top-level token",
        f"At the top level write only {_TOP_LEVEL.replace('a declaration', 'declarations')}; "
        "statements belong inside a flow.",
        'spec is "1.0"\n\nflow "demo":\n  let x is 1\n  return x',
    ),
    (
        "Comparisons are written in English",
        "Use the English comparison words.",
        "if count is less than 3:\n  return \"few\"",
    ),
)


def hint_for(message: str) -> tuple[str, str] | None:
    """(fix, example) for a syntax-error message, when a specific one is known."""
    for prefix, fix, example in _HINTS:
        if message.startswith(prefix):
            return fix, example
    return None
