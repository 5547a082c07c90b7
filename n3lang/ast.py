"""The abstract syntax tree of an .ai program: frozen, slotted dataclasses, each with a Span.

The parser (n3lang.syntax) builds these; the checker and the interpreter walk them with
``visit_<ClassName>`` dispatch. Every class's docstring lists its fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Union

from n3lang.span import UNKNOWN, Span  # noqa: F401  (re-exported: A.Span, A.UNKNOWN)


# --------------------------------------------------------------------------- types
@dataclass(frozen=True, slots=True)
class TypeRef:
    """A field or parameter type: name (text, number, list, a record name...), generic args."""

    name: str
    args: tuple["TypeExpr", ...] = ()
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class UnionType:
    """A union type such as ``text | null``: options."""

    options: tuple[TypeRef, ...]
    span: Span = field(default=UNKNOWN, compare=False)


TypeExpr = Union[TypeRef, UnionType]


# --------------------------------------------------------------------------- expressions
@dataclass(frozen=True, slots=True)
class Literal:
    """A number (Decimal), text (str), boolean or null (None): value."""

    value: Decimal | str | bool | None
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ListExpr:
    """``list: a, b`` or an indented list: items."""

    items: tuple["Expr", ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class MapEntry:
    """One ``key is EXPR`` line of a map literal: key, value."""

    key: str
    value: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class MapExpr:
    """``map:`` with indented entries: entries."""

    entries: tuple[MapEntry, ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Name:
    """A variable reference (``x``, ``input``, ``state``): name."""

    name: str
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Attribute:
    """``obj.name`` map attribute access: obj, name."""

    obj: "Expr"
    name: str
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Index:
    """``obj[index]``, 0-based list indexing: obj, index."""

    obj: "Expr"
    index: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Unary:
    """Unary ``+`` or ``-``: op, operand."""

    op: str
    operand: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic ``+ - * / % **``: op, left, right, at (the operator, where errors point)."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)
    at: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Compare:
    """An English comparison: op (one of vocabulary.COMPARE_OPS), left, operands (1, 2 or more), at (the ``is``)."""

    op: str
    left: "Expr"
    operands: tuple["Expr", ...]
    span: Span = field(default=UNKNOWN, compare=False)
    at: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class BoolOp:
    """Short-circuit ``and`` / ``or``: op, left, right, at (the operator word)."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)
    at: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    """``not EXPR``: operand."""

    operand: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class BuiltinCall:
    """A built-in operation (one of vocabulary.BUILTINS): name, args."""

    name: str
    args: tuple["Expr", ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Argument:
    """One ``name is EXPR`` argument line of a function call: name, value."""

    name: str
    value: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class CallFunction:
    """``call function "name":`` with indented arguments: name, args, name_span."""

    name: str
    args: tuple[Argument, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class CallPipeline:
    """``call pipeline "name":`` with ``input:`` arguments and ``output:`` names (namel3ss's
    built-in ingestion/retrieval pipelines; not run here): name, args, outputs, name_span."""

    name: str
    args: tuple[Argument, ...]
    outputs: tuple[str, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class CallFlow:
    """``call flow "name":`` with an ``input:`` block of arguments and an ``output:`` block of
    names: name, args, outputs, name_span."""

    name: str
    args: tuple[Argument, ...]
    outputs: tuple[str, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ToolArg:
    """One ``field phrase is EXPR`` line of a tool call: name (the phrase), value."""

    name: str
    value: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """§9 a tool called by its phrase (``let r is greet someone:`` + argument lines): name,
    args, name_span (the phrase)."""

    name: str
    args: tuple[ToolArg, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Predict:
    """``predict "model[@version]" with EXPR`` (extension): model, input, model_span."""

    model: str
    input: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)
    model_span: Span = field(default=UNKNOWN, compare=False)


# ---- §6 expressions (added)
@dataclass(frozen=True, slots=True)
class ListMap:
    """``map XS with item as NAME:`` + an indented expression: target, var, body."""

    target: "Expr"
    var: str
    body: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ListFilter:
    """``filter XS with item as NAME:`` + an indented predicate: target, var, predicate."""

    target: "Expr"
    var: str
    predicate: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ListReduce:
    """``reduce XS with acc as A and item as V starting S:`` + body: target, acc, var, start, body."""

    target: "Expr"
    acc: str
    var: str
    start: "Expr"
    body: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class CallBuiltin:
    """A ``name(args)`` call other than vocabulary.LIST_BUILTINS (vocabulary.RUN_TIME_BUILTINS or
    an unknown name, which namel3ss reports when it runs): name, args."""

    name: str
    args: tuple["Expr", ...]
    span: Span = field(default=UNKNOWN, compare=False)


def position(node) -> Span:
    """Where namel3ss locates a run-time error of an expression: the operator of a binary
    operation or comparison, else the node's first token."""
    at = getattr(node, "at", None)
    return at if at is not None else node.span


Expr = Union[
    Literal, ListExpr, MapExpr, Name, Attribute, Index, Unary, Binary, Compare, BoolOp, Not,
    BuiltinCall, CallFunction, Predict, ListMap, ListFilter, ListReduce, CallBuiltin,
    CallFlow, ToolCall, CallPipeline,
]


# --------------------------------------------------------------------------- statements
@dataclass(frozen=True, slots=True)
class Let:
    """``let name is EXPR [constant]``: name, value, constant."""

    name: str
    value: Expr
    constant: bool = False
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Set:
    """``set a.b.c is EXPR``: target (path of names, e.g. ("x",) or ("state", "a")), value."""

    target: tuple[str, ...]
    value: Expr
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class If:
    """``if EXPR:`` body [``else:`` body]: condition, then_body, else_body."""

    condition: Expr
    then_body: tuple["Stmt", ...]
    else_body: tuple["Stmt", ...] = ()
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class RepeatTimes:
    """``repeat up to EXPR times:``: count, body."""

    count: Expr
    body: tuple["Stmt", ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class RepeatWhile:
    """``repeat while EXPR limit N:``: condition, limit, body."""

    condition: Expr
    limit: Expr
    body: tuple["Stmt", ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ForEach:
    """``for each x in EXPR:``: name, iterable, body."""

    name: str
    iterable: Expr
    body: tuple["Stmt", ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class MatchCase:
    """``when LIT:`` body: value, body."""

    value: Expr
    body: tuple["Stmt", ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Match:
    """``match EXPR:`` / ``with:`` / cases / ``otherwise:``: subject, cases, otherwise (None if absent)."""

    subject: Expr
    cases: tuple[MatchCase, ...]
    otherwise: tuple["Stmt", ...] | None = None
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Try:
    """``try:`` body ``with catch NAME:`` body: body, catch_name, catch_body."""

    body: tuple["Stmt", ...]
    catch_name: str
    catch_body: tuple["Stmt", ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Return:
    """``return EXPR``: value."""

    value: Expr
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Create:
    """``create "Rec" with EXPR as x``: record, value, binding."""

    record: str
    value: Expr
    binding: str
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Find:
    """``find "Rec" where PRED`` (binds ``<rec>_results``): record, predicate."""

    record: str
    predicate: Expr
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Assignment:
    """One ``field is EXPR`` line of an update: field, value."""

    field: str
    value: Expr
    span: Span = dataclasses.field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Update:
    """``update "Rec" where PRED set:`` + assignments: record, predicate, assignments."""

    record: str
    predicate: Expr
    assignments: tuple[Assignment, ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Delete:
    """``delete "Rec" where PRED``: record, predicate."""

    record: str
    predicate: Expr
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Save:
    """``save "Rec"`` (stores ``state.<rec>``): record."""

    record: str
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class AskAI:
    """``ask ai "name" with input: EXPR as x``: ai, input, binding, mode (how the input is
    given: "text", "image", "audio" or "structured"), stream (``stream: true``)."""

    ai: str
    input: Expr
    binding: str
    span: Span = field(default=UNKNOWN, compare=False)
    mode: str = "text"
    stream: bool = False



# ---- §5 statements (added)
@dataclass(frozen=True, slots=True)
class LetBlock:
    """``let:`` + indented ``a is EXPR`` entries (several per line with ``,``): lets."""

    lets: tuple[Let, ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class SetBlock:
    """``set state.x with:`` + indented ``key is EXPR`` lines: sets (full state paths)."""

    sets: tuple[Set, ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Calc:
    """``calc:`` + indented ``name = EXPR`` lines: steps (a Let per name, a Set per state path)."""

    steps: tuple[Union[Let, Set], ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class OrderList:
    """``order TARGET by FIELD from highest to lowest``: target (name path), field, descending."""

    target: tuple[str, ...]
    field: str
    descending: bool
    span: Span = dataclasses.field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class KeepFirst:
    """``keep first N items`` (trims the list the last ``order`` sorted): count."""

    count: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Log:
    """``log LEVEL EXPR [with MAP]``: level, message, fields (None if absent)."""

    level: str
    message: "Expr"
    fields: "Expr | None" = None
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Metric:
    """``metric KIND NAME OP [EXPR] [with MAP]``: kind, name, operation, value, labels."""

    kind: str
    name: str
    operation: str
    value: "Expr | None" = None
    labels: "Expr | None" = None
    span: Span = field(default=UNKNOWN, compare=False)

@dataclass(frozen=True, slots=True)
class ParallelTask:
    """One task of a ``parallel:`` block: name (``run "name":``, or ``step_N`` for a plain
    statement), body."""

    name: str
    body: tuple["Stmt", ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Parallel:
    """``parallel:`` with tasks and an optional ``merge:`` block: tasks, merge (the ``policy``
    expression, or None), merge_span. Tasks run one by one, in name order, each on a copy
    of the locals; their local changes are merged; the value is the list of their results."""

    tasks: tuple[ParallelTask, ...]
    merge: "Expr | None" = None
    span: Span = field(default=UNKNOWN, compare=False)
    merge_span: Span = field(default=UNKNOWN, compare=False)
    merge_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OrchestrationBranch:
    """One ``branch "name":`` of an ``orchestration:`` block: name, call (its one expression,
    a ``call flow`` or ``call pipeline`` when valid), name_span; span: the ``branch`` word."""

    name: str
    call: "Expr"
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)
    extra: Span | None = field(default=None, compare=False)  # a second line, which is an error


@dataclass(frozen=True, slots=True)
class Orchestration:
    """``orchestration:`` with branches, a ``merge:`` block (its settings: ``policy``,
    ``precedence``; None when it is missing) and ``as target``. The branches' calls run in order, each failure kept;
    the policy merges their outcomes into the target (namel3ss's runtime/executor/orchestration).
    span: the ``orchestration`` word; merge_span: the ``merge`` word."""

    branches: tuple[OrchestrationBranch, ...]
    merge: tuple["Setting", ...] | None
    target: str
    span: Span = field(default=UNKNOWN, compare=False)
    merge_span: Span = field(default=UNKNOWN, compare=False)
    target_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class FlowAI:
    """A flow's ``ai:`` metadata block (model, prompt, dataset): settings. Metadata for the
    app surface: checked, nothing runs."""

    settings: tuple["Setting", ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class SurfaceStmt:
    """A statement that needs the app surface (LANGUAGE.md §10): ``run agent "a" with input:
    X as y`` (kind "run agent"), ``enqueue job "j" [with input: X]`` ("enqueue job"), ``set
    theme to "dark"`` ("set theme"), ``run agents in parallel:`` with ``agent "a" with input:
    X`` lines, an optional ``merge:`` block and ``as y`` ("run agents"). It parses; running it
    is an error. name: the agent, job or theme (the agents, comma-separated); value: the input
    (or None); target: the `as` name (or None); more: the other expressions (parallel inputs,
    merge settings)."""

    kind: str
    name: str
    value: "Expr | None" = None
    target: str | None = None
    span: Span = field(default=UNKNOWN, compare=False)
    more: "tuple[Expr, ...]" = ()


Stmt = Union[
    Let, Set, If, RepeatTimes, RepeatWhile, ForEach, Match, Try, Return, Create, Find, Update,
    Delete, Save, AskAI, LetBlock, SetBlock, Calc, OrderList, KeepFirst, Log, Metric,
    SurfaceStmt, FlowAI, Parallel, Orchestration,
]


# --------------------------------------------------------------------------- declarations
@dataclass(frozen=True, slots=True)
class SpecDecl:
    """``spec is "1.0"``: version."""

    version: str
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Capability:
    """One capability token: name."""

    name: str
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class CapabilitiesDecl:
    """``capabilities:`` block or inline list: items."""

    items: tuple[Capability, ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Constraint:
    """A ``must ...`` constraint on a record field: kind (one of vocabulary.CONSTRAINTS), args."""

    kind: str
    args: tuple[Expr, ...] = ()
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class FieldDecl:
    """A record field: name, type, constraints."""

    name: str
    type: TypeExpr
    constraints: tuple[Constraint, ...] = ()
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class RecordDecl:
    """``record "Name":`` with fields: name, fields, name_span, tenant_keys (its ``tenant_key is
    identity.x`` lines, as settings: namel3ss scopes the rows by them)."""

    name: str
    fields: tuple[FieldDecl, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)
    tenant_keys: tuple["Setting", ...] = ()


@dataclass(frozen=True, slots=True)
class IdentityDecl:
    """``identity "user":`` (§9): name, fields (as a record's), trust_levels (the allowed
    ``trust_level`` values, or None), name_span."""

    name: str
    fields: tuple[FieldDecl, ...]
    trust_levels: tuple[str, ...] | None = None
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class FlowDecl:
    """``flow "name":``: name, body, requires (Expr or None), audited, name_span, purity
    ("pure", "effectful" or None)."""

    name: str
    body: tuple[Stmt, ...]
    requires: Expr | None = None
    audited: bool = False
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)
    purity: str | None = None
    steps: tuple["Step", ...] = ()  # a declarative flow's steps (§9); its body is then empty
    declarative: bool = False


# ---- §9 declarative flows: `flow "name" requires X` (no colon) + an indented body of steps
@dataclass(frozen=True, slots=True)
class InputField:
    """One ``name is type`` line of a declarative flow's ``input`` step: name, type (the
    canonical type word), type_span."""

    name: str
    type: str
    span: Span = field(default=UNKNOWN, compare=False)
    type_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class StepField:
    """One ``field is EXPR`` line of a create, set or call foreign step: name, value."""

    name: str
    value: Expr
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class StepInput:
    """``input`` + indented fields: the flow's required input fields."""

    fields: tuple[InputField, ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class StepRequire:
    """``require "state.path"``: a gate; a false state value skips the later steps."""

    condition: str
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class StepCreate:
    """``create "Rec"`` + indented field lines: record, fields."""

    record: str
    fields: tuple[StepField, ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class StepUpdate:
    """``update "Rec"`` + ``where "SEL"`` + ``set`` block: record, selector (the text or
    None), predicate (the selector parsed, None when it does not parse), fields."""

    record: str
    selector: str | None
    predicate: Expr | None
    fields: tuple[StepField, ...]
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class StepDelete:
    """``delete "Rec"`` + ``where "SEL"``: record, selector, predicate (as StepUpdate)."""

    record: str
    selector: str | None
    predicate: Expr | None
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class StepCallForeign:
    """``call foreign "name"`` + argument lines: name, fields."""

    name: str
    fields: tuple[StepField, ...]
    span: Span = field(default=UNKNOWN, compare=False)


Step = Union[StepInput, StepRequire, StepCreate, StepUpdate, StepDelete, StepCallForeign]


@dataclass(frozen=True, slots=True)
class Param:
    """A function input or output: name, type, optional."""

    name: str
    type: TypeExpr
    optional: bool = False
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class FunctionDecl:
    """``define function "name":``: name, inputs, outputs, body, name_span."""

    name: str
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]
    body: tuple[Stmt, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ContractDecl:
    """``contract flow "name":`` with input and output fields: name (of the flow), inputs,
    outputs, name_span."""

    name: str
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ToolField:
    """One field of a tool's input: or output: block: name (a phrase), type (text, number,
    boolean or json, aliases resolved), required (False when ``is optional``)."""

    name: str
    type: str
    required: bool = True
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ToolDecl:
    """§9 ``tool "name":``: name, kind (``implemented using``: python, http, file, ...),
    purity ("pure" or "impure"), timeout_seconds (None: the default), inputs, outputs,
    name_span."""

    name: str
    kind: str
    purity: str
    timeout_seconds: int | None
    inputs: tuple[ToolField, ...]
    outputs: tuple[ToolField, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class Setting:
    """One ``key is EXPR`` line of an ai or model block: key, value."""

    key: str
    value: Expr
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ExposedTool:
    """One ``expose "tool name"`` line of an ai's ``tools:`` block: name."""

    name: str
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class AIDecl:
    """``ai "name":`` with settings (e.g. ``model is "..."``): name, settings, name_span,
    tools (the ``expose`` lines of ``tools:`` blocks), memory (the ``memory:`` block's settings,
    None without one)."""

    name: str
    settings: tuple[Setting, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)
    tools: tuple[ExposedTool, ...] = ()
    memory: tuple[Setting, ...] | None = None


@dataclass(frozen=True, slots=True)
class PromptDecl:
    """``prompt "name":`` with ``version``, ``text`` and ``description`` settings: name,
    settings, name_span."""

    name: str
    settings: tuple[Setting, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class ModelDecl:
    """``model "name":`` with training settings (extension): name, settings, name_span."""

    name: str
    settings: tuple[Setting, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class SurfaceRef:
    """A name an app-surface declaration refers to: kind ("flow" or "record"), name, span
    (of the quoted name, inside the declaration's body)."""

    kind: str
    name: str
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class SurfaceDecl:
    """An app-surface declaration (LANGUAGE.md §10: page, ui, theme, agent, job, ...),
    accepted with its whole body unparsed: kind (the first word), name (the first quoted
    name of the header, or None), text (header and body as written), refs (the flows and
    records it names)."""

    kind: str
    name: str | None
    text: str
    refs: tuple[SurfaceRef, ...] = ()
    span: Span = field(default=UNKNOWN, compare=False)


@dataclass(frozen=True, slots=True)
class OverrideFlowDecl:
    """``override flow "rag.answer":`` + a flow body, the answer routine of namel3ss's
    ``use preset "rag_chat":`` (app surface, §10): target, body (empty when the header has
    no body), name_span (the quoted target)."""

    target: str
    body: tuple[Stmt, ...]
    span: Span = field(default=UNKNOWN, compare=False)
    name_span: Span = field(default=UNKNOWN, compare=False)


# ---- §9 modules (n3lang/syntax/loader.py reads the files they name)
@dataclass(frozen=True, slots=True)
class UseDecl:
    """``use "name" as alias`` (a capsule module: file=False) or ``use module "path.ai" as
    alias`` (one module file: file=True) with optional ``only:`` / ``allow override:``
    blocks: module, alias, file, module_span (the string), only, allow_override."""

    module: str
    alias: str
    file: bool = False
    span: Span = field(default=UNKNOWN, compare=False)
    module_span: Span = field(default=UNKNOWN, compare=False)
    only: tuple[str, ...] = ()  # `only:` categories (functions, records, tools, pages, jobs)
    allow_override: tuple[str, ...] = ()  # `allow override:` categories


@dataclass(frozen=True, slots=True)
class IncludeDecl:
    """``include "file.ai"``: path (as written), path_span."""

    path: str
    span: Span = field(default=UNKNOWN, compare=False)
    path_span: Span = field(default=UNKNOWN, compare=False)


Decl = Union[SpecDecl, CapabilitiesDecl, RecordDecl, FlowDecl, FunctionDecl, AIDecl, ModelDecl,
             SurfaceDecl, IdentityDecl, ContractDecl, ToolDecl, UseDecl, IncludeDecl,
             PromptDecl, OverrideFlowDecl]


@dataclass(frozen=True, slots=True)
class Program:
    """A whole .ai file: declarations in source order, and the path it came from."""

    declarations: tuple[Decl, ...]
    path: str = "<input>"
    #: The file of each declaration, when the program was put together from several files
    #: (n3lang/syntax/loader.py); empty when every declaration comes from ``path``.
    origins: tuple[str, ...] = ()

    def file_of(self, decl: Any) -> str:
        """The file a declaration of this program was read from."""
        if self.origins:
            for d, origin in zip(self.declarations, self.origins):
                if d is decl:
                    return origin
        return self.path

    def of_type(self, kind: type) -> list:
        """Declarations of one class, in source order."""
        return [d for d in self.declarations if isinstance(d, kind)]

    @property
    def capabilities(self) -> tuple[str, ...]:
        """Every capability token declared, in order."""
        return tuple(c.name for block in self.of_type(CapabilitiesDecl) for c in block.items)
