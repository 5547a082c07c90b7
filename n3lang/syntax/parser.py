"""The parser: parse_source and parse_file, over lark's LALR tables for grammar/n3.lark run
by lexer.Driver.

``parse_source`` never raises. A syntax error becomes a Diagnostic, and recovery.py then
collects every declaration that parses and the further errors. The other parts live in their
own modules: tables.py (the tables from lark, cached as plain data), reductions.py (the
callback of each rule), recovery.py (after a syntax error); this module assembles them and
guards the nesting depth.
"""

from __future__ import annotations

import gc
import os
import re
import stat as _stat
import threading
from collections import OrderedDict
from functools import partial
from typing import Any, Callable

from n3lang import ast as A
from n3lang.diagnostics import Diagnostic, make
from n3lang.resources import data_path
from n3lang.syntax.errors import (
    INCONSISTENT_INDENTATION,
    NESTING_TOO_DEEP,
    PARSER_INTERNAL,
    SYNTAX_ERROR,
    UNREADABLE_FILE,
    describe_unexpected,
    hint_for,
    set_vocabulary,
)
from n3lang.syntax.lexer import SIGNIFICANT_SKIP, Driver, LexProblem, SyntaxProblem, Tok
from n3lang.syntax.page_bodies import page_body_problems
from n3lang.syntax.recovery import MAX_ERRORS_PER_DECLARATION, _more_errors, declaration_line, recover
from n3lang.syntax.reductions import reduce_action
from n3lang.syntax.selectors import with_selectors
from n3lang.syntax.tables import load_tables
from n3lang.syntax.transformer import AstBuilder
from n3lang.syntax.words import KEYWORD_OF_WORD

__all__ = ["MAX_DEPTH", "MAX_ERRORS_PER_DECLARATION", "get_parser", "parse_file", "parse_source",
           "reuse_declarations"]

#: The Program constructor, typed loosely: mypy does not read ast.py's ``_node`` alias of
#: ``dataclass(...)`` as a dataclass.
_Program: Callable[..., A.Program] = A.Program

#: Deepest nesting of AST nodes (expressions inside statements inside blocks) accepted.
MAX_DEPTH = 200

# ----------------------------------------------------------------------------- factory
_lock = threading.RLock()
_parser: tuple[Driver, AstBuilder, dict] | None = None
#: A line that starts a top-level declaration (from the grammar, set with the parser).
_declaration_line: re.Pattern = re.compile(r"(?!)")
#: (path, first line, text) of a top-level declaration -> what _parse_part made of it, when
#: reuse_declarations() turned reuse on (the language server: one keystroke re-parses one
#: declaration, not the file); least recently used first.
_reused: OrderedDict[tuple[str, int, str], tuple[list, list | None]] | None = None
_REUSE_LIMIT = 4096


def reuse_declarations(on: bool = True) -> None:
    """Keep each top-level declaration's parse and reuse it while its text and first line stay
    the same (for editors: parse_source gives what it gives without reuse, faster)."""
    global _reused
    with _lock:
        if not on:
            _reused = None
        elif _reused is None:
            _reused = OrderedDict()


def get_parser() -> tuple[Driver, AstBuilder, dict]:
    """The process-wide parser: (driver, transformer, tables), built on first use."""
    global _parser, _declaration_line
    with _lock:
        if _parser is None:
            path = data_path("grammar", "n3.lark")
            text = path.read_text(encoding="utf-8")
            tables = load_tables(text, path)
            builder = AstBuilder()
            actions: dict = {}
            rows = tables["states"]
            states: list = [None] * (max(rows) + 1)
            for state, row in rows.items():
                out = {}
                for term, action in row.items():
                    if action < 0:
                        info = actions.get(action)
                        if info is None:
                            rule = tables["rules"][-1 - action]
                            info = actions[action] = reduce_action(rule, builder)
                        action = info
                    out[term] = action
                states[state] = out
            driver = Driver(states, tables["start"], tables["end"], dict(tables["punct"]),
                            dict(tables["keywords"]))
            set_vocabulary(tables["keywords"], tables["punct"])
            _declaration_line = declaration_line(tables)
            _parser = (driver, builder, tables)
        return _parser



# ----------------------------------------------------------------------------- parsing
def parse_source(source: str, path: str = "<input>") -> tuple[A.Program | None, list[Diagnostic]]:
    """Parse .ai source text into a Program and diagnostics. Never raises."""
    try:
        return _parse_source(source, path)
    except Exception as exc:  # pragma: no cover - a bug; reported, never raised
        return _Program((), path), [
            make(PARSER_INTERNAL, f"Internal parser error: {type(exc).__name__}: {exc}", file=path)
        ]


def _parse_source(source, path):
    if not isinstance(source, str):
        if isinstance(source, (bytes, bytearray)):
            try:
                source = bytes(source).decode("utf-8")
            except UnicodeDecodeError:
                return _Program((), path), [
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
            if _reused is not None:
                decls, diagnostics = _parse_reusing(driver, builder, source, path)
            else:
                decls, diagnostics = _parse_part(driver, builder, source, 0, len(source), 1, path=path)
            if diagnostics is None:
                part = _reused_part if _reused is not None else _parse_part
                decls, diagnostics = recover(partial(part, driver, builder, path=path), source, _declaration_line)
        finally:
            if collecting:
                # Everything allocated meanwhile would be scanned by the next young-generation
                # collection, right after this; the tree is long-lived, so file it with the
                # old generation instead (freeze + unfreeze moves every tracked object there).
                gc.freeze()
                gc.unfreeze()
                gc.enable()
    if any(type(d) is A.SurfaceDecl and d.kind == "page" for d in decls):
        diagnostics.extend(page_body_problems(tuple(decls), source, path))
    diagnostics.sort(key=lambda d: (d.span.line, d.span.column))
    program = _Program(tuple(decls), path)
    if any(type(d) is A.FlowDecl and d.declarative for d in decls):
        program = with_selectors(program, lambda text: _parse_source(text, path))
    return program, diagnostics


def shifted_tokens(source: str) -> list[Tok]:
    """The tokens of ``source``'s lines (BOM and CRLF as parse_source reads them) as the lexer
    typed them for the parser, in order: a word's type says whether it was read as a keyword
    or as a NAME there (editors' semantic tokens). A declaration that does not parse gives its
    tokens up to its error (and those of the re-parses that look for further errors).

    Each top-level declaration is lexed on its own and remembered by (first line, text), so an
    editor asking again after a keystroke lexes one declaration; with a triple-quoted string in
    the file (it may cross a declaration line) the whole text is lexed at once."""
    if source.startswith("\ufeff"):
        source = source[1:]
    source = source.replace("\r\n", "\n")
    with _lock:
        driver, builder, _ = get_parser()
        if '"""' in source:
            return _traced(driver, builder, source, 0, len(source), 1, whole=True)
        tokens: list[Tok] = []
        for begin, end, line in _declaration_parts(source):
            tokens += _remembered(_traced_parts, (line, source[begin:end]),
                                  lambda: _traced(driver, builder, source, begin, end, line, whole=False))
        return tokens


#: (first line, text) of a top-level declaration -> its tokens (shifted_tokens)
_traced_parts: OrderedDict[tuple[int, str], list[Tok]] = OrderedDict()


def _traced(driver, builder, source, begin, end, line, *, whole):
    """The tokens the lexer typed while parsing source[begin:end] (and, when it does not parse,
    while recovery looked for its further errors)."""
    trace: list[Tok] = []
    driver.trace = trace
    parse = partial(_parse_part, driver, builder, path="<tokens>")
    try:
        found, diagnostics = parse(source, begin, end, line)
        if diagnostics is None:
            if whole:
                recover(parse, source, _declaration_line)
            else:
                _more_errors(parse, source[begin:end], line, found)
    except Exception:  # pragma: no cover - a bug: the tokens typed so far still count
        pass
    finally:
        driver.trace = None
    return trace


def _parse_reusing(driver, builder, source, path):
    """_parse_part of the whole text, from the declarations' own parses (reused when unchanged).

    When every declaration parses on its own, the file is those declarations in order (a line at
    column 1 that starts a declaration always ends the one before: blocks are indented). When one
    does not, so does the file (then recovery parses it declaration by declaration, as without
    reuse), unless a triple-quoted string, the one token that spans lines, may cross such a
    line: then the whole text is parsed as without reuse.
    """
    decls: list = []
    diagnostics: list = []
    for begin, end, line in _declaration_parts(source):
        found, diags = _reused_part(driver, builder, source, begin, end, line, path=path)
        if diags is None:
            if '"""' in source:
                return _parse_part(driver, builder, source, 0, len(source), 1, path=path)
            return found, None
        decls.extend(found)
        diagnostics.extend(diags)
    return decls, diagnostics


def _reused_part(driver, builder, text, begin, end, line, *, path):
    """_parse_part, remembered by (path, first line, text); the caller gets its own lists."""
    assert _reused is not None
    found, diags = _remembered(_reused, (path, line, text[begin:end]),
                               lambda: _parse_part(driver, builder, text, begin, end, line, path=path))
    return list(found), None if diags is None else list(diags)


def _declaration_parts(source: str):
    """(begin, end, first line) of each top-level declaration of ``source`` (and of any text
    before the first), in order."""
    starts = [m.start() for m in _declaration_line.finditer(source)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(source))
    line = 1
    for begin, end in zip(starts, starts[1:]):
        yield begin, end, line
        line += source.count("\n", begin, end)


def _remembered(cache: OrderedDict, key, make: Callable[[], Any]) -> Any:
    """``cache[key]``, made by ``make()`` when missing; the least recently used entry goes
    past _REUSE_LIMIT. Callers copy what they change: the value is shared."""
    done = cache.get(key)
    if done is None:
        done = cache[key] = make()
        if len(cache) > _REUSE_LIMIT:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return done


def _parse_part(driver, builder, text, begin, end, line, *, path):
    """Parse text[begin:end]: (decls, diagnostics), or (error diagnostics, None) on failure."""
    builder.diagnostics = []
    builder._bare_state = {}
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
    words = [w for w, t in KEYWORD_OF_WORD.items() if t in exc.expected]
    if exc.after_block and len(exc.expected) == 1 and len(words) == 1:
        # `map get map:` + its block, then not `key ...`: namel3ss's words, at that line
        message = f"Expected '{words[0]}'"
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
    # depth in half levels: the left operand of a binary operator that is itself a binary
    # operation (a flat chain `1 + 2 + 3 ...`) is half a level deeper, anything else a whole
    # level; so a chain of up to 2 * MAX_DEPTH operators passes, and the recursion of the
    # checker and interpreter over it stays well inside Python's limit (issue 12, F17)
    limit = 2 * MAX_DEPTH
    stack = [(root, 2)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node
        chain = type(node) is A.Binary
        for name in type(node).__slots__:
            if name in ("span", "name_span", "model_span"):
                continue
            value = getattr(node, name, None)
            if type(value) is tuple:
                for item in value:
                    if type(item) in _AST_CLASSES:
                        stack.append((item, depth + 2))
            elif type(value) in _AST_CLASSES:
                step = 1 if chain and name == "left" and type(value) is A.Binary else 2
                stack.append((value, depth + step))
    return None


# ----------------------------------------------------------------------------- files
def parse_file(path) -> tuple[A.Program | None, list[Diagnostic], str]:
    """Read and parse a file: (program, diagnostics, source); unreadable files are diagnostics."""
    name = str(path)
    try:  # non-blocking open + fstat: a FIFO or a device (/dev/zero) would block or never end
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as fh:
            if not _stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                kind = "a directory" if _stat.S_ISDIR(os.fstat(fh.fileno()).st_mode) else "a FIFO, device or socket"
                return None, [make(UNREADABLE_FILE, f"Cannot read '{name}': it is {kind}, not a regular file",
                                   file=name)], ""
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
