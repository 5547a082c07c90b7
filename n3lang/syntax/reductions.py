"""Reductions: what the driver calls when it reduces by a grammar rule.

Each rule's callback is what lark would build for it with AstBuilder as the transformer: the
builder's method behind lark's child filter (drop tokens, insert ``None`` for an absent
``[optional]``, splice the items of inlined ``_x`` / ``x*`` helper rules) and single-child
expansion for ``?rule``. ``reduce_action`` turns that into the driver's action, replacing most
filters by a cheaper pick of the children; tests/syntax/test_differential.py checks the
result against stock lark's own tree building.
"""

from __future__ import annotations

from functools import partial
from operator import itemgetter

from n3lang.syntax.tables import FILTER_NO_PLACEHOLDERS, FILTER_PLACEHOLDERS
from n3lang.syntax.transformer import Seq


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
    if kind == FILTER_PLACEHOLDERS:
        return _ChildFilter([tuple(x) for x in include], append_none, method)
    if kind == FILTER_NO_PLACEHOLDERS:
        return _ChildFilterNoPlaceholders([tuple(x) for x in include], method)
    return method


def reduce_action(rule, builder):
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
        plan = []
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

