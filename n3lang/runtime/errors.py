"""Runtime diagnostics: the codes, their why/fix/example texts, and the exceptions that carry them.

Message texts follow LANGUAGE.md word for word where it gives them. Every runtime failure is a
:class:`RuntimeFailure` carrying a code, the message and the span of the failing statement or
expression; ``run_flow`` turns it into a :class:`~n3lang.diagnostics.Diagnostic`.
"""

from __future__ import annotations

from n3lang.diagnostics import REGISTRY, Diagnostic, make, register
from n3lang.span import UNKNOWN, Span

RUNTIME_ERROR = register(
    "runtime-error",
    why="The flow did something the language does not allow while it was running.",
    fix="Read the message and the marked line; change the program so the operation is valid.",
    example='let total is 1 + 2\nreturn total',
)
TYPE_ERROR = register(
    "runtime-type-error",
    why="An operation received a value of the wrong type (for example text where a number is needed).",
    fix="Make both sides the type the operation needs; text joins only with text, arithmetic needs numbers.",
    example='let total is 10.5 + 2.25\nlet greeting is "Hello, " + name',
)
CONDITION_ERROR = register(
    "runtime-condition-error",
    why="Nothing is truthy in this language: if/while conditions and and/or/not operands must be true or false.",
    fix="Use a comparison so the condition is a boolean.",
    example="if total is greater than 10:\n  return true",
)
ARITHMETIC_ERROR = register(
    "runtime-arithmetic-error",
    why="The arithmetic has no finite result (division or modulo by zero, 0 ** -1, an overflow).",
    fix="Check the divisor or exponent before computing.",
    example="if divisor is not equal to 0:\n  let ratio is total / divisor",
)
NAME_ERROR = register(
    "runtime-name-error",
    why="The flow used or set a name that is not bound at this point, or set a constant.",
    fix="Bind the name with `let` before using or setting it; rebind a constant with `let`.",
    example="let count is 0\nset count is count + 1",
)
ATTRIBUTE_ERROR = register(
    "runtime-attribute-error",
    why="A map has no entry with that key, or the value is not a map.",
    fix="Check the key spelling, or test for it first with `map keys`.",
    example="let user is map:\n  name is \"Ada\"\nreturn user.name",
)
INDEX_ERROR = register(
    "runtime-index-error",
    why="Lists are indexed from 0 up to their length minus 1 with whole numbers.",
    fix="Check the index against `list length of xs` first.",
    example="if i is less than list length of xs:\n  return xs[i]",
)
LOOP_ERROR = register(
    "runtime-loop-error",
    why="A loop's count or limit was not a whole number >= 0, its subject was not a list, or "
        "`repeat while` was still true after its limit.",
    fix="Give loops whole-number counts and limits, iterate lists, and make while conditions end.",
    example="repeat while count is less than 10 limit 100:\n  set count is count + 1",
)
BUILTIN_ERROR = register(
    "runtime-builtin-error",
    why="A built-in operation received arguments it cannot work with.",
    fix="Pass the argument types the built-in documents (lists of numbers for sum/min/max/mean/median).",
    example="let xs is list: 1, 2, 3\nlet total is sum(xs)",
)
FUNCTION_ERROR = register(
    "runtime-function-error",
    why="A function call did not match the function's declared inputs or outputs, recursed, "
        "or touched state or records.",
    fix="Pass exactly the declared inputs with their types, and keep functions pure.",
    example='define function "double":\n  input:\n    x is number\n  return x * 2\n\n'
            'let y is call function "double":\n  x is 21',
)
RECORD_ERROR = register(
    "runtime-record-error",
    why="A record value broke the record's declared types or constraints, or the record is unknown.",
    fix="Give every field a value of its declared type that satisfies its `must` constraints.",
    example='record "User":\n  age is number must be at least 18\n\n'
            'create "User" with map:\n  age is 21\nas user',
)
ACCESS_ERROR = register(
    "runtime-access-denied",
    why="A flow that creates, saves, updates or deletes records must declare `requires`, "
        "and its condition must be true.",
    fix="Add `requires EXPR` to the flow header, with a condition that holds for this run.",
    example='flow "add user": requires input.is_admin is true\n  create "User" with input.user as u',
)
CAPABILITY_ERROR = register(
    "runtime-capability-missing",
    why="This feature is gated by a capability the app does not declare.",
    fix="Add the capability to the app's `capabilities:` block.",
    example="capabilities:\n  training",
)
AI_ERROR = register(
    "runtime-ai-error",
    why="The ai or model call could not be made in this runtime.",
    fix="Declare the ai with `model is \"<trained model>\"` naming a model from `n3 models`, "
        "and train it with `n3 train`.",
    example='ai "support":\n  model is "supportbot.faq_model_v2"',
)
LIMIT_ERROR = register(
    "runtime-limit",
    why="The run hit a safety limit (step budget, call depth or value size) that protects "
        "against runaway programs.",
    fix="Make loops end sooner and values smaller; the limits are generous for real programs.",
    example="repeat up to 100 times:\n  set total is total + 1",
)
FLOW_ERROR = register(
    "runtime-flow-error",
    why="`n3 run` needs exactly one flow to run: the only flow, or the one named with --flow.",
    fix="Pass --flow with one of the flow names listed.",
    example='n3 run app.ai --flow "demo"',
)
INPUT_ERROR = register(
    "runtime-input-error",
    why="The flow input must be a JSON document (or @file.json naming one).",
    fix="Quote the JSON for your shell, or put it in a file and pass --input @file.json.",
    example="n3 run app.ai --input '{\"question\": \"hello\"}'",
)
SPEC_ERROR = register(
    "runtime-unsupported-spec",
    why='This implementation runs version "1.0" of the language only.',
    fix='Write `spec is "1.0"` (and only use features of that version).',
    example='spec is "1.0"',
)
STATE_ERROR = register(
    "runtime-state-error",
    why="The state store (a SQLite file, or a PostgreSQL database given by URL) could not be opened or "
        "read as this runtime's store.",
    fix="Pass --state a path to a writable file (created on first use) made by `n3 run`, or the "
        "postgresql:// URL of a database n3 keeps its tables in.",
    example="n3 run app.ai --state app.db",
)
# --state postgresql://… (n3lang/runtime/records_pg.py)
STATE_DRIVER_ERROR = register(
    "runtime-state-driver",
    why="A postgresql:// --state keeps state and records in PostgreSQL through the psycopg package, "
        "an optional extra of n3lang that is not installed here.",
    fix="Install the extra: pip install 'n3lang[postgres]' (or pass --state a file path to keep them in SQLite).",
    example="pip install 'n3lang[postgres]'",
)
STATE_URL_ERROR = register(
    "runtime-state-url",
    why="--state reads a value starting with postgresql:// or postgres:// as a PostgreSQL URL, and this "
        "one cannot be read as such.",
    fix="Write it as postgresql://USER@HOST[:PORT]/DATABASE; keep the password out of it (PGPASSWORD or "
        "~/.pgpass), or percent-encode its special characters.",
    example="n3 run app.ai --state postgresql://app@localhost:5432/app",
)
STATE_CONNECT_ERROR = register(
    "runtime-state-connect",
    why="n3 could not connect to the PostgreSQL server the --state URL names: nothing answers at that "
        "host and port, the host name is unknown, or the server refused the user, password or database.",
    fix="Start the server or correct the URL's host and port, and check the user, password and database "
        "with psql and the same URL.",
    example="psql 'postgresql://app@localhost:5432/app' -c 'SELECT 1'",
)
STATE_SCHEMA_ERROR = register(
    "runtime-state-schema",
    why="n3 keeps state and records in two tables, n3_state (key, value) and n3_records (record, id, "
        "data), and creates them when they are missing; here one of them has other columns, is not a "
        "table, or could not be created.",
    fix="Point --state at a database (or schema) of n3's own, or rename the other table; for a user "
        "that may not create tables, have the owner create them once.",
    example="ALTER TABLE n3_records RENAME TO n3_records_old",
)
SURFACE_ERROR = register(
    "runtime-surface-error",
    why="`run agent`, `enqueue job` and `set theme to` need namel3ss's app surface (agents, jobs, themes: LANGUAGE.md §10), which this runtime accepts but does not serve.",
    fix="Run the app with namel3ss for these statements, or catch the error with `try` and go on without them.",
    example='try:\n  run agent "planner" with input: goal as plan\nwith catch err:\n  let plan is "none"',
)

TOOL_ERROR = register(
    "runtime-tool-error",
    why="A tool call failed: its fields did not match the tool's input: block, the tool raised "
        "an error, ran past its timeout, or answered with something its output: block does "
        "not allow.",
    fix="Read the message: fix the call's fields, or the tool's code under tools/, or raise "
        "its `timeout_seconds`. Wrap the call in `try` to go on without it.",
    example='try:\n  let r is greet someone:\n    name is "Ada"\nwith catch err:\n  let r is "none"',
)
TOOL_BINDING_ERROR = register(
    "runtime-tool-binding",
    why="A python tool runs the function its binding in .namel3ss/tools.yaml names (or "
        "tools/<tool_name>.py when there is no tools.yaml); this tool has no usable binding, "
        "or is of a kind this runtime does not run.",
    fix="Bind the tool to a function under tools/ in .namel3ss/tools.yaml.",
    example='tools:\n  "greet someone":\n    kind: "python"\n    entry: "tools.greet:run"',
)

class RuntimeFailure(Exception):
    """A runtime error in the program, catchable by ``try``/``with catch``."""

    catchable = True
    state_path: str | None = None  # the dotted path of an unknown `state.…` read, when that failed
    file: str | None = None  # the file of the flow or function it happened in, when not the run's

    def __init__(self, code: str, message: str, span: Span = UNKNOWN, *, why: str | None = None,
                 fix: str | None = None, example: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.why = why
        self.fix = fix
        self.example = example

    def to_diagnostic(self, file: str) -> Diagnostic:
        if self.code not in REGISTRY:  # a code owned by another module (e.g. from a model loader)
            return Diagnostic(code=self.code, message=self.message, file=file, span=self.span,
                              why=self.why or "", fix=self.fix or "", example=self.example or "")
        return make(self.code, self.message, self.span, file,
                    why=self.why, fix=self.fix, example=self.example)


class GuardFailure(RuntimeFailure):
    """A safety guard (step budget, depth, size): never caught by ``try``."""

    catchable = False
