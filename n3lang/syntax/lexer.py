"""Tokens, the one-regex lexer with indentation, and the LALR driver that feeds lark's tables.

Lark builds the LALR tables from grammar/n3.lark (parser.py caches them as plain data and
makes the transformer callbacks). This module runs them: one regular expression reads the
source; a word becomes a keyword only if the parser can accept that keyword at this point
(lark's contextual lexing, done with a dictionary lookup); newlines become ``_NL`` and
indentation ``_INDENT``/``_DEDENT`` (each ``_DEDENT`` is followed by ``_NL``, so every
statement ends in ``_NL``, except that the last ``_NL`` of a line break is left out when the
next token goes on the expression the block ended: LANGUAGE.md §5); each token is fed to the parse table at once. This is lark's own
``Indenter`` scheme and LALR loop, fused into one loop, which is several times faster than
the generator pipeline for large files.
"""

from __future__ import annotations

import re

from n3lang.ast import Span
from n3lang.syntax.errors import (
    ESCAPED_IDENTIFIER,
    INCONSISTENT_INDENTATION,
    UNSUPPORTED_CHARACTER,
    UNTERMINATED_STRING,
)
from n3lang.syntax.messages import char_repr
from n3lang.syntax.words import SURFACE_WORDS


class Tok:
    """A token: type (terminal name), value (source text), 1-based start and exclusive end."""

    __slots__ = ("type", "value", "line", "column", "end_line", "end_column")

    def __init__(self, type, value, line, column, end_line, end_column):
        self.type = type
        self.value = value
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Tok({self.type}, {self.value!r}, {self.line}:{self.column})"


class LexProblem(Exception):
    """A lexical or indentation error: code, message and span."""

    def __init__(self, code: str, message: str, span: Span) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        #: for a bad character met between tokens: the parser's state stack there, and whether
        #: a closed block's _NL was still waiting (n3lang/lsp/completion.py reads them)
        self.stack: list[int] | None = None
        self.pending = False


class SyntaxProblem(Exception):
    """The parser cannot accept ``token``; ``expected`` are the terminals it could accept."""

    def __init__(self, token: Tok, expected: set[str], *, after_block: bool = False) -> None:
        super().__init__(token.type)
        self.token = token
        self.expected = expected
        #: the token began the line after a block-valued expression that needed more words
        self.after_block = after_block


# One token per match, after any spaces (``[ ]*``); the group name says which kind.
_MASTER = re.compile(
    r"""[ ]*(?:
    (?P<NAME>[^\W\d]\w*)
  | (?P<P>\*\*|[-+*/%()\[\]{}.,:<>|=])
  | (?P<NL>(?:\r?\n[ ]*(?:\#[^\r\n]*)?(?=\r?\n))*\r?\n(?:[ ]+(?=[^ \r\n\#]))?)
  | (?P<NUMBER>[0-9]+(?:\.[0-9]+)?)
  | (?P<STR>"(?!"")(?:[^"\\\r\n]|\\[^\r\n])*"|'(?:[^'\\\r\n]|\\[^\r\n])*')
  | (?P<STR3>\"\"\"(?:[^"\\]|\\[\s\S]|"(?!""))*\"\"\")
  | (?P<COMMENT>\#[^\r\n]*)
  | (?P<BQ>`[^`\r\n]+`)
  | (?P<END>\Z)
    )""",
    re.X,
)

SIGNIFICANT_SKIP = frozenset(("_NL", "_INDENT", "_DEDENT", "$END"))


class Driver:
    """Lexes and parses one source text against lark's tables (see the module docstring)."""

    def __init__(self, states, start_state, end_state, punct: dict[str, str],
                 keywords: dict[str, str]) -> None:
        self.states = states
        self.start_state = start_state
        self.end_state = end_state
        self.punct = punct
        self.keywords = keywords  # word -> terminal name, from the grammar
        self.units: dict = {}  # (state below, top state, lookahead) -> top after unit rules
        #: the whole state stack (a tuple) -> whether EMPTY_BLOCK can really be shifted there;
        #: asked at the end of most lines, and a file has few distinct stacks (bench/RESULTS.md)
        self.empty_block: dict[tuple, bool] = {}
        # Filled by each run, for error messages and the depth guard.
        self.prev: Tok | None = None
        self.last: Tok | None = None
        self.line_first: Tok | None = None
        self.prev_line_first: Tok | None = None
        self.max_line_tokens = 0
        self.max_levels = 1
        #: a list while parser.shifted_tokens runs: every token of a line as the lexer typed it
        #: (keyword or NAME, in context), in order, for editors
        self.trace: list[Tok] | None = None

    def run(self, text: str, pos: int = 0, end: int | None = None, line: int = 1):
        """Parse ``text[pos:end]`` whose first line is ``line``; return the start rule's value.

        Raises LexProblem or SyntaxProblem.
        """
        states = self.states
        end_state = self.end_state
        punct = self.punct
        keyword_of = self.keywords
        units = self.units
        trace = self.trace
        stack = [self.start_state]
        values: list = []
        self.prev = self.last = self.line_first = self.prev_line_first = None
        self.max_line_tokens = 0
        self.max_levels = 1
        n = len(text) if end is None else end

        def feed(ttype, tok):
            while True:
                try:
                    action = states[stack[-1]][ttype]
                except KeyError:
                    raise SyntaxProblem(tok, _expected(states, stack, end_state)) from None
                kind = action.__class__
                if kind is str:
                    # A chain of pass-through rules (`?rule: child`) only replaces the top
                    # state, as a function of the two top states and the lookahead: memoized.
                    key = (stack[-2], stack[-1], ttype)
                    top = units.get(key)
                    if top is None:
                        below = stack[-2]
                        top = states[below][action]
                        follow = states[top].get(ttype)
                        while follow.__class__ is str:
                            top = states[below][follow]
                            follow = states[top].get(ttype)
                        units[key] = top
                    stack[-1] = top
                    continue
                if kind is int:
                    stack.append(action)
                    values.append(tok)
                    return None
                size, origin, callback = action
                if size:
                    args = values[-size:]
                    del stack[-size:]
                    del values[-size:]
                else:
                    args = []
                value = callback(args)
                goto = states[stack[-1]][origin]
                if goto == end_state:
                    return value
                stack.append(goto)
                values.append(value)

        line_start = pos
        levels = [0]
        started = False
        line_tokens = 0
        prev: Tok | None = None
        last: Tok | None = None
        line_first: Tok | None = None
        prev_line_first: Tok | None = None
        push_state = stack.append
        push_value = values.append
        pending: Tok | None = None  # the _NL after a closed block, until the next token
        try:
            # One match per token; a match that does not start where the last one ended
            # skipped a character no token can start with. An app-surface block (SURFACE)
            # is read by its own scan; the token loop then restarts after it.
            restart = True
            while restart:
                restart = False
                for m in _MASTER.finditer(text, pos, n):
                    if m.start() != pos:
                        pos = _skip_spaces(text, pos, n)
                        problem = _bad_character(text, pos, line, pos - line_start + 1)
                        # Where the parser stood: completion puts a character no token can
                        # start with at the cursor and reads what it could accept there.
                        problem.stack, problem.pending = list(stack), pending is not None
                        raise problem
                    group = m.lastindex or 0
                    stop = m.end()
                    if pending is not None and group != 7:
                        # After a block-valued expression (`map:`, `list:`, a call's block)
                        # the statement's remaining words continue on the next line: the
                        # block's closing _NL is dropped when the expression can take this
                        # token as it is (namel3ss skips the newlines after such a block).
                        if not self._continues(stack, group, m, text, stop, n):
                            try:
                                feed("_NL", pending)
                            except SyntaxProblem as exc:
                                # The block needed its statement's next words (`key "k"`
                                # after `map get map:`): namel3ss points at what came instead.
                                start = m.start(group)
                                col = start - line_start + 1
                                word = text[start:stop]
                                here = Tok(self.keywords.get(word, "NAME") if group == 1 else
                                           self.punct.get(word, "STRING"), word, line, col,
                                           line, col + len(word))
                                prev, last = last, here
                                raise SyntaxProblem(here, exc.expected, after_block=True) from None
                        pending = None
                    if group == 1:  # NAME
                        value = m[1]
                        if (line_first is None and len(levels) == 1
                                and (value in SURFACE_WORDS
                                     or value == "use" and _SURFACE_USE.match(text, m.end(1)))
                                and "SURFACE" in states[stack[-1]]):
                            start = m.start(1)
                            col = start - line_start + 1
                            if not started:
                                started = True
                                if col != 1:
                                    raise _unexpected_indent(line, col - 1)
                            stop, end_line, end_start = surface_block(text, start, n, line, line_start)
                            tok = Tok("SURFACE", text[start:stop], line, col, end_line,
                                      stop - end_start + 1)
                            line, line_start = end_line, end_start
                            line_first = tok
                            line_tokens += 1
                            prev = last
                            last = tok
                            if trace is not None:
                                trace.append(tok)
                            feed("SURFACE", tok)
                            pos = stop
                            restart = True
                            break
                        if (last is not None and last.type in _TOOL_AFTER
                                and "TOOL_CALL" in states[stack[-1]]):
                            # §9 `let r is get data from a web address:`: the phrase up to
                            # the ':' is one token when the line reads as a tool call.
                            found = tool_phrase(text, m.start(1), n)
                            if found is not None:
                                stop, phrase = found
                                col = m.start(1) - line_start + 1
                                tok = Tok("TOOL_CALL", phrase, line, col, line,
                                          stop - line_start + 1)
                                if line_first is None:  # pragma: no cover - after `is`/`=`
                                    line_first = tok
                                line_tokens += 1
                                prev = last
                                last = tok
                                if trace is not None:
                                    trace.append(tok)
                                feed("TOOL_CALL", tok)
                                pos = stop
                                restart = True
                                break
                        ttype = keyword_of.get(value)
                        if value in _EACH_WORDS and _EACH_WORDS[value] in states[stack[-1]] \
                                and _with_follows(text, stop, n):
                            ttype = _EACH_WORDS[value]
                        elif ttype is None:
                            ttype = "NAME"
                        else:
                            accepts = states[stack[-1]]
                            if ttype not in accepts and "NAME" in accepts:
                                ttype = "NAME"
                        size = len(value)
                        col = stop - size - line_start + 1
                        tok = Tok(ttype, value, line, col, line, col + size)
                    elif group == 2:  # punctuation
                        value = m[2]
                        size = len(value)
                        col = stop - size - line_start + 1
                        ttype = punct[value]
                        tok = Tok(ttype, value, line, col, line, col + size)
                    elif group == 3:  # NL
                        value = m[3]
                        start = stop - len(value)
                        nl_line = line
                        nl_col = start - line_start + 1
                        line += value.count("\n")
                        line_start = start + value.rfind("\n") + 1
                        indent = stop - line_start
                        nl = Tok("_NL", value, nl_line, nl_col, line, indent + 1)
                        pos = stop
                        if not started:
                            if indent:
                                raise _unexpected_indent(line, indent)
                            feed("_NL", nl)
                            continue
                        if line_tokens:
                            if (indent <= levels[-1] and "EMPTY_BLOCK" in states[stack[-1]]
                                    and self._empty_block_fits(stack)):
                                # `list:` ending its line with no block below: the empty list.
                                feed("EMPTY_BLOCK", Tok("EMPTY_BLOCK", "", line, indent + 1, line, indent + 1))
                            feed("_NL", nl)
                            if line_tokens > self.max_line_tokens:
                                self.max_line_tokens = line_tokens
                            line_tokens = 0
                        level = levels[-1]
                        if indent > level:
                            levels.append(indent)
                            if len(levels) > self.max_levels:
                                self.max_levels = len(levels)
                            feed("_INDENT", Tok("_INDENT", "", line, indent + 1, line, indent + 1))
                        elif indent < level:
                            while indent < levels[-1]:
                                levels.pop()
                                mark = Tok("_DEDENT", "", line, indent + 1, line, indent + 1)
                                feed("_DEDENT", mark)
                                if indent < levels[-1]:
                                    feed("_NL", mark)
                                else:
                                    # The last block closed: its _NL waits for the next token
                                    # (a block-valued expression may go on, LANGUAGE.md §5).
                                    pending = mark
                            if indent != levels[-1]:
                                raise LexProblem(
                                    INCONSISTENT_INDENTATION,
                                    f"Inconsistent indentation (got {indent} spaces, "
                                    f"expected {levels[-1]})",
                                    # column 1, as namel3ss reports it: the whole indent is wrong
                                    Span(line, 1, line, indent + 1),
                                )
                        prev_line_first = line_first
                        line_first = None
                        continue
                    elif group == 4:  # NUMBER
                        value = m[4]
                        size = len(value)
                        col = stop - size - line_start + 1
                        ttype = "NUMBER"
                        tok = Tok(ttype, value, line, col, line, col + size)
                    elif group == 5:  # one-line string
                        value = m[5]
                        size = len(value)
                        col = stop - size - line_start + 1
                        ttype = "STRING"
                        tok = Tok(ttype, value, line, col, line, col + size)
                    elif group == 7:  # COMMENT
                        pos = stop
                        continue
                    elif group == 9:  # END
                        pos = stop
                        break
                    elif group == 6:  # triple-quoted string
                        start = m.start(6)
                        ttype = "STRING"
                        value = m[6]
                        col = start - line_start + 1
                        breaks = value.count("\n")
                        if breaks:
                            end_line = line + breaks
                            line_start = start + value.rfind("\n") + 1
                            tok = Tok("STRING", value, line, col, end_line, stop - line_start + 1)
                            line = end_line
                        else:
                            tok = Tok("STRING", value, line, col, line, col + (stop - start))
                    else:  # BQ
                        start = m.start(8)
                        col = start - line_start + 1
                        ttype = "BQ_NAME"
                        tok = Tok(ttype, m[8], line, col, line, col + (stop - start))
                    pos = stop
                    if line_first is None:
                        if not started:
                            started = True
                            if tok.column != 1:
                                raise _unexpected_indent(tok.line, tok.column - 1)
                        line_first = tok
                    line_tokens += 1
                    prev = last
                    last = tok
                    if trace is not None:
                        trace.append(tok)
                    # feed(ttype, tok), inlined: this is the hot path.
                    while True:
                        action = states[stack[-1]].get(ttype)
                        kind = action.__class__
                        if kind is int:
                            push_state(action)
                            push_value(tok)
                            break
                        if kind is str:
                            top = units.get((stack[-2], stack[-1], ttype))
                            if top is None:
                                feed(ttype, tok)
                                break
                            stack[-1] = top
                            continue
                        if action is None:
                            raise SyntaxProblem(tok, _expected(states, stack, end_state))
                        size, origin, callback = action
                        if size:
                            args = values[-size:]
                            del stack[-size:]
                            del values[-size:]
                        else:
                            args = []
                        push_value(callback(args))
                        push_state(states[stack[-1]][origin])
            # End of input: close the last line and every open block.
            if pending is not None:
                feed("_NL", pending)
            if line_tokens:
                if line_tokens > self.max_line_tokens:
                    self.max_line_tokens = line_tokens
                if ("EMPTY_BLOCK" in states[stack[-1]]
                        and self._empty_block_fits(stack)):
                    eof_at = pos - line_start + 1
                    feed("EMPTY_BLOCK", Tok("EMPTY_BLOCK", "", line, eof_at, line, eof_at))
                assert last is not None  # the line has tokens
                feed("_NL", Tok("_NL", "", last.end_line, last.end_column, last.end_line, last.end_column))
            eof_line = line
            eof_col = pos - line_start + 1
            while len(levels) > 1:
                levels.pop()
                mark = Tok("_DEDENT", "", eof_line, eof_col, eof_line, eof_col)
                feed("_DEDENT", mark)
                feed("_NL", mark)
            end_tok = Tok("$END", "", eof_line, eof_col, eof_line, eof_col)
            return feed("$END", end_tok)
        finally:
            # For error messages: the tokens around the point where parsing stopped.
            self.prev, self.last = prev, last
            self.line_first, self.prev_line_first = line_first, prev_line_first

    def _continues(self, stack: list, group: int, m, text: str, stop: int, n: int) -> bool:
        """Can the token matched by ``m`` (the first of a line right after a closed block)
        be shifted as it is, without the block's _NL: then it goes on the statement."""
        if group == 1:
            value = m[1]
            ttype = self.keywords.get(value)
            if value in _EACH_WORDS and _EACH_WORDS[value] in self.states[stack[-1]] \
                    and _with_follows(text, stop, n):
                ttype = _EACH_WORDS[value]
            if ttype is None:
                return False  # a plain name never continues an expression
        elif group == 2:
            if m[2] == ".":
                return False  # namel3ss: `.name` never continues a block (Unexpected token 'DOT')
            ttype = self.punct[m[2]]
        elif group == 4:
            ttype = "NUMBER"
        elif group in (5, 6):
            ttype = "STRING"
        else:
            return False
        return _can_shift(self.states, stack, self.end_state, ttype)

    def _empty_block_fits(self, stack: list) -> bool:
        """_can_shift(EMPTY_BLOCK), memoized on the whole stack (the answer is a function of it)."""
        key = tuple(stack)
        fits = self.empty_block.get(key)
        if fits is None:
            if len(self.empty_block) > 4096:
                self.empty_block.clear()
            fits = self.empty_block[key] = _can_shift(self.states, stack, self.end_state, "EMPTY_BLOCK")
        return fits


# ---- §10 the app surface: a top-level block read whole.
def surface_block(text: str, start: int, n: int, line: int, line_start: int) -> tuple[int, int, int]:
    """The end of the app-surface block whose first word is at ``start`` (its line begins at
    ``line_start``): the end of the last token of its header line or of the deeper-indented
    lines after it. Returns (end, line of end, start of that line). The block is scanned with
    the token expression, so a bad character or an unterminated string in it is the same
    error, at the same place, as anywhere else."""
    pos = start
    end, end_line, end_start = start, line, line_start
    for m in _MASTER.finditer(text, start, n):
        if m.start() != pos:
            pos = _skip_spaces(text, pos, n)
            raise _bad_character(text, pos, line, pos - line_start + 1)
        group = m.lastindex
        stop = m.end()
        pos = stop
        if group == 9:  # END
            break
        if group == 3:  # NL: the block goes on while the next code line is indented
            value = m[3]
            line += value.count("\n")
            line_start = stop - len(value) + value.rfind("\n") + 1
            if stop == line_start:
                break
            continue
        if group == 7:  # a comment is part of the text, not the end
            continue
        if group == 6:
            value = m[6]
            breaks = value.count("\n")
            if breaks:
                line += breaks
                line_start = m.start(6) + value.rfind("\n") + 1
        end, end_line, end_start = stop, line, line_start
    return end, end_line, end_start


def surface_refs(text: str, line: int, column: int) -> list[tuple[str, str, Span]]:
    """The flows and records an app-surface block names (``flow "x"``, also in ``calls flow
    "x"``; ``record "y"``; ``form is "Rec"``): (kind, quoted name, span), in order; comments
    and the insides of strings are skipped. ``line``/``column`` place text[0]."""
    found = []
    line_start = -(column - 1)
    toks = [(m.lastindex, m.start(m.lastindex), m.end()) for m in _MASTER.finditer(text)
            if m.lastindex is not None and m.lastindex != 9]
    # A reference is `flow`/`record`/`form is` followed by a string (not inside a comment).
    for i, (group, a, b) in enumerate(toks):
        if group == 3:
            chunk = text[a:b]
            line += chunk.count("\n")
            line_start = a + chunk.rfind("\n") + 1
            continue
        if group == 6:
            chunk = text[a:b]
            if "\n" in chunk:
                line += chunk.count("\n")
                line_start = a + chunk.rfind("\n") + 1
            continue
        if group != 5 or i == 0:
            continue
        pg, pa, pb = toks[i - 1]
        if pg != 1:
            continue
        word = text[pa:pb]
        if word in ("flow", "record"):
            kind = word
        elif word == "is" and i >= 2 and toks[i - 2][0] == 1 and text[toks[i - 2][1]:toks[i - 2][2]] == "form":
            kind = "record"
        else:
            continue
        col = a - line_start + 1
        found.append((kind, text[a:b], Span(line, col, line, col + (b - a))))
    return found


# ---- §9 tool calls: `let r is PHRASE:` (namel3ss's looks_like_tool_call).
_TOOL_AFTER = frozenset(("IS", "EQUALS"))
_PHRASE_TOKENS = re.compile(
    r"""[ ]*(?:(?P<w>[^\W\d]\w*)|(?P<n>[0-9]+(?:\.[0-9]+)?)|(?P<s>"(?:[^"\\\r\n]|\\[^\r\n])*"|'(?:[^'\\\r\n]|\\[^\r\n])*')|(?P<b>`[^`\r\n]+`)|(?P<p>\*\*|[-+*/%()\[\]{}.,:<>|=]))""")


def tool_phrase(text: str, pos: int, n: int) -> tuple[int, str] | None:
    """If the rest of the line from ``pos`` (a word) reads as a tool call the way namel3ss
    decides (looks_like_tool_call: a ':' later on the line, unless the value starts like
    `ask`, `call`, `list:`/`list of`/`list length`, `map:`/`map get`, or a map/filter/reduce
    block; and `predict`, ours), return (end of the phrase's last token, the phrase), else
    None. The phrase is its words joined by single spaces, a '.' gluing its neighbours, as
    namel3ss's _phrase_text."""
    words: list[tuple[str, str]] = []
    end = pos
    p = pos
    while True:
        m = _PHRASE_TOKENS.match(text, p, n)
        if m is None:
            return None  # end of line, a comment, a bad character: not a tool call
        kind = m.lastgroup or ""
        value = m[kind]
        if kind == "p":
            if value == ":":
                break
            if value != ".":
                # namel3ss's phrase reader stops at other punctuation ("Expected tool
                # name"); here the line is read as an ordinary expression instead.
                return None
        words.append((kind, value))
        end = m.end()
        p = end
    first = words[0][1]
    following = words[1][1] if len(words) > 1 else ":"
    if first in ("ask", "call", "predict"):
        return None
    if first == "list" and following in (":", "of", "length", "append", "get"):
        return None
    if first == "map" and following in (":", "get", "set", "keys"):
        return None
    if first in _EACH_WORDS and _with_follows(text, pos + len(first), n):
        return None
    parts: list[str] = []
    for kind, value in words:
        if kind in ("s", "b"):
            value = value[1:-1]
        if value == ".":
            if parts:
                parts[-1] += "."
            else:
                parts.append(".")
            continue
        if not value:
            continue
        if parts and parts[-1].endswith("."):
            parts[-1] += value
        else:
            parts.append(value)
    return end, " ".join(parts)


# ---- §6 expressions (added): `map/filter/reduce XS with item as n:` collection blocks.
_EACH_WORDS = {"map": "MAP_EACH", "filter": "FILTER", "reduce": "REDUCE"}
# `use preset "rag_chat":` and `use plugin "charts"` are app surface (§10), not modules (§9)
_SURFACE_USE = re.compile(r"[ ]+(?:preset|plugin)\b")
_LINE_TOKENS = re.compile(r"""("(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*'|[\w]+|[()\[\]]|\r?\n|\#)""")


def _with_follows(text: str, pos: int, n: int) -> bool:
    """Whether the word ``with`` comes later on this line outside brackets (namel3ss's test
    for a collection block); the words of a comment do not count."""
    depth = 0
    for m in _LINE_TOKENS.finditer(text, pos, n):
        t = m.group()
        if t[0] in "\r\n#":
            return False
        if t in "([":
            depth += 1
        elif t in ")]":
            if depth:
                depth -= 1
        elif t == "with" and not depth:
            return True
    return False


def _skip_spaces(text: str, pos: int, n: int) -> int:
    while pos < n and text[pos] == " ":
        pos += 1
    return pos


def _can_shift(states, stack, end_state, name: str) -> bool:
    """Can ``name`` really be shifted next? LALR rows also list lookaheads that only lead to
    an error after some reductions (merged states); this follows the reductions to see."""
    sim = list(stack)
    while True:
        action = states[sim[-1]].get(name)
        if action is None:
            return False
        if action.__class__ is int:
            return True
        if action.__class__ is str:
            sim[-1] = states[sim[-2]][action]
            continue
        size, origin, _ = action
        if size:
            del sim[-size:]
        goto = states[sim[-1]][origin]
        if goto == end_state:
            return True
        sim.append(goto)


def _expected(states, stack, end_state) -> set[str]:
    """Terminals the parser can really shift next (LALR tables also list lookaheads that
    only lead to a later error after some reductions; those are simulated and dropped)."""
    return {name for name in states[stack[-1]]
            if name.isupper() and _can_shift(states, stack, end_state, name)}


def _unexpected_indent(line: int, indent: int) -> LexProblem:
    return LexProblem(
        INCONSISTENT_INDENTATION,
        f"Unexpected indentation (got {indent} spaces, expected 0)",
        Span(line, indent + 1, line, indent + 2),
    )


def _bad_character(text: str, pos: int, line: int, col: int) -> LexProblem:
    ch = text[pos]
    span = Span(line, col, line, col + 1)
    # The messages are namel3ss's (LANGUAGE.md §1); the why/fix texts say more.
    if text.startswith('"""', pos):
        return LexProblem(UNTERMINATED_STRING, "Unterminated triple-quoted string literal",
                          Span(line, col, line, col + 3))
    if ch in "\"'":
        return LexProblem(UNTERMINATED_STRING, "Unterminated string literal", span)
    if ch == "`":
        if text.startswith("``", pos):
            return LexProblem(ESCAPED_IDENTIFIER, "Escaped identifier cannot be empty",
                              Span(line, col, line, col + 2))
        return LexProblem(ESCAPED_IDENTIFIER, "Unterminated escaped identifier", span)
    shown = ch if ch.isprintable() or ch == "\t" else char_repr(ch)
    return LexProblem(UNSUPPORTED_CHARACTER, f"Unsupported character '{shown}' in namel3ss source.",
                      span)
