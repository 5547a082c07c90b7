"""The parser: a cached Lark LALR build of grammar/n3.lark, run by lexer.Driver, with recovery.

``parse_source`` never raises. A syntax error becomes a Diagnostic; the parser then re-parses
the file one top-level declaration at a time (each line at column 1 that starts with a
declaration keyword begins one), so the checker still gets every declaration that parsed.
Inside a broken declaration, the broken line is replaced by a placeholder and the
declaration parsed again to find its further errors (up to MAX_ERRORS_PER_DECLARATION); the
broken declaration itself is dropped, never guessed at.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import threading
from functools import partial
from operator import itemgetter
from pathlib import Path

import lark
from lark import Lark
from lark.lexer import Lexer, PatternStr
from lark.parse_tree_builder import ChildFilterLALR, ChildFilterLALR_NoPlaceholders
from lark.parsers.lalr_analysis import Shift

from n3lang import ast as A
from n3lang.diagnostics import Diagnostic, make
from n3lang.resources import data_path
from n3lang.syntax.errors import (
    INCONSISTENT_INDENTATION,
    NESTING_TOO_DEEP,
    PARSER_INTERNAL,
    SYNTAX_ERROR,
    UNREADABLE_FILE,
    UNTERMINATED_STRING,
    describe_unexpected,
    hint_for,
)
from n3lang.syntax.lexer import SIGNIFICANT_SKIP, Driver, LexProblem, SyntaxProblem
from n3lang.syntax.transformer import AstBuilder, Seq

#: Deepest nesting of AST nodes (expressions inside statements inside blocks) accepted.
MAX_DEPTH = 200

_DECL_LINE = re.compile(r"^(?:spec|capabilities|record|flow|define|ai|model)(?!\w)", re.M)


class _TablesOnly(Lexer):
    """Lark needs a lexer class; n3lang.syntax.lexer.Driver does the lexing itself."""

    __future_interface__ = 2

    def __init__(self, lexer_conf) -> None:
        self.lexer_conf = lexer_conf

    def lex(self, lexer_state, parser_state):  # pragma: no cover - never used
        raise NotImplementedError("n3lang parses with n3lang.syntax.lexer.Driver")


# ----------------------------------------------------------------------------- factory
_lock = threading.RLock()
_parser: tuple[Driver, AstBuilder, Lark] | None = None


def _cache_file(grammar_text: str) -> str | None:
    """Where lark may keep its LALR tables: a private per-user folder, or nowhere."""
    if os.environ.get("N3_NO_PARSER_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "n3lang"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            return None
        if hasattr(os, "getuid") and folder.stat().st_uid != os.getuid():
            return None
    except OSError:
        return None
    digest = hashlib.sha256((grammar_text + lark.__version__).encode("utf-8")).hexdigest()[:16]
    return str(folder / f"grammar-{digest}.lark-cache")


def _build(text: str, path: Path, builder: AstBuilder) -> Lark:
    """Lark's LALR build of the grammar (tables and callbacks), from the disk cache if valid.

    No parse tree is ever built (the transformer runs inside the parser and the driver keeps
    its own positions), so ``propagate_positions`` would only add work; lexing is done by
    n3lang.syntax.lexer, so lark gets a placeholder lexer class.
    """
    options = dict(
        parser="lalr",
        lexer=_TablesOnly,
        transformer=builder,
        maybe_placeholders=True,
    )
    cache = _cache_file(text)
    if cache:
        try:
            return Lark.open(str(path), cache=cache, **options)
        except Exception:  # an unreadable or stale cache: build afresh
            pass
    return Lark.open(str(path), **options)


def get_parser() -> tuple[Driver, AstBuilder, Lark]:
    """The process-wide parser: (driver, transformer, lark instance), built on first use."""
    global _parser
    with _lock:
        if _parser is None:
            path = data_path("grammar", "n3.lark")
            text = path.read_text(encoding="utf-8")
            builder = AstBuilder()
            lark_parser = _build(text, path, builder)
            inner = lark_parser.parser.parser.parser  # lark's _Parser: tables + callbacks
            table = inner.parse_table
            callbacks = inner.callbacks
            reduce_info = {}
            states = {}
            for state, actions in table.states.items():
                row = {}
                for term, (action, arg) in actions.items():
                    term = str(term)
                    if action is Shift:
                        row[term] = arg
                    else:
                        info = reduce_info.get(arg)
                        if info is None:
                            info = _reduce_action(arg, callbacks[arg])
                            reduce_info[arg] = info
                        row[term] = info
                states[state] = row
            punct = {
                t.pattern.value: t.name
                for t in lark_parser.terminals
                if isinstance(t.pattern, PatternStr) and not t.pattern.value.isalpha()
            }
            driver = Driver(
                states, table.start_states["start"], table.end_states["start"], punct
            )
            _parser = (driver, builder, lark_parser)
        return _parser


def _reduce_action(rule, callback):
    """How the driver reduces by ``rule``: the origin name alone for a pass-through rule
    (``?rule: child`` keeps its one child), else (size, origin, callback)."""
    size = len(rule.expansion)
    origin = str(rule.origin.name)  # a plain str: the driver tells unit rules by their class
    if size == 1 and rule.options.expand1:
        probe = object()
        try:
            passes = callback([probe]) is probe
        except Exception:
            passes = False
        if passes:
            return origin
    return (size, origin, _direct(rule, callback))


def _direct(rule, callback):
    """The same reduction with less work per call.

    Where lark's child filter only drops tokens, call the method on a slice or a pick of the
    children. For lark's helper rules of ``x*`` / ``x+`` (named ``__...``), build the list
    the parent splices in directly, appending to it in place on each further item.
    """
    origin = rule.origin.name
    include = getattr(callback, "to_include", None)
    if type(callback) is ChildFilterLALR and not origin.startswith("__"):
        if any(expand for _, expand, _ in include):
            return callback
        plan: list = []
        for i, _, add_none in include:
            plan.extend([None] * add_none)
            plan.append(i)
        plan.extend([None] * callback.append_none)
        method = callback.node_builder
        return lambda children: method([None if i is None else children[i] for i in plan])
    if type(callback) is ChildFilterLALR_NoPlaceholders:
        picks = [i for i, _ in include]
        expands = [e for _, e in include]
    elif type(callback) is partial and origin.startswith("__"):
        picks = list(range(len(rule.expansion)))
        expands = [False] * len(picks)
    else:
        return callback
    if origin.startswith("__"):
        if expands == [True, False] and picks[0] == 0 and rule.expansion[0] == rule.origin:
            item = picks[1]

            def append(children):
                seq = children[0]
                seq.children.append(children[item])
                return seq

            return append
        if not any(expands):
            if picks == list(range(len(rule.expansion))):
                return lambda children: Seq(origin, children)
            return lambda children: Seq(origin, [children[i] for i in picks])
        return callback
    if any(expands):
        return callback
    method = callback.node_builder
    count = len(picks)
    if picks == list(range(count)):
        return lambda children: method(children[:count])
    if count == 1:
        only = picks[0]
        return lambda children: method([children[only]])
    getter = itemgetter(*picks)
    return lambda children: method(list(getter(children)))


# ----------------------------------------------------------------------------- parsing
def parse_source(source: str, path: str = "<input>") -> tuple[A.Program | None, list[Diagnostic]]:
    """Parse .ai source text into a Program and diagnostics. Never raises."""
    try:
        return _parse_source(source, path)
    except Exception as exc:  # pragma: no cover - a bug; reported, never raised
        return A.Program((), path), [
            make(PARSER_INTERNAL, f"Internal parser error: {type(exc).__name__}: {exc}", file=path)
        ]


def _parse_source(source, path):
    if not isinstance(source, str):
        if isinstance(source, (bytes, bytearray)):
            try:
                source = bytes(source).decode("utf-8")
            except UnicodeDecodeError:
                return A.Program((), path), [
                    make(UNREADABLE_FILE, "The source is not valid UTF-8 text", file=path)
                ]
        else:
            source = str(source)
    if source.startswith("\ufeff"):
        source = source[1:]
    if "\r\n" in source:  # CRLF input: same lines and columns, and text values get "\n"
        source = source.replace("\r\n", "\n")
    with _lock:
        driver, builder, _ = get_parser()
        # The AST holds no reference cycles: collecting while it grows is wasted work.
        collecting = gc.isenabled()
        gc.disable()
        try:
            decls, diagnostics = _parse_part(driver, builder, source, 0, len(source), 1, path)
            if diagnostics is None:
                decls, diagnostics = _recover(driver, builder, source, path)
        finally:
            if collecting:
                gc.enable()
    diagnostics.sort(key=lambda d: (d.span.line, d.span.column))
    return A.Program(tuple(decls), path), diagnostics


def _parse_part(driver, builder, text, begin, end, line, path):
    """Parse text[begin:end]: (decls, diagnostics), or (error diagnostics, None) on failure."""
    builder.diagnostics = []
    builder.path = path
    try:
        decls = driver.run(text, begin, end, line)
    except (LexProblem, SyntaxProblem) as exc:
        found = builder.diagnostics
        found.append(_to_diagnostic(exc, driver, path))
        return found, None
    diagnostics = builder.diagnostics
    if driver.max_line_tokens > 40 or driver.max_levels > 20:
        decls = _guard_depth(decls, diagnostics, path)
    return decls, diagnostics


def _recover(driver, builder, source, path):
    """Parse each top-level declaration on its own, collecting what parses and every error."""
    starts = [m.start() for m in _DECL_LINE.finditer(source)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(source))
    decls: list = []
    diagnostics: list[Diagnostic] = []
    line = 1
    for begin, end in zip(starts, starts[1:]):
        found, diags = _parse_part(driver, builder, source, begin, end, line, path)
        if diags is None:
            diagnostics.extend(found)
            diagnostics.extend(_more_errors(driver, builder, source[begin:end], line, path, found))
        else:
            decls.extend(found)
            diagnostics.extend(diags)
        line += source.count("\n", begin, end)
    return decls, diagnostics


#: Most further syntax errors looked for inside one broken declaration.
MAX_ERRORS_PER_DECLARATION = 10


def _more_errors(driver, builder, chunk: str, first_line: int, path: str, found: list) -> list:
    """Further syntax errors of one broken declaration.

    The line of the last error (and the lines indented under it) is blanked out and the
    declaration parsed again, until it parses or no progress is made. The declaration itself
    is still dropped, so the checker never sees a guess; only the errors are kept.
    """
    seen = {(d.code, d.span.line, d.span.column, d.message) for d in found}
    more: list[Diagnostic] = []
    lines = chunk.split("\n")
    last = found[-1].span.line
    if found[-1].code == UNTERMINATED_STRING:  # the rest of the file is inside the string
        return more
    for _ in range(MAX_ERRORS_PER_DECLARATION):
        index = last - first_line
        if index <= 0 or index >= len(lines):
            break
        _blank_statement(lines, index)
        result, diags = _parse_part(driver, builder, "\n".join(lines), 0, None, first_line, path)
        parsed = diags is not None
        new = diags if parsed else result
        # Only what lies after the blanked line is news: an error before it, or a block the
        # blanking left empty, is an artefact.
        fresh = [
            d
            for d in new
            if d.span.line > last
            and not d.message.startswith("Expected an indented block")
            and (d.code, d.span.line, d.span.column, d.message) not in seen
        ]
        for d in fresh:
            seen.add((d.code, d.span.line, d.span.column, d.message))
        if parsed:  # the rest of the declaration is fine
            more.extend(fresh)
            break
        if new[-1] not in fresh:
            break
        more.extend(fresh)
        if new[-1].code == UNTERMINATED_STRING:
            break
        last = new[-1].span.line
    return more


def _blank_statement(lines: list[str], index: int) -> None:
    """Replace a broken line (and the lines indented under it) by a placeholder that is valid
    where it stands, chosen by the header of its block; blank lines never indent."""
    depth = _indent(lines[index]) or 0
    lines[index] = " " * depth + _placeholder(lines, index, depth)
    for k in range(index + 1, len(lines)):
        level = _indent(lines[k])
        if level is None:
            continue
        if level <= depth:
            break
        lines[k] = ""


def _placeholder(lines: list[str], index: int, depth: int) -> str:
    for up in range(index - 1, -1, -1):
        level = _indent(lines[up])
        if level is None or level >= depth:
            continue
        header = lines[up].split(" #")[0].strip()
        word = header.split(" ", 1)[0]
        if header.endswith(("map:", "set:")) or "call function" in header:
            return "recovered is 0"
        if word in ("record", "fields:"):
            return "recovered text"
        if word in ("input:", "output:"):
            return "recovered is number"
        if word in ("ai", "model"):
            return "recovered is 0"
        if word == "capabilities:":
            return "recovered"
        if header.endswith("list:"):
            return "0"
        if word == "with:":
            return ""
        return "let recovered is 0"
    return ""


def _indent(line: str) -> int | None:
    """Indentation of a code line; None for a blank or comment-only line."""
    stripped = line.lstrip(" ")
    if not stripped or stripped.startswith("#") or stripped == "\r":
        return None
    return len(line) - len(stripped)


def _to_diagnostic(exc, driver: Driver, path: str) -> Diagnostic:
    if isinstance(exc, LexProblem):
        return make(exc.code, exc.message, exc.span, path)
    tok = exc.token
    if tok.type == "_INDENT":
        above = driver.line_first or driver.prev_line_first
        expected = above.column - 1 if above is not None else 0
        return make(
            INCONSISTENT_INDENTATION,
            f"Unexpected indentation (got {tok.column - 1} spaces, expected {expected})",
            A.Span(tok.line, tok.column, tok.line, tok.column + 1),
            path,
        )
    prev = driver.last if tok.type in SIGNIFICANT_SKIP else driver.prev
    message, span = describe_unexpected(
        tok, exc.expected, prev, driver.line_first, driver.prev_line_first
    )
    hint = hint_for(message)
    if hint is None:
        return make(SYNTAX_ERROR, message, span, path)
    return make(SYNTAX_ERROR, message, span, path, fix=hint[0], example=hint[1])


# ----------------------------------------------------------------------------- depth guard
_AST_CLASSES = frozenset(
    v for v in vars(A).values() if isinstance(v, type) and v.__module__ == A.__name__
)


def _guard_depth(decls, diagnostics, path):
    """Drop declarations nested deeper than MAX_DEPTH (measured without recursion)."""
    kept = []
    for decl in decls:
        node = _too_deep(decl)
        if node is None:
            kept.append(decl)
        else:
            diagnostics.append(
                make(
                    NESTING_TOO_DEEP,
                    f"This is nested too deeply (more than {MAX_DEPTH} levels)",
                    getattr(node, "span", A.UNKNOWN),
                    path,
                )
            )
    return kept


def _too_deep(root):
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        for name in type(node).__slots__:
            if name in ("span", "name_span", "model_span"):
                continue
            value = getattr(node, name, None)
            if type(value) is tuple:
                for item in value:
                    if type(item) in _AST_CLASSES:
                        stack.append((item, depth + 1))
            elif type(value) in _AST_CLASSES:
                stack.append((value, depth + 1))
    return None


# ----------------------------------------------------------------------------- files
def parse_file(path) -> tuple[A.Program | None, list[Diagnostic], str]:
    """Read and parse a file: (program, diagnostics, source); unreadable files are diagnostics."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return None, [make(UNREADABLE_FILE, f"Cannot read '{name}': {reason}", file=name)], ""
    except Exception as exc:  # e.g. an invalid path value
        return None, [make(UNREADABLE_FILE, f"Cannot read '{name}': {exc}", file=name)], ""
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return (
            None,
            [
                make(
                    UNREADABLE_FILE,
                    f"The file is not valid UTF-8 text (byte 0x{data[exc.start]:02x})",
                    A.Span(line, column, line, column + 1),
                    name,
                )
            ],
            "",
        )
    program, diagnostics = parse_source(source, name)
    return program, diagnostics, source
