"""What the parser can accept at a point of a document: terminals, from the LALR tables.

The text before the cursor is run through the real lexer and the grammar's LALR tables
(``n3lang.syntax.lexer.Driver``), so contextual keywords, indentation tokens and the tokens
the lexer makes itself (EMPTY_BLOCK, TOOL_CALL, SURFACE, MAP_EACH...) behave exactly as in a
parse. A character no token can start with is put at the cursor: the lexer stops there with
the parser's state stack, and the terminals that state can really shift (after the reductions
LALR defers) are the answer. Only the current top-level declaration is read (declarations
start at column 1), and a broken line above the cursor in it is replaced by a placeholder, as
error recovery does, so an error elsewhere does not hide the answer.
"""

from __future__ import annotations

import re
import threading

from n3lang.syntax.lexer import Driver, LexProblem, SyntaxProblem, _expected
from n3lang.syntax.parser import get_parser
from n3lang.syntax.recovery import _blank_statement, declaration_line

#: Put at the cursor: no token starts with it, so the lexer stops right there.
SENTINEL = "\x00"
#: Broken lines above the cursor replaced before giving up.
_MAX_REPAIRS = 10

_lock = threading.Lock()
_driver: tuple[Driver, re.Pattern, dict] | None = None


def _noop(children: list) -> None:
    return None


def _machine() -> tuple[Driver, re.Pattern, dict]:
    """A driver over the parser's tables whose reductions build nothing (so it shares no state
    with the parser's transformer), the declaration-start pattern and the tables."""
    global _driver
    with _lock:
        if _driver is None:
            tables = get_parser()[2]
            rules = tables["rules"]
            states: list = [None] * (max(tables["states"]) + 1)
            for state, row in tables["states"].items():
                out = {}
                for term, action in row.items():
                    if action < 0:
                        rule = rules[-1 - action]
                        # with no values to build, a one-child reduction only replaces the top
                        # state: the driver's fast form of a pass-through rule (its origin)
                        action = rule[1] if rule[2] == 1 and rule[1] != "start" else (rule[2], rule[1], _noop)
                    out[term] = action
                states[state] = out
            driver = Driver(states, tables["start"], tables["end"], dict(tables["punct"]), dict(tables["keywords"]))
            _driver = (driver, declaration_line(tables), tables)
        return _driver


def word_start(line_text: str, column: int) -> int:
    """The 1-based column where the word that ends at ``column`` starts (``column`` when none)."""
    index = column - 1
    while index > 0 and (line_text[index - 1].isalnum() or line_text[index - 1] == "_"):
        index -= 1
    return index + 1


def expected_at(text: str, line: int, column: int) -> set[str] | None:
    """The terminals the parser can accept at (line, column), 1-based in code points; None
    when the line before that point does not parse (or the point is inside a string)."""
    found = _state_at(text, line, column)
    return None if found is None else _acceptable(_machine()[0], *found)


_NEXT = re.compile(r"""[ ]*(?:(\w+)|("|')|([0-9])|(\*\*|[-+*/%()\[\]{}.,:<>|=])|(\#|$))""")


def reads_as_keyword(text: str, line: int, start: int, end: int, term: str) -> bool | None:
    """Does the parser read the word at text's (line, start..end) as the keyword ``term``?
    Where a name may stand too (`return list` / `return list: 1, 2`), what follows the word
    decides, as in a parse. None when the text before it does not parse."""
    found = _state_at(text, line, start)
    if found is None:
        return None
    driver = _machine()[0]
    stack, pending = found
    if term not in _acceptable(driver, stack, pending):
        return False
    after_name = _advance(driver, list(stack), "NAME")
    if after_name is None:
        return True
    after_word = _advance(driver, list(stack), term)
    following = _NEXT.match(text.split("\n")[line - 1], end - 1)
    if after_word is None or following is None:  # pragma: no cover - the term is acceptable
        return True
    word, quote, digit, punct, _ = following.groups()
    if word is not None:
        nxt = driver.keywords.get(word, "NAME")
    elif quote is not None:
        nxt = "STRING"
    elif digit is not None:
        nxt = "NUMBER"
    elif punct is not None:
        nxt = driver.punct[punct]
    else:
        nxt = "_NL"
    # A keyword goes on with its own words (`list:`, `list length`); reduced at once to an
    # ident by what follows, the word stood alone as a name (`?ident: ... | LIST`).
    action = driver.states[after_word[-1]].get(nxt)
    return action != "ident"


def _state_at(text: str, line: int, column: int) -> tuple[list[int], bool] | None:
    """The parser's state stack at (line, column), and whether a closed block's _NL waits."""
    driver, decl_line, _ = _machine()
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    offset = sum(len(part) + 1 for part in lines[: line - 1]) + column - 1
    before = text[:offset]
    start = 0
    for found in decl_line.finditer(before):
        start = found.start()
    if column == 1:
        start = offset  # a word at column 1 starts a declaration
    first_line = before.count("\n", 0, start) + 1
    chunk = before[start:].split("\n")
    for _ in range(_MAX_REPAIRS):
        try:
            driver.run("\n".join(chunk) + SENTINEL, 0, None, first_line)
        except LexProblem as problem:
            if problem.stack is not None and (problem.span.line, problem.span.column) == (line, column):
                return problem.stack, problem.pending
            broken = problem.span.line
        except SyntaxProblem as problem:
            broken = problem.token.line
        else:  # pragma: no cover - the sentinel always stops the lexer
            return None
        index = broken - first_line
        if not 0 < index < len(chunk) - 1:
            return None  # the declaration's header or the cursor's own line is broken
        _blank_statement(chunk, index)
    return None


def _acceptable(driver: Driver, stack: list[int], pending: bool) -> set[str]:
    """Terminals shiftable from ``stack``; after a closed block also those after its _NL."""
    found = _names_only(driver, stack, _expected(driver.states, stack, driver.end_state))
    if pending:
        after = _advance(driver, list(stack), "_NL")
        if after is not None:
            found |= _names_only(driver, after, _expected(driver.states, after, driver.end_state))
    return found


def _names_only(driver: Driver, stack: list[int], found: set[str]) -> set[str]:
    """Drop the keywords that are only names here (`list`, `one`... where a name fits and the
    word would go on exactly as a name would): they are not keywords at this point."""
    if "NAME" not in found:
        return found
    as_name = _advance(driver, list(stack), "NAME")
    if as_name is None:  # pragma: no cover - NAME is shiftable
        return found
    follows = _expected(driver.states, as_name, driver.end_state)
    drop = set()
    for term in found:
        if term.isupper() and term not in ("NAME", "BQ_NAME") and term in driver.keywords.values():
            after = _advance(driver, list(stack), term)
            if after is not None and _expected(driver.states, after, driver.end_state) == follows:
                drop.add(term)
    return found - drop


def _advance(driver: Driver, stack: list[int], term: str) -> list[int] | None:
    """The stack after shifting ``term`` (reducing first as needed), or None if it cannot be."""
    states = driver.states
    while True:
        action = states[stack[-1]].get(term)
        if action is None:
            return None
        if isinstance(action, int):
            stack.append(action)
            return stack
        if isinstance(action, str):
            stack[-1] = states[stack[-2]][action]
            continue
        size, origin, _ = action
        if size:
            del stack[-size:]
        goto = states[stack[-1]][origin]
        if goto == driver.end_state:
            return None
        stack.append(goto)
