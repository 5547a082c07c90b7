"""Syntax diagnostics: the codes the front end registers (the family's home, n3lang/codes.py).

The words of the language are in words.py and the messages in messages.py; the names most
used with the codes are re-exported here.
"""

from __future__ import annotations

from n3lang.diagnostics import register
from n3lang.syntax.messages import char_repr, describe_unexpected, hint_for
from n3lang.syntax.words import (
    KEYWORDS,
    PUNCTUATION,
    RESERVED_WORDS,
    VALUE_WORDS,
    set_vocabulary,
)

__all__ = [
    "ESCAPED_IDENTIFIER", "INCONSISTENT_INDENTATION", "KEYWORDS", "LEGACY_FIELD",
    "NESTING_TOO_DEEP", "PARSER_INTERNAL", "PUNCTUATION", "RESERVED_WORD", "RESERVED_WORDS",
    "SYNTAX_ERROR", "UNKNOWN_BUILTIN", "UNREADABLE_FILE", "UNSUPPORTED_CHARACTER",
    "UNSUPPORTED_ESCAPE", "UNTERMINATED_STRING", "VALUE_WORDS", "char_repr",
    "describe_unexpected", "hint_for", "set_vocabulary",
]

SYNTAX_ERROR = register(
    "syntax-error",
    why="The parser met a word or symbol where the grammar of .ai does not allow it, so it "
    "cannot tell what the line means.",
    fix="Compare the line with the expected form named in the message; every block header "
    "ends with ':' and its body is indented below it.",
    example='flow "hello":\n  let greeting is "hi"\n  return greeting',
)
UNSUPPORTED_CHARACTER = register(
    "unsupported-character",
    why="The character is not part of the .ai language (tabs are not allowed either: "
    "indentation is spaces only).",
    fix="Remove the character, or put it inside a quoted string. Indent with spaces. "
    "Use 'is' instead of '=' and English comparisons instead of '<' or '>'.",
    example='let note is "50% off; today only"\nif price is at least 10:\n  return "big"',
)
UNSUPPORTED_ESCAPE = register(
    "unsupported-escape",
    why="Inside a string only the escapes \\n \\t \\\\ \\\" and \\' have a meaning.",
    fix="Use one of the supported escapes, or write a backslash as \\\\.",
    example='let path is "C:\\\\data\\\\file.txt"\nlet lines is "one\\ntwo"',
)
UNTERMINATED_STRING = register(
    "unterminated-string",
    why='A "..." or \'...\' string must close on the line where it opens; only a """...""" '
    "string may span lines.",
    fix="Add the closing quote, or use triple quotes for text over several lines.",
    example='let title is "Welcome"\nlet body is """first line\nsecond line"""',
)
INCONSISTENT_INDENTATION = register(
    "inconsistent-indentation",
    why="Blocks are made by indentation: a line may go deeper only after a header ending in "
    "':', and a line that goes back must line up exactly with an enclosing block.",
    fix="Indent the line with spaces to the same column as the other lines of its block.",
    example='flow "demo":\n  if input.ok is true:\n    return "yes"\n  return "no"',
)
RESERVED_WORD = register(
    "reserved-word",
    why="Reserved words are part of the language's grammar, so they cannot name variables or "
    "flows (`n3 reserved` lists all 108).",
    fix="Choose another name, or escape the word with backticks to use it as a name.",
    example='let `title` is "x"\nlet page_title is "x"',
)
LEGACY_FIELD = register(
    "legacy-field",
    why="`field \"name\" is type` is the older spelling of a record field; it still works.",
    fix="Write the field as `name type` (or `name is type`); quote a name with spaces in a "
    "`fields:` block.",
    example='record "User":\n  email text must be present\n  fields:\n    "display name" is text',
    severity="warning",
)
ESCAPED_IDENTIFIER = register(
    "escaped-identifier",
    why="Backticks make any word a name, reserved words included; what is inside them must "
    "still be a name: letters, digits and underscores, not starting with a digit.",
    fix="Use letters, numbers, or underscores inside the backticks, and close them on the "
    "same line.",
    example='let `title` is "Dune"',
)
UNKNOWN_BUILTIN = register(
    "unknown-builtin",
    why="Only the built-in operations sum, min, max, mean and median are written as "
    "name(xs); there are no user function calls with parentheses.",
    fix='Use one of the built-ins, or call a declared function with `call function "name":`.',
    example='let total is sum(prices)\nlet r is call function "add":\n  a is 1\n  b is 2',
)
NESTING_TOO_DEEP = register(
    "nesting-too-deep",
    why="The program nests expressions or blocks more deeply than the language supports.",
    fix="Split the expression into several `let` steps, or move nested blocks into a "
    "function.",
    example="let a is x + y\nlet b is a * 2",
)
UNREADABLE_FILE = register(
    "unreadable-file",
    why="The file could not be read as UTF-8 text.",
    fix="Check the path and permissions, and save the file as UTF-8.",
    example="n3 check app.ai",
)
PARSER_INTERNAL = register(
    "parser-internal-error",
    why="The parser met a problem it did not expect; this is a bug in n3lang, not in your "
    "program.",
    fix="Please report it with the input that caused it.",
    example="n3 check app.ai",
)
