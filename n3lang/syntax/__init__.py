"""The front end: .ai source text to an n3lang.ast.Program, with syntax diagnostics.

``parse_source(source, path)`` and ``parse_file(path)`` never raise; ``RESERVED_WORDS`` is the
set of words that cannot name a variable unless escaped with backticks.

Modules, one per stage:
  errors.py       diagnostic codes (registered at import), keyword words, message phrasing
  lexer.py        Tok, the one-regex lexer with indentation, the LALR driver loop
  transformer.py  AstBuilder: one method per grammar rule, building n3lang.ast nodes
  parser.py       the cached Lark build of grammar/n3.lark, parse_source/parse_file, recovery
  dump.py         an indented text rendering of an AST (golden tests, debugging)
"""

from n3lang.syntax.dump import dump
from n3lang.syntax.errors import RESERVED_WORDS
from n3lang.syntax.parser import get_parser, parse_file, parse_source

__all__ = ["RESERVED_WORDS", "dump", "get_parser", "parse_file", "parse_source"]
