"""The front end: .ai source text to an n3lang.ast.Program, with syntax diagnostics.

``parse_source(source, path)`` and ``parse_file(path)`` never raise; ``RESERVED_WORDS`` is the
set of words that cannot name a variable unless escaped with backticks.

Modules, one per stage:
  errors.py       the syntax diagnostic codes (registered at import)
  words.py        keywords and punctuation (from the grammar's terminals), reserved words
  messages.py     syntax error messages phrased in words, with fix hints
  lexer.py        Tok, the one-regex lexer with indentation, the LALR driver loop
  transformer.py  AstBuilder: one method per grammar rule, building n3lang.ast nodes
  tables.py       the LALR tables from lark's build of grammar/n3.lark, cached as plain data
  reductions.py   each rule's reduction callback (lark's child filters, made cheap)
  recovery.py     after a syntax error: every declaration that parses, and further errors
  parser.py       parse_source/parse_file/get_parser: assembles the above; the depth guard
  dump.py         an indented text rendering of an AST (golden tests, debugging)
  format.py       `n3 fmt`'s canonical layout (format_source, format_or_diagnostics)
"""

from n3lang.syntax.dump import dump
from n3lang.syntax.parser import get_parser, parse_file, parse_source
from n3lang.syntax.words import RESERVED_WORDS

__all__ = ["RESERVED_WORDS", "dump", "get_parser", "parse_file", "parse_source"]
