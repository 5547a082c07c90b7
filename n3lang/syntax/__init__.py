"""The front end: .ai source text to an n3lang.ast.Program, with syntax diagnostics.

``parse_source(source, path)`` and ``parse_file(path)`` never raise; ``RESERVED_WORDS`` is the
set of words that cannot name a variable unless escaped with backticks.
"""

from n3lang.syntax.dump import dump
from n3lang.syntax.errors import RESERVED_WORDS
from n3lang.syntax.parser import get_parser, parse_file, parse_source

__all__ = ["RESERVED_WORDS", "dump", "get_parser", "parse_file", "parse_source"]
