"""The parser: lark's LALR tables for grammar/n3.lark (cached as plain data), run by
lexer.Driver, with recovery.

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
import importlib.util
import marshal
import os
import re
import stat as _stat
import threading
from functools import partial
from operator import itemgetter
from pathlib import Path

from n3lang import ast as A
from n3lang.diagnostics import Diagnostic, make
from n3lang.resources import data_path
from n3lang.syntax.errors import (
    set_keywords,
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

# ----------------------------------------------------------------------------- factory
#
# Lark computes the LALR tables and the shape of each rule's children (which ones are kept,
# where ``None`` fills an absent ``[optional]``, which ``?rule`` passes its child through).
# That is plain data, saved next to lark's own cache as a marshal file; a later process loads
# it without importing lark at all (importing lark and loading its cache cost more than a
# tenth of a second, a large part of `n3 check` on a small file).

_lock = threading.RLock()
_parser: tuple[Driver, AstBuilder, dict] | None = None

#: Version of the saved tables' layout; part of the cache file's name.
_TABLES_FORMAT = 2

#: How a rule's children are filtered before its method sees them (as lark does it).
_NO_FILTER, _FILTER_PLACEHOLDERS, _FILTER_NO_PLACEHOLDERS = 0, 1, 2


def _cache_folder() -> Path | None:
    """A private per-user folder for the parser caches, or None (no caching)."""
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
    return folder


def _cache_file(grammar_text: str, lark_version: str) -> str | None:
    """Where lark may keep its LALR tables: a private per-user folder, or nowhere."""
    folder = _cache_folder()
    if folder is None:
        return None
    digest = hashlib.sha256((grammar_text + lark_version).encode("utf-8")).hexdigest()[:16]
    return str(folder / f"grammar-{digest}.lark-cache")


def _tables_file(grammar_text: str) -> Path | None:
    """Where n3lang keeps the tables it takes from lark, or None (no caching)."""
    version = _lark_version()
    if version is None:
        return None
    folder = _cache_folder()
    if folder is None:
        return None
    key = f"{grammar_text}\0{version}\0{_TABLES_FORMAT}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return folder / f"tables-{digest}.marshal"


def _lark_version() -> str | None:
    """The installed lark's version, read from its source without importing it."""
    try:
        spec = importlib.util.find_spec("lark")
        if spec is None or not spec.origin:
            return None
        with open(spec.origin, encoding="utf-8") as fh:
            source = fh.read()
        found = re.search(r"""^__version__\s*(?::\s*str\s*)?=\s*['"]([^'"]+)['"]""", source, re.M)
    except Exception:
        return None
    return found.group(1) if found else None


def _tables_only_lexer():
    """Lark needs a lexer class; n3lang.syntax.lexer.Driver does the lexing itself. Defined
    on first use (lark is imported only to build the tables), at module level so that lark's
    cache can pickle a reference to it."""
    global _TablesOnly
    if "_TablesOnly" not in globals():
        from lark.lexer import Lexer

        class _TablesOnly(Lexer):
            __future_interface__ = 2

            def __init__(self, lexer_conf) -> None:
                self.lexer_conf = lexer_conf

            def lex(self, lexer_state, parser_state):  # pragma: no cover - never used
                raise NotImplementedError("n3lang parses with n3lang.syntax.lexer.Driver")

    return _TablesOnly


def _build(text: str, path: Path):
    """Lark's LALR build of the grammar, from lark's disk cache if valid.

    No parse tree is ever built and lexing is done by n3lang.syntax.lexer, so lark gets no
    transformer and a placeholder lexer class: only its tables and rule shapes are used.
    """
    import lark
    from lark import Lark

    options = dict(parser="lalr", lexer=_tables_only_lexer(), maybe_placeholders=True)
    cache = _cache_file(text, lark.__version__)
    if cache:
        try:
            return Lark.open(str(path), cache=cache, **options)
        except Exception:  # an unreadable or stale cache: build afresh
            pass
    return Lark.open(str(path), **options)


def _tables_from_lark(text: str, path: Path) -> dict:
    """The tables as plain data (see _check_tables for the layout), from lark's build."""
    from functools import partial as _partial

    from lark.lexer import PatternStr
    from lark.parse_tree_builder import (
        ChildFilterLALR,
        ChildFilterLALR_NoPlaceholders,
        ExpandSingleChild,
    )
    from lark.parsers.lalr_analysis import Shift

    lark_parser = _build(text, path)
    inner = lark_parser.parser.parser.parser  # lark's _Parser: tables + callbacks
    table = inner.parse_table
    callbacks = inner.callbacks
    rule_index: dict = {}
    rules: list = []
    states: dict = {}
    for state, actions in table.states.items():
        row = {}
        for term, (action, arg) in actions.items():
            if action is Shift:
                row[str(term)] = arg
                continue
            index = rule_index.get(arg)
            if index is None:
                index = rule_index[arg] = len(rules)
                f = callbacks[arg]
                kind, include, append_none = _NO_FILTER, [], 0
                if type(f) is ChildFilterLALR:
                    kind = _FILTER_PLACEHOLDERS
                    include = [[i, bool(e), n] for i, e, n in f.to_include]
                    append_none = f.append_none
                    f = f.node_builder
                elif type(f) is ChildFilterLALR_NoPlaceholders:
                    kind = _FILTER_NO_PLACEHOLDERS
                    include = [[i, bool(e)] for i, e in f.to_include]
                    f = f.node_builder
                expand1 = type(f) is ExpandSingleChild
                if expand1:
                    f = f.node_builder
                if type(f) is not _partial:  # lark built this rule with no transformer
                    raise TypeError(f"unexpected lark callback {f!r}")
                rules.append(
                    [
                        str(f.args[0]),  # the transformer method's name (alias or rule)
                        str(arg.origin.name),
                        len(arg.expansion),
                        bool(arg.options.expand1),
                        expand1,
                        kind,
                        include,
                        append_none,
                        bool(arg.expansion) and arg.expansion[0] == arg.origin,
                    ]
                )
            row[str(term)] = -1 - index
        states[int(state)] = row
    punct = {
        str(t.pattern.value): str(t.name)
        for t in lark_parser.terminals
        if isinstance(t.pattern, PatternStr) and not t.pattern.value.isalpha()
    }
    # The keywords are the grammar's word terminals (SPEC: "spec"): no hand-kept list.
    keywords = {
        str(t.pattern.value): str(t.name)
        for t in lark_parser.terminals
        if isinstance(t.pattern, PatternStr) and t.pattern.value.isalpha()
    }
    return {
        "format": _TABLES_FORMAT,
        "states": states,
        "start": int(table.start_states["start"]),
        "end": int(table.end_states["start"]),
        "rules": rules,
        "punct": punct,
        "keywords": keywords,
    }


def _check_tables(tables) -> bool:
    """A loaded tables file has the layout _tables_from_lark writes (else it is rebuilt)."""
    try:
        if tables["format"] != _TABLES_FORMAT:
            return False
        states, rules = tables["states"], tables["rules"]
        count = len(rules)
        for state, row in states.items():
            if type(state) is not int or type(row) is not dict:
                return False
            for term, action in row.items():
                if type(term) is not str or type(action) is not int or action < -count:
                    return False
                if action >= 0 and action not in states:
                    return False
        for rule in rules:
            name, origin, size, _, _, kind, include, append_none, _ = rule
            if type(name) is not str or type(origin) is not str or type(size) is not int:
                return False
            if kind not in (_NO_FILTER, _FILTER_PLACEHOLDERS, _FILTER_NO_PLACEHOLDERS):
                return False
            if any(not 0 <= item[0] < size for item in include) or type(append_none) is not int:
                return False
        return (
            tables["start"] in states
            and type(tables["end"]) is int
            and all(type(k) is str and type(v) is str for k, v in tables["punct"].items())
            and all(type(k) is str and type(v) is str for k, v in tables["keywords"].items())
        )
    except Exception:
        return False


def _load_tables(text: str, path: Path) -> dict:
    """The tables from n3lang's cache file if valid, else from lark (and then saved)."""
    target = _tables_file(text)
    if target is not None:
        try:
            with open(target, "rb") as fh:
                tables = marshal.loads(fh.read())  # (marshal.load reads a file piecemeal)
            if _check_tables(tables):
                return tables
        except Exception:  # missing, unreadable or stale: rebuild
            pass
    tables = _tables_from_lark(text, path)
    if target is not None:
        temp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(temp, "wb") as fh:
                marshal.dump(tables, fh)
            os.replace(temp, target)
        except Exception:  # caching is optional
            try:
                os.unlink(temp)
            except OSError:
                pass
    return tables


def get_parser() -> tuple[Driver, AstBuilder, dict]:
    """The process-wide parser: (driver, transformer, tables), built on first use."""
    global _parser
    with _lock:
        if _parser is None:
            path = data_path("grammar", "n3.lark")
            text = path.read_text(encoding="utf-8")
            tables = _load_tables(text, path)
            builder = AstBuilder()
            actions = {}
            rows = tables["states"]
            states: list = [None] * (max(rows) + 1)
            for state, row in rows.items():
                out = {}
                for term, action in row.items():
                    if action < 0:
                        info = actions.get(action)
                        if info is None:
                            rule = tables["rules"][-1 - action]
                            info = actions[action] = _reduce_action(rule, builder)
                        action = info
                    out[term] = action
                states[state] = out
            driver = Driver(states, tables["start"], tables["end"], dict(tables["punct"]),
                            dict(tables["keywords"]))
            set_keywords(tables["keywords"])
            _parser = (driver, builder, tables)
        return _parser


# Lark's child filters and single-child expansion (lark/parse_tree_builder.py), for the rules
# whose children need them; _direct replaces most of them by something cheaper.
class _ExpandSingleChild:
    __slots__ = ("node_builder",)

    def __init__(self, node_builder) -> None:
        self.node_builder = node_builder

    def __call__(self, children):
        if len(children) == 1:
            return children[0]
        return self.node_builder(children)


class _ChildFilter:
    __slots__ = ("to_include", "append_none", "node_builder")

    def __init__(self, to_include, append_none, node_builder) -> None:
        self.to_include = to_include
        self.append_none = append_none
        self.node_builder = node_builder

    def __call__(self, children):
        filtered = []
        for i, to_expand, add_none in self.to_include:
            if add_none:
                filtered += [None] * add_none
            if to_expand:
                if filtered:
                    filtered += children[i].children
                else:  # lark's optimisation for left recursion: reuse the list
                    filtered = children[i].children
            else:
                filtered.append(children[i])
        if self.append_none:
            filtered += [None] * self.append_none
        return self.node_builder(filtered)


class _ChildFilterNoPlaceholders:
    __slots__ = ("to_include", "node_builder")

    def __init__(self, to_include, node_builder) -> None:
        self.to_include = to_include
        self.node_builder = node_builder

    def __call__(self, children):
        filtered = []
        for i, to_expand in self.to_include:
            if to_expand:
                if filtered:
                    filtered += children[i].children
                else:
                    filtered = children[i].children
            else:
                filtered.append(children[i])
        return self.node_builder(filtered)


def _callback(rule, builder):
    """The callback lark would build for ``rule`` with ``builder`` as its transformer."""
    name, _, _, _, expand1, kind, include, append_none, _ = rule
    method = getattr(builder, name, None)
    if method is None:
        default = builder.__default__
        method = partial(lambda data, children: default(data, children, None), name)
    if expand1:
        method = _ExpandSingleChild(method)
    if kind == _FILTER_PLACEHOLDERS:
        return _ChildFilter([tuple(x) for x in include], append_none, method)
    if kind == _FILTER_NO_PLACEHOLDERS:
        return _ChildFilterNoPlaceholders([tuple(x) for x in include], method)
    return method


def _reduce_action(rule, builder):
    """How the driver reduces by ``rule``: the origin name alone for a pass-through rule
    (``?rule: child`` keeps its one child), else (size, origin, callback)."""
    callback = _callback(rule, builder)
    _, origin, size, rule_expand1, *_ = rule
    if size == 1 and rule_expand1:
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

    Where the child filter only drops tokens, call the method on a slice or a pick of the
    children. For lark's helper rules of ``x*`` / ``x+`` (named ``__...``), build the list
    the parent splices in directly, appending to it in place on each further item.
    """
    _, origin, size, _, _, _, _, _, left_recursive = rule
    include = getattr(callback, "to_include", None)
    if type(callback) is _ChildFilter and not origin.startswith("__"):
        if any(expand for _, expand, _ in include):
            return callback
        plan: list = []
        for i, _, add_none in include:
            plan.extend([None] * add_none)
            plan.append(i)
        plan.extend([None] * callback.append_none)
        method = callback.node_builder
        if len(plan) == 1:
            only = plan[0]
            if only is None:
                return lambda children: method([None])
            return lambda children: method([children[only]])
        if None not in plan:
            getter = itemgetter(*plan)
            return lambda children: method(list(getter(children)))
        # An absent item is read from a None appended to the children (the driver hands
        # each reduction a list of its own).
        getter = itemgetter(*[size if i is None else i for i in plan])

        def pick(children):
            children.append(None)
            return method(list(getter(children)))

        return pick
    if type(callback) is _ChildFilterNoPlaceholders:
        picks = [i for i, _ in include]
        expands = [e for _, e in include]
    elif type(callback) is partial and origin.startswith("__"):
        picks = list(range(size))
        expands = [False] * len(picks)
    else:
        return callback
    if origin.startswith("__"):
        if expands == [True, False] and picks[0] == 0 and left_recursive:
            item = picks[1]

            def append(children):
                seq = children[0]
                seq.children.append(children[item])
                return seq

            return append
        if not any(expands):
            if picks == list(range(size)):
                return lambda children: Seq(origin, children)
            return lambda children: Seq(origin, [children[i] for i in picks])
        return callback
    method = callback.node_builder
    if any(expands):
        # Only a last item that is spliced in (a block's statements) is made cheap: the
        # kept items before it make the list non-empty, so lark's filter extends it.
        if any(expands[:-1]):
            return callback
        spliced = picks[-1]
        before = picks[:-1]
        if not before:  # lark hands the method the spliced list itself
            return lambda children: method(children[spliced].children)
        if len(before) == 1:
            first = before[0]
            return lambda children: method([children[first]] + children[spliced].children)
        getter = itemgetter(*before)
        return lambda children: method(list(getter(children)) + children[spliced].children)
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
                # Everything allocated meanwhile would be scanned by the next young-generation
                # collection, right after this; the tree is long-lived, so file it with the
                # old generation instead (freeze + unfreeze moves every tracked object there).
                gc.freeze()
                gc.unfreeze()
                gc.enable()
    diagnostics.sort(key=lambda d: (d.span.line, d.span.column))
    return A.Program(tuple(decls), path), diagnostics


def _parse_part(driver, builder, text, begin, end, line, path):
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
        if header == "let:" or word == "set" and header.endswith("with:"):  # §5 blocks
            return "recovered is 0"
        if header == "calc:":
            return "recovered = 0"
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
