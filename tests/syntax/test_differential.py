"""Differential test: stock Lark against the fast front end (issue 11).

The fast front end (n3lang.syntax.lexer.Driver) runs lark's LALR tables with its own lexer,
indentation and reduction callbacks. Here the same grammar/n3.lark is parsed by stock Lark
(``parser="lalr"``, building its own parse tree), fed by a token stream built in this file
from the documented stream shape (grammar/n3.lark, header comment):

  - a small regular-expression scanner of its own (names, numbers, strings including
    triple-quoted ones, backquoted names, the grammar's punctuation, comments, newlines);
  - lark's own ``Indenter`` post-lexer, changed only so that each closed block is followed
    by ``_DEDENT _NL`` (every statement ends in ``_NL``);
  - contextual keywords: a word is the grammar's keyword terminal where the parser state's
    row (lark's own table, read through its interactive parser) has it, else ``NAME`` where
    the row has ``NAME``;
  - ``EMPTY_BLOCK`` before the ``_NL`` of a line that opens no block, where lark's parser
    can really shift it (tried on a copy of the interactive parser);
  - ``MAP_EACH``/``FILTER``/``REDUCE`` for map/filter/reduce where the row has them and the
    word ``with`` follows on the line outside brackets;
  - ``SURFACE`` (LANGUAGE.md §10): a line at column 1 starting with an app-surface word, with
    the deeper-indented lines after it, is one token carrying its text;
  - ``TOOL_CALL`` (§9): after ``is`` or ``=``, where the row has it, the words up to a ':' later
    on the line are one token carrying the phrase (namel3ss's looks_like_tool_call), unless
    the value starts like ``ask``, ``call``, ``predict``, ``list:``/``list of``/``list length``,
    ``map:``/``map get``, or a map/filter/reduce block;
  - no ``_NL`` after the last ``_DEDENT`` of a line break when the next token can be shifted
    without it (LANGUAGE.md §5: a block-valued expression's statement goes on).

The stock tree is turned into AST nodes by running n3lang's ``AstBuilder`` methods as a lark
``Transformer``; the result (declarations with their spans, and the builder's diagnostics)
must equal what ``parse_source`` gives, for every valid program of the test data and the
examples. The Driver is never imported here.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from pathlib import Path

import pytest

lark = pytest.importorskip("lark")

from lark import Lark, Token, Transformer  # noqa: E402
from lark.indenter import Indenter  # noqa: E402
from lark.lexer import PatternStr  # noqa: E402
from lark.parsers.lalr_analysis import Shift  # noqa: E402

from n3lang import ast as A  # noqa: E402
from n3lang.resources import data_path  # noqa: E402
from n3lang.syntax import parse_source  # noqa: E402
from n3lang.syntax.lexer import Tok  # noqa: E402
from n3lang.syntax.selectors import with_selectors  # noqa: E402
from n3lang.syntax.transformer import AstBuilder  # noqa: E402
from n3lang.syntax.words import SURFACE_WORDS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"

#: The lexer-made collection-block tokens (grammar: %declare MAP_EACH FILTER REDUCE).
EACH_WORDS = {"map": "MAP_EACH", "filter": "FILTER", "reduce": "REDUCE"}


# ----------------------------------------------------------------------------- stock lark
_STOCK: Lark | None = None


def stock() -> Lark:
    global _STOCK
    if _STOCK is None:
        _STOCK = Lark.open(str(data_path("grammar", "n3.lark")), parser="lalr", lexer="basic",
                           maybe_placeholders=True, cache=True)
    return _STOCK


class PairedIndenter(Indenter):
    """lark's Indenter, with ``_DEDENT _NL`` for each closed block."""

    NL_type = "_NL"
    OPEN_PAREN_types: list = []
    CLOSE_PAREN_types: list = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def handle_NL(self, token):
        for tok in super().handle_NL(token):
            yield tok
            if tok.type == self.DEDENT_type:
                yield Token.new_borrow_pos(self.NL_type, "", tok)


# ----------------------------------------------------------------------------- scanner
_SCAN = re.compile(
    r"""(?P<SPACE>[ ]+)
  | (?P<NEWLINE>\r?\n)
  | (?P<COMMENT>\#[^\r\n]*)
  | (?P<STR3>\"\"\"(?:[^"\\]|\\[\s\S]|"(?!""))*\"\"\")
  | (?P<STRING>"(?:[^"\\\r\n]|\\[^\r\n])*"|'(?:[^'\\\r\n]|\\[^\r\n])*')
  | (?P<BQ_NAME>`[^`\r\n]+`)
  | (?P<NUMBER>[0-9]+(?:\.[0-9]+)?)
  | (?P<WORD>[^\W\d]\w*)
  | (?P<PUNCT>{punct})""",
    re.X,
)


def _scanner(lark_parser: Lark) -> re.Pattern:
    punct = sorted(
        (t.pattern.value for t in lark_parser.terminals
         if isinstance(t.pattern, PatternStr) and not t.pattern.value.replace("_", "").isalpha()),
        key=len, reverse=True,
    )
    return re.compile(_SCAN.pattern.replace("{punct}", "|".join(re.escape(p) for p in punct)), re.X)


def lines_of(source: str, lark_parser: Lark) -> tuple[list[list[Token]], bool]:
    """The logical lines (lists of tokens, words typed WORD) and whether a line break comes
    before the first token."""
    punct_name = {str(t.pattern.value): t.name for t in lark_parser.terminals
                  if isinstance(t.pattern, PatternStr) and not t.pattern.value.replace("_", "").isalpha()}
    starts = [0] + [m.end() for m in re.finditer(r"\n", source)]

    def where(offset: int) -> tuple[int, int]:
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    lines: list[list[Token]] = []
    current: list[Token] = []
    break_first = False
    pos = 0
    scan = _scanner(lark_parser)
    while pos < len(source):
        m = scan.match(source, pos)
        assert m, f"scanner stuck at {source[pos:pos + 20]!r}"
        kind, value = m.lastgroup, m.group()
        pos = m.end()
        if kind in ("SPACE", "COMMENT"):
            continue
        if kind == "NEWLINE":
            if current:
                lines.append(current)
                current = []
            elif not lines:
                break_first = True
            continue
        line, column = where(m.start())
        end_line, end_column = where(m.end())
        ttype = {"STR3": "STRING", "PUNCT": punct_name.get(value)}.get(kind, kind)
        current.append(Token(ttype, value, m.start(), line, column, end_line, end_column, m.end()))
    if current:
        lines.append(current)
    return _surface_lines(source, lines), break_first


def _surface_lines(source: str, lines: list[list[Token]]) -> list[list[Token]]:
    """§10: a line at column 1 starting with an app-surface word, with the deeper lines after
    it, becomes one SURFACE token (its text: from the word to the end of the last token)."""
    out: list[list[Token]] = []
    i = 0
    while i < len(lines):
        first = lines[i][0]
        second = lines[i][1] if len(lines[i]) > 1 else None
        surface_use = (first.value == "use" and second is not None and second.type == "WORD"
                       and second.value in ("preset", "plugin"))  # not a module: §10
        if first.type == "WORD" and first.column == 1 and (first.value in SURFACE_WORDS or surface_use):
            j = i + 1
            while j < len(lines) and lines[j][0].column > 1:
                j += 1
            last = lines[j - 1][-1]
            out.append([Token("SURFACE", source[first.start_pos:last.end_pos], first.start_pos,
                              first.line, first.column, last.end_line, last.end_column,
                              last.end_pos)])
            i = j
            continue
        out.append(lines[i])
        i += 1
    return out


def raw_stream(source: str, lark_parser: Lark):
    """Tokens with _NL (value: the line break and the next line's indent), before the
    Indenter; a last _NL back to column 1 closes every block."""
    lines, break_first = lines_of(source, lark_parser)
    eof_line = source.count("\n") + 1
    eof_column = len(source) - (source.rfind("\n") + 1) + 1
    if break_first:
        yield Token("_NL", "\n", 0, 1, 1, 1, 1, 0)
    for index, line in enumerate(lines):
        yield from line
        nxt = lines[index + 1][0] if index + 1 < len(lines) else None
        if nxt is not None:
            indent, at = nxt.column - 1, (nxt.line, nxt.column)
        elif source.endswith("\n"):  # the block closes at the start of the line after the last
            indent, at = 0, (eof_line, 1)
        else:
            indent, at = 0, (eof_line, eof_column)
        yield Token("_NL", "\n" + " " * indent, 0, at[0], at[1], at[0], at[1], 0)


def _with_follows(line_rest: list[Token]) -> bool:
    depth = 0
    for tok in line_rest:
        if tok.type == "_NL":
            return False
        if tok.value in ("(", "["):
            depth += 1
        elif tok.value in (")", "]"):
            depth = max(0, depth - 1)
        elif tok.type == "WORD" and tok.value == "with" and not depth:
            return True
    return False


def tool_phrase(rest: list[Token]) -> tuple[int, str] | None:
    """(tokens taken, phrase) when the tokens from a word read as a tool call, else None."""
    words: list[Token] = []
    for tok in rest:
        if tok.type in ("_NL", "_INDENT", "_DEDENT"):
            return None
        if tok.value == ":" and tok.type not in ("STRING", "WORD"):
            break
        if tok.type not in ("WORD", "NUMBER", "STRING", "BQ_NAME") and tok.value != ".":
            return None
        words.append(tok)
    else:
        return None
    first = words[0].value
    following = words[1].value if len(words) > 1 else ":"
    if first in ("ask", "call", "predict") \
            or first == "list" and following in (":", "of", "length", "append", "get") \
            or first == "map" and following in (":", "get", "set", "keys") \
            or first in EACH_WORDS and _with_follows(rest[1:]):
        return None
    parts: list[str] = []
    for tok in words:
        text = tok.value[1:-1] if tok.type in ("STRING", "BQ_NAME") else tok.value
        if text == ".":
            parts.append(".") if not parts else parts.__setitem__(-1, parts[-1] + ".")
        elif parts and parts[-1].endswith("."):
            parts[-1] += text
        elif text:
            parts.append(text)
    return len(words), " ".join(parts)


def stock_tree(source: str):
    """Parse with stock Lark (see the module docstring); the parse tree."""
    lark_parser = stock()
    keywords = {str(t.pattern.value): t.name for t in lark_parser.terminals
                if isinstance(t.pattern, PatternStr) and t.pattern.value.replace("_", "").isalpha()}
    tokens = list(PairedIndenter().process(raw_stream(source, lark_parser)))
    interactive = lark_parser.parse_interactive("")
    table = interactive.parser_state.parse_conf.parse_table.states

    def row():
        return table[interactive.parser_state.position]

    def can_shift(ttype: str) -> bool:
        """Whether ``ttype`` can really be shifted: LALR rows also hold lookaheads that only
        fail after some reductions. Runs lark's table on a copy of the state stack (a trial
        feed on a copy of the interactive parser would run the tree callbacks)."""
        stack = list(interactive.parser_state.state_stack)
        while True:
            action = table[stack[-1]].get(ttype)
            if action is None:
                return False
            kind, arg = action
            if kind is Shift:
                return True
            size = len(arg.expansion)
            if size:
                del stack[-size:]
            stack.append(table[stack[-1]][arg.origin.name][1])

    def continues(rest: list) -> bool:
        """After the last _DEDENT of a line break: the block-valued expression goes on when
        the next token can be shifted as it is (a keyword, an operator but '.', a literal)."""
        if not rest or rest[0].type in ("_NL", "_INDENT", "_DEDENT"):
            return False
        nxt = rest[0]
        if nxt.type == "WORD":
            each = EACH_WORDS.get(nxt.value)
            ttype = each if each is not None and each in row() and _with_follows(rest[1:]) \
                else keywords.get(nxt.value)
            return ttype is not None and can_shift(ttype)
        return nxt.value != "." and can_shift(nxt.type)

    line_tokens = 0
    skip = 0
    fed = ""
    for i, tok in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        phrase = None
        if tok.type == "WORD" and fed in ("IS", "EQUALS") and "TOOL_CALL" in row():
            phrase = tool_phrase(tokens[i:])
        if phrase is not None:
            count, text = phrase
            end = tokens[i + count - 1]
            tok = Token("TOOL_CALL", text, tok.start_pos, tok.line, tok.column, end.end_line,
                        end.end_column, end.end_pos)
            skip = count - 1
        elif tok.type == "WORD":
            each = EACH_WORDS.get(tok.value)
            if each is not None and each in row() and _with_follows(tokens[i + 1:]):
                ttype = each
            else:
                ttype = keywords.get(tok.value, "NAME")
                if ttype != "NAME" and ttype not in row() and "NAME" in row():
                    ttype = "NAME"
            tok = Token.new_borrow_pos(ttype, tok.value, tok)
        if tok.type == "_NL" and line_tokens:
            opens_block = i + 1 < len(tokens) and tokens[i + 1].type == "_INDENT"
            if not opens_block and can_shift("EMPTY_BLOCK"):
                interactive.feed_token(Token.new_borrow_pos("EMPTY_BLOCK", "", tok))
        line_tokens = 0 if tok.type in ("_NL", "_INDENT", "_DEDENT") else line_tokens + 1
        if tok.type == "_NL" and fed == "_DEDENT" and continues(tokens[i + 1:]):
            continue  # §5: the next line goes on the expression its block ended
        interactive.feed_token(tok)
        fed = tok.type
    return interactive.feed_eof()


class Bridge(Transformer):
    """n3lang's AstBuilder methods over a stock lark tree (tokens as n3lang Toks)."""

    def __init__(self, builder: AstBuilder) -> None:
        super().__init__(visit_tokens=False)
        self.builder = builder

    def __default__(self, data, children, meta):
        children = [
            Tok(c.type, str(c), c.line, c.column, c.end_line, c.end_column) if isinstance(c, Token) else c
            for c in children
        ]
        return getattr(self.builder, str(data))(children)


def stock_parse(source: str, path: str) -> tuple[A.Program, list]:
    builder = AstBuilder()
    builder.diagnostics = []
    builder._bare_state = {}
    builder.path = path
    decls = Bridge(builder).transform(stock_tree(source))
    program = A.Program(tuple(decls), path)
    if any(type(d) is A.FlowDecl and d.declarative for d in decls):
        # declarative steps' `where "..."` selectors are parsed after the file, as ours does
        program = with_selectors(program, lambda text: stock_parse(text, path))
    return program, sorted(builder.diagnostics, key=lambda d: (d.span.line, d.span.column))


# ----------------------------------------------------------------------------- programs
def _programs() -> list[Path]:
    found = sorted((DATA / "valid").glob("*.ai")) + sorted((DATA / "run").glob("*.ai"))
    found += sorted((ROOT / "tests" / "conformance" / "programs").glob("*.ai"))
    found += sorted((ROOT / "examples").rglob("*.ai"))
    return found


def _parses(path: Path) -> bool:
    source = path.read_text(encoding="utf-8")
    program, diagnostics = parse_source(source, str(path))
    return not any(d.severity == "error" for d in diagnostics)


PROGRAMS = [p for p in _programs() if _parses(p)]


def test_the_corpus_is_large() -> None:
    assert len(PROGRAMS) >= 500, len(PROGRAMS)


#: Lexing corners the corpus may not reach (comments, blank lines, no final newline,
#: triple-quoted strings, `with` where it does not make a collection block).
CORNERS = {
    # found by this test: `with` in a comment made `map:` a collection block (MAP_EACH)
    "with-in-a-comment": 'flow "a":\n  let m is map:   # filled with values\n    a is 1\n  return m\n',
    "with-in-a-string": 'flow "a":\n  let m is map:\n    a is "x with y"\n  return m\n',
    "collection-block-then-comment": 'flow "a":\n  let xs is list: 1, 2\n'
    '  let ys is map xs with item as n:  # doubled\n    n * 2\n  return ys\n',
    "empty-list-then-comment": 'flow "a":\n  let xs is list:  # none yet\n  return xs\n',
    "empty-list-at-eof": 'flow "a":\n  let xs is list:',
    "comments-around": '# hi\n\n  # indented comment\nflow "a":\n\n  return 1\n  # trailing',
    "triple-quoted": 'flow "a":\n  let t is """a\nb with\n  c"""\n  return t\n',
    "keywords-as-names": 'flow "a":\n  let list is 1\n  let one is list + 1\n  return one\n',
    # §9 tool calls: the phrase is one token after `is`/`=`; map:, list:, collection blocks,
    # call function stay as they were; a ':' in a string or comment is not a tool call
    "tool-calls": 'tool "get data from a web address":\n  implemented using python\n'
    '  timeout_seconds is 5\n  input:\n    web address is text\n    if is optional number\n'
    '  output:\n    data is json\n\nflow "a":\n  let r is get data   from a web address:\n'
    '    web address is "x: y"\n    if is 2\n  let:\n    q is get data from a web address:\n'
    '      web address is "z"\n  calc:\n    w = get data from a web address:\n'
    '      web address is "w"\n  set w is get data from a web address:\n'
    '  let m is map:  # a: b\n    a is 1\n  let xs is list:\n    1\n'
    '  let ys is map xs with item as n:\n    n * 2\n  let t is "a: b"\n  return r\n',
    # §5: a block-valued expression's statement goes on at its own indentation
    "block-continuation": 'flow "a":\n  let v is map get map:\n    k is map:\n      j is 1\n'
    '  key "k"\n  let xs is list get list:\n    1\n  at 0\n  let t is list:\n    1\n'
    '  is list:\n    1\n  let n is list length of list:\n    1\n  + 2\n  return v\n',
}


def _compare(source: str, path: str) -> None:
    ours, our_diagnostics = parse_source(source, path)
    theirs, their_diagnostics = stock_parse(source, path)
    assert ours is not None
    assert theirs.declarations == ours.declarations
    assert [(d.code, d.span, d.message) for d in their_diagnostics] == \
        [(d.code, d.span, d.message) for d in our_diagnostics]


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: str(p.relative_to(ROOT)))
def test_stock_lark_builds_the_same_ast(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    if source.startswith("\ufeff"):
        source = source[1:]
    _compare(source.replace("\r\n", "\n"), str(path))


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_lexing_corners(name: str) -> None:
    source = CORNERS[name]
    assert not [d for d in parse_source(source, name)[1] if d.severity == "error"]
    _compare(source, name)
