"""The LALR tables of grammar/n3.lark: taken from lark's build, cached as plain data.

Lark computes the LALR tables and the shape of each rule's children (which ones are kept,
where ``None`` fills an absent ``[optional]``, which ``?rule`` passes its child through).
That is plain data, saved next to lark's own cache as a marshal file; a later process loads
it without importing lark at all (importing lark and loading its cache cost more than a
tenth of a second, a large part of `n3 check` on a small file). The keywords and punctuation
come from the grammar's own terminals (``SPEC: "spec"``, ``":"``): no hand-kept list.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import re
import threading
from pathlib import Path

#: Version of the saved tables' layout; part of the cache file's name.
TABLES_FORMAT = 3

#: How a rule's children are filtered before its method sees them (as lark does it).
NO_FILTER, FILTER_PLACEHOLDERS, FILTER_NO_PLACEHOLDERS = 0, 1, 2


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
    key = f"{grammar_text}\0{version}\0{TABLES_FORMAT}"
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
                kind, include, append_none = NO_FILTER, [], 0
                if type(f) is ChildFilterLALR:
                    kind = FILTER_PLACEHOLDERS
                    include = [[i, bool(e), n] for i, e, n in f.to_include]
                    append_none = f.append_none
                    f = f.node_builder
                elif type(f) is ChildFilterLALR_NoPlaceholders:
                    kind = FILTER_NO_PLACEHOLDERS
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
        if isinstance(t.pattern, PatternStr) and not _is_word(t.pattern.value)
    }
    # The keywords are the grammar's word terminals (SPEC: "spec"): no hand-kept list.
    keywords = {
        str(t.pattern.value): str(t.name)
        for t in lark_parser.terminals
        if isinstance(t.pattern, PatternStr) and _is_word(t.pattern.value)
    }
    return {
        "format": TABLES_FORMAT,
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
        if tables["format"] != TABLES_FORMAT:
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
            if kind not in (NO_FILTER, FILTER_PLACEHOLDERS, FILTER_NO_PLACEHOLDERS):
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


def load_tables(text: str, path: Path) -> dict:
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


def _is_word(text: str) -> bool:
    """A keyword terminal's text: letters, and `_` inside (tenant_key)."""
    return text.replace("_", "").isalpha()
