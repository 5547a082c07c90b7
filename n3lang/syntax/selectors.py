"""The selectors of declarative update and delete steps: `where "id is 1"` holds its
condition as text (namel3ss's flow_contract.parse_selector_expression parses it when the app
loads). After a file parses, each selector is parsed as an expression and stored in its step,
with every span at the step; a selector that does not parse keeps ``predicate=None`` and the
checker reports it ("Selector string is invalid.")."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from n3lang import ast as A
from n3lang.syntax.rewrite import place

#: A selector longer than this is not parsed (it is reported as invalid).
MAX_SELECTOR = 1000


def parse_selector(text: str, parse: Callable) -> A.Expr | None:
    """The selector as an expression, or None when it is not one expression on one line."""
    if "\n" in text or "\r" in text or len(text) > MAX_SELECTOR:
        return None
    program, diagnostics = parse(f'spec is "1.0"\nflow "selector":\n  return {text}\n')
    if diagnostics or program is None:
        return None
    flows = program.of_type(A.FlowDecl)
    if len(flows) != 1 or len(flows[0].body) != 1 or type(flows[0].body[0]) is not A.Return:
        return None
    return flows[0].body[0].value


def with_selectors(program: A.Program, parse: Callable) -> A.Program:
    """``program`` with the predicate of every declarative update/delete step filled in."""
    changed = False
    decls = []
    for decl in program.declarations:
        if type(decl) is A.FlowDecl and decl.declarative:
            steps = tuple(_step(s, parse) for s in decl.steps)
            if any(a is not b for a, b in zip(steps, decl.steps)):
                decl = replace(decl, steps=steps)
                changed = True
        decls.append(decl)
    return replace(program, declarations=tuple(decls)) if changed else program


def _step(step, parse):
    if type(step) in (A.StepUpdate, A.StepDelete) and step.selector is not None:
        expr = parse_selector(step.selector, parse)
        if expr is not None:
            return replace(step, predicate=place(expr, step.span))
    return step
