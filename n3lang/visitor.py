"""The walking machinery the checker and the interpreter share (bottom layer: imports the AST only).

``Visitor``: a subclass's ``visit_<NodeClass>`` methods are found once, when the class is
defined, and kept as a table from AST node class to method (``VISIT``); ``dispatch_table()``
binds it to one instance, so a hot loop calls ``table[node.__class__](node)`` and nothing more.
``tests/test_visitors.py`` checks that every node class of ``n3lang.ast`` has a visit method in
both walkers, or is listed there as a part or a declaration with its reason.

``Frames``: the one place where a scope frame begins and ends. The walker keeps its current
scope in its ``scope`` attribute (read directly on hot paths); a ``with`` block from its
``frames`` installs a new frame, or binds names in the current one, and restores what was
there when the block ends, by return or by exception.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Callable, ClassVar, Iterable, Mapping

from n3lang import ast as A


class Visitor:
    """Base of a tree walker: ``visit_<NodeClass>`` methods, dispatched by node class."""

    VISIT: ClassVar[dict[type, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: dict[type, Callable[..., Any]] = {}
        for name in dir(cls):
            if name.startswith("visit_"):
                node_class = getattr(A, name[6:], None)
                if isinstance(node_class, type):
                    table[node_class] = getattr(cls, name)
        cls.VISIT = table

    def dispatch_table(self) -> dict[type, Callable[[Any], Any]]:
        """The class table with each method bound to this walker: node class -> visit method."""
        return {node_class: method.__get__(self) for node_class, method in self.VISIT.items()}


class _Frame:
    """``with``: install ``scope`` as the owner's scope; put the old one back at the end."""

    __slots__ = ("owner", "scope", "saved")

    def __init__(self, owner: Any, scope: Any) -> None:
        self.owner = owner
        self.scope = scope

    def __enter__(self) -> Any:
        self.saved = self.owner.scope
        self.owner.scope = self.scope
        return self.scope

    def __exit__(self, *exc: object) -> None:
        self.owner.scope = self.saved


class _CallFrame(_Frame):
    """A function's frame: its own scope, no constants and no last value; all three restored."""

    __slots__ = ("saved_constants", "saved_last")

    def __enter__(self) -> Any:
        owner = self.owner
        self.saved_constants, self.saved_last = owner.constants, owner.last
        owner.constants = set()
        owner.last = None
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        owner = self.owner
        owner.scope, owner.constants, owner.last = self.saved, self.saved_constants, self.saved_last


class _DictNames:
    """``with``: names bound in the current (dict) frame; each gets its old value back after
    (or is removed when it was not bound before)."""

    __slots__ = ("scope", "names", "saved")

    def __init__(self, scope: dict, names: Iterable[str]) -> None:
        self.scope = scope
        self.names = tuple(names)

    def __enter__(self) -> dict:
        scope = self.scope
        self.saved = [(n, n in scope, scope.get(n)) for n in self.names]
        return scope

    def __exit__(self, *exc: object) -> None:
        scope = self.scope
        for n, had, old in self.saved:
            if had:
                scope[n] = old
            else:
                scope.pop(n, None)


class _SetNames:
    """``with``: names bound in the current (set) frame through ``bind``; the ones that were
    not bound before are unbound after (names bound inside the block otherwise stay)."""

    __slots__ = ("scope", "names", "bind", "new")

    def __init__(self, scope: set, names: Iterable[str], bind: Callable[[str], None]) -> None:
        self.scope = scope
        self.names = tuple(names)
        self.bind = bind

    def __enter__(self) -> set:
        scope = self.scope
        self.new = [n for n in self.names if n not in scope]
        for n in self.names:
            self.bind(n)
        return scope

    def __exit__(self, *exc: object) -> None:
        for n in self.new:
            self.scope.discard(n)


class Frames:
    """The scope frames of one walker (``owner.scope`` is the current frame)."""

    __slots__ = ("owner",)

    def __init__(self, owner: Any) -> None:
        self.owner = owner

    def child(self, bindings: Mapping[str, Any] | None = None) -> _Frame:
        """A new frame: a copy of the current (dict) scope, plus ``bindings``."""
        scope = dict(self.owner.scope)
        if bindings:
            scope.update(bindings)
        return _Frame(self.owner, scope)

    def call(self, scope: dict) -> _CallFrame:
        """A function call's frame: ``scope`` alone, with fresh constants and last value."""
        return _CallFrame(self.owner, scope)

    def names(self, names: Iterable[str]) -> AbstractContextManager[Any]:
        """The loop names of a collection block, bound in the current frame for the block."""
        scope = self.owner.scope
        if isinstance(scope, dict):
            return _DictNames(scope, names)
        return _SetNames(scope, names, self.owner.bind)
