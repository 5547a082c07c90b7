"""Rebuilding frozen AST nodes: a bottom-up map over a tree (dataclasses.replace on every
node whose children changed). Used after parsing: a declarative step's selector text becomes
an expression placed at the step (selectors.py), and a module's names get their module's
prefix (loader.py)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any, Callable

from n3lang.span import Span


def rebuild(node: Any, fn: Callable[[Any], Any]) -> Any:
    """``node`` with every AST node below it (itself included) passed through ``fn``,
    children first. Tuples are walked; spans, strings and numbers are left as they are."""
    if type(node) is tuple:
        items = tuple(rebuild(item, fn) for item in node)
        return node if all(a is b for a, b in zip(items, node)) else items
    if not is_dataclass(node) or isinstance(node, type) or type(node) is Span:
        return node
    changes = {}
    for f in fields(node):
        value = getattr(node, f.name)
        new = rebuild(value, fn)
        if new is not value:
            changes[f.name] = new
    return fn(replace(node, **changes) if changes else node)


def place(node: Any, span: Span) -> Any:
    """``node`` with every span in it set to ``span`` (text parsed apart, put at one place)."""

    def move(n: Any) -> Any:
        spans = {f.name: span for f in fields(n) if type(getattr(n, f.name)) is Span}
        return replace(n, **spans) if spans else n

    return rebuild(node, move)
