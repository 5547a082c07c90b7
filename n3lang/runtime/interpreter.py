"""The tree-walking interpreter: ``visit_<NodeClass>`` methods, dispatched through a dict of
bound methods (n3lang.visitor: found once per class, bound once per run); scope frames through
``self.frames``.

Values are exact decimals (see values.py). Every runtime problem raises a RuntimeFailure with
the language's message and the span of the failing statement or expression; safety guards
(step budget, call depth, value sizes) raise GuardFailure, which ``try`` does not catch.
"""

from __future__ import annotations

import time
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from pathlib import Path
from typing import Any, Callable

from n3lang import ast as A
from n3lang.ast import Span
from n3lang.diagnostics import DiagnosticError
from n3lang.runtime import capabilities as caps
from n3lang.runtime import tools
from n3lang.runtime.errors import (
    ACCESS_ERROR,
    AI_ERROR,
    ARITHMETIC_ERROR,
    ATTRIBUTE_ERROR,
    BUILTIN_ERROR,
    CAPABILITY_ERROR,
    CONDITION_ERROR,
    FUNCTION_ERROR,
    INDEX_ERROR,
    LIMIT_ERROR,
    LOOP_ERROR,
    NAME_ERROR,
    RECORD_ERROR,
    RUNTIME_ERROR,
    SPEC_ERROR,
    STATE_ERROR,
    SURFACE_ERROR,
    TOOL_BINDING_ERROR,
    TYPE_ERROR,
    GuardFailure,
    RuntimeFailure,
)
from n3lang.runtime.limits import Budget, Limits, SizeMeter, clamp_int
from n3lang.runtime.orchestration import BranchOutcome, failure_text, merge_outcomes, merge_settings
from n3lang.runtime.patterns import Pattern, PatternProblem, compile_pattern
from n3lang.runtime.records import RecordStore, StoreError
from n3lang.runtime.values import CONTEXT, dumps, is_integral, number_text, short_number, type_name, values_equal
from n3lang.visitor import Frames, Visitor
from n3lang.vocabulary import (
    LENGTH_CONSTRAINTS,
    LIST_BUILTINS,
    NUMBER_COMPARISONS,
    NUMBER_CONSTRAINTS,
    SUPPORTED_SPECS,
    TYPE_ALIASES,
    TYPE_NAMES,
    constraint_rule,
    id_field,
    results_name,
    state_key,
)

_D = Decimal
_CONTAINERS = (list, dict)


class _Return(Exception):
    """Unwinds a flow or function body on ``return``."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _fail(code: str, message: str, span: Span, **extra: str | None) -> RuntimeFailure:
    return RuntimeFailure(code, message, span, **extra)


def type_text(t: A.TypeExpr) -> str:
    """A type written as in the source: ``text``, ``list<text>``, ``text | null``."""
    if isinstance(t, A.UnionType):
        return " | ".join(type_text(o) for o in t.options)
    if t.args:
        return f"{t.name}<{', '.join(type_text(a) for a in t.args)}>"
    return t.name


def type_phrase(t: A.TypeExpr) -> str:
    text = type_text(t)
    return TYPE_NAMES.get(text, f"of type {text}")


def _has_input_type(value: Any, word: str) -> bool:
    """namel3ss's require_type for a declarative flow's input field."""
    if word == "json":
        return True  # any value read from JSON input is a JSON value
    return type_name(value) == word


def value_matches(value: Any, t: A.TypeExpr, records: dict) -> bool:
    """Does a runtime value have a declared type?"""
    if isinstance(t, A.UnionType):
        return any(value_matches(value, o, records) for o in t.options)
    name = TYPE_ALIASES.get(t.name, t.name)
    cls = value.__class__
    if name == "text":
        return cls is str
    if name == "number":
        return cls is Decimal
    if name == "boolean":
        return cls is bool
    if name == "null":
        return value is None
    if name in ("json", "any"):
        return True
    if name in ("integer", "int"):
        return cls is Decimal and is_integral(value)
    # As in namel3ss, the items of a generic list<...> or map<...> are not checked.
    if name == "list":
        return cls is list
    if name == "map":
        return cls is dict
    if name in records:
        return cls is dict
    return True  # unknown type names are the checker's business


def _unique_key(value: Any) -> Any:
    cls = value.__class__
    if cls is Decimal:
        return ("n", value)
    if cls is str:
        return ("t", value)
    if cls is bool:
        return ("b", value)
    return ("j", dumps(value, indent=None))


def _is_text_type(t: A.TypeExpr) -> bool:
    return isinstance(t, A.TypeRef) and t.name in ("text", "string", "str")


class Interpreter(Visitor):
    """Runs one flow of a program against a record store."""

    def __init__(
        self,
        program: A.Program,
        store: RecordStore,
        *,
        limits: Limits | None = None,
        project_dir: Path | None = None,
        predictor_loader: Callable[[Path, str], Any] | None = None,
        identity: dict | None = None,
    ) -> None:
        self.program = program
        self.identity: dict = {} if identity is None else identity
        self.store = store
        self.limits = limits or Limits()
        self.max_steps = self.limits.max_steps
        self.budget = Budget(self.limits)  # limits.py: steps, time, records created
        self.max_steps = self.budget.checkpoint
        self.meter = SizeMeter(self.limits)  # limits.py: logical sizes of values
        self.project_dir = project_dir
        self.predictor_loader = predictor_loader
        self.capabilities = caps.declared(program)
        self.records = {d.name: d for d in program.of_type(A.RecordDecl)}
        self.functions = {d.name: d for d in program.of_type(A.FunctionDecl)}
        self.ais = {d.name: d for d in program.of_type(A.AIDecl)}
        self.models = {d.name: d for d in program.of_type(A.ModelDecl)}
        declared = program.of_type(A.IdentityDecl)
        self.identity_decl: A.IdentityDecl | None = declared[0] if declared else None
        if self.identity_decl is not None:  # a declared field that is not given reads as null
            for fld in self.identity_decl.fields:
                self.identity.setdefault(fld.name, None)
        self.flows = {d.name: d for d in program.of_type(A.FlowDecl)}
        self.contracts = {d.name: d for d in program.of_type(A.ContractDecl)}
        self.tools = {d.name: d for d in program.of_type(A.ToolDecl)}
        self._tool_bindings: tuple | None = None  # (bindings or None,) once tools.yaml is read
        self.flow_stack: list[str] = []  # flows entered by `call flow`, innermost last
        self.steps = 0
        self.scope: dict[str, Any] = {}
        self.constants: set[str] = set()
        self.last: Any = None
        self.order_target: tuple | None = None
        self.call_stack: list[str] = []
        self.flow: A.FlowDecl | None = None
        self.traces: list[dict] = []
        self._dropped_traces = 0
        self._predictors: dict[str, Any] = {}
        self._unique: dict[tuple[str, str], dict] = {}
        self._patterns: dict[str, Pattern] = {}
        self.state: dict = {}
        self.frames = Frames(self)  # self.scope is the current frame
        # dispatch: node class -> bound visit method (the table is found once per class)
        self._visit: dict[type, Callable[[Any], Any]] = self.dispatch_table()

    # ------------------------------------------------------------------ entry points
    def run(self, flow: A.FlowDecl, input_value: Any, state: dict) -> Any:
        self.flow = flow
        self.state = state
        self.scope = {"input": input_value, "state": state, "identity": self.identity}
        self.constants = set()
        self.last = None
        for spec in self.program.of_type(A.SpecDecl)[:1]:
            if spec.version not in SUPPORTED_SPECS:
                raise GuardFailure(SPEC_ERROR, f'Spec version "{spec.version}" is not supported.',
                                   spec.span)
        if self.identity_decl is not None:
            self._check_identity(self.identity_decl)
        try:
            result = self._flow_body(flow)
        finally:
            final_state = self.scope.get("state")
            if isinstance(final_state, dict):
                self.state = final_state
        return result

    def trace(self, entry: dict) -> None:
        if len(self.traces) < self.limits.max_traces:
            self.traces.append(entry)
        else:
            self._dropped_traces += 1

    def finish_traces(self) -> list[dict]:
        if self._dropped_traces:
            return self.traces + [{"type": "traces_truncated", "dropped": self._dropped_traces}]
        return self.traces

    # ------------------------------------------------------------------ helpers
    def exec_block(self, body: tuple) -> None:
        visit = self._visit
        for stmt in body:
            self.steps += 1
            if self.steps > self.max_steps:
                self._budget_exceeded(stmt.span)
            visit[stmt.__class__](stmt)

    def _budget_exceeded(self, span: Span) -> None:
        self.max_steps = self.budget.check(self.steps, span)  # raises when steps or time run out

    def charge(self, amount: int, span: Span) -> None:
        """Charge work proportional to value sizes (copies of long lists) to the budget."""
        self.steps += amount
        if self.steps > self.max_steps:
            self._budget_exceeded(span)

    def eval(self, node: Any) -> Any:
        return self._visit[node.__class__](node)

    def condition(self, node: Any, what: str, span: Span) -> bool:
        value = self._visit[node.__class__](node)
        if value is True or value is False:
            return value
        raise _fail(CONDITION_ERROR, f"{what} condition did not evaluate to true/false.", span,
                    why=f"The condition evaluated to {type_name(value)}, but {what.lower()} needs "
                        f"true or false; nothing is truthy in this language.")

    def check_list_size(self, n: int, span: Span) -> None:
        if n > self.limits.max_list_length:
            raise GuardFailure(LIMIT_ERROR,
                               f"List is too long ({n} items; the limit is "
                               f"{self.limits.max_list_length}).", span)

    def check_text_size(self, n: int, span: Span) -> None:
        if n > self.limits.max_text_length:
            raise GuardFailure(LIMIT_ERROR,
                               f"Text is too long ({n} characters; the limit is "
                               f"{self.limits.max_text_length}).", span)

    def whole_number(self, value: Any, what: str, span: Span, code: str = LOOP_ERROR) -> int:
        if value.__class__ is not Decimal or not is_integral(value):
            raise _fail(code, f"{what} must be an integer", span,
                        why=f"It evaluated to {type_name(value) if value.__class__ is not Decimal else short_number(value)}"
                            f", but only whole numbers are allowed here.")
        return clamp_int(value)

    # ------------------------------------------------------------------ statements
    def visit_Let(self, node: A.Let) -> None:
        value = self._visit[node.value.__class__](node.value)
        self.scope[node.name] = value
        if node.constant:  # once constant, for the rest of the flow (as namel3ss)
            self.constants.add(node.name)
        self.last = value

    def visit_Set(self, node: A.Set) -> None:
        value = self._visit[node.value.__class__](node.value)
        target = node.target
        root = target[0]
        scope = self.scope
        if len(target) == 1:
            if root not in scope:
                raise _fail(NAME_ERROR, f"Cannot set undeclared variable '{root}'", node.span)
            if root in self.constants:
                raise _fail(NAME_ERROR, f"Cannot set constant '{root}'", node.span,
                            why="It was bound with `let ... constant`, so `set` may not change it.")
            scope[root] = value
            self.last = value
            return
        if root == "state" and self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot change state", node.span)
        if root not in scope:
            if root == "state":
                scope["state"] = {}
            else:
                raise _fail(NAME_ERROR, f"Cannot set undeclared variable '{root}'", node.span)
        if root in self.constants:
            raise _fail(NAME_ERROR, f"Cannot set constant '{root}'", node.span)
        scope[root] = self.meter.grew(self._set_path(scope[root], target, 1, value, node.span), node.span)
        self.last = value

    def _set_path(self, container: Any, target: tuple, i: int, value: Any, span: Span) -> dict:
        if container.__class__ is not dict:
            path = ".".join(target[:i])
            raise _fail(ATTRIBUTE_ERROR,
                        f"Cannot set '{'.'.join(target)}' because '{path}' is {type_name(container)}, "
                        f"not a map", span)
        new = dict(container)
        key = target[i]
        if i == len(target) - 1:
            new[key] = value
        else:
            inner = container.get(key)
            if inner.__class__ is not dict:  # as namel3ss: a non-map on the way is replaced
                inner = {}
            new[key] = self._set_path(inner, target, i + 1, value, span)
        return new

    def visit_If(self, node: A.If) -> None:
        if self.condition(node.condition, "If", node.span):
            self.exec_block(node.then_body)
        elif node.else_body:
            self.exec_block(node.else_body)

    def visit_RepeatTimes(self, node: A.RepeatTimes) -> None:
        count = self.eval(node.count)
        n = self.whole_number(count, "Repeat count", node.span)
        if n < 0:
            raise _fail(LOOP_ERROR, "Repeat count cannot be negative", node.span)
        body = node.body
        if n > self.limits.max_steps:  # fail now rather than after a long run
            n = self.limits.max_steps + 1
        exec_block = self.exec_block
        for _ in range(n):
            exec_block(body)

    def visit_RepeatWhile(self, node: A.RepeatWhile) -> None:
        limit_span = node.limit.span if node.limit.span.line > 0 else node.span
        limit = self.whole_number(self.eval(node.limit), "Loop limit", limit_span)
        if limit <= 0:
            raise _fail(LOOP_ERROR, "Loop limit must be greater than zero", limit_span)
        runs = 0
        cond = node.condition
        body = node.body
        while self.condition(cond, "If", node.span):  # namel3ss's words for a while condition
            if runs >= limit:
                raise _fail(LOOP_ERROR, "Loop limit hit", limit_span,
                            why=f"The condition was still true after {limit} runs, the loop's limit.")
            runs += 1
            self.steps += 1
            self.exec_block(body)

    def visit_ForEach(self, node: A.ForEach) -> None:
        items = self.eval(node.iterable)
        if items.__class__ is not list:
            raise _fail(LOOP_ERROR, "For-each expects a list", node.span,
                        why=f"The value after `in` is {type_name(items)}, but for each walks a list.")
        name = node.name
        scope = self.scope
        body = node.body
        exec_block = self.exec_block
        for item in items:
            scope[name] = item
            exec_block(body)
            scope = self.scope

    def visit_Match(self, node: A.Match) -> None:
        subject = self.eval(node.subject)
        for case in node.cases:
            if values_equal(subject, self.eval(case.value)):
                self.exec_block(case.body)
                return
        if node.otherwise is not None:
            self.exec_block(node.otherwise)

    def visit_Try(self, node: A.Try) -> None:
        try:
            self.exec_block(node.body)
        except RuntimeFailure as failure:
            if not failure.catchable:
                raise
            self.scope[node.catch_name] = {
                "message": failure.message,
                "line": _D(failure.span.line),
                "column": _D(failure.span.column),
            }
            self.exec_block(node.catch_body)

    def visit_Return(self, node: A.Return) -> None:
        raise _Return(self.eval(node.value))

    # ------------------------------------------------------------------ records
    def _record(self, name: str, span: Span) -> A.RecordDecl:
        decl = self.records.get(name)
        if decl is None:
            known = ", ".join(sorted(self.records)) or "none"
            raise _fail(RECORD_ERROR, f"Unknown record '{name}'.", span,
                        why=f"No `record \"{name}\":` is declared. Records declared: {known}.")
        if decl.tenant_keys:  # namel3ss scopes such rows per tenant; this store does not
            raise _fail(RECORD_ERROR, f"Record '{name}' is tenant-scoped (tenant_key), which this "
                                      f"runtime does not support", span,
                        why="namel3ss keeps each tenant's rows apart by the identity value the "
                            "tenant_key names; this runtime's record store has no tenants.",
                        fix="Remove the tenant_key line to use the record without tenants.")
        return decl

    def _no_records_in_functions(self, span: Span) -> None:
        if self.call_stack:  # namel3ss's words (its load-time check, which always comes first)
            raise _fail(FUNCTION_ERROR, "Functions cannot read or write records", span)

    def _check_identity(self, decl: A.IdentityDecl) -> None:
        """The identity against its declaration (namel3ss's words): given fields of the
        declared type, ``trust_level`` present and allowed when the declaration lists them."""
        header = Span(decl.span.line, decl.span.column, decl.name_span.end_line,
                      decl.name_span.end_column) if decl.name_span.line else decl.span
        for fld in decl.fields:
            value = self.identity.get(fld.name)
            if value is not None and not value_matches(value, fld.type, self.records):
                raise GuardFailure(
                    ACCESS_ERROR, f"Identity field '{fld.name}' must be {type_text(fld.type)}.",
                    header, why="The identity declaration defines a different type for this field.",
                    fix="Provide a value that matches the declared type.")
        # Constraints as a record's, named "identity.<name>" as namel3ss does; `unique`
        # means nothing for one identity (namel3ss skips it too).
        as_record = A.RecordDecl(f"identity.{decl.name}", decl.fields, decl.span, decl.name_span)
        for fld in decl.fields:
            for c in fld.constraints:
                if c.kind == "unique":
                    continue
                try:
                    self._check_constraint(as_record, fld.name, self.identity.get(fld.name), c,
                                           header, None)
                except GuardFailure:
                    raise
                except RuntimeFailure as exc:
                    raise GuardFailure(
                        ACCESS_ERROR, f"Identity field '{fld.name}' failed validation.", header,
                        why=exc.message,
                        fix="Provide an identity value that satisfies the declared constraint.")
        allowed = decl.trust_levels
        if allowed is None:
            return
        level = self.identity.get("trust_level")
        if level is None:
            raise GuardFailure(ACCESS_ERROR, "Identity is missing trust_level.", header,
                               why=f"Allowed trust levels: {', '.join(allowed)}.",
                               fix="Provide a trust_level value in the identity.")
        if level not in allowed:
            raise GuardFailure(ACCESS_ERROR, f"Identity trust_level '{level if isinstance(level, str) else dumps(level)}' is not allowed.",
                               header, why=f"Allowed trust levels: {', '.join(allowed)}.",
                               fix="Provide a trust_level value that matches the declaration.")

    def _flow_body(self, flow: A.FlowDecl) -> Any:
        """``requires`` first, then the body; the flow's result (its return, else the last
        value produced). Shared by a run and by `call flow`."""
        if flow.requires is not None:
            self._check_requires(flow)
        self.order_target = None
        if flow.declarative:
            self._run_steps(flow)
            return self.last
        try:
            self.exec_block(flow.body)
            return self.last
        except _Return as ret:
            return ret.value

    # ---- §9 declarative flows (namel3ss's runtime/flow/runner.py): the input fields are
    # required and typed; each step runs as the statement it stands for; a `require` gate on
    # a false state value skips the steps after it (until a later gate passes)
    def _run_steps(self, flow: A.FlowDecl) -> None:
        inputs = next((s for s in flow.steps if type(s) is A.StepInput), None)
        if inputs is not None:
            self._check_step_input(inputs, flow)
        blocked = False
        for step in flow.steps:
            self.steps += 1
            if self.steps > self.max_steps:
                self._budget_exceeded(step.span)
            if type(step) is A.StepRequire:
                blocked = self._gate(step.condition) is False
            elif not blocked:
                self._visit[step.__class__](step)

    def _check_step_input(self, inputs: A.StepInput, flow: A.FlowDecl) -> None:
        payload = self.scope.get("input")
        if payload.__class__ is not dict:
            raise _fail(TYPE_ERROR, "Flow input payload is not a JSON object.", flow.span,
                        why="Declarative flows expect input to be a dictionary of field values.",
                        fix="Provide a JSON object with the required fields.")
        for fld in inputs.fields:
            if fld.name not in payload:
                raise _fail(RUNTIME_ERROR, f"Flow input is missing '{fld.name}'.", fld.span,
                            why="Declarative flow inputs are required.",
                            fix="Provide the missing field in the input payload.")
            value = payload[fld.name]
            if not _has_input_type(value, fld.type):
                raise _fail(TYPE_ERROR, f"Expected {fld.type} but got {type_name(value)}", fld.span)

    def _gate(self, condition: str) -> bool | None:
        """A `require` gate: the truth of a ``state.`` path (Python's, as namel3ss's gates.py),
        None when it is not a state path or the path is missing (the steps then run)."""
        if not condition.startswith("state."):
            return None
        value: Any = self.scope.get("state")
        path = [p for p in condition.split(".")[1:] if p]
        if not path:
            return None
        for key in path:
            if value.__class__ is not dict or key not in value:
                return None
            value = value[key]
        return bool(value)

    def visit_StepInput(self, node: A.StepInput) -> None:
        pass  # checked before the first step

    def visit_StepRequire(self, node: A.StepRequire) -> None:
        pass  # a gate: _run_steps evaluates it

    def visit_StepCreate(self, node: A.StepCreate) -> None:
        values = A.MapExpr(tuple(A.MapEntry(f.name, f.value, f.span) for f in node.fields), node.span)
        self.visit_Create(A.Create(node.record, values, "_", node.span))

    def visit_StepUpdate(self, node: A.StepUpdate) -> None:
        predicate = self._selector(node)
        sets = tuple(A.Assignment(f.name, f.value, f.span) for f in node.fields)
        self.visit_Update(A.Update(node.record, predicate, sets, node.span))

    def visit_StepDelete(self, node: A.StepDelete) -> None:
        self.visit_Delete(A.Delete(node.record, self._selector(node), node.span))

    def _selector(self, node: A.StepUpdate | A.StepDelete) -> Any:
        if node.predicate is None:  # `n3 check` reports it; a direct run_flow still stops here
            raise _fail(RUNTIME_ERROR, "Selector string is invalid.", node.span,
                        why="Selectors must be simple comparisons like <field> is <value>.")
        return node.predicate

    def visit_StepCallForeign(self, node: A.StepCallForeign) -> None:
        raise _fail(RUNTIME_ERROR, f'Tool "{node.name}" is not declared.', node.span,
                    why="Declarative flows can only call declared foreign functions, and this "
                        "runtime has no foreign function declarations.",
                    fix="Call a tool from a flow with ':' instead.")

    def _check_requires(self, flow: A.FlowDecl) -> None:
        """Evaluate the flow's ``requires`` before its body, on the real input and identity.

        A denial is raised outside every ``try`` of the flow, so the flow cannot catch it.
        """
        header = Span(flow.span.line, flow.span.column, flow.name_span.end_line,
                      flow.name_span.end_column) if flow.name_span.line else flow.span
        allowed = self.eval(flow.requires)
        if allowed is True:
            return
        if allowed is False:
            raise GuardFailure(
                ACCESS_ERROR, f'flow "{flow.name}" access is not permitted.', header,
                why="The requires condition evaluated to false.",
                fix="Provide an identity that satisfies the requirement or update the requires "
                    "clause.")
        raise GuardFailure(
            ACCESS_ERROR, f'flow "{flow.name}" requires a boolean condition.', header,
            why=f"The `requires` expression evaluated to {type_name(allowed)}, not true or false.")

    def _check_mutation(self, action: str, record: str, span: Span) -> None:
        """A flow that changes records must declare ``requires`` (checked before the body)."""
        self._no_records_in_functions(span)
        flow = self.flow
        if flow is None or flow.requires is None:
            raise _fail(ACCESS_ERROR, "Mutation blocked by access control.", span,
                        why="Mutating flows and forms must declare a requires rule.",
                        fix="Add a requires clause to the page or flow header.")

    def _field_error(self, decl: A.RecordDecl, field: str, rule: str, span: Span) -> RuntimeFailure:
        return _fail(RECORD_ERROR, f"Field '{field}' in record '{decl.name}' {rule}", span)

    def _unique_index(self, record: str, field: str) -> dict:
        index = self._unique.get((record, field))
        if index is None:
            index = {}
            for rid, data in self.store.scan(record):
                v = data.get(field)
                if v is not None:
                    index.setdefault(_unique_key(v), set()).add(rid)
            self._unique[(record, field)] = index
        return index

    def _forget_unique(self, record: str) -> None:
        for key in [k for k in self._unique if k[0] == record]:
            del self._unique[key]

    def _pattern(self, text: str, span: Span) -> Pattern:
        pat = self._patterns.get(text)
        if pat is None:
            compiled = compile_pattern(text)
            if isinstance(compiled, PatternProblem):
                raise _fail(RECORD_ERROR, compiled.message, span, why=compiled.why, fix=compiled.fix)
            self._patterns[text] = pat = compiled
        return pat

    def validate(self, decl: A.RecordDecl, value: Any, span: Span,
                 record_id: int | None = None) -> dict:
        """Check a map against a record's types and constraints; return the fields to store.

        As in namel3ss: keys the record does not declare are kept, declared fields that are
        not given stay absent, and a non-text value in a text field is stored as its text.
        """
        if value.__class__ is not dict:
            raise _fail(RECORD_ERROR,
                        f"Record '{decl.name}' needs a map of fields, not {type_name(value)}", span)
        data = dict(value)
        for f in decl.fields:
            v = value.get(f.name)
            if v is not None and not value_matches(v, f.type, self.records):
                if _is_text_type(f.type) and v.__class__ is not dict and v.__class__ is not list:
                    v = data[f.name] = number_text(v) if v.__class__ is Decimal else (
                        "true" if v is True else "false" if v is False else str(v))
                else:
                    raise self._field_error(decl, f.name, f"must be {type_phrase(f.type)}", span)
            for c in f.constraints:
                self._check_constraint(decl, f.name, v, c, span, record_id)
        return self.meter.grew(data, span)

    def id_field(self, decl: A.RecordDecl) -> str:
        """``id`` if the record declares it, else ``_id`` (namel3ss's rule)."""
        return id_field(f.name for f in decl.fields)

    def row(self, decl: A.RecordDecl, rid: int, data: dict) -> dict:
        """A stored record as flows see it: its id first (a given id wins), then its fields."""
        out = {self.id_field(decl): _D(rid)}
        out.update(data)
        return out

    def _check_constraint(self, decl: A.RecordDecl, field: str, v: Any, c: A.Constraint,
                          span: Span, record_id: int | None) -> None:
        kind = c.kind
        if kind == "present":
            if v is None:
                raise self._field_error(decl, field, constraint_rule(kind), span)
            return
        if v is None:
            if kind in NUMBER_CONSTRAINTS or kind == "integer":
                raise self._field_error(decl, field, "must be numeric", span)
            if kind in LENGTH_CONSTRAINTS:
                raise self._field_error(decl, field, "must be present for length check", span)
            return
        args = [self.eval(a) for a in c.args]
        if kind == "unique":
            ids = self._unique_index(decl.name, field).get(_unique_key(v))
            if ids and (ids - {record_id}):
                raise self._field_error(decl, field, constraint_rule(kind), span)
            return
        if kind in NUMBER_CONSTRAINTS:
            shown = " and ".join(number_text(a) if a.__class__ is Decimal else str(a) for a in args)
            rule = constraint_rule(kind, shown)
            if v.__class__ is not Decimal or any(a.__class__ is not Decimal for a in args):
                raise self._field_error(decl, field, rule, span)
            if not NUMBER_COMPARISONS[NUMBER_CONSTRAINTS[kind]](v, args):
                raise self._field_error(decl, field, rule, span)
            return
        if kind == "integer":
            if v.__class__ is not Decimal or not is_integral(v):
                raise self._field_error(decl, field, constraint_rule(kind), span)
            return
        if kind == "pattern":
            pattern = args[0] if args else ""
            rule = constraint_rule(kind, str(pattern))
            if v.__class__ is not str or self._pattern(str(pattern), span).fullmatch(v) is None:
                raise self._field_error(decl, field, rule, span)
            return
        if kind in LENGTH_CONSTRAINTS:
            n = args[0] if args else _D(0)
            rule = constraint_rule(kind, number_text(n) if n.__class__ is Decimal else str(n))
            if v.__class__ not in (str, list, dict) or n.__class__ is not Decimal:
                raise self._field_error(decl, field, rule, span)
            if not NUMBER_COMPARISONS[LENGTH_CONSTRAINTS[kind]](_D(len(v)), (n,)):
                raise self._field_error(decl, field, rule, span)
            return
        raise _fail(RECORD_ERROR, f"Unknown constraint '{kind}' on field '{field}'", c.span)

    def _remember_unique(self, decl: A.RecordDecl, rid: int, data: dict) -> None:
        for f in decl.fields:
            if any(c.kind == "unique" for c in f.constraints):
                v = data.get(f.name)
                if v is not None:
                    self._unique_index(decl.name, f.name).setdefault(_unique_key(v), set()).add(rid)

    def _store_call(self, fn: Callable, span: Span, *args: Any) -> Any:
        try:
            return fn(*args)
        except StoreError as exc:
            raise _fail(RECORD_ERROR, f"The record store failed: {exc}", span)

    def _insert(self, decl: A.RecordDecl, data: dict, span: Span) -> dict:
        self.budget.record_created(decl.name, span)
        rid = self._store_call(self.store.insert, span, decl.name, data)
        self._remember_unique(decl, rid, data)
        self.trace({"type": "record_created", "record": decl.name, "id": rid})
        return self.row(decl, rid, data)

    def visit_Create(self, node: A.Create) -> None:
        decl = self._record(node.record, node.span)
        self._check_mutation("create", node.record, node.span)
        value = self.eval(node.value)
        if value.__class__ is not dict:
            raise _fail(RECORD_ERROR, "Create expects a record dictionary of values.", node.span,
                        why=f"The provided value is {type_name(value)}, but create needs key/value "
                            f"fields to validate and save.",
                        fix="Pass a map (for example, state.order or an input payload).")
        data = self.validate(decl, value, node.span)
        stored = self._insert(decl, data, node.span)
        self.scope[node.binding] = stored
        self.last = stored

    def visit_Save(self, node: A.Save) -> None:
        decl = self._record(node.record, node.span)
        self._check_mutation("save", node.record, node.span)
        key = state_key(node.record)
        state = self.scope.get("state")
        value = state.get(key) if isinstance(state, dict) else None
        if value.__class__ is not dict:
            raise _fail(RECORD_ERROR, f"Expected state.{key} to be a record dictionary", node.span,
                        why=f"save \"{node.record}\" stores the map of fields held in state.{key}.")
        # As in namel3ss, save always stores a new record (a given id is kept as given).
        stored = self._insert(decl, self.validate(decl, value, node.span), node.span)
        self.last = stored

    def _matching(self, decl: A.RecordDecl, predicate: Any, span: Span, what: str):
        """Yield (id, fields) of records whose predicate is true, fields bound as names."""
        defaults = {f.name: None for f in decl.fields}
        id_field = self.id_field(decl)
        visit = self._visit
        pcls = predicate.__class__
        rows = self._store_call(self.store.scan, span, decl.name)
        self.charge(len(rows) >> 3, span)
        with self.frames.child() as env:
            for rid, data in rows:
                env.update(defaults)
                env[id_field] = _D(rid)
                env.update(data)
                ok = visit[pcls](predicate)
                if ok is not True and ok is not False:
                    raise _fail(CONDITION_ERROR, f"{what} condition did not evaluate to true/false.",
                                span, why=f"The `where` condition evaluated to {type_name(ok)} for a "
                                          f"record, but it must be true or false.")
                if ok:
                    yield rid, data

    def visit_Find(self, node: A.Find) -> None:
        decl = self._record(node.record, node.span)
        self._no_records_in_functions(node.span)
        results = []
        for rid, data in list(self._matching(decl, node.predicate, node.span, "Find")):
            results.append(self.row(decl, rid, data))
        self.meter.grew(results, node.span)
        self.scope[results_name(node.record)] = results
        self.trace({"type": "records_found", "record": decl.name, "count": len(results)})
        self.last = results

    def visit_Update(self, node: A.Update) -> None:
        decl = self._record(node.record, node.span)
        self._check_mutation("update", node.record, node.span)
        declared = {f.name for f in decl.fields}
        matches = list(self._matching(decl, node.predicate, node.span, "Update"))
        # every new row is computed and validated before any is written: a failing row (caught
        # by `try` or not) leaves all of them as they were
        try:
            updates = self._compute_updates(decl, node, matches, declared)
        except BaseException:
            self._forget_unique(decl.name)  # it holds the new values of rows not written
            raise
        for rid, checked in updates:
            self._store_call(self.store.replace, node.span, decl.name, rid, checked)
        if updates:
            self._forget_unique(decl.name)
        self.trace({"type": "records_updated", "record": decl.name, "count": len(updates)})
        self.last = _D(len(updates))

    def _compute_updates(self, decl, node: A.Update, matches: list, declared: set) -> list:
        """(id, new fields) of each matched row, validated as if the rows before it were
        already written (uniqueness included: their new values enter the unique index)."""
        updates = []
        for rid, data in matches:
            new = dict(data)
            with self.frames.child(self.row(decl, rid, data)):
                for a in node.assignments:
                    if a.field not in declared:
                        raise _fail(RECORD_ERROR, f"Record '{decl.name}' has no field '{a.field}'",
                                    a.span)
                    new[a.field] = self.eval(a.value)
            checked = self.validate(decl, new, node.span, rid)
            for (record, field), index in self._unique.items():
                if record == decl.name:
                    if data.get(field) is not None:
                        index.get(_unique_key(data[field]), set()).discard(rid)
                    if checked.get(field) is not None:
                        index.setdefault(_unique_key(checked[field]), set()).add(rid)
            updates.append((rid, checked))
        return updates

    def visit_Delete(self, node: A.Delete) -> None:
        decl = self._record(node.record, node.span)
        self._check_mutation("delete", node.record, node.span)
        ids = [rid for rid, _ in list(self._matching(decl, node.predicate, node.span, "Delete"))]
        if ids:
            self._store_call(self.store.delete, node.span, decl.name, ids)
            self._forget_unique(decl.name)
        self.trace({"type": "records_deleted", "record": decl.name, "count": len(ids)})
        self.last = _D(len(ids))

    # ------------------------------------------------------------------ ai and models
    def _predictor(self, ref: str, span: Span) -> Any:
        predictor = self._predictors.get(ref)
        if predictor is not None:
            return predictor
        loader = self.predictor_loader
        if loader is None:
            try:
                from n3lang.training.interface import predictor_loader

                loader = predictor_loader()
            except ImportError:
                raise _fail(AI_ERROR, "Model inference is not available in this installation",
                            span)
        project = self.project_dir or Path(self.program.path).resolve().parent
        try:
            predictor = loader(Path(project), ref)
        except DiagnosticError as exc:
            raise self._from_diagnostics(exc, span)
        except Exception as exc:  # a broken model file must not crash the run
            raise _fail(AI_ERROR, f"The model '{ref}' could not be loaded: {exc}", span)
        self._predictors[ref] = predictor
        return predictor

    def _from_diagnostics(self, exc: DiagnosticError, span: Span) -> RuntimeFailure:
        d = exc.diagnostics[0] if exc.diagnostics else None
        if d is None:
            return _fail(AI_ERROR, "The model could not be used", span)
        return RuntimeFailure(d.code, d.message, span, why=d.why, fix=d.fix, example=d.example)

    def _predict(self, ref: str, x: Any, span: Span) -> dict:
        if x.__class__ is not str:
            raise _fail(TYPE_ERROR, f"Model input must be text (a file path for image and audio models), "
                                    f"not {type_name(x)}", span)
        predictor = self._predictor(ref, span)
        try:
            top: list[dict[str, Any]] = [{"label": str(label), "confidence": _confidence(prob)}
                                         for label, prob in predictor.ranked(x)]
        except DiagnosticError as exc:
            raise self._from_diagnostics(exc, span)
        except Exception as exc:  # a broken model must not crash the run
            raise _fail(AI_ERROR, f"The model '{ref}' failed to predict: {exc}", span)
        if not top:
            raise _fail(AI_ERROR, f"The model '{ref}' gave no prediction", span)
        if not all(t["confidence"].is_finite() for t in top):
            raise _fail(AI_ERROR, f"The model '{ref}' gave a confidence that is not a number", span)
        return {"label": top[0]["label"], "confidence": top[0]["confidence"], "top": top}

    def visit_Predict(self, node: A.Predict) -> dict:
        caps.require(self.capabilities, caps.TRAINING, "predict", node.span)
        x = self.eval(node.input)
        result = self._predict(node.model, x, node.span)
        self.trace({"type": "predict", "model": node.model, "label": result["label"]})
        return result

    def visit_AskAI(self, node: A.AskAI) -> None:
        ai = self.ais.get(node.ai)
        if ai is None:
            raise _fail(AI_ERROR, f"Unknown AI profile '{node.ai}'.", node.span,
                        why=f"No `ai \"{node.ai}\":` block is declared in this app.")
        model = None
        for setting in ai.settings:
            if setting.key == "model":
                model = self.eval(setting.value)
        if model.__class__ is not str:
            raise _fail(AI_ERROR, "AI declaration requires a model", node.span,
                        why="An ai block needs `model is \"<name>\"`.")
        hosted_why = ("This runtime runs only models trained with `n3 train` and recorded in "
                      "the model registry; it does not call hosted ai providers.")
        if self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot call ai", node.span)
        trained = model.split("@", 1)[0] in self.models
        if trained:
            caps.require(self.capabilities, caps.TRAINING, "ask ai", node.span)
        x = self.eval(node.input)
        try:
            result = self._predict(model, x, node.span)
        except RuntimeFailure as failure:
            if not trained and failure.code == "model-not-found":
                raise _fail(AI_ERROR,
                            f"ai '{node.ai}' uses model '{model}', which is not a trained model; "
                            f"hosted ai calls are not available in this runtime", node.span,
                            why=hosted_why)
            raise
        if not trained:
            caps.require(self.capabilities, caps.TRAINING, "ask ai", node.span)
        self.scope[node.binding] = result["label"]
        self.last = result["label"]  # as namel3ss: the answer is the statement's value
        self.trace({"type": "ask_ai", "ai": node.ai, "model": model, "label": result["label"]})

    # ---- §9 tools (runtime/tools.py: bindings, field checks, the process runner)
    def visit_ToolCall(self, node: A.ToolCall) -> Any:
        span = node.name_span if node.name_span != A.UNKNOWN else node.span
        tool = self.tools.get(node.name)
        if tool is None:  # the checker's error too; namel3ss's words
            raise _fail(TOOL_BINDING_ERROR, f"Unknown tool '{node.name}'.", span,
                        why="App does not define this tool.")
        if self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot call tools", span)
        payload = {arg.name: self.eval(arg.value) for arg in node.args}
        event: dict[str, Any] = {"type": "tool_call", "tool": tool.name, "kind": tool.kind,
                                 "purity": tool.purity}
        deadline = self.budget.deadline  # a tool never runs past the run's time limit
        left = None if deadline is None else deadline - time.monotonic()
        try:
            tools.require_kind(tool, self.capabilities, span)
            project = Path(self.project_dir or Path(self.program.path).resolve().parent)
            if tool.kind == "file":
                result = tools.call_file_tool(project, self.program.path, tool, payload)
            elif tool.kind == "http":
                result = tools.call_http_tool(tool, payload, left)
            else:
                if self._tool_bindings is None:  # read once per run, when a python tool runs
                    self._tool_bindings = (tools.load_bindings(project),)
                result = tools.call_python_tool(project, tool, payload, self._tool_bindings[0],
                                                event, left)
        except tools.ToolProblem as problem:
            self.trace({**event, "status": "error", "error": problem.what})
            if deadline is not None and time.monotonic() >= deadline:
                self.budget.check(self.steps, span)  # the run's time limit: not catchable
            raise problem.at(span) from None
        except RuntimeFailure as failure:
            self.trace({**event, "status": "error", "error": failure.message})
            raise
        self.trace({**event, "status": "ok"})
        return result

    # ---- §5 statements (added)
    def visit_LetBlock(self, node: A.LetBlock) -> None:
        visit_let = self.visit_Let
        for let in node.lets:
            visit_let(let)

    def visit_SetBlock(self, node: A.SetBlock) -> None:
        visit_set = self.visit_Set
        for step in node.sets:
            visit_set(step)

    def visit_Calc(self, node: A.Calc) -> None:
        visit = self._visit
        for step in node.steps:
            visit[step.__class__](step)

    def _read_target(self, target: tuple, span: Span) -> Any:
        """The value of a variable or state path named by ``target`` (as an expression would)."""
        expr: Any = A.Name(target[0], span)
        for part in target[1:]:
            expr = A.Attribute(expr, part, span)
        return self.eval(expr)

    def _write_target(self, target: tuple, value: Any, span: Span) -> None:
        root = target[0]
        if root == "state" and self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot change state", span)
        if root in self.constants:
            raise _fail(NAME_ERROR, f"Cannot set constant '{root}'", span)
        if len(target) == 1:
            self.scope[root] = value
        else:
            self.scope[root] = self._set_path(self.scope.get(root, {}), target, 1, value, span)

    def visit_OrderList(self, node: A.OrderList) -> None:
        span = node.span
        if node.target[0] == "state" and self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot change state", span)
        items = self._read_target(node.target, span)
        if items.__class__ is not list:
            raise _fail(TYPE_ERROR, f"Order needs a list but got {type_name(items)}", span)
        field = node.field
        keyed = []
        for index, item in enumerate(items):
            if item.__class__ is not dict:
                raise _fail(TYPE_ERROR, f"Order list items must be objects but got "
                                        f"{type_name(item)}", span)
            if field not in item:
                raise _fail(TYPE_ERROR, f"Order field '{field}' is missing", span)
            score = item[field]
            if score.__class__ is not Decimal:
                raise _fail(TYPE_ERROR, f"Order field '{field}' must be a number but got "
                                        f"{type_name(score)}", span)
            keyed.append((-score if node.descending else score, index, item))
        self.charge(len(keyed) >> 3, span)
        keyed.sort(key=lambda entry: (entry[0], entry[1]))  # stable: ties keep their order
        ordered = [item for _, _, item in keyed]
        self._write_target(node.target, ordered, span)
        self.order_target = node.target
        self.last = ordered

    def visit_KeepFirst(self, node: A.KeepFirst) -> None:
        span = node.span
        target = self.order_target
        if target is None:
            raise _fail(TYPE_ERROR, "keep first needs an order statement first.", span,
                        why="There is no ordered list to trim yet.",
                        fix="Order a list before keep first.")
        if target[0] == "state" and self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot change state", span)
        count = self.eval(node.count)
        if count.__class__ is not Decimal:
            raise _fail(TYPE_ERROR, f"keep first needs a number but got {type_name(count)}", span)
        if not is_integral(count):
            raise _fail(TYPE_ERROR, "keep first needs a whole number", span)
        if count < 0:
            raise _fail(TYPE_ERROR, "keep first needs zero or more", span)
        items = self._read_target(target, span)
        if items.__class__ is not list:
            raise _fail(TYPE_ERROR, f"keep first needs a list but got {type_name(items)}", span)
        trimmed = items[: int(count)]
        self._write_target(target, trimmed, span)
        self.last = trimmed

    def visit_Log(self, node: A.Log) -> None:
        message = self.eval(node.message)
        fields = self.eval(node.fields) if node.fields is not None else None
        if fields is not None and fields.__class__ is not dict:
            raise _fail(TYPE_ERROR, "Log fields must be an object", node.span)
        self.trace({"type": "log", "level": node.level, "message": message, "fields": fields})
        self.last = message  # as namel3ss: the logged message is the statement's value

    def visit_SurfaceStmt(self, node: A.SurfaceStmt) -> None:
        # LANGUAGE.md §10: the statement parses; running it is a located error `try` catches.
        raise _fail(SURFACE_ERROR,
                    f"`{node.kind}` needs the app surface, which this runtime does not serve",
                    node.span)

    def visit_CallPipeline(self, node: A.CallPipeline) -> Any:
        # namel3ss's built-in ingestion/retrieval pipelines are not part of this runtime
        raise _fail(SURFACE_ERROR, f"`call pipeline \"{node.name}\"` needs namel3ss's pipelines, "
                                   f"which this runtime does not run", node.span)

    def visit_Parallel(self, node: A.Parallel) -> None:
        """namel3ss's parallel block (runtime/executor/parallel): the tasks run one after the
        other in name order, each on a copy of the locals; a task's `return` ends only that
        task; the locals the tasks change are merged by the policy (conflict by default: two
        tasks may not change one local); the block's value is the list of the tasks' values."""
        if self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot use parallel blocks", node.span)
        policy = self.eval(node.merge) if node.merge is not None else "conflict"
        base = dict(self.scope)
        base_constants = set(self.constants)
        merged, constants = dict(base), set(base_constants)
        written: dict[str, str] = {}
        values: list[Any] = []
        for task in sorted(node.tasks, key=lambda t: t.name):
            for stmt in task.body:
                self._parallel_allowed(stmt)
            task_scope = dict(base)
            with self.frames.call(task_scope):
                self.constants = set(base_constants)
                try:
                    self.exec_block(task.body)
                    value = self.last
                except _Return as ret:
                    value = ret.value
                task_constants = self.constants
                task_scope = self.scope
            values.append(value)
            for name in sorted(task_scope):
                if name in base and base[name] == task_scope[name]:  # namel3ss's test of a change
                    continue
                if name in written:
                    if policy == "conflict":
                        raise _fail(RUNTIME_ERROR, f"Parallel tasks cannot write the same local: {name}",
                                    task.span, why=f"Task '{written[name]}' already changed it.",
                                    fix="Use another name in one task, or add `merge:` with "
                                        "`policy is \"precedence\"` or `\"override\"`.")
                    if policy == "precedence":
                        continue
                written[name] = task.name
                merged[name] = task_scope[name]
            constants |= task_constants - base_constants
        self.scope.clear()
        self.scope.update(merged)
        self.constants = constants
        self.last = self.meter.grew(values, node.span)

    def _parallel_allowed(self, stmt: Any) -> None:
        """namel3ss's checks before a task runs (runtime/executor/parallel/isolation.py)."""
        kind = stmt.__class__
        if kind is A.Parallel:
            raise _fail(RUNTIME_ERROR, "Nested parallel blocks are not allowed", stmt.span)
        if kind is A.Orchestration:
            raise _fail(RUNTIME_ERROR, "Parallel tasks cannot use orchestration blocks", stmt.span)
        if (kind is A.Set and stmt.target[0] == "state") or \
                (kind is A.SetBlock and any(s.target[0] == "state" for s in stmt.sets)):
            raise _fail(RUNTIME_ERROR, "Parallel tasks cannot change state", stmt.span)
        if kind in (A.Create, A.Save, A.Update, A.Delete):
            raise _fail(RUNTIME_ERROR, "Parallel tasks cannot write records", stmt.span)
        if kind is A.SurfaceStmt and stmt.kind == "set theme":
            raise _fail(RUNTIME_ERROR, "Parallel tasks cannot change theme", stmt.span)
        for body in _child_blocks(stmt):
            for child in body:
                self._parallel_allowed(child)

    def visit_Orchestration(self, node: A.Orchestration) -> None:
        """namel3ss's orchestration block (runtime/executor/orchestration): each branch's call
        runs in order, a failure is kept as that branch's outcome; the merge policy makes the
        target's value from the outcomes, or fails at the `merge` word."""
        if self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot use orchestration blocks", node.span)
        outcomes: list[BranchOutcome] = []
        for branch in node.branches:
            try:
                outcomes.append(BranchOutcome(branch.name, "ok", self.eval(branch.call)))
            except RuntimeFailure as failure:
                if not failure.catchable:
                    raise
                outcomes.append(BranchOutcome(branch.name, "error", None, failure_text(failure)))
        policy, order = merge_settings(node)
        output, problem = merge_outcomes(policy, outcomes, order)
        if problem is not None:
            raise _fail(RUNTIME_ERROR, problem, node.merge_span)
        self.scope[node.target] = output
        self.last = self.meter.grew(output, node.span)

    def visit_FlowAI(self, node: A.FlowAI) -> None:
        """A flow's `ai:` block is metadata (for the app surface): running past it does nothing."""

    def visit_Metric(self, node: A.Metric) -> None:
        value = self.eval(node.value) if node.value is not None else None
        labels = self.eval(node.labels) if node.labels is not None else None
        if labels is not None and labels.__class__ is not dict:
            raise _fail(TYPE_ERROR, "Metric labels must be an object", node.span)
        self.trace({"type": "metric", "kind": node.kind, "name": node.name,
                    "operation": node.operation, "value": value, "labels": labels})
        self.last = value  # as namel3ss (null for a bare increment)

    # ------------------------------------------------------------------ expressions
    def visit_Literal(self, node: A.Literal) -> Any:
        return node.value

    def visit_ListExpr(self, node: A.ListExpr) -> list:
        visit = self._visit
        return self.meter.grew([visit[i.__class__](i) for i in node.items], node.span)

    def visit_MapExpr(self, node: A.MapExpr) -> dict:
        visit = self._visit
        out = {}
        for e in node.entries:
            if e.key in out:
                raise _fail(TYPE_ERROR, f"Map key '{e.key}' is duplicated", e.span,
                            why="Each key of a `map:` block may appear once.")
            out[e.key] = visit[e.value.__class__](e.value)
        return self.meter.grew(out, node.span)

    def visit_Name(self, node: A.Name) -> Any:
        try:
            return self.scope[node.name]
        except KeyError:
            pass
        if node.name == "state" and self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot read state", node.span)
        if node.name == "identity" and self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot access identity", node.span)
        raise _fail(NAME_ERROR, f"Unknown variable '{node.name}'", node.span,
                    why="Names must be bound with `let` (or be `input`, `state`, a loop variable) "
                        "before they are used.")

    def visit_Attribute(self, node: A.Attribute) -> Any:
        try:
            obj = self._visit[node.obj.__class__](node.obj)
        except RuntimeFailure as failure:
            path = getattr(failure, "state_path", None)
            if path is None:
                raise
            # namel3ss names the whole path it was asked for: `Unknown state path 'x.y'`.
            path = path + "." + node.name
            message = failure.message.replace(f"'{failure.state_path}'", f"'{path}'")
            wider = _fail(failure.code, message, failure.span, why=failure.why)
            wider.state_path = path
            raise wider from None
        if obj.__class__ is dict:
            try:
                return obj[node.name]
            except KeyError:
                if obj is self.identity:
                    raise _fail(ATTRIBUTE_ERROR, f"Identity is missing '{node.name}'.", node.span,
                                why="The flow reads a field of the identity that the current "
                                    "user does not have.") from None
                self._state_path_failure(node)
                raise _fail(ATTRIBUTE_ERROR, f"Missing attribute '{node.name}'", node.span,
                            why=f"The map has no key '{node.name}'"
                                + (f"; its keys are: {', '.join(sorted(obj))}." if obj else "; it is empty."))
        self._state_path_failure(node, mapping=False)
        raise _fail(ATTRIBUTE_ERROR, f"Missing attribute '{node.name}'", node.span,
                    why=f"The value is {type_name(obj)}, not a map, so it has no attributes.")

    def visit_Index(self, node: A.Index) -> Any:
        obj = self._visit[node.obj.__class__](node.obj)
        index = self._visit[node.index.__class__](node.index)
        return self._get_index(obj, index, A.position(node.index))

    def _get_index(self, obj: Any, index: Any, span: Span) -> Any:
        if obj.__class__ is list:
            if index.__class__ is not Decimal or not is_integral(index):
                raise _fail(INDEX_ERROR, "List index must be an integer", span,
                            why=f"The index is {type_name(index) if index.__class__ is not Decimal else short_number(index)}.")
            i = clamp_int(index)
            if i < 0 or i >= len(obj):
                raise _fail(INDEX_ERROR, "List index is out of range", span,
                            why=f"The index is {short_number(index)}, but the list has {len(obj)} items "
                                f"(valid indexes 0 to {len(obj) - 1}).")
            return obj[i]
        if obj.__class__ is dict and index.__class__ is str:
            try:
                return obj[index]
            except KeyError:
                raise _fail(ATTRIBUTE_ERROR, f"Missing attribute '{index}'", span)
        raise _fail(INDEX_ERROR, f"List get needs a list but got {type_name(obj)}", span,
                    why="Only lists can be indexed with [i].")  # namel3ss's words

    def visit_Unary(self, node: A.Unary) -> Any:
        v = self._visit[node.operand.__class__](node.operand)
        if v.__class__ is not Decimal:
            raise _fail(TYPE_ERROR, f"Unary '{node.op}' requires a number.", node.span,
                        why=f"The operand is {type_name(v)}, but arithmetic only works on numbers.")
        if node.op == "-":
            return -v
        return v

    def visit_Binary(self, node: A.Binary) -> Any:
        visit = self._visit
        left = node.left
        right = node.right
        a = visit[left.__class__](left)
        b = visit[right.__class__](right)
        op = node.op
        if a.__class__ is Decimal and b.__class__ is Decimal:
            try:
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
            except ArithmeticError as exc:
                raise arithmetic_failure(exc, op, node.at or node.span)
            return self._arith(op, a, b, node.at or node.span)
        if op == "+" and a.__class__ is str and b.__class__ is str:
            size = len(a) + len(b)
            if size > 256:
                self.check_text_size(size, node.span)
                self.charge(size >> 8, node.span)
            return a + b
        if b is None:
            # namel3ss words a missing right operand as its unary message (same text).
            raise _fail(TYPE_ERROR, f"Unary '{op}' requires a number.", node.at or node.span,
                        why=f"The operand is {type_name(a)}, but arithmetic only works on numbers.")
        raise _fail(TYPE_ERROR, f"Cannot apply '{op}' to {type_name(a)} and {type_name(b)}.", node.at or node.span,
                    why="Arithmetic works on numbers, and `+` also joins two texts; "
                        "nothing is converted implicitly.")

    def _arith(self, op: str, a: Decimal, b: Decimal, span: Span) -> Decimal:
        try:
            if op == "/":
                if not b:
                    raise _fail(ARITHMETIC_ERROR, "Division by zero.", span,
                                why="The right-hand side of '/' evaluated to 0.")
                return a / b
            if op == "%":
                if not b:
                    raise _fail(ARITHMETIC_ERROR, "Modulo by zero.", span,
                                why="The right-hand side of '%' evaluated to 0.")
                return decimal_mod(a, b)
            if op == "**":
                return decimal_pow(a, b)
        except RuntimeFailure:
            raise
        except ArithmeticError as exc:
            raise arithmetic_failure(exc, op, span)
        raise _fail(TYPE_ERROR, f"Unknown operator '{op}'", span)

    def visit_Compare(self, node: A.Compare) -> bool:
        visit = self._visit
        a = visit[node.left.__class__](node.left)
        args = [visit[o.__class__](o) for o in node.operands]
        op = node.op
        if a.__class__ in _CONTAINERS:
            self.charge(len(a) >> 5, node.span)
        if op == "is":
            return values_equal(a, args[0])
        if op == "is not":
            return not values_equal(a, args[0])
        if op == "is one of":
            return any(values_equal(a, x) for x in args)
        if a.__class__ is not Decimal or any(x.__class__ is not Decimal for x in args):
            raise _fail(TYPE_ERROR, "Comparison requires numbers.", node.at or node.span,
                        why="Comparisons like `is greater than`, `is at least` or `is between` "
                            "only work on numbers.")
        test = NUMBER_COMPARISONS.get(op)
        if test is not None:
            return test(a, args)
        raise _fail(TYPE_ERROR, f"Unknown comparison '{op}'", node.span)

    def visit_BoolOp(self, node: A.BoolOp) -> bool:
        op = node.op
        a = self._visit[node.left.__class__](node.left)
        if a is not True and a is not False:
            raise self._bool_operand(op, a, node.at or node.span)
        if op == "and":
            if not a:
                return False
        elif a:
            return True
        b = self._visit[node.right.__class__](node.right)
        if b is not True and b is not False:
            raise self._bool_operand(op, b, node.at or node.span)
        return b

    def _bool_operand(self, op: str, value: Any, span: Span) -> RuntimeFailure:
        return _fail(CONDITION_ERROR, f"Operator '{op}' requires a boolean.", span,
                     why=f"The operand is {type_name(value)}, but boolean logic only works with "
                         f"true/false; nothing is truthy in this language.")

    def visit_Not(self, node: A.Not) -> bool:
        v = self._visit[node.operand.__class__](node.operand)
        if v is True:
            return False
        if v is False:
            return True
        raise self._bool_operand("not", v, node.span)

    # ------------------------------------------------------------------ built-ins
    def visit_BuiltinCall(self, node: A.BuiltinCall) -> Any:
        visit = self._visit
        args = [visit[a.__class__](a) for a in node.args]
        name = node.name
        span = node.span
        if name in LIST_BUILTINS:
            xs = args[0] if args else None
            if xs.__class__ is not list:
                raise _fail(BUILTIN_ERROR, f"{name} requires a list but got {type_name(xs)}", span)
            if not xs:
                raise _fail(BUILTIN_ERROR, f"{name} cannot operate on an empty list", span)
            for i, x in enumerate(xs):
                if x.__class__ is not Decimal:
                    raise _fail(BUILTIN_ERROR, f"{name} list item at index {i} must be a number "
                                               f"but got {type_name(x)}", span)
            self.charge(len(xs) >> 5, span)
            try:
                if name == "sum":
                    total = _D(0)
                    for x in xs:
                        total += x
                    return total
                if not xs:
                    raise _fail(BUILTIN_ERROR, f"{name}() needs a non-empty list.", span,
                                why=f"The {name} of no numbers is undefined.")
                if name == "min":
                    return min(xs)
                if name == "max":
                    return max(xs)
                if name == "mean":
                    total = _D(0)
                    for x in xs:
                        total += x
                    return total / len(xs)
                ordered = sorted(xs)
                mid = len(ordered) // 2
                if len(ordered) % 2:
                    return ordered[mid]
                return (ordered[mid - 1] + ordered[mid]) / 2
            except RuntimeFailure:
                raise
            except ArithmeticError as exc:
                raise arithmetic_failure(exc, name, span)
        if name.startswith("list "):
            xs = args[0]
            if xs.__class__ is not list:
                raise _fail(BUILTIN_ERROR, f"{name.capitalize()} needs a list but got {type_name(xs)}", span)
            if name == "list length":
                return _D(len(xs))
            if name == "list append":
                self.check_list_size(len(xs) + 1, span)
                self.charge(len(xs) >> 5, span)
                out = list(xs)
                out.append(args[1])
                return self.meter.appended(xs, out, args[1], span)
            if name == "list get":
                if args[1].__class__ is not Decimal:
                    raise _fail(INDEX_ERROR, f"List index must be a number but got {type_name(args[1])}", span)
                return self._get_index(xs, args[1], span)
        if name.startswith("map "):
            m = args[0]
            if m.__class__ is not dict:
                raise _fail(BUILTIN_ERROR, f"{name.capitalize()} needs a map but got {type_name(m)}", span)
            if name == "map keys":
                self.charge(len(m) >> 5, span)
                return sorted(m)
            key = args[1]
            if key.__class__ is not str:
                raise _fail(BUILTIN_ERROR, f"Map key must be text but got {type_name(key)}", span)
            if name == "map get":
                try:
                    return m[key]
                except KeyError:
                    raise _fail(ATTRIBUTE_ERROR, f"Map key '{key}' was not found", span)
            if name == "map set":
                self.check_list_size(len(m) + 1, span)
                self.charge(len(m) >> 5, span)
                new_map = dict(m)
                new_map[key] = args[2]
                return self.meter.map_set(m, new_map, key, span)
        raise _fail(BUILTIN_ERROR, f"Unknown built-in '{name}'", span)

    # ---- §6 expressions (added)
    def _state_path_failure(self, node: A.Attribute, mapping: bool = True) -> None:
        """A missing key under ``state.…``: namel3ss's ``Unknown state path 'a.b'``, at ``state``."""
        path = []
        cur: Any = node
        while cur.__class__ is A.Attribute:
            path.append(cur.name)
            cur = cur.obj
        if cur.__class__ is not A.Name or cur.name != "state" or self.call_stack:
            return
        dotted = ".".join(reversed(path))
        if mapping:
            failure = _fail(STATE_ERROR, f"Unknown state path '{dotted}'", cur.span,
                            why="Nothing has been stored at that path of the app state yet.")
        else:
            failure = _fail(STATE_ERROR, f"State path '{dotted}' is not a mapping", cur.span)
        failure.state_path = dotted
        raise failure

    def _target_list(self, node: Any, what: str, span: Span) -> list:
        xs = self._visit[node.__class__](node)
        if xs.__class__ is not list:
            raise _fail(TYPE_ERROR, f"{what} expects a list.", span,
                        why="List transforms can only iterate list values.")
        self.charge(len(xs) >> 5, span)
        return xs

    def visit_ListMap(self, node: A.ListMap) -> list:
        xs = self._target_list(node.target, "map", node.span)
        body, var, visit = node.body, node.var, self._visit
        out = []
        with self.frames.names((var,)) as scope:
            for x in xs:
                scope[var] = x
                out.append(visit[body.__class__](body))
        return self.meter.grew(out, node.span)  # items may be shared values (issue 12, F2)

    def visit_ListFilter(self, node: A.ListFilter) -> list:
        xs = self._target_list(node.target, "filter", node.span)
        pred, var, visit = node.predicate, node.var, self._visit
        out = []
        with self.frames.names((var,)) as scope:
            for x in xs:
                scope[var] = x
                keep = visit[pred.__class__](pred)
                if keep is not True and keep is not False:
                    raise _fail(CONDITION_ERROR, "Filter predicate must return a boolean.",
                                A.position(pred),
                                why="Filter expressions include an item only when the predicate "
                                    "evaluates to true or false.")
                if keep:
                    out.append(x)
        return self.meter.grew(out, node.span)

    def visit_ListReduce(self, node: A.ListReduce) -> Any:
        xs = self._target_list(node.target, "reduce", node.span)
        acc = self.eval(node.start)
        body, visit = node.body, self._visit
        acc_name, var = node.acc, node.var
        value = acc
        with self.frames.names((acc_name, var)) as scope:
            for x in xs:
                scope[acc_name] = value
                scope[var] = x
                value = visit[body.__class__](body)
        return value

    def visit_CallBuiltin(self, node: A.CallBuiltin) -> Any:
        name, span = node.name, node.span
        if self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot call builtins", span)
        if name == "secret":
            if "secrets" not in self.capabilities:
                raise _fail(CAPABILITY_ERROR, "Secrets capability is not enabled.", span,
                            why="Secrets are read only by apps that declare the capability.",
                            fix="Add 'secrets' to the capabilities block in app.ai.",
                            example="capabilities:\n  secrets")
            self._builtin_arity(node, 1)
            key = self.eval(node.args[0])
            if key.__class__ is not str:
                raise _fail(BUILTIN_ERROR, "Secret name must be text.", span)
            return self._secret(key, span)
        if name in ("has_role", "has_permission"):
            self._builtin_arity(node, 1)
            value = self.eval(node.args[0])
            label = "role" if name == "has_role" else "permission"
            if value.__class__ is not str or not value.strip():
                raise _fail(BUILTIN_ERROR, f"{label.capitalize()} must be text.", span)
            identity = self.scope.get("identity")
            keys = ("roles", "role") if label == "role" else ("permissions", "permission", "scopes", "scope")
            held = None
            if identity.__class__ is dict:
                for k in keys:
                    held = identity.get(k)
                    if held is not None:
                        break
            if held is None:
                items = []
            elif held.__class__ is str:
                items = [held] if held.strip() else []
            elif held.__class__ is list:
                items = [x.strip() for x in held if x.__class__ is str and x.strip()]
            else:
                raise _fail(BUILTIN_ERROR, "Permissions must be a list of text values.", span)
            return value.strip() in items
        raise _fail(BUILTIN_ERROR, f"Unknown builtin '{name}'.", span,
                    why="Only supported runtime helper builtins can be called in expressions.",
                    fix="Use secret(), has_role() or has_permission(), or the list aggregates "
                        "sum(), min(), max(), mean(), median().")

    def _builtin_arity(self, node: A.CallBuiltin, expected: int) -> None:
        if len(node.args) != expected:
            raise _fail(BUILTIN_ERROR, f"{node.name} expects {expected} arguments.", node.span)

    def _secret(self, key: str, span: Span) -> str:
        import os

        cleaned = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in key.strip().lower())
        cleaned = cleaned.strip("_-")
        while "__" in cleaned:
            cleaned = cleaned.replace("__", "_")
        if not cleaned:
            raise _fail(BUILTIN_ERROR, "Secret name is empty.", span)
        env = cleaned.upper().replace("-", "_")
        for prefix in ("N3_SECRET_", "NAMEL3SS_SECRET_"):
            value = os.environ.get(prefix + env)
            if value:
                return value
        raise _fail(BUILTIN_ERROR, f"Secret '{cleaned}' is missing.", span,
                    why="Secrets are loaded from environment variables.",
                    fix=f"Set N3_SECRET_{env}.")

    # ------------------------------------------------------------------ functions
    def visit_CallFunction(self, node: A.CallFunction) -> Any:
        """``call function "name":`` in namel3ss's order: repeated arguments, then each input
        (missing, then its type), then unknown arguments; the result is what ``return`` gives."""
        fn = self.functions.get(node.name)
        span = node.span
        if fn is None:
            raise _fail(FUNCTION_ERROR, f"Unknown function '{node.name}'.", span,
                        why=f"No `define function \"{node.name}\":` is declared. Functions: "
                            f"{', '.join(sorted(self.functions)) or 'none'}.")
        if node.name in self.call_stack:
            head = Span(fn.span.line, fn.span.column, fn.name_span.end_line, fn.name_span.end_column)
            raise _fail(FUNCTION_ERROR, "Function recursion is not allowed", head,
                        why=f"'{node.name}' is already running: "
                            f"{' -> '.join([*self.call_stack, node.name])}.")
        if len(self.call_stack) >= self.limits.max_call_depth:
            raise GuardFailure(LIMIT_ERROR, f"Call depth limit hit ({self.limits.max_call_depth} "
                                            f"nested calls).", span)
        given: dict[str, Any] = {}
        for arg in node.args:
            if arg.name in given:
                raise _fail(FUNCTION_ERROR, f"Duplicate function argument '{arg.name}'", arg.span)
            given[arg.name] = self.eval(arg.value)
        self._check_fields(fn.inputs, given, span, missing=(FUNCTION_ERROR, "function input"),
                           mistyped=FUNCTION_ERROR, owner=f"function '{fn.name}'")
        # an optional input not passed reads as null
        local: dict[str, Any] = {p.name: given.get(p.name) for p in fn.inputs}
        for name in given:
            if name not in local:
                raise _fail(FUNCTION_ERROR, f"Unknown function input '{name}'", span,
                            why=f"Inputs of '{fn.name}': "
                                f"{', '.join(p.name for p in fn.inputs) or 'none'}.")
        self.call_stack.append(fn.name)
        try:
            with self.frames.call(local):  # scope, constants and last value of the caller come back after
                self.exec_block(fn.body)
        except _Return as ret:
            result = ret.value
        except RuntimeFailure as failure:
            self._locate(failure, fn)
            raise
        else:
            raise _fail(FUNCTION_ERROR, f'Function "{fn.name}" ended without return', span,
                        why="The body finished without reaching a `return`.")
        finally:
            self.call_stack.pop()
        self._check_outputs(fn, result, span)
        return result

    def _locate(self, failure: RuntimeFailure, decl: Any) -> None:
        """Name the file of the function or flow a failure happened in, when the app was put
        together from several files (§9), unless a deeper call named it already."""
        if failure.file is None and self.program.origins:
            failure.file = self.program.file_of(decl)

    def visit_CallFlow(self, node: A.CallFlow) -> Any:
        """``call flow "name":``: run the named flow on the ``input:`` map, checked against its
        contract, and give the ``output:`` fields of its result (LANGUAGE.md §9)."""
        span = node.span
        if self.call_stack:
            raise _fail(FUNCTION_ERROR, "Functions cannot call flows", span)
        flow = self.flows.get(node.name)
        if flow is None:
            raise _fail(RUNTIME_ERROR, f'Unknown flow "{node.name}".', span,
                        why=f"Flow calls must reference declared flows. Flows: "
                            f"{', '.join(sorted(self.flows)) or 'none'}.")
        contract = self.contracts.get(node.name)
        if contract is None:
            raise _fail(RUNTIME_ERROR, f'Flow "{node.name}" is missing a contract.', span,
                        why="Composed flows require explicit input and output contracts.")
        caller = self.flow
        if caller is not None and caller.purity == "pure" and flow.purity != "pure":
            raise _fail(RUNTIME_ERROR, f'Pure flow "{caller.name}" cannot call effectful flow '
                                       f'"{flow.name}"', span)
        if len(self.flow_stack) >= self.limits.max_call_depth:
            raise GuardFailure(LIMIT_ERROR, f"Call depth limit hit ({self.limits.max_call_depth} "
                                            f"nested flow calls).", span,
                               why=f"call flow \"{node.name}\" was entered "
                                   f"{self.flow_stack.count(node.name)} times without returning; "
                                   f"flows that call themselves never finish.")
        params = {p.name: p for p in contract.inputs}
        payload: dict[str, Any] = {}
        for arg in node.args:
            if arg.name not in params:
                raise _fail(RUNTIME_ERROR, f"Unknown flow input '{arg.name}'", span,
                            why=f"The contract of flow '{flow.name}' declares: "
                                f"{', '.join(params) or 'no inputs'}.")
            if arg.name in payload:
                raise _fail(RUNTIME_ERROR, f"Duplicate input field '{arg.name}'", arg.span)
            payload[arg.name] = self.eval(arg.value)
        self._check_fields(contract.inputs, payload, span, missing=(RUNTIME_ERROR, "flow input"),
                           mistyped=TYPE_ERROR, owner=f"flow '{flow.name}'")
        saved = (self.flow, self.order_target)
        state = self.scope.get("state")
        self.flow_stack.append(flow.name)
        self.flow = flow
        try:
            with self.frames.call({"input": payload, "state": state, "identity": self.identity}):
                try:
                    result = self._flow_body(flow)
                finally:
                    state = self.scope.get("state")
        except RuntimeFailure as failure:
            self._locate(failure, flow)
            # namel3ss's state is one shared map: what the flow set before failing stays set
            # (seen by a `try` or an orchestration branch that keeps the failure)
            self.scope["state"] = state
            raise
        finally:
            self.flow_stack.pop()
            self.flow, self.order_target = saved
        self.scope["state"] = state
        return self._flow_outputs(flow, contract, node, result)

    def _flow_outputs(self, flow: A.FlowDecl, contract: A.ContractDecl, node: A.CallFlow,
                      result: Any) -> dict:
        span = node.span
        if result.__class__ is not dict:
            raise _fail(RUNTIME_ERROR, "Flow return must be a map", span,
                        why=f"Flow '{flow.name}' returned {type_name(result)}.")
        expected = {p.name: p for p in contract.outputs}
        for p in contract.outputs:
            if p.name not in result:
                if p.optional:
                    continue
                raise _fail(RUNTIME_ERROR, f"Missing flow output '{p.name}'", span,
                            why=f"Flow '{flow.name}' returned a map without it.")
            v = result[p.name]
            if not (v is None and p.optional) and not value_matches(v, p.type, self.records):
                raise _fail(TYPE_ERROR, f"Expected {type_text(p.type)} but got {type_name(v)}",
                            span, why=f"Flow output '{p.name}' of flow '{flow.name}' must be "
                                      f"{type_phrase(p.type)}.")  # namel3ss's words above
        for key in result:
            if key not in expected:
                raise _fail(RUNTIME_ERROR, f"Unknown flow output '{key}'", span,
                            why=f"The contract of flow '{flow.name}' does not declare it.")
        selected: dict[str, Any] = {}
        for name in node.outputs:
            if name not in result:
                raise _fail(RUNTIME_ERROR, f"Missing flow output '{name}'", span)
            selected[name] = result[name]
        return selected

    def _check_fields(self, params: tuple[A.Param, ...], given: dict, span: Span, *,
                      missing: tuple[str, str], mistyped: str, owner: str) -> None:
        """namel3ss's checks of declared fields (function inputs and outputs, flow inputs), in
        its order and words: each is present unless optional, then of its type (null passes
        for an optional one). ``missing``: the code and words of a missing field ("function
        input"); ``owner`` names the function or flow in the why."""
        for p in params:
            if p.name not in given:
                if not p.optional:
                    raise _fail(missing[0], f"Missing {missing[1]} '{p.name}'", span)
                continue
            value = given[p.name]
            if not (value is None and p.optional) and not value_matches(value, p.type, self.records):
                raise _fail(mistyped, f"Expected {type_text(p.type)} but got {type_name(value)}",
                            span, why=f"The {missing[1].split()[-1]} '{p.name}' of {owner} is "
                                      f"{type_phrase(p.type)}.")

    def _check_outputs(self, fn: A.FunctionDecl, result: Any, span: Span) -> None:
        """With an ``output:`` block the result is a map of exactly those outputs (namel3ss's
        checks and words, at the call)."""
        outs = fn.outputs
        if not outs:
            return
        if result.__class__ is not dict:
            raise _fail(FUNCTION_ERROR, "Function return must be a map", span,
                        why=f"Function '{fn.name}' declares outputs but returned {type_name(result)}.")
        self._check_fields(outs, result, span, missing=(FUNCTION_ERROR, "function output"),
                           mistyped=FUNCTION_ERROR, owner=f"function '{fn.name}'")
        names = {p.name for p in outs}
        extra = sorted(k for k in result if k not in names)
        if extra:
            raise _fail(FUNCTION_ERROR, f"Unknown function output '{extra[0]}'", span)


# ---------------------------------------------------------------------- arithmetic helpers
_WIDE = 5_000  # the most digits a remainder may need before we call the number too large


def _child_blocks(stmt: Any) -> tuple:
    """The statement blocks directly inside a statement (if, loops, match, try)."""
    kind = stmt.__class__
    if kind is A.If:
        return (stmt.then_body, stmt.else_body)
    if kind in (A.RepeatTimes, A.RepeatWhile, A.ForEach):
        return (stmt.body,)
    if kind is A.Match:
        return tuple(case.body for case in stmt.cases) + ((stmt.otherwise,) if stmt.otherwise else ())
    if kind is A.Try:
        return (stmt.body, stmt.catch_body)
    return ()


def decimal_mod(a: Decimal, b: Decimal) -> Decimal:
    """``a % b`` with the sign of the dividend, exact even when the quotient is huge."""
    try:
        return a % b
    except InvalidOperation:
        need = a.adjusted() - b.adjusted() + 30
        if need > _WIDE:
            raise Overflow("number too large for %")
        wide = Context(prec=need, Emin=-999999, Emax=999999,
                       traps=[InvalidOperation, DivisionByZero, Overflow])
        return +wide.remainder(a, b)


def decimal_pow(a: Decimal, b: Decimal) -> Decimal:
    """``a ** b`` in the runtime context; 0 ** 0 is 1; 0 ** negative is division by zero."""
    if not a:
        if not b:
            return Decimal(1)
        if b < 0:
            raise DivisionByZero("0 ** negative")
        return Decimal(0)
    return a ** b


def arithmetic_failure(exc: ArithmeticError, op: str, span: Span) -> RuntimeFailure:
    if isinstance(exc, DivisionByZero):
        return _fail(ARITHMETIC_ERROR, "Division by zero.", span,
                     why="Raising 0 to a negative power divides by zero.")
    if isinstance(exc, Overflow):
        return _fail(ARITHMETIC_ERROR, "Number is too large.", span,
                     why=f"The result of '{op}' is beyond the largest number this runtime holds.")
    return _fail(ARITHMETIC_ERROR, f"The result of '{op}' is not a number.", span,
                 why="For example a negative number raised to a fractional power has no "
                     "real result.")


def _confidence(value: Any) -> Decimal:
    """A model's probability as a number rounded to 6 decimal places.

    For a probability-sized float, ``"%.6f"`` rounds its exact value correctly, as
    ``round(value, 6)`` does, in one step instead of round() and then repr(): below 1e9 the
    result has at most 15 significant digits, which a float holds exactly, so the two give the
    same number (numbers print without the trailing zeros "%.6f" keeps)."""
    if value.__class__ is not float:
        try:
            value = float(value)
        except (TypeError, ValueError):
            return Decimal(0)
    if -1e9 < value < 1e9:
        return Decimal("%.6f" % value)
    return Decimal(repr(round(value, 6)))  # huge, infinite or nan: round() and repr() never raise


__all__ = ["Interpreter", "Limits", "CONTEXT", "value_matches", "type_text", "results_name"]
