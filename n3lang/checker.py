"""Semantic checks of an .ai program: every problem found in one pass, never raised.

``check_program`` walks the AST with ``visit_<NodeClass>`` dispatch (the jinja2 habit) and
collects Diagnostics; ``check_project`` adds them to a loaded app's syntax errors, sorted by
position (n3lang.frontend.analyze is the one entry point: text to AST, diagnostics, symbols).
The codes, with their why/fix/example texts, are registered here at import time.

Rules worth knowing (they are the ones a reader of an app can apply by eye):
- A flow's scope is one flat map that starts with ``input``; ``state`` is always there. A name
  is bound at a use if any binding of it (``let``, ``for each``, ``with catch``, ``as x``,
  ``find`` -> ``<rec>_results``) appears textually earlier in the same flow.
- A function's scope starts with its input names and ``input``; functions may not touch
  ``state`` or records, and may not call themselves, directly or through other functions.
- Inside a ``where`` predicate (and the ``set:`` lines of an update) the record's field
  names and ``id`` are in scope as well.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, TypeGuard

from n3lang import ast as A
from n3lang import words
from n3lang.diagnostics import (
    INTERNAL_ERROR,
    NOTE,
    WARNING,
    Diagnostic,
    DiagnosticError,
    make,
    register,
    sort_key,
)
from n3lang.syntax.loader import Project
from n3lang.syntax.words import RESERVED_WORDS
from n3lang.training import interface as training
from n3lang.visitor import Frames, Visitor
from n3lang.vocabulary import (
    BUILTINS,
    ENFORCED_CAPABILITIES,
    NUMBER_COMPARISONS,
    RUN_TIME_BUILTINS,
    SUPPORTED_SPECS,
    TYPE_ALIASES,
    TYPE_NAMES,
    id_field,
    results_name,
)
from n3lang.vocabulary import (
    CAPABILITIES as KNOWN_CAPABILITIES,
)

# --------------------------------------------------------------------------- language facts

MUTATING = ("Create", "Save", "Update", "Delete")
RECORD_STATEMENTS = ("Create", "Find", "Update", "Delete", "Save")

# --------------------------------------------------------------------------- codes
MISSING_SPEC = register(
    "missing-spec",
    why='Every .ai file starts by naming the language version it is written for, so a future version can never silently change what it means.',
    fix='Add `spec is "1.0"` as the first line of the file.',
    example='spec is "1.0"\n\nflow "demo":\n  return "ok"',
)
DUPLICATE_SPEC = register(
    "duplicate-spec",
    why="A file is written for exactly one language version; a second spec line is ambiguous.",
    fix="Keep one `spec is \"1.0\"` line, at the top of the file.",
    example='spec is "1.0"',
)
UNSUPPORTED_SPEC = register(
    "unsupported-spec",
    why='This implementation runs version "1.0" of the language only.',
    fix='Write `spec is "1.0"` (and only use features of that version).',
    example='spec is "1.0"',
    severity=WARNING,  # namel3ss loads the file and refuses to run it (LANGUAGE.md §2)
)
INVALID_PURITY = register(
    "invalid-purity",
    why="A flow's purity says whether it may have effects; only two values have a meaning.",
    fix="Write `purity is \"effectful\"` (or leave the line out).",
    example='flow "demo": purity is "effectful"\n  return 1',
)
PURE_FLOW_WITHOUT_CONTRACT = register(
    "pure-flow-without-contract",
    why="A pure flow promises to have no effects; namel3ss checks that promise against a "
        "`contract flow` declaration, and this flow has none.",
    fix='Remove `purity is "pure"`, or declare the flow\'s contract.',
    example='flow "demo":\n  return 1',
)
NON_CANONICAL_TYPE = register(
    "non-canonical-type",
    why="string, str, int, integer and bool are older names that namel3ss still accepts; the "
        "language's own type names are text, number, boolean, json, list and map.",
    fix="Write the canonical name.",
    example='record "User":\n  name text\n  age number\n  active boolean',
    severity=WARNING,
)
UNKNOWN_CAPABILITY = register(
    "unknown-capability",
    why="Capabilities are a fixed list of tokens; an unknown one is usually a typo, and would grant nothing.",
    fix="Use one of the known capabilities (listed under Why), one per line, or fix the spelling.",
    example="capabilities:\n  training",
)
DUPLICATE_CAPABILITY = register(
    "duplicate-capability",
    why="Each capability can only be declared once.",
    fix="Remove the duplicate entry.",
    example="capabilities:\n  training\n  http",
)
UNUSED_CAPABILITY = register(
    "unused-capability",
    why="The token belongs to the public language and is accepted so existing apps parse, but this runtime has no feature behind it: declaring it changes nothing here.",
    fix="Nothing is required; remove the line if the app does not need it elsewhere.",
    example="capabilities:\n  training",
    severity=NOTE,
)
DUPLICATE_FLOW = register(
    "duplicate-flow",
    why="Flows are run by name, so two flows with one name would make `n3 run` ambiguous.",
    fix="Rename or remove one of the flows.",
    example='flow "create order":\n  ...\nflow "list orders":\n  ...',
)
DUPLICATE_RECORD = register(
    "duplicate-record",
    why="Records are referred to by name in create/find/update/delete/save; two with one name would be ambiguous.",
    fix="Merge the two records into one, or rename one of them.",
    example='record "User":\n  name text\nrecord "Admin":\n  name text',
)
DUPLICATE_FUNCTION = register(
    "duplicate-function",
    why="Functions are called by name; two with one name would make `call function` ambiguous.",
    fix="Rename or remove one of the functions.",
    example='define function "add":\n  ...\ndefine function "subtract":\n  ...',
)
DUPLICATE_AI = register(
    "duplicate-ai",
    why="An ai is used by name in `ask ai`; two with one name would be ambiguous.",
    fix="Rename or remove one of the ai declarations.",
    example='ai "support":\n  model is "supportbot.faq_model_v2"',
)
DUPLICATE_MODEL = register(
    "duplicate-model",
    why="A model block names the model it trains; two blocks would train two different models under one name.",
    fix="Keep one model block per name (use a new name for a new model).",
    example='model "faq_v2":\n  model_base is "gpt-3.5-turbo"\n  dataset is "data/faq.jsonl"',
)
DUPLICATE_IDENTITY = register(
    "duplicate-identity",
    why="`identity` is the one signed-in user of a run; namel3ss allows one identity block per app.",
    fix="Keep a single identity declaration.",
    example='identity "user":\n  role is text',
)
DUPLICATE_FIELD = register(
    "duplicate-field",
    why="A record's fields are keys of one map; the same field twice would leave only one of its definitions in force.",
    fix="Remove or rename the second field.",
    example='record "User":\n  name text\n  email text',
)
DUPLICATE_INPUT = register(
    "duplicate-input",
    why="A function's inputs are passed by name; the same name twice would be ambiguous.",
    fix="Remove or rename the second input.",
    example='define function "add":\n  input:\n    a is number\n    b is number',
)
DUPLICATE_ARGUMENT = register(
    "duplicate-argument",
    why="Each input of a function is given at most once in a call.",
    fix="Remove the repeated argument line.",
    example='call function "add":\n  a is 1\n  b is 2',
)
DUPLICATE_SETTING = register(
    "duplicate-setting",
    why="Each setting of an ai or model block is given once; a repeated key would silently override the first.",
    fix="Remove one of the two lines.",
    example='model "faq_v2":\n  epochs is 3',
)
UNDEFINED_VARIABLE = register(
    "undefined-variable",
    why="A flow's variables come into existence with `let` (or for each, with catch, `as x`, find); this name has no binding earlier in the flow, so the run fails here unless a `try` catches it.",
    fix="Bind the name with `let` before using it, or fix the spelling.",
    example='let total is 0\nlet total is total + 1',
    severity=WARNING,
)
SET_UNDECLARED = register(
    "set-undeclared",
    why="`set` changes an existing variable; it never creates one, so a misspelt name cannot go unnoticed.",
    fix="Create the variable with `let` first (or use `set state.x` to write app state).",
    example='let count is 0\nset count is count + 1',
    severity=WARNING,
)
SET_CONSTANT = register(
    "set-constant",
    why="A variable bound with `let ... constant` cannot be changed with `set`.",
    fix="Drop `constant` from the let, or bind a new name with `let`.",
    example='let limit is 10\nset limit is 20',
    severity=WARNING,  # a run-time error (LANGUAGE.md §8)
)
UNKNOWN_RECORD = register(
    "unknown-record",
    why="Records must be declared with `record \"Name\":` before create/find/update/delete/save can use them.",
    fix="Declare the record, or fix the spelling of its name (names are case-sensitive).",
    example='record "User":\n  name text\n\nflow "add":\n  requires true\n  create "User" with input as user',
)
UNKNOWN_FUNCTION = register(
    "unknown-function",
    why="`call function` can only call a function declared with `define function`.",
    fix="Declare the function, or fix the spelling of its name.",
    example='define function "double":\n  input:\n    x is number\n  return x * 2',
)
UNKNOWN_AI = register(
    "unknown-ai",
    why="`ask ai` can only use an ai declared with `ai \"name\":`.",
    fix="Declare the ai, or fix the spelling of its name.",
    example='ai "support":\n  model is "supportbot.faq_model_v2"',
)
UNKNOWN_FLOW = register(
    "unknown-flow",
    why="An app-surface declaration (a page button, a form, a job, ...) refers to a flow by name; the app does not define it.",
    fix="Define the flow, or fix the spelling of its name (names are case-sensitive).",
    example='flow "submit":\n  return "ok"\n\npage "home":\n  button "Send":\n    calls flow "submit"',
)
DUPLICATE_CONTRACT = register(
    "duplicate-contract",
    why="A flow has one contract: `call flow` checks its input and output against it.",
    fix="Remove one of the contract declarations, or merge their fields.",
    example='contract flow "greet":\n  input:\n    name is text\n  output:\n    result is text',
)
CALL_FLOW_WITHOUT_CONTRACT = register(
    "call-flow-without-contract",
    why="`call flow` composes flows through explicit contracts: the called flow's input and output fields must be declared with `contract flow`.",
    fix="Add a `contract flow` declaration for the called flow.",
    example='contract flow "inner":\n  input:\n    value is text\n  output:\n    result is text',
)
FLOW_CALL_CYCLE = register(
    "flow-call-cycle",
    why="namel3ss refuses flows that reach themselves through `call flow`, so composed flows always finish.",
    fix="Break the cycle: move the shared steps into a function or a third flow.",
    example='flow "outer":\n  let r is call flow "inner":\n    input:\n      name is "x"\n    output:\n      result\n  return r',
)
PURE_FLOW_CALLS_EFFECTFUL = register(
    "pure-flow-calls-effectful",
    why="A pure flow performs no effects, so it may only call flows that are pure too.",
    fix='Mark the called flow `purity is "pure"` (if it has no effects), or remove `purity is "pure"` from the caller.',
    example='flow "double": purity is "pure"\n  return map:\n    "result" is input.n * 2',
)
SURFACE_NOT_SERVED = register(
    "surface-not-served",
    why="namel3ss's app surface (pages, ui, themes, agents, jobs, routes, ...; LANGUAGE.md §10) is accepted so whole apps check, and the flows and records it names are checked, but this runtime serves no UI and runs no agents or jobs.",
    fix="Nothing is required: `n3 check` and `n3 run` of flows work; serve the app with namel3ss.",
    example='page "home":\n  title is "Orders"',
    severity=NOTE,
)
CAPSULE_OUTSIDE_MODULE = register(
    "capsule-outside-module",
    why="Capsules are only valid in modules/<name>/capsule.ai.",
    fix="Move the capsule declaration into a module capsule.ai file.",
    example="modules/inventory/capsule.ai",
)
INVALID_PERMISSIONS = register(
    "invalid-permissions",
    why="namel3ss's `permissions:` block lists domains (ai, uploads, ui_state, navigation), each "
        "with its own actions set to allowed or denied, and needs the app_permissions capability "
        "(its parser/decl/permissions.py and ir/validation/app_permissions_validation.py).",
    fix="Write known domains and actions, one `action: allowed` or `action: denied` a line, "
        "and declare the app_permissions capability.",
    example="capabilities:\n  app_permissions\n\npermissions:\n  ai:\n    call: allowed\n    tools: denied",
)
INVALID_PRESET = register(
    "invalid-preset",
    why='namel3ss reads `override flow "rag.answer":` as the answer routine of `use preset "rag_chat":` (its parser/preset_expansion.py): one override, of that target, with a body, next to the preset.',
    fix='Declare `use preset "rag_chat":` and one `override flow "rag.answer":` with an indented flow body.',
    example='use preset "rag_chat":\n  title is "Assistant"\n\noverride flow "rag.answer":\n  return input.message',
)
UNKNOWN_TYPE = register(
    "unknown-type",
    why="Field and input types are text, number, boolean, json, list, map, null or a declared record name.",
    fix="Use one of the built-in types or declare the record.",
    example='record "User":\n  name text\n  tags list<text>',
)
INVALID_STEP = register(
    "invalid-step",
    why="A declarative flow's steps take literal values or input bindings, and selectors of the "
        "form <field> is <literal>, matching the record's field types (namel3ss checks this when "
        "the app loads).",
    fix='Use a literal or input.<field> for each value, and a selector like `where "id is 1"`.',
    example='flow "add note" requires true\n  input\n    title is text\n  create "Note"\n    title is input.title',
)
UNKNOWN_FIELD = register(
    "unknown-field",
    why="An update can only set fields the record declares.",
    fix="Add the field to the record, or fix the spelling.",
    example='update "User" where id is input.id set:\n  name is input.name',
)
MISSING_ARGUMENT = register(
    "missing-argument",
    why="Every input of a function that is not marked `optional` must be given in each call.",
    fix="Add an `name is EXPR` line for the input, or mark the input `optional`.",
    example='call function "add":\n  a is 1\n  b is 2',
)
UNEXPECTED_ARGUMENT = register(
    "unexpected-argument",
    why="A call can only pass the inputs the function declares.",
    fix="Remove the argument, fix its spelling, or add it to the function's input: block.",
    example='define function "add":\n  input:\n    a is number\n    b is number',
)
RECURSIVE_FUNCTION = register(
    "recursive-function",
    why="Functions may not call themselves, directly or through other functions, so every call is guaranteed to finish.",
    fix="Rewrite the recursion as a `repeat` or `for each` loop.",
    example='let total is 0\nfor each x in xs:\n  set total is total + x',
)
STATE_IN_FUNCTION = register(
    "state-in-function",
    why="Functions are pure: they see only their inputs, never app state.",
    fix="Pass the value in as an input from the flow that calls the function.",
    example='call function "total":\n  items is state.cart',
)
RECORDS_IN_FUNCTION = register(
    "records-in-function",
    why="Functions are pure: they may not read or change records; only flows may.",
    fix="Do the record work in the flow and pass the values to the function.",
    example='flow "report":\n  find "Order" where total is greater than 0\n  return call function "summary":\n    orders is order_results',
)
INVALID_PATTERN = register(
    "invalid-pattern",
    why="`match pattern` takes a regular expression; this one does not compile, so the constraint could never be checked.",
    fix="Fix the regular expression (backslashes are written `\\\\` inside a string).",
    example='email text must match pattern "^[^@]+@[^@]+$"',
)
TRAINING_REQUIRED = register(
    "training-required",
    why="Training and trained models are gated by the `training` capability, so an app never trains or loads a model without saying so.",
    fix="add `training` under capabilities:",
    example='capabilities:\n  training',
)
UNKNOWN_MODEL = register(
    "unknown-model",
    why="A model is used by name; it must be declared in the app with a `model` block or registered in models_registry.yaml by `n3 train`.",
    fix="Declare the model, train it with `n3 train`, or fix the spelling.",
    example='model "faq_v2":\n  model_base is "gpt-3.5-turbo"\n  dataset is "data/faq.jsonl"',
)
UNKNOWN_MODEL_SETTING = register(
    "unknown-model-setting",
    why="A model block takes the keys of training.yaml and nothing else (`n3 schema training-config`).",
    fix="Use one of the known keys, or fix the spelling.",
    example='model "faq_v2":\n  model_base is "gpt-3.5-turbo"\n  dataset is "data/faq.jsonl"\n  epochs is 3\n  seed is 13',
)
INVALID_MODEL_SETTING = register(
    "invalid-model-setting",
    why="Model settings are validated by the same code as training.yaml and the flags of `n3 train`, before any training starts.",
    fix="Give the setting a value of the type and range `n3 schema training-config` describes.",
    example='model "faq_v2":\n  model_base is "text-base"\n  epochs is 3\n  learning_rate is 1.0',
)
MISSING_MODEL_SETTING = register(
    "missing-model-setting",
    why="Training needs this key (training.yaml requires it too). A flag of `n3 train` can still supply it, so this is a warning, but the block alone cannot train.",
    fix="Add the setting to the model block (or pass it to `n3 train` as a flag).",
    example='model "faq_v2":\n  model_base is "gpt-3.5-turbo"\n  dataset is "data/faq.jsonl"',
    severity=WARNING,
)
MUTATION_WITHOUT_REQUIRES = register(
    "mutation-without-requires",
    why='A flow that creates, saves, updates or deletes records must declare `requires`; without it the run fails with "Mutation blocked by access control."',
    fix="Add a `requires` line to the flow saying who may run it.",
    example='flow "add user": requires input.is_admin is true\n  create "User" with input.user as user',
    severity=WARNING,
)
UNREACHABLE_CODE = register(
    "unreachable-code",
    why="`return` ends the flow, so statements after it in the same block never run.",
    fix="Remove the statements, or move them before the return.",
    example='let total is 1\nreturn total',
    severity=WARNING,
)
DUPLICATE_CASE = register(
    "duplicate-case",
    why="`match` runs the first equal case; a later case with the same value can never run.",
    fix="Remove the duplicate `when`, or merge the two bodies.",
    example='match x:\n  with:\n    when 1:\n      return "one"\n    otherwise:\n      return "other"',
    severity=WARNING,
)
DUPLICATE_ASSIGNMENT = register(
    "duplicate-assignment",
    why="Each field is set at most once in an update; a second line would silently override the first.",
    fix="Remove the repeated line.",
    example='update "User" where id is input.id set:\n  name is input.name',
)
DEPRECATED_MODEL = register(
    "deprecated-model",
    why="The registry marks this model version as deprecated, so using it fails at run time.",
    fix="Use a newer version of the model (`n3 models list`), or train a new one.",
    example='let scored is predict "faq_model_v3" with input.text',
    severity=WARNING,
)
FUNCTION_OUTPUT = register(
    "function-output",
    why="A function with an output: block returns a map holding exactly those outputs.",
    fix="Return a map whose keys are the declared outputs.",
    example='define function "stats":\n  input:\n    xs is list<number>\n  output:\n    total is number\n    mean is number\n  return map:\n    total is sum(xs)\n    mean is mean(xs)',
    severity=WARNING,
)
UNTRAINED_AI_MODEL = register(
    "untrained-ai-model",
    why="This runtime runs only models trained with `n3 train` (declared in the app with a `model` block or recorded in models_registry.yaml); it does not call hosted ai providers, so `ask ai` with this ai fails when it runs. The app still parses, as it would elsewhere.",
    fix="Point the ai at a trained model (declare it with a `model` block and run `n3 train`), or fix the spelling.",
    example='model "faq_v2":\n  model_base is "gpt-4o-mini"\n  dataset is "data/faq.jsonl"\n\nai "support":\n  model is "faq_v2"',
    severity=WARNING,
)
CONDITION_NOT_BOOLEAN = register(
    "condition-not-boolean",
    why="Nothing is truthy in this language: if/while conditions and the operands of and/or/not must be true or false, and this one can never be.",
    fix="Compare the value explicitly, e.g. `if count is greater than 0:`.",
    example='if list length of items is greater than 0:\n  return "some"',
    severity=WARNING,
)
TYPE_MISMATCH = register(
    "type-mismatch",
    why="The operand types are known from the code itself, and the operation never accepts them: arithmetic works on numbers, `+` also joins two texts, ordering comparisons need numbers, for each needs a list. Nothing is converted implicitly.",
    fix="Use values of the right type (there is no implicit conversion).",
    example='let total is 1 + 2\nlet label is "a" + "b"',
    severity=WARNING,
)
DIVISION_BY_ZERO = register(
    "division-by-zero",
    why="The right-hand side of `/` or `%` is the literal 0, so this fails whenever it runs (a warning, since code inside try or behind a short-circuit may mean it).",
    fix="Divide by a non-zero number, or guard the division with an if.",
    example='if count is not 0:\n  let mean is total / count',
    severity=WARNING,
)
BAD_LOOP_COUNT = register(
    "bad-loop-count",
    why="`repeat up to N times` needs a whole number N >= 0, and `repeat while ... limit N` a whole number N > 0.",
    fix="Use a whole, non-negative count (a positive limit).",
    example='repeat up to 3 times:\n  set total is total + 1',
    severity=WARNING,
)
AI_IN_FUNCTION = register(
    "ai-in-function",
    why="Functions are pure and deterministic: they may not call an ai; only flows may.",
    fix="Ask the ai in the flow and pass its answer to the function as an input.",
    example='flow "answer":\n  ask ai "support" with input: input.question as reply\n  return reply',
)
IMPURE_FUNCTION = register(
    "impure-function",
    why="Functions are pure: they see only their inputs, so they may not read identity, call built-ins such as secret(), or call flows or tools; only flows may.",
    fix="Do that work in the flow and pass the value to the function as an input.",
    example='flow "greet":\n  let role is identity.role\n  return call function "label":\n    role is role',
)
FUNCTION_WITHOUT_RETURN = register(
    "function-without-return",
    why="A function gives its result with `return`; a body without any `return` has no result.",
    fix="End the function with `return EXPR`.",
    example='define function "double":\n  input:\n    x is number\n  return x * 2',
)
ARGUMENT_TYPE = register(
    "argument-type",
    why="Each argument of a function call must have the type its input declares.",
    fix="Pass a value of the declared type, or change the input's type.",
    example='call function "double":\n  x is 21',
)
INVALID_AI = register(
    "invalid-ai",
    why="An ai block takes `model`, `provider` and `system_prompt` as quoted text, a `tools:` block of `expose \"tool\"` lines and a `memory:` block (short_term: a whole number; semantic, profile: true or false).",
    fix="Fix or remove the line.",
    example='ai "assistant":\n  model is "gpt-4o-mini"\n  provider is "openai"\n  memory:\n    short_term is 5',
)
INVALID_PROMPT = register(
    "invalid-prompt",
    why="A prompt block has a name made of letters, digits and `_`, and exactly one `version` (like \"1.0\") and one non-empty `text`, optionally a `description`, all quoted text; prompt names are unique.",
    fix="Fix or remove the line, or add the missing one.",
    example='prompt "summary_prompt":\n  version is "1.0.0"\n  text is "Summarise the input."\n  description is "Short summary."',
)
INVALID_PARALLEL = register(
    "invalid-parallel",
    why="A `parallel:` block names each task once and may end with a `merge:` block holding only `policy is \"conflict\"`, `\"precedence\"` or `\"override\"`; functions may not use it.",
    fix="Rename the task, or fix the merge block.",
    example='parallel:\n  run "alpha":\n    let a is 1\n  run "beta":\n    let b is 2\n  merge:\n    policy is "precedence"',
)
INVALID_ORCHESTRATION = register(
    "invalid-orchestration",
    why="An `orchestration:` block holds `branch \"name\":` blocks, each named once and holding one `call flow` or `call pipeline`, then a `merge:` block whose `policy` is \"first_ok\", \"all_ok\", \"collect\", \"prefer\" or \"strict\" (`prefer` also needs `precedence`, a list of branch names), then `as name`; functions may not use it.",
    fix="Fix the branch or the merge block as the message says.",
    example='orchestration:\n  branch "primary":\n    call flow "lookup":\n      input:\n        query is q\n      output:\n        report\nmerge:\n  policy is "prefer"\n  precedence is list: "primary"\nas merged',
)
INVALID_TENANT_KEY = register(
    "invalid-tenant-key",
    why="A record's tenant_key must reference identity.<field>, once: namel3ss keeps each tenant's rows apart by that value.",
    fix="Write one `tenant_key is identity.<field>` line.",
    example='record "Order":\n  tenant_key is identity.organization_id\n  total number',
)
AI_WITHOUT_MODEL = register(
    "ai-without-model",
    why="`ask ai` runs the model the ai names; an ai block without `model is \"...\"` has nothing to run.",
    fix="Add a `model is \"<name>\"` line naming a model declared in the app or registered by `n3 train`.",
    example='ai "support":\n  model is "supportbot.faq_model_v2"',
)
# ---- §9 tools
UNKNOWN_TOOL = register(
    "unknown-tool",
    why="App does not define this tool.",
    fix="Define the tool locally or import it with a module alias.",
    example='use "inventory" as inv',
)
DUPLICATE_TOOL = register(
    "duplicate-tool",
    why="A tool is called by its name; two declarations with one name would be ambiguous.",
    fix="Rename or remove one of the tool declarations.",
    example='tool "greet someone":\n  implemented using python\n  input:\n    name is text\n'
            '  output:\n    message is text',
)
TOOL_CAPABILITY = register(
    "tool-capability-missing",
    why="Apps must explicitly enable built-in backend capabilities: an http tool needs `http`, "
        "a file tool needs `files`.",
    fix="Add a capabilities block that lists the missing entries.",
    example="capabilities:\n  http",
)
TOOL_IN_FUNCTION = register(
    "tool-in-function",
    why="Functions are pure and deterministic: they may not call tools; only flows may.",
    fix="Call the tool in the flow and pass its result to the function as an input.",
    example='flow "report":\n  let data is get data:\n    web address is input.url\n'
            '  return call function "summary":\n    data is data',
)
TOOL_ARGUMENT = register(
    "tool-argument",
    why="A tool call's fields are checked against the tool's input: block when the call runs "
        "(unknown fields, missing required fields, wrong types); this call fails whenever it runs.",
    fix="Give exactly the declared input fields, each with a value of its declared type.",
    example='let r is greet someone:\n  name is "Ada"',
    severity=WARNING,  # namel3ss loads the app and fails at the call (LANGUAGE.md §8)
)

CHECK_CODES = (
    MISSING_SPEC, DUPLICATE_SPEC, UNSUPPORTED_SPEC, UNKNOWN_CAPABILITY, DUPLICATE_CAPABILITY,
    UNUSED_CAPABILITY, DUPLICATE_FLOW, DUPLICATE_RECORD, DUPLICATE_FUNCTION, DUPLICATE_AI,
    DUPLICATE_MODEL, DUPLICATE_IDENTITY, DUPLICATE_FIELD, DUPLICATE_INPUT, DUPLICATE_ARGUMENT, DUPLICATE_SETTING,
    UNDEFINED_VARIABLE, SET_UNDECLARED, SET_CONSTANT, UNKNOWN_RECORD, UNKNOWN_FUNCTION,
    UNKNOWN_AI, UNKNOWN_TYPE, UNKNOWN_FIELD, MISSING_ARGUMENT, UNEXPECTED_ARGUMENT,
    RECURSIVE_FUNCTION, STATE_IN_FUNCTION, RECORDS_IN_FUNCTION, INVALID_PATTERN,
    TRAINING_REQUIRED, UNKNOWN_MODEL, UNKNOWN_MODEL_SETTING, INVALID_MODEL_SETTING,
    MISSING_MODEL_SETTING, MUTATION_WITHOUT_REQUIRES, UNREACHABLE_CODE, DUPLICATE_CASE,
    AI_IN_FUNCTION, AI_WITHOUT_MODEL, DUPLICATE_ASSIGNMENT, DEPRECATED_MODEL, FUNCTION_OUTPUT,
    UNTRAINED_AI_MODEL, CONDITION_NOT_BOOLEAN, TYPE_MISMATCH, DIVISION_BY_ZERO, BAD_LOOP_COUNT,
    UNKNOWN_FLOW, SURFACE_NOT_SERVED, DUPLICATE_CONTRACT, CALL_FLOW_WITHOUT_CONTRACT,
    FLOW_CALL_CYCLE, PURE_FLOW_CALLS_EFFECTFUL, UNKNOWN_TOOL, DUPLICATE_TOOL, TOOL_CAPABILITY,
    TOOL_IN_FUNCTION, TOOL_ARGUMENT, INVALID_PRESET,
    CAPSULE_OUTSIDE_MODULE, INVALID_PERMISSIONS,
)

#: §10 the one target `override flow` may name, and the names namel3ss's generated
#: `flow "rag.answer"` binds before the override's body (parser/presets/rag_chat_core.py).
RAG_ANSWER = "rag.answer"
RAG_ANSWER_NAMES = ("ensure_status", "query_text", "has_query", "question_upload_entries",
                    "has_pdf_question_upload", "question_upload_count", "context_text",
                    "citations", "__rag_answer_text")
#: §10 the settings of `use preset "rag_chat":`, read as namel3ss's parser/preset_expansion.py
#: reads them: a line at a time, as text (a comment line is not a setting there either).
_PRESET_SETTING = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s+is\s+(?P<value>.+)\s*$")
_PRESET_TEXT = re.compile(r'^"(?P<value>.*)"$')
_PRESET_NUMBER = re.compile(r"^-?(?:\d+)(?:\.\d+)?$")
RAG_CHAT_TEMPLATES = ("plain_concise", "summary_keypoints_recommendation_with_citations")


def rag_chat_setting_problems(text: str, line: int) -> list[tuple[str, int, int, int]]:
    """namel3ss's complaints about the settings under `use preset "rag_chat":` (header on
    `line`): message, line, first and end column of the setting line. It stops at its first."""
    problems = []
    for offset, raw in enumerate(text.split("\n")[1:], 1):
        stripped = raw.strip()
        if not stripped:
            continue
        where = (line + offset, len(raw) - len(raw.lstrip()) + 1, len(raw.rstrip()) + 1)
        m = _PRESET_SETTING.match(stripped)
        if m is None:
            problems.append((f"Invalid preset setting line: {stripped}", *where))
            continue
        key, value = m.group("key"), m.group("value").strip()
        quoted = _PRESET_TEXT.match(value)
        if key in ("title", "accept", "model", "system", "answer_template") and quoted is None:
            problems.append((f'rag_chat preset setting "{key}" must be a quoted string.', *where))
        elif key == "answer_template" and quoted and quoted.group("value") not in RAG_CHAT_TEMPLATES:
            problems.append((f'Unknown rag_chat answer_template "{quoted.group("value")}". '
                             f"Supported: {', '.join(RAG_CHAT_TEMPLATES)}.", *where))
        elif key == "temperature" and not _PRESET_NUMBER.match(value):
            problems.append(("rag_chat preset temperature must be a number literal.", *where))
        elif key not in ("title", "accept", "model", "system", "answer_template", "temperature"):
            problems.append((f'Unknown rag_chat preset setting "{key}".', *where))
    return problems


#: §10 namel3ss's permission domains and their actions (parser/decl/permissions.py).
PERMISSION_ACTIONS = {"ai": ("call", "tools"), "uploads": ("read", "write"),
                      "ui_state": ("persistent_write",), "navigation": ("change_page",)}
_PERMISSION_TOKEN = re.compile(r'\s*(?:([A-Za-z_][A-Za-z0-9_]*)|("[^"]*")|(\S))')


def permission_problems(text: str, line: int, column: int) -> list[tuple[str, int, int]]:
    """namel3ss's complaints about a `permissions:` block's body (header on `line`): each a
    message, line and column. It stops at its first; every line is judged here."""
    problems: list[tuple[str, int, int]] = []
    body = text.split("\n")[1:]
    levels = sorted({len(raw) - len(raw.lstrip(" ")) for raw in body if _code(raw).strip()})
    domain: str | None = None
    domains: dict[str, tuple[int, int, int]] = {}  # name -> line, column, actions seen
    actions: set[str] = set()

    def token(raw: str, at: int) -> tuple[str, int]:
        m = _PERMISSION_TOKEN.match(raw, at)
        if m is None:  # pragma: no cover - a code line has a non-space character
            return "", at + 1
        start = m.start(m.lastindex or 1)
        return m.group(m.lastindex or 1), start + 1

    def close(at_line: int, at_column: int) -> None:
        # a domain with no action lines: namel3ss wants the indent at the next token (when the
        # block ends here, the next token is outside this text: the domain's own is used)
        if domain is not None and domains[domain][2] == 0:
            problems.append(("Expected indented permission actions", at_line, at_column))

    for offset, raw in enumerate(body, 1):
        code = _code(raw)
        if not code.strip():
            continue
        at_line = line + offset
        indent = len(raw) - len(raw.lstrip(" "))
        word, col = token(code, 0)
        if indent == levels[0]:
            close(at_line, col)
            domain, actions = None, set()
            if word not in PERMISSION_ACTIONS:
                problems.append((f"Unknown permissions domain '{word.strip(chr(34))}'.", at_line, col))
            elif word in domains:
                problems.append((f"permissions domain '{word}' is already declared.", at_line, col))
            else:
                domain = word
                domains[word] = (at_line, col, 0)
            continue
        if domain is None:
            continue
        allowed = PERMISSION_ACTIONS[domain]
        domains[domain] = (*domains[domain][:2], domains[domain][2] + 1)
        if word not in allowed:
            problems.append((f"Unknown permissions action '{domain}.{word.strip(chr(34))}'. "
                             f"Allowed actions: {', '.join(sorted(allowed))}.", at_line, col))
            continue
        if word in actions:
            problems.append((f"permissions action '{domain}.{word}' is already declared.", at_line, col))
            continue
        actions.add(word)
        rest = code[col - 1 + len(word):]
        colon = rest.lstrip(" ")
        if not colon.startswith(":"):
            continue  # namel3ss: "Expected ':' after permission action" (a syntax slip, not judged)
        after = col - 1 + len(word) + (len(rest) - len(colon)) + 1
        decision, dcol = token(code, after)
        if decision not in ("allowed", "denied"):
            if decision:
                problems.append(("Permission decision must be 'allowed' or 'denied'.", at_line, dcol))
            continue
        tail = code[dcol - 1 + len(decision):]
        if tail.strip():
            problems.append(("Permission lines must end after allowed/denied.", at_line,
                             dcol + len(decision) + len(tail) - len(tail.lstrip())))
    if domain is not None:
        close(*domains[domain][:2])
    return problems


def _code(raw: str) -> str:
    """A line without its `#` comment (outside quotes)."""
    inside = False
    for i, ch in enumerate(raw):
        if ch == '"':
            inside = not inside
        elif ch == "#" and not inside:
            return raw[:i]
    return raw


#: §9 the capability each built-in tool kind needs (namel3ss's program_capabilities.py).
TOOL_CAPABILITIES = {"http": "http", "file": "files"}
#: The static types (Checker.static_type) a tool field's type accepts.
_TOOL_TYPE_FITS = {"text": ("text",), "number": ("number",), "boolean": ("boolean",),
                   "json": ("list", "map")}


# --------------------------------------------------------------------------- helpers
def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or ``""`` (words.did_you_mean,
    with the checker's stricter cutoff)."""
    return words.did_you_mean(name, candidates, cutoff=0.65)


def _literal_json(expr: Any) -> tuple[bool, Any]:
    """(True, python value) for a literal expression (numbers as int/float), else (False, None)."""
    if isinstance(expr, A.Literal):
        v = expr.value
        if isinstance(v, Decimal):
            return True, int(v) if v == v.to_integral_value() else float(v)
        return True, v
    if isinstance(expr, A.Unary) and expr.op == "-" and isinstance(expr.operand, A.Literal) \
            and isinstance(expr.operand.value, Decimal):
        ok, value = _literal_json(expr.operand)
        return ok, -value
    if isinstance(expr, A.ListExpr):
        out = []
        for item in expr.items:
            ok, value = _literal_json(item)
            if not ok:
                return False, None
            out.append(value)
        return True, out
    if isinstance(expr, A.MapExpr):
        out_map = {}
        for entry in expr.entries:
            ok, value = _literal_json(entry.value)
            if not ok:
                return False, None
            out_map[entry.key] = value
        return True, out_map
    return False, None


def _always_returns(stmt: Any) -> bool:
    """True when running ``stmt`` always ends the flow with ``return``."""
    if isinstance(stmt, A.Return):
        return True
    if isinstance(stmt, A.If):
        return bool(stmt.else_body) and _block_returns(stmt.then_body) and _block_returns(stmt.else_body)
    if isinstance(stmt, A.Match):
        return (
            stmt.otherwise is not None
            and _block_returns(stmt.otherwise)
            and all(_block_returns(c.body) for c in stmt.cases)
        )
    if isinstance(stmt, A.Try):
        return _block_returns(stmt.body) and _block_returns(stmt.catch_body)
    return False


def _has_return(body: Iterable[Any]) -> bool:
    """namel3ss's test of a function body: a `return` anywhere in it (in a branch, a loop,
    a case or a try), whether or not every path reaches one."""
    for stmt in body:
        if isinstance(stmt, A.Return):
            return True
        if isinstance(stmt, A.If) and (_has_return(stmt.then_body) or _has_return(stmt.else_body)):
            return True
        if isinstance(stmt, (A.RepeatTimes, A.RepeatWhile, A.ForEach)) and _has_return(stmt.body):
            return True
        if isinstance(stmt, A.Match) and (any(_has_return(case.body) for case in stmt.cases)
                                          or _has_return(stmt.otherwise or ())):
            return True
        if isinstance(stmt, A.Try) and (_has_return(stmt.body) or _has_return(stmt.catch_body)):
            return True
    return False


#: The keys of an ai block (namel3ss's parser/decl/ai.py) and its providers.
AI_KEYS = ("model", "provider", "system_prompt")
AI_PROVIDERS = ("mock", "ollama", "openai", "anthropic", "gemini", "mistral", "huggingface",
                "local_runner", "vision_gen", "speech", "third_party_apis")
#: The keys of an ai block's `memory:` block.
MEMORY_KEYS = ("short_term", "semantic", "profile")
#: The keys of a prompt block, its names and versions (namel3ss's compiler/prompts.py).
PROMPT_KEYS = ("version", "text", "description")
_PROMPT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: namel3ss's AI flow declarations (parser/decl/ai_flow.py), app-surface words here.
AI_FLOW_KINDS = ("llm_call", "rag", "classification", "classify", "summarise", "translate", "qa", "cot", "chain")
_AI_FLOW_PROMPT = re.compile(r"""^( *)prompt is ("[^"\\]*"|'[^'\\]*')\s*(?:#.*)?$""")
_PROMPT_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PROMPT_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+)?$")


def _identity_path(expr: Any) -> bool:
    """`identity.a.b`: attributes over the name identity."""
    if not isinstance(expr, A.Attribute):
        return False
    while isinstance(expr, A.Attribute):
        expr = expr.obj
    return isinstance(expr, A.Name) and expr.name == "identity"


def _is_text(expr: Any) -> TypeGuard[A.Literal]:
    """A quoted string literal (namel3ss reads these settings as STRING tokens)."""
    return isinstance(expr, A.Literal) and isinstance(expr.value, str)


def _header(node: Any) -> A.Span:
    """The header of a declaration: from its first word to the end of its quoted name."""
    s, n = node.span, node.name_span
    return A.Span(s.line, s.column, n.end_line, n.end_column) if n != A.UNKNOWN else s


def _simple_type(t: Any) -> str | None:
    """A declared type namel3ss checks arguments against (text, number, ...), else None."""
    if isinstance(t, A.TypeRef) and not t.args and t.name in ("text", "number", "boolean", "list", "map", "json"):
        return str(t.name)
    return None


def _block_returns(body: Iterable[Any]) -> bool:
    return any(_always_returns(s) for s in body)


def _registry(project_dir: Path | str | None) -> tuple[list[dict] | None, list[Diagnostic]]:
    """Registry entries of ``project_dir`` (None when there is no registry to read)."""
    if project_dir is None:
        return None, []
    try:
        return training.registered_models(project_dir), []
    except DiagnosticError as exc:
        return None, list(exc.diagnostics)


# --------------------------------------------------------------------------- the checker
class Checker(Visitor):
    """One pass over a Program; ``diagnostics`` holds everything found."""

    def __init__(self, program: A.Program, project_dir: Path | str | None = None) -> None:
        self.program = program
        self.file = program.path
        # the file of each declaration (an app of several files: n3lang/syntax/loader.py)
        self.files: dict[int, str] = (
            {id(d): f for d, f in zip(program.declarations, program.origins)}
            if program.origins else {})
        self.project_dir = project_dir
        self.diagnostics: list[Diagnostic] = []
        self.records: dict[str, A.RecordDecl] = {}
        self.identity: A.IdentityDecl | None = None
        self.functions: dict[str, A.FunctionDecl] = {}
        self.ais: dict[str, A.AIDecl] = {}
        self.prompts: dict[str, A.PromptDecl] = {}  # the first of each name
        self.models: dict[str, A.ModelDecl] = {}
        self.flows: dict[str, A.FlowDecl] = {}
        self.contracts: dict[str, A.ContractDecl] = {}
        self.tools: dict[str, A.ToolDecl] = {}
        self.flow_calls: dict[str, list[A.CallFlow]] = {}
        self.has_training = False
        self.surface_kinds: set[str] = set()  # app-surface kinds already noted (§10)
        self.override_seen = False  # an `override flow "rag.answer":` was checked (§10)
        self.preset_seen = False  # a `use preset "rag_chat":` was checked (§10)
        self.in_override = False  # checking an override's body: its ask ai names need no ai
        self.registry: list[dict] | None = None
        # per flow / function
        self.scope: set[str] = set()
        self.reported: set[str] = set()
        self.constants: dict[str, bool] = {}
        self.fields: frozenset[str] = frozenset()
        self.function: A.FunctionDecl | None = None
        self.flow: A.FlowDecl | None = None
        self.first_mutation: Any = None
        self.calls: dict[str, list[A.CallFunction]] = {}
        self.frames = Frames(self)  # self.scope is the current frame
        self._visit = self.dispatch_table()

    # ------------------------------------------------------------------ plumbing
    def error(self, code: str, message: str, span: A.Span, **overrides: Any) -> None:
        self.diagnostics.append(make(code, message, span, self.file, **overrides))

    def visit(self, node: Any) -> str | None:
        """Visit a node; for an expression, return its type when the code alone fixes it
        (``number``, ``text``, ``boolean``, ``null``, ``list``, ``map``), else None."""
        return self._visit.get(type(node), self.generic_visit)(node)

    def generic_visit(self, node: Any) -> None:  # pragma: no cover - every node has a visitor
        pass

    def visit_block(self, body: Iterable[Any]) -> None:
        """Statements of one block; warns once at the first statement after a certain return."""
        returned = warned = False
        for stmt in body:
            if returned and not warned:
                self.error(UNREACHABLE_CODE, "Unreachable code after 'return'", stmt.span)
                warned = True
            self.visit(stmt)
            if not returned and _always_returns(stmt):
                returned = True

    # ------------------------------------------------------------------ program
    def run(self) -> list[Diagnostic]:
        program = self.program
        self.check_spec(program)
        self.check_capabilities(program)
        self.collect_declarations(program)
        self.registry, registry_diags = _registry(self.project_dir)
        self.diagnostics.extend(registry_diags)
        for decl in program.declarations:
            self.file = self.files.get(id(decl), program.path)
            self.visit(decl)
        self.file = program.path
        self.check_recursion()
        self.check_flow_cycles()
        self.diagnostics.sort(key=sort_key)
        return self.diagnostics

    def check_spec(self, program: A.Program) -> None:
        specs = program.of_type(A.SpecDecl)
        if not specs:
            first = program.declarations[0].span if program.declarations else A.Span(1, 1, 1, 2)
            at = A.Span(first.line, first.column, first.line, first.column + 1)
            self.error(MISSING_SPEC, "Spec declaration is missing.", at)
            return
        for extra in specs[1:]:
            self.error(DUPLICATE_SPEC, "Spec is declared more than once.", extra.span,
                       why=f"A file declares its spec once (first on line {specs[0].span.line}).")
        for spec in specs[:1]:
            if spec.version not in SUPPORTED_SPECS:
                self.error(UNSUPPORTED_SPEC, f'Spec version "{spec.version}" is not supported.',
                           spec.span)

    def check_capabilities(self, program: A.Program) -> None:
        seen: dict[str, A.Capability] = {}
        known_list = ", ".join(KNOWN_CAPABILITIES)
        blocks = program.of_type(A.CapabilitiesDecl)
        for extra in blocks[1:]:
            self.error(DUPLICATE_CAPABILITY, "Capabilities are already declared.", extra.span,
                       why=f"An app declares its capabilities once (first on line "
                           f"{blocks[0].span.line}).",
                       fix="Merge the two lists into one `capabilities:` declaration.")
        for block in blocks[:1]:
            for cap in block.items:
                token = cap.name  # lower-cased by the parser, as namel3ss does
                if token not in KNOWN_CAPABILITIES:
                    suggestion = did_you_mean(token, KNOWN_CAPABILITIES)
                    self.error(
                        UNKNOWN_CAPABILITY,
                        f"Unknown capability '{cap.name}'.",
                        cap.span,
                        why=f"Capabilities must be one of: {known_list}.",
                        fix=f"Use a supported capability name{suggestion.replace(';', ':', 1)}"
                        if suggestion else None,
                    )
                    continue
                if token in seen:
                    self.error(
                        DUPLICATE_CAPABILITY,
                        f"Duplicate capability '{token}'.",
                        cap.span,
                        why=f"Each capability can only be declared once (first on line "
                            f"{seen[token].span.line}).",
                    )
                    continue
                seen[token] = cap
                if token not in ENFORCED_CAPABILITIES:
                    self.error(UNUSED_CAPABILITY, f"Capability '{token}' is accepted but not used by this runtime", cap.span)
        self.has_training = "training" in seen

    def collect_declarations(self, program: A.Program) -> None:
        for prompt in program.of_type(A.PromptDecl):
            self.prompts.setdefault(prompt.name, prompt)
        tables: tuple[tuple[Any, dict[str, Any], str, str], ...] = (
            (A.RecordDecl, self.records, DUPLICATE_RECORD, "record"),
            (A.FlowDecl, self.flows, DUPLICATE_FLOW, "flow"),
            (A.FunctionDecl, self.functions, DUPLICATE_FUNCTION, "function"),
            (A.AIDecl, self.ais, DUPLICATE_AI, "ai"),
            (A.ModelDecl, self.models, DUPLICATE_MODEL, "model"),
        )
        for decl in program.declarations:
            self.file = self.files.get(id(decl), program.path)
            for kind, table, code, word in tables:
                if isinstance(decl, kind):
                    first = table.get(decl.name)
                    if first is None:
                        table[decl.name] = decl
                    else:
                        self.error(  # namel3ss's words, e.g. "Duplicate flow name 'demo'."
                            code,
                            f"Duplicate function declaration '{decl.name}'" if word == "function"
                            else f"Duplicate {word} name '{decl.name}'.",
                            A.Span(decl.span.line, decl.span.column, decl.name_span.end_line,
                                   decl.name_span.end_column),
                            why=f"Each {word} has one declaration; '{decl.name}' is first "
                                f"declared on line {first.span.line}.",
                        )
                    break
        for tool in program.of_type(A.ToolDecl):
            self.file = self.files.get(id(tool), program.path)
            if tool.name in self.tools:  # namel3ss's words, at the second declaration
                self.error(DUPLICATE_TOOL, f"Duplicate tool declaration '{tool.name}'",
                           A.Span(tool.span.line, tool.span.column, tool.name_span.end_line,
                                  tool.name_span.end_column),
                           why=f"Each tool has one declaration; '{tool.name}' is first declared "
                               f"on line {self.tools[tool.name].span.line}.")
            else:
                self.tools[tool.name] = tool
        self.file = program.path
        for contract in program.of_type(A.ContractDecl):
            self.file = self.files.get(id(contract), program.path)
            if contract.name in self.contracts:
                self.error(  # namel3ss's words
                    DUPLICATE_CONTRACT, f"Duplicate contract declaration '{contract.name}'",
                    contract.span,
                    why=f"Each flow has one contract; '{contract.name}' has one on line "
                        f"{self.contracts[contract.name].span.line}.",
                )
            else:
                self.contracts[contract.name] = contract
        self.file = program.path

    # ------------------------------------------------------------------ declarations
    def visit_SpecDecl(self, node: A.SpecDecl) -> None:
        pass

    def visit_CapabilitiesDecl(self, node: A.CapabilitiesDecl) -> None:
        pass

    def visit_IdentityDecl(self, node: A.IdentityDecl) -> None:
        if self.identity is None:
            self.identity = node
        else:  # namel3ss's words
            self.error(DUPLICATE_IDENTITY, "Multiple identity declarations found.",
                       A.Span(node.span.line, node.span.column, node.name_span.end_line,
                              node.name_span.end_column),
                       why=f"Only one identity block is allowed per app; the first is on line "
                           f"{self.identity.span.line}.")
        self.check_fields(node, "identity")

    def visit_RecordDecl(self, node: A.RecordDecl) -> None:
        self.check_fields(node, "record")
        for i, line in enumerate(node.tenant_keys):  # namel3ss's ir/lowering/records.py
            key = line.value
            if i:
                self.error(INVALID_TENANT_KEY, "Record declares tenant_key more than once.", line.span)
            elif isinstance(key, A.Name) and key.name == "identity":
                self.error(INVALID_TENANT_KEY, "tenant_key must point to an identity field.", key.span)
            elif not _identity_path(key):
                self.error(INVALID_TENANT_KEY, "tenant_key is not an identity path.", key.span)

    def check_fields(self, node: A.RecordDecl | A.IdentityDecl, kind: str) -> None:
        seen: dict[str, A.FieldDecl] = {}
        for fld in node.fields:
            if fld.name in seen:
                self.error(
                    DUPLICATE_FIELD,
                    f"Duplicate field '{fld.name}' in {kind} '{node.name}' (first on line {seen[fld.name].span.line})",
                    fld.span,
                )
            else:
                seen[fld.name] = fld
            self.check_type(fld.type)
            for constraint in fld.constraints:
                self.check_constraint(node, fld, constraint)

    def check_type(self, texpr: Any) -> None:
        if isinstance(texpr, A.UnionType):
            for option in texpr.options:
                self.check_type(option)
            return
        if not isinstance(texpr, A.TypeRef):
            return
        canonical = TYPE_ALIASES.get(texpr.name)
        if canonical is not None:
            self.error(NON_CANONICAL_TYPE,
                       f"Type '{texpr.name}' is not canonical; use '{canonical}'.", texpr.span)
        elif texpr.name not in TYPE_NAMES and texpr.name not in self.records:
            self.error(
                UNKNOWN_TYPE,
                f"Unknown type '{texpr.name}'" + did_you_mean(texpr.name, (*TYPE_NAMES, *self.records)),
                texpr.span,
            )
        for arg in texpr.args:
            self.check_type(arg)

    def check_constraint(self, record: A.RecordDecl | A.IdentityDecl, fld: A.FieldDecl, constraint: A.Constraint) -> None:
        if constraint.kind == "pattern" and constraint.args:
            pattern = constraint.args[0]
            if isinstance(pattern, A.Literal) and isinstance(pattern.value, str):
                try:
                    re.compile(pattern.value)
                except re.error as exc:
                    self.error(
                        INVALID_PATTERN,
                        f'Invalid pattern "{pattern.value}": {exc}',
                        constraint.span,
                    )

    def visit_FlowDecl(self, node: A.FlowDecl) -> None:
        self.flow, self.function = node, None
        self.scope = {"input", "state", "identity"}
        self.reported = set()
        self.constants = {}
        self.first_mutation = None
        if node.requires is not None:
            self.visit(node.requires)
        if node.purity is not None and node.purity not in ("pure", "effectful"):
            self.error(INVALID_PURITY, "purity must be 'pure' or 'effectful'", node.span)
        elif node.purity == "pure" and node.name not in self.contracts:
            # namel3ss refuses a pure flow without a contract (contracts: LANGUAGE.md §9)
            self.error(PURE_FLOW_WITHOUT_CONTRACT, f'Pure flow "{node.name}" is missing a contract.',
                       node.span)
        if node.declarative:
            self.check_steps(node)
        else:
            self.visit_block(node.body)
        if self.first_mutation is not None and node.requires is None:
            stmt = self.first_mutation
            verb = {"Create": "creates", "Save": "saves", "Update": "updates", "Delete": "deletes",
                    "StepCreate": "creates", "StepUpdate": "updates",
                    "StepDelete": "deletes"}[type(stmt).__name__]
            self.error(
                MUTATION_WITHOUT_REQUIRES,
                f"Flow '{node.name}' {verb} records but declares no 'requires'",
                stmt.span,
            )
        self.flow = None

    # ---- §9 declarative flows: namel3ss's load-time checks (flow_contract/steps.py), its words
    def check_steps(self, flow: A.FlowDecl) -> None:
        inputs: dict[str, A.InputField] = {}
        for step in flow.steps:
            self.visit(step)
            if isinstance(step, A.StepInput):
                if not inputs:
                    inputs = {f.name: f for f in step.fields}
                continue
            if not isinstance(step, (A.StepCreate, A.StepUpdate, A.StepDelete)):
                continue
            if self.first_mutation is None:
                self.first_mutation = step
            record = self.check_record(step)
            if record is None:
                continue
            if isinstance(step, A.StepCreate):
                self.check_step_values(step.fields, record, inputs, "Create")
                continue
            if step.selector is None:
                verb = "Update" if isinstance(step, A.StepUpdate) else "Delete"
                self.error(INVALID_STEP, f"{verb} step is missing a where selector.", step.span,
                           why=f"Declarative {verb.lower()}s require a selector to target records.",
                           fix='Add a where line like `where "id is 1"`.')
            else:
                self.check_selector(step, record)
            if isinstance(step, A.StepUpdate):
                self.check_step_values(step.fields, record, inputs, "Update")

    def check_selector(self, step: A.StepUpdate | A.StepDelete, record: A.RecordDecl) -> None:
        expr, at = step.predicate, step.span
        why = "Declarative selectors are limited to <field> is <value>."
        if expr is None:
            self.error(INVALID_STEP, "Selector string is invalid.", at,
                       why="Selectors must be simple comparisons like <field> is <value>.")
        elif type(expr) is not A.Compare:
            self.error(INVALID_STEP, "Selector must be a comparison.", at, why=why)
        elif expr.op != "is":
            self.error(INVALID_STEP, "Selector must be an equality comparison.", at, why=why)
        elif type(expr.left) is not A.Name:
            self.error(INVALID_STEP, "Selector must compare a field name.", at,
                       why="Declarative selectors require a record field on the left side.")
        else:
            declared = self.step_field(record, expr.left.name, at)
            if declared is None:
                return
            value = expr.operands[0]
            wanted = _field_type(declared)
            if type(value) is not A.Literal or value.value is None:
                self.error(INVALID_STEP, "Selector value must be a literal.", at,
                           why="Declarative selectors use literal values only.")
            elif wanted != "json" and _literal_type(value.value) != wanted:
                self.error(INVALID_STEP, f"Selector value for {record.name}.{expr.left.name} must be {wanted}.",
                           at, why="Selector values must match the field type.",
                           fix=f"Provide a {wanted} literal.")

    def step_field(self, record: A.RecordDecl, name: str, at: A.Span) -> A.FieldDecl | None:
        """The record's field ``name``; reported (namel3ss's words) when it has none."""
        found = next((f for f in record.fields if f.name == name), None)
        if found is None:
            names = [f.name for f in record.fields]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            self.error(UNKNOWN_FIELD, f"Unknown field '{name}' in record '{record.name}'.{hint}", at,
                       why="Field assignments must match declared record fields.",
                       fix="Use a field declared on the record.")
        return found

    def check_step_values(self, fields: tuple[A.StepField, ...], record: A.RecordDecl,
                          inputs: dict[str, A.InputField], verb: str) -> None:
        for item in fields:
            declared = self.step_field(record, item.name, item.span)
            if declared is None:
                continue
            value = item.value
            if type(value) is A.Literal:
                if value.value is None:
                    self.error(INVALID_STEP, "Null values are not allowed in declarative flows.", item.span,
                               why="Declarative values must be text, number, or boolean literals.",
                               fix="Provide a non-null literal or an input binding.")
                    continue
                got = _literal_type(value.value)
            elif type(value) is A.Attribute and type(value.obj) is A.Name and value.obj.name == "input":
                source = inputs.get(value.name)
                if source is None:
                    self.error(INVALID_STEP, f"Input field '{value.name}' is not declared.", item.span,
                               why="Input bindings must match fields in the input block.",
                               fix="Add the field to input or update the binding.")
                    continue
                got = source.type
            else:
                self.error(INVALID_STEP, "Declarative values must be literals or input bindings.", item.span,
                           why="Expressions, state references, and function calls are not supported.",
                           fix="Use a string/number/boolean literal or input.<field>.")
                continue
            wanted = _field_type(declared)
            if wanted != "json" and got != wanted:
                self.error(INVALID_STEP, f"{record.name}.{item.name} expects {wanted} but got {got}.",
                           item.span, why=f"{verb} values must match the record field type.",
                           fix=f"Provide a {wanted} value or change the field type.")

    def visit_StepInput(self, node: A.StepInput) -> None:
        pass

    def visit_StepRequire(self, node: A.StepRequire) -> None:
        pass

    def visit_StepCreate(self, node: A.StepCreate) -> None:
        for item in node.fields:
            self.visit(item.value)

    visit_StepUpdate = visit_StepCreate
    visit_StepCallForeign = visit_StepCreate

    def visit_StepDelete(self, node: A.StepDelete) -> None:
        pass

    def visit_UseDecl(self, node: A.UseDecl) -> None:
        pass  # n3lang/syntax/loader.py reads the module

    def visit_IncludeDecl(self, node: A.IncludeDecl) -> None:
        pass  # n3lang/syntax/loader.py reads the file (and checks the capability)

    def visit_ContractDecl(self, node: A.ContractDecl) -> None:
        if node.name not in self.flows:
            suggestion = did_you_mean(node.name, self.flows)
            self.error(UNKNOWN_FLOW, f'Contract references unknown flow "{node.name}".', node.span,
                       why="Contracts must refer to flows declared in the app.",
                       fix=f"Use a declared flow{suggestion.replace(';', ':', 1)}" if suggestion else None)
        for label, params in (("input", node.inputs), ("output", node.outputs)):
            seen: set[str] = set()
            for param in params:
                self.check_type(param.type)
                if param.name in seen:
                    self.error(DUPLICATE_INPUT, f"Duplicate {label} field '{param.name}'", param.span)
                seen.add(param.name)

    def visit_CallFlow(self, node: A.CallFlow) -> str:
        span = node.span  # namel3ss's place: the `call` word
        if self.function is not None:
            self.error(IMPURE_FUNCTION, "Functions cannot call flows", span)
        if self.flow is not None:
            self.flow_calls.setdefault(self.flow.name, []).append(node)
        given: set[str] = set()
        for arg in node.args:
            if arg.name in given:
                self.error(DUPLICATE_ARGUMENT, f"Duplicate input field '{arg.name}'", arg.span)
            given.add(arg.name)
        if node.name not in self.flows:
            match = words.closest(node.name, self.flows, cutoff=0.6)
            hint = f' Did you mean "{match}"?' if match else ""  # namel3ss's words
            self.error(UNKNOWN_FLOW, f'Unknown flow "{node.name}".{hint}', span,
                       why="Flow calls must reference declared flows.",
                       fix="Update the call to an existing flow.")
        elif (self.flow is not None and self.flow.purity == "pure"
              and self.flows[node.name].purity != "pure"):
            self.error(PURE_FLOW_CALLS_EFFECTFUL,
                       f'Pure flow "{self.flow.name}" cannot call effectful flow "{node.name}".', span)
        elif node.name not in self.contracts:
            self.error(CALL_FLOW_WITHOUT_CONTRACT, f'Flow "{node.name}" is missing a contract.', span)
        else:
            contract = self.contracts[node.name]
            inputs = {p.name: p for p in contract.inputs}
            for arg in node.args:
                if arg.name not in inputs:
                    self.error(UNEXPECTED_ARGUMENT, f'Unknown input "{arg.name}".' + did_you_mean(arg.name, inputs),
                               span, why=f"The contract of flow '{node.name}' does not declare this input.")
            missing = [p.name for p in contract.inputs if not p.optional and p.name not in given]
            if missing:
                self.error(MISSING_ARGUMENT, f"Missing required inputs: {', '.join(missing)}.", span,
                           why=f"The contract of flow '{node.name}' declares them without `optional`.")
            outputs = {p.name for p in contract.outputs}
            for name in node.outputs:
                if name not in outputs:
                    self.error(UNEXPECTED_ARGUMENT, f'Unknown output "{name}".' + did_you_mean(name, outputs),
                               span, why=f"The contract of flow '{node.name}' does not declare this output.")
        for arg in node.args:
            self.visit(arg.value)
        return "map"

    def check_flow_cycles(self) -> None:
        graph = {f: [c.name for c in calls] for f, calls in self.flow_calls.items()}
        for caller, calls in self.flow_calls.items():
            for call in calls:
                stack, seen = [(call.name, [caller, call.name])], {call.name}
                while stack:
                    node, path = stack.pop()
                    if node == caller:
                        self.file = self.files.get(id(self.flows.get(caller)), self.program.path)
                        self.error(FLOW_CALL_CYCLE, "Flow call cycle detected: " + " -> ".join(path),
                                   call.span)
                        break
                    for nxt in graph.get(node, ()):
                        if nxt not in seen:
                            seen.add(nxt)
                            stack.append((nxt, path + [nxt]))

    def visit_FunctionDecl(self, node: A.FunctionDecl) -> None:
        self.flow, self.function = None, node
        seen: dict[str, A.Param] = {}
        for param in (*node.inputs, *node.outputs):
            self.check_type(param.type)
        for param in node.inputs:
            if param.name in seen:
                self.error(DUPLICATE_INPUT, f"Duplicate input '{param.name}' in function '{node.name}'", param.span)
            seen[param.name] = param
        if not _has_return(node.body):
            self.error(FUNCTION_WITHOUT_RETURN, f'Function "{node.name}" must return a value', _header(node))
        self.scope = set(seen)  # only the inputs: `input`, `state` and `identity` are not there
        self.reported = set()
        self.constants = {}
        self.calls.setdefault(node.name, [])
        self.visit_block(node.body)
        self.function = None

    def check_settings(self, node: Any, kind: str) -> dict[str, A.Setting]:
        seen: dict[str, A.Setting] = {}
        for setting in node.settings:
            if setting.key in seen:
                self.error(
                    DUPLICATE_SETTING,
                    f"Duplicate setting '{setting.key}' in {kind} '{node.name}' (first on line {seen[setting.key].span.line})",
                    setting.span,
                )
                continue
            seen[setting.key] = setting
        return seen

    def visit_AIDecl(self, node: A.AIDecl) -> None:
        settings = self.check_settings(node, "ai")
        head = A.Span(node.span.line, node.span.column, node.span.line, node.span.column + 2)
        for key, setting in settings.items():
            if key not in AI_KEYS:
                self.error(INVALID_AI, "Unknown field in AI declaration", setting.span,
                           why=f"An ai block takes {', '.join(AI_KEYS)}, a `tools:` block and a `memory:` block.")
            elif not _is_text(setting.value):
                self.error(INVALID_AI, f"Expected {key} string", setting.value.span)
        provider = settings.get("provider")
        if provider is not None and _is_text(provider.value) \
                and str(provider.value.value).lower() not in AI_PROVIDERS:
            self.error(INVALID_AI, f"Unknown AI provider '{str(provider.value.value).lower()}'", head,
                       why=f"Providers: {', '.join(AI_PROVIDERS)}.")
        self.check_exposed_tools(node)
        self.check_memory(node)
        model = settings.get("model")
        if model is None:
            self.error(AI_WITHOUT_MODEL, "AI declaration requires a model", head,
                       why=f"ai '{node.name}' has no `model is \"...\"` line.")
            return
        if isinstance(model.value, A.Literal) and isinstance(model.value.value, str):
            name, version = training.parse_ref(model.value.value)
            self.check_model_ref(name, version, model.span, ai=node.name)

    def check_exposed_tools(self, node: A.AIDecl) -> None:
        """`expose` names each tool once, and only declared tools."""
        seen: set[str] = set()
        tools = self.declared_tools()
        for tool in node.tools:
            if tool.name in seen:
                self.error(INVALID_AI, f"Duplicate tool exposure '{tool.name}'", tool.span)
                continue
            seen.add(tool.name)
            if tool.name not in tools:  # namel3ss's words, at the ai's header
                hint = did_you_mean(tool.name, tools)
                self.error(UNKNOWN_TOOL, f"Unknown tool '{tool.name}'.", _header(node),
                           why=f"ai '{node.name}' exposes '{tool.name}' (line {tool.span.line}), "
                               "but the app declares no such tool.",
                           fix=f"Declare the tool{hint or ''}, or remove the `expose` line.")

    def declared_tools(self) -> set[str]:
        """The names of the app's `tool` declarations."""
        return {t.name for t in self.program.of_type(A.ToolDecl)}

    def check_memory(self, node: A.AIDecl) -> None:
        """namel3ss's memory fields: short_term a whole number >= 0, semantic and profile booleans."""
        for setting in node.memory or ():
            value = setting.value
            lit = value.value if isinstance(value, A.Literal) else None
            if setting.key == "short_term":
                if not isinstance(value, A.Literal) or not isinstance(lit, Decimal):
                    self.error(INVALID_AI, "short_term must be a number literal", value.span)
                elif lit != lit.to_integral_value() or lit < 0:
                    self.error(INVALID_AI, "short_term must be a non-negative integer", value.span)
            elif setting.key in MEMORY_KEYS:
                if not isinstance(lit, bool):
                    self.error(INVALID_AI, f"{setting.key} must be true/false literal", value.span)
            else:
                self.error(INVALID_AI, "Unknown memory field", setting.span,
                           why="A memory block takes short_term, semantic and profile.")

    def visit_PromptDecl(self, node: A.PromptDecl) -> None:
        head = A.Span(node.span.line, node.span.column, node.span.line, node.span.column + 6)
        if not _PROMPT_NAME.match(node.name) or node.name in RESERVED_WORDS:
            self.error(INVALID_PROMPT, f'Prompt name "{node.name}" is not valid.', head,
                       why="Prompt names use simple identifiers.")
        first = self.prompts.get(node.name)
        if first is not None and first is not node:
            self.error(INVALID_PROMPT, f'Prompt "{node.name}" is declared more than once.', head,
                       why=f"Prompt names must be unique (first on line {first.span.line}).")
        seen: dict[str, A.Setting] = {}
        for setting in node.settings:
            key = setting.key
            if key not in PROMPT_KEYS:
                self.error(INVALID_PROMPT, f"Unknown prompt field '{key}'.", setting.span,
                           why="Prompt blocks only allow version, text, and description.")
                continue
            if key in seen:
                self.error(INVALID_PROMPT, f"Prompt declares {key} more than once.", setting.span,
                           why="Each prompt field may only be declared once.")
                continue
            seen[key] = setting
            if not _is_text(setting.value):
                what = {"text": "prompt text", "version": "version", "description": "description"}[key]
                self.error(INVALID_PROMPT, f"Expected {what} string", setting.value.span)
        version, text = seen.get("version"), seen.get("text")
        if version is None:
            self.error(INVALID_PROMPT, "Prompt is missing a version", head)
        elif _is_text(version.value) and not _PROMPT_VERSION.match(str(version.value.value).strip()):
            self.error(INVALID_PROMPT, f'Prompt "{node.name}" has an invalid version.', head,
                       why="Prompt versions must look like 1.0 or 1.0.0.")
        if text is None:
            self.error(INVALID_PROMPT, "Prompt is missing text", head)
        elif _is_text(text.value) and not str(text.value.value).strip():
            self.error(INVALID_PROMPT, f'Prompt "{node.name}" is missing text.', head,
                       why="Prompt text must be a non-empty string.")

    # ---- §10 the app surface: accepted, references checked, one note per kind
    def visit_SurfaceDecl(self, node: A.SurfaceDecl) -> None:
        if node.kind not in self.surface_kinds:
            self.surface_kinds.add(node.kind)
            head = A.Span(node.span.line, node.span.column, node.span.line,
                          node.span.column + len(node.kind.split()[0]))
            self.error(SURFACE_NOT_SERVED,
                       f"{node.kind} declarations are accepted but not served by this runtime", head)
        if node.kind in AI_FLOW_KINDS:
            self.check_ai_flow_prompt(node)
        if node.kind == "use preset":
            self.check_preset(node)
        if node.kind == "permissions":
            self.check_permissions(node)
        if node.kind == "capsule":  # a module's exports: declared in the module's other files
            # A capsule.ai is read through `use` for its exports alone (syntax/loader.py); one
            # among the app's declarations is in the app or an included file: namel3ss's words.
            self.error(CAPSULE_OUTSIDE_MODULE, "Capsule declaration found in a non-module file.",
                       A.Span(node.span.line, node.span.column, node.span.line, node.span.column + 7))
            return
        for ref in node.refs:
            if "." in ref.name:  # `alias.name`: a member of a module (`use`, §9), not judged here
                continue
            if ref.kind == "flow" and ref.name not in self.flows:
                suggestion = did_you_mean(ref.name, self.flows)
                self.error(UNKNOWN_FLOW, f"Unknown flow '{ref.name}'.", ref.span,
                           fix=f"Use a declared flow{suggestion.replace(';', ':', 1)}" if suggestion else None)
            elif ref.kind == "record" and ref.name not in self.records:
                suggestion = did_you_mean(ref.name, self.records)
                self.error(UNKNOWN_RECORD, f"Unknown record '{ref.name}'.", ref.span,
                           fix=f"Use a declared record{suggestion.replace(';', ':', 1)}" if suggestion else None)

    def check_permissions(self, node: A.SurfaceDecl) -> None:
        """`permissions:`: known domains and actions, each once, `allowed` or `denied`, as
        namel3ss's parser/decl/permissions.py reads them (its words, at its token), and the
        app_permissions capability. The body is text here (§10): read line by line."""
        for problem, line, column in permission_problems(node.text, node.span.line, node.span.column):
            self.error(INVALID_PERMISSIONS, problem, A.Span(line, column, line, column + 1))
        if "app_permissions" not in self.program.capabilities:
            self.error(INVALID_PERMISSIONS, "Permissions require capability app_permissions. Add "
                       "'app_permissions' to the capabilities list.",
                       A.Span(node.span.line, node.span.column, node.span.line, node.span.column + 11))

    def check_preset(self, node: A.SurfaceDecl) -> None:
        """`use preset "name":`: namel3ss knows one preset, once (parser/preset_expansion.py)."""
        first = node.text.split("\n", 1)[0].rstrip()
        header = A.Span(node.span.line, node.span.column, node.span.line, node.span.column + len(first))
        if node.name != "rag_chat":
            self.error(INVALID_PRESET, f'Unknown preset "{node.name}".', header,
                       why='namel3ss has one language preset, "rag_chat".',
                       fix='Write `use preset "rag_chat":`, or declare the app without a preset.')
        elif self.preset_seen:
            self.error(INVALID_PRESET, 'Duplicate `use preset "rag_chat"` declarations are not allowed.',
                       header, why="An app uses the rag_chat preset once.",
                       fix="Keep one `use preset \"rag_chat\":` block.")
        else:
            self.preset_seen = True
        if node.name == "rag_chat":
            for problem, line, column, end in rag_chat_setting_problems(node.text, node.span.line):
                self.error(INVALID_PRESET, problem, A.Span(line, column, line, end))

    def visit_OverrideFlowDecl(self, node: A.OverrideFlowDecl) -> None:
        """`override flow "rag.answer":` (namel3ss's parser/preset_expansion.py, its words; it
        names no position, so the header carries them). The body is checked as the flow
        namel3ss splices it into: the names that flow binds before it are in scope, and an
        `ask ai` name needs no `ai` declaration (namel3ss declares one for it)."""
        header = A.Span(node.span.line, node.span.column, node.span.line, node.span.column + 8)
        if "override flow" not in self.surface_kinds:
            self.surface_kinds.add("override flow")
            self.error(SURFACE_NOT_SERVED,
                       "override flow declarations are accepted but not served by this runtime", header)
        presets = [d.name for d in self.program.of_type(A.SurfaceDecl) if d.kind == "use preset"]
        if node.target != RAG_ANSWER:
            self.error(INVALID_PRESET, f'Unsupported override target "{node.target}". '
                       f'Only "{RAG_ANSWER}" is supported.', node.name_span)
        elif self.override_seen:
            self.error(INVALID_PRESET, f'Duplicate `override flow "{RAG_ANSWER}"` declarations '
                       'are not allowed.', node.span)
        elif not node.body:
            self.error(INVALID_PRESET, f'`override flow "{RAG_ANSWER}"` must include a body.',
                       node.span)
        elif not presets:
            self.error(INVALID_PRESET, f'`override flow "{RAG_ANSWER}"` requires '
                       '`use preset "rag_chat":`.', node.span)
        if node.target == RAG_ANSWER:
            self.override_seen = True
        self.flow = A.FlowDecl(node.target, node.body, A.Literal(True), span=node.span,
                               name_span=node.name_span)
        self.function = None
        self.scope = {"input", "state", "identity", *RAG_ANSWER_NAMES}
        self.reported, self.constants, self.first_mutation = set(), {}, None
        self.in_override = True
        try:
            self.visit_block(node.body)
        finally:
            self.in_override = False
            self.flow = None

    def visit_CallPipeline(self, node: A.CallPipeline) -> str:
        span = _header(node)
        if self.function is not None:
            self.error(IMPURE_FUNCTION, "Functions cannot call pipelines", span)
        if "pipeline" not in self.surface_kinds:
            self.surface_kinds.add("pipeline")
            self.error(SURFACE_NOT_SERVED, "call pipeline is accepted but not run by this runtime", span)
        seen: set[str] = set()
        for arg in node.args:
            if arg.name in seen:
                self.error(DUPLICATE_ARGUMENT, f"Duplicate input field '{arg.name}'", arg.span)
            seen.add(arg.name)
            self.visit(arg.value)
        return "map"

    def visit_Parallel(self, node: A.Parallel) -> None:
        """namel3ss's parser/stmt/parallel.py and runtime plan: unique task names, a merge
        block of one literal policy; the tasks' bodies are checked in the flow's scope."""
        if self.function is not None:
            self.error(INVALID_PARALLEL, "Functions cannot use parallel blocks", node.span)
        seen: set[str] = set()
        for task in sorted(node.tasks, key=lambda t: t.name):
            if task.name in seen:
                self.error(INVALID_PARALLEL, "Parallel task names must be unique", task.span)
            seen.add(task.name)
        if node.merge_keys:
            where = node.merge_span
            for key in node.merge_keys:
                if key != "policy":
                    self.error(INVALID_PARALLEL, f"Unknown merge field '{key}'.", where)
            if len(node.merge_keys) != len(set(node.merge_keys)):
                self.error(INVALID_PARALLEL, "Merge field 'policy' is declared more than once.", where)
            policy = node.merge
            if policy is None:
                self.error(INVALID_PARALLEL, "Merge field 'policy' is required.", where)
            elif not isinstance(policy, A.Literal):
                self.error(INVALID_PARALLEL, "Merge field 'policy' must be a literal value.", policy.span)
            elif not isinstance(policy.value, str) or not policy.value:
                self.error(INVALID_PARALLEL, "Merge field 'policy' must be a non-empty string.", policy.span)
            elif policy.value not in ("conflict", "precedence", "override"):
                self.error(INVALID_PARALLEL, f"Unknown merge policy '{policy.value}'.", policy.span)
        for task in node.tasks:
            self.visit_block(task.body)

    def visit_Orchestration(self, node: A.Orchestration) -> None:
        """namel3ss's parser/stmt/orchestration.py (its parse errors, with their places) and
        the checks of each branch's call (contracts, purity, cycles) as for any `call flow`."""
        if self.function is not None:  # namel3ss stops here: the calls are not looked at
            self.error(INVALID_ORCHESTRATION, "Functions cannot use orchestration blocks", node.span)
            self.bind(node.target)
            return
        seen: set[str] = set()
        for branch in node.branches:
            if branch.name in seen:
                self.error(INVALID_ORCHESTRATION, f'Branch "{branch.name}" is declared more than once.',
                           branch.name_span)
            seen.add(branch.name)
            if branch.extra is not None and isinstance(branch.call, (A.CallFlow, A.CallPipeline)):
                self.error(INVALID_ORCHESTRATION, "Orchestration branches must contain a single call.",
                           _start(branch.extra))
            if not isinstance(branch.call, (A.CallFlow, A.CallPipeline)):
                at = getattr(branch.call, "at", None) or branch.call.span  # an operator's place
                self.error(INVALID_ORCHESTRATION, "Orchestration branches must call a flow or pipeline.",
                           _start(at))
            self.visit(branch.call)
        problem = merge_problem(node) if node.merge is not None else \
            ("Orchestration merge block is required", node.span)
        if problem is not None:
            self.error(INVALID_ORCHESTRATION, *problem)
        self.bind(node.target)

    def check_ai_flow_prompt(self, node: A.SurfaceDecl) -> None:
        """An AI flow declaration (`llm_call "x":` ...) whose `prompt is "name"` line names a
        prompt: it must be declared (namel3ss's compiler/prompts.py, at the declaration)."""
        lines = node.text.split("\n")
        depth = next((len(ln) - len(ln.lstrip(" ")) for ln in lines[1:] if ln.strip()
                      and not ln.lstrip().startswith("#")), None)
        for line in lines[1:]:
            m = _AI_FLOW_PROMPT.match(line)
            if m is None or len(m.group(1)) != depth:
                continue
            name = m.group(2)[1:-1]
            if _PROMPT_REF.match(name) and name not in self.prompts:
                head = A.Span(node.span.line, node.span.column, node.span.line,
                              node.span.column + len(node.kind.split()[0]))
                self.error(INVALID_PROMPT, f'Prompt "{name}" is not defined.', head,
                           why="Prompt references must match a prompt declaration.",
                           fix="Add a prompt block with that name or use a longer prompt string.")

    def visit_FlowAI(self, node: A.FlowAI) -> None:
        """A flow's `ai:` block (namel3ss's parser/decl/flow_ai.py, compiler/prompts.py): model
        and prompt required, dataset optional; a prompt written as a name must be declared."""
        head = A.Span(node.span.line, node.span.column, node.span.line, node.span.column + 2)
        seen: dict[str, A.Setting] = {}
        for setting in node.settings:
            key = setting.key
            if key not in ("model", "prompt", "dataset"):
                self.error(INVALID_AI, f"Unknown ai field '{key}'.", setting.span,
                           why="AI blocks only allow model, prompt, and dataset.")
                continue
            if key in seen:
                self.error(INVALID_AI, f"AI block declares {key} more than once.", setting.span)
                continue
            seen[key] = setting
            if key == "prompt":
                self.visit(setting.value)
            elif not _is_text(setting.value):
                self.error(INVALID_AI, f"Expected {key} string", setting.value.span)
        if "model" not in seen:
            self.error(INVALID_AI, "AI block requires a model", head)
        if "prompt" not in seen:
            self.error(INVALID_AI, "AI block requires a prompt", head)
            return
        prompt = seen["prompt"].value
        if _is_text(prompt) and _PROMPT_REF.match(str(prompt.value)) and prompt.value not in self.prompts:
            self.error(INVALID_PROMPT, f'Prompt "{prompt.value}" is not defined.', head,
                       why="Prompt references must match a prompt declaration.",
                       fix="Add a prompt block with that name or use a longer prompt string.")

    def visit_SurfaceStmt(self, node: A.SurfaceStmt) -> None:
        if self.function is not None and node.kind in ("run agent", "run agents"):
            self.error(AI_IN_FUNCTION, "Functions cannot call ai or agents", node.span)
        elif self.function is not None and node.kind == "set theme":
            self.error(STATE_IN_FUNCTION, "Functions cannot change state", node.span)
        if node.value is not None:
            self.visit(node.value)
        for expr in node.more:
            self.visit(expr)
        if node.target is not None:
            self.bind(node.target)

    def visit_ModelDecl(self, node: A.ModelDecl) -> None:
        if not self.has_training:
            self.error(
                TRAINING_REQUIRED,
                f"Model '{node.name}' requires the 'training' capability",
                node.name_span if node.name_span != A.UNKNOWN else node.span,
            )
        settings = self.check_settings(node, "model")
        self.check_model_settings(node, settings)

    def check_model_settings(self, node: A.ModelDecl, settings: dict[str, A.Setting]) -> None:
        """The training config code validates; this only places its problems in the app."""
        values = {key: training.setting_value(key, setting.value) for key, setting in settings.items()}
        values.setdefault("output_name", node.name)
        name_span = node.name_span if node.name_span != A.UNKNOWN else node.span
        for problem in training.validate_settings(values):
            key = problem.key
            if problem.kind == "unknown":
                hint = f"; did you mean '{problem.suggestion}'?" if problem.suggestion else ""
                self.error(UNKNOWN_MODEL_SETTING, f"Unknown model setting '{key}'{hint}", settings[key].span,
                           why="A model block takes the keys of training.yaml and nothing else: "
                           + ", ".join(training.setting_names()) + ".")
            elif problem.kind == "missing":
                self.error(MISSING_MODEL_SETTING,
                           f"Model '{node.name}' does not set '{key}'; `n3 train` will need it as a flag", name_span)
            elif key in settings:
                self.error(INVALID_MODEL_SETTING, problem.message, settings[key].span, fix=problem.fix)
            else:  # output_name taken from the block's name
                self.error(INVALID_MODEL_SETTING, f"Model name '{node.name}': {problem.message}", name_span)

    # ------------------------------------------------------------------ names
    def bind(self, name: str) -> None:
        self.scope.add(name)
        self.constants[name] = False

    def use_name(self, name: str, span: A.Span) -> None:
        if name in self.scope or name in self.fields:
            return
        if name == "state" and self.function is not None:
            self.error(STATE_IN_FUNCTION, "Functions cannot read state", span)
            self.scope.add(name)
            return
        if name == "identity" and self.function is not None:
            self.error(IMPURE_FUNCTION, "Functions cannot access identity", span)
            self.scope.add(name)
            return
        self.error(
            UNDEFINED_VARIABLE,
            f"Unknown variable '{name}'" + did_you_mean(name, sorted((self.scope - self.reported) | self.fields)),
            span,
        )
        self.scope.add(name)  # report each name once
        self.reported.add(name)

    def check_record(self, stmt: Any) -> A.RecordDecl | None:
        kind = type(stmt).__name__
        if self.function is not None:
            self.error(RECORDS_IN_FUNCTION, "Functions cannot read or write records", stmt.span)
        elif kind in MUTATING and self.first_mutation is None:
            self.first_mutation = stmt
        record = self.records.get(stmt.record)
        if record is None:
            suggestion = did_you_mean(stmt.record, self.records)
            self.error(
                UNKNOWN_RECORD,
                f"Unknown record '{stmt.record}'.",  # namel3ss's words; the suggestion is the fix
                stmt.span,
                fix=f"Use a declared record{suggestion.replace(';', ':', 1)}" if suggestion else None,
            )
        return record

    def with_fields(self, record: A.RecordDecl | None, exprs: Iterable[Any]) -> None:
        """Visit predicate-like expressions with the record's fields (and id) in scope."""
        saved = self.fields
        if record is None:
            # unknown record: its fields are unknown, so names in the predicate are not judged
            self.fields = _ANY_NAME
        else:
            names = {f.name for f in record.fields}
            self.fields = frozenset({id_field(names), *names})
        try:
            for expr in exprs:
                self.visit(expr)
        finally:
            self.fields = saved

    # ------------------------------------------------------------------ statements
    def visit_Let(self, node: A.Let) -> None:
        self.visit(node.value)
        self.scope.add(node.name)
        # once constant, for the rest of the flow, as at run time
        self.constants[node.name] = node.constant or self.constants.get(node.name, False)

    def visit_Set(self, node: A.Set) -> None:
        self.visit(node.value)
        root = node.target[0] if node.target else ""
        if root == "state":
            if self.function is not None:
                self.error(STATE_IN_FUNCTION, "Functions cannot change state", node.span)
            return
        if root not in self.scope:
            self.error(SET_UNDECLARED, f"Cannot set undeclared variable '{root}'", node.span)
            self.scope.add(root)
            self.reported.add(root)
            self.constants[root] = False
            return
        if len(node.target) == 1 and self.constants.get(root):
            self.error(SET_CONSTANT, f"Cannot set constant '{root}'", node.span)

    def condition(self, expr: Any, what: str, span: A.Span) -> None:
        kind = self.visit(expr)
        if kind is not None and kind != "boolean":
            self.error(
                CONDITION_NOT_BOOLEAN,
                f"{what} condition did not evaluate to true/false.",
                span,
                why=f"The condition is always {kind}, but {what.lower()} needs true or false; nothing is truthy in this language.",
            )

    def whole_literal(self, expr: Any) -> Decimal | None:
        """The number of a literal (or negated literal) number expression, else None."""
        if isinstance(expr, A.Literal) and isinstance(expr.value, Decimal):
            return expr.value
        if isinstance(expr, A.Unary) and isinstance(expr.operand, A.Literal) and isinstance(expr.operand.value, Decimal):
            return -expr.operand.value if expr.op == "-" else expr.operand.value
        return None

    def visit_If(self, node: A.If) -> None:
        self.condition(node.condition, "If", node.span)
        self.visit_block(node.then_body)
        self.visit_block(node.else_body)

    def visit_RepeatTimes(self, node: A.RepeatTimes) -> None:
        kind = self.visit(node.count)
        n = self.whole_literal(node.count)
        if kind is not None and kind != "number" or n is not None and n != n.to_integral_value():
            self.error(BAD_LOOP_COUNT, "Repeat count must be an integer", node.span)
        elif n is not None and n < 0:
            self.error(BAD_LOOP_COUNT, "Repeat count cannot be negative", node.span)
        self.visit_block(node.body)

    def visit_RepeatWhile(self, node: A.RepeatWhile) -> None:
        self.condition(node.condition, "While", node.span)
        # The limit is a number literal; the parser reports one that is not a positive integer.
        self.visit_block(node.body)

    def visit_ForEach(self, node: A.ForEach) -> None:
        kind = self.visit(node.iterable)
        if kind is not None and kind != "list":
            self.error(
                TYPE_MISMATCH,
                "For-each expects a list",
                node.span,
                why=f"The value after `in` is always {kind}, but for each walks a list.",
            )
        self.bind(node.name)
        self.visit_block(node.body)

    def visit_Match(self, node: A.Match) -> None:
        self.visit(node.subject)
        seen: dict[Any, A.MatchCase] = {}
        for case in node.cases:
            self.visit(case.value)
            ok, value = _literal_json(case.value)
            if ok and isinstance(case.value, A.Literal):
                key = (type(value) is bool, value)
                if key in seen:
                    self.error(
                        DUPLICATE_CASE,
                        f"Duplicate case {_show(case.value.value)} (first on line {seen[key].span.line}) never runs",
                        case.span,
                    )
                else:
                    seen[key] = case
            self.visit_block(case.body)
        if node.otherwise is not None:
            self.visit_block(node.otherwise)

    def visit_MatchCase(self, node: A.MatchCase) -> None:  # pragma: no cover - via visit_Match
        self.visit(node.value)
        self.visit_block(node.body)

    def visit_Try(self, node: A.Try) -> None:
        self.visit_block(node.body)
        self.bind(node.catch_name)
        self.visit_block(node.catch_body)

    def visit_Return(self, node: A.Return) -> None:
        # A warning in our words: namel3ss finds these when the call runs, at the call.
        self.visit(node.value)
        func = self.function
        if func is None or not func.outputs:
            return
        value = node.value
        names = {p.name for p in func.outputs}
        if isinstance(value, A.MapExpr):
            for entry in value.entries:
                if entry.key not in names:
                    self.error(FUNCTION_OUTPUT,
                               f"Function '{func.name}' returned unknown output '{entry.key}'" + did_you_mean(entry.key, names),
                               entry.span)
            given = {e.key for e in value.entries}
            for p in func.outputs:
                if not p.optional and p.name not in given:
                    self.error(FUNCTION_OUTPUT, f"Function '{func.name}' is missing output '{p.name}'", node.span)
        elif isinstance(value, (A.Literal, A.ListExpr)):
            self.error(FUNCTION_OUTPUT, f"Function '{func.name}' must return a map of its outputs", node.span)

    def visit_Create(self, node: A.Create) -> None:
        self.check_record(node)
        self.visit(node.value)
        self.bind(node.binding)

    def visit_Find(self, node: A.Find) -> None:
        record = self.check_record(node)
        self.with_fields(record, (node.predicate,))
        self.bind(results_name(node.record))

    def visit_Update(self, node: A.Update) -> None:
        record = self.check_record(node)
        self.with_fields(record, (node.predicate,))
        seen: set[str] = set()
        for assignment in node.assignments:
            if record is not None and assignment.field not in {f.name for f in record.fields}:
                self.error(
                    UNKNOWN_FIELD,
                    f"Record '{record.name}' has no field '{assignment.field}'"
                    + did_you_mean(assignment.field, [f.name for f in record.fields]),
                    assignment.span,
                )
            elif assignment.field in seen:
                self.error(DUPLICATE_ASSIGNMENT, f"Field '{assignment.field}' is set twice in this update", assignment.span)
            seen.add(assignment.field)
            self.with_fields(record, (assignment.value,))

    def visit_Delete(self, node: A.Delete) -> None:
        record = self.check_record(node)
        self.with_fields(record, (node.predicate,))

    def visit_Save(self, node: A.Save) -> None:
        self.check_record(node)

    def visit_AskAI(self, node: A.AskAI) -> None:
        if self.function is not None:
            self.error(AI_IN_FUNCTION, "Functions cannot call ai or agents", node.span)
        ai = self.ais.get(node.ai)
        if ai is None and self.in_override:
            pass  # namel3ss declares `ai "X": model is "X"` for each one an override asks
        elif ai is None:
            suggestion = did_you_mean(node.ai, self.ais)
            self.error(UNKNOWN_AI, f"Unknown AI profile '{node.ai}'.", node.span,  # namel3ss's words
                       fix=f"Use a declared ai{suggestion.replace(';', ':', 1)}" if suggestion else None)
        else:
            self.check_ai_model(ai, node)
        self.visit(node.input)
        self.bind(node.binding)

    # ---- §5 statements (added)
    def visit_LetBlock(self, node: A.LetBlock) -> None:
        for let in node.lets:
            self.visit_Let(let)

    def visit_SetBlock(self, node: A.SetBlock) -> None:
        for step in node.sets:
            self.visit_Set(step)

    def visit_Calc(self, node: A.Calc) -> None:
        for step in node.steps:
            self.visit(step)

    def visit_OrderList(self, node: A.OrderList) -> None:
        root = node.target[0]
        if root == "state":
            if self.function is not None:
                self.error(STATE_IN_FUNCTION, "Functions cannot change state", node.span)
        else:
            self.use_name(root, node.span)

    def visit_KeepFirst(self, node: A.KeepFirst) -> None:
        self.visit(node.count)

    def visit_Log(self, node: A.Log) -> None:
        self.visit(node.message)
        if node.fields is not None:
            self.visit(node.fields)

    def visit_Metric(self, node: A.Metric) -> None:
        if node.value is not None:
            self.visit(node.value)
        if node.labels is not None:
            self.visit(node.labels)

    def check_ai_model(self, ai: A.AIDecl, node: A.AskAI) -> None:
        model = next((s for s in ai.settings if s.key == "model"), None)
        if model is None or not isinstance(model.value, A.Literal) or not isinstance(model.value.value, str):
            return
        name, _ = training.parse_ref(model.value.value)
        if self.is_trained_model(name) and not self.has_training:
            self.error(
                TRAINING_REQUIRED,
                f"ask ai \"{ai.name}\" uses trained model '{name}', which requires the 'training' capability",
                node.span,
            )

    def is_trained_model(self, name: str) -> bool:
        if name in self.models:
            return True
        return any(e.get("name") == name for e in self.registry or ())

    # ------------------------------------------------------------------ expressions
    def visit_Literal(self, node: A.Literal) -> str:
        v = node.value
        if v is None:
            return "null"
        if v is True or v is False:
            return "boolean"
        return "text" if isinstance(v, str) else "number"

    def visit_ListExpr(self, node: A.ListExpr) -> str:
        for item in node.items:
            self.visit(item)
        return "list"

    def visit_MapExpr(self, node: A.MapExpr) -> str:
        for entry in node.entries:
            self.visit(entry.value)
        return "map"

    def visit_Name(self, node: A.Name) -> None:
        self.use_name(node.name, node.span)

    def visit_Attribute(self, node: A.Attribute) -> None:
        self.visit(node.obj)

    def visit_Index(self, node: A.Index) -> None:
        self.visit(node.obj)
        self.visit(node.index)

    def visit_Unary(self, node: A.Unary) -> str | None:
        kind = self.visit(node.operand)
        if kind is not None and kind != "number":
            self.error(TYPE_MISMATCH, f"Unary '{node.op}' requires a number.", node.span)
            return None
        return kind

    def visit_Binary(self, node: A.Binary) -> str | None:
        a = self.visit(node.left)
        b = self.visit(node.right)
        op = node.op
        if a is None or b is None:
            kind = None
        elif a == b == "number":
            kind = "number"
        elif op == "+" and a == b == "text":
            return "text"
        else:
            self.error(TYPE_MISMATCH, f"Cannot apply '{op}' to {a} and {b}.", node.at or node.span)
            return None
        if op in ("/", "%") and b in (None, "number"):
            zero = self.whole_literal(node.right)
            if zero is not None and zero == 0:
                self.error(DIVISION_BY_ZERO, "Division by zero." if op == "/" else "Modulo by zero.", node.at or node.span)
        return kind

    def visit_Compare(self, node: A.Compare) -> str:
        kinds = [self.visit(node.left)] + [self.visit(operand) for operand in node.operands]
        if node.op in NUMBER_COMPARISONS and any(k is not None and k != "number" for k in kinds):
            self.error(TYPE_MISMATCH, "Comparison requires numbers.", node.at or node.span)
        return "boolean"

    def bool_operand(self, op: str, kind: str | None, span: A.Span) -> None:
        if kind is not None and kind != "boolean":
            self.error(
                CONDITION_NOT_BOOLEAN,
                f"Operator '{op}' requires a boolean.",
                span,
                why=f"The operand is always {kind}, but boolean logic only works with true/false; nothing is truthy in this language.",
            )

    def visit_BoolOp(self, node: A.BoolOp) -> str:
        self.bool_operand(node.op, self.visit(node.left), node.at or node.span)
        left = node.left
        if left.__class__ is A.Literal and left.value is (node.op == "or"):
            return "boolean"  # short-circuit: the right side never runs (`false and x is 3`)
        self.bool_operand(node.op, self.visit(node.right), node.at or node.span)
        return "boolean"

    def visit_Not(self, node: A.Not) -> str:
        self.bool_operand("not", self.visit(node.operand), node.span)
        return "boolean"

    def visit_BuiltinCall(self, node: A.BuiltinCall) -> str | None:
        for arg in node.args:
            self.visit(arg)
        return BUILTINS.get(node.name)

    def visit_CallFunction(self, node: A.CallFunction) -> None:
        # namel3ss's places: a repeated argument at its line, everything else at the `call` word
        span = _header(node)
        func = self.functions.get(node.name)
        if self.function is not None:
            self.calls.setdefault(self.function.name, []).append(node)
        if func is None:
            suggestion = did_you_mean(node.name, self.functions)
            self.error(UNKNOWN_FUNCTION, f"Unknown function '{node.name}'.", span,
                       fix=f"Use a declared function{suggestion.replace(';', ':', 1)}" if suggestion else None)
        else:
            inputs = {p.name: p for p in func.inputs}
            given: dict[str, A.Argument] = {}
            for arg in node.args:
                if arg.name in given:
                    self.error(DUPLICATE_ARGUMENT, f"Duplicate function argument '{arg.name}'", arg.span)
                else:
                    given[arg.name] = arg
            for param in func.inputs:
                passed = given.get(param.name)
                if passed is None:
                    if not param.optional:
                        self.error(MISSING_ARGUMENT, f"Missing function input '{param.name}'", span,
                                   why=f"Function '{func.name}' declares the input '{param.name}' "
                                       f"without `optional`, and the call does not give it.")
                    continue
                got = self.literal_type(passed.value)
                want = _simple_type(param.type)
                if got is not None and want is not None and got != want \
                        and not (got == "null" and param.optional) and want != "json":
                    self.error(ARGUMENT_TYPE, f"Expected {want} but got {got}", span,
                               why=f"The input '{param.name}' of function '{func.name}' is {want}.")
            for name in given:
                if name not in inputs:
                    self.error(UNEXPECTED_ARGUMENT, f"Unknown function input '{name}'" + did_you_mean(name, inputs),
                               span)
        for arg in node.args:
            self.visit(arg.value)

    # ---- §9 tools
    def visit_ToolDecl(self, node: A.ToolDecl) -> None:
        needed = TOOL_CAPABILITIES.get(node.kind)
        if needed is not None and needed not in self.program.capabilities:
            self.error(  # namel3ss's words (it names no place: here, the declaration)
                TOOL_CAPABILITY, f"Missing capabilities: {needed}.",
                A.Span(node.span.line, node.span.column, node.name_span.end_line,
                       node.name_span.end_column),
                example=f"capabilities:\n  {needed}",
            )

    def visit_ToolCall(self, node: A.ToolCall) -> str:
        span = node.name_span if node.name_span != A.UNKNOWN else node.span
        types = [self.visit(arg.value) for arg in node.args]
        if self.function is not None:  # namel3ss's words
            self.error(TOOL_IN_FUNCTION, "Functions cannot call tools", span)
        tool = self.tools.get(node.name)
        if tool is None:
            hint = did_you_mean(node.name, self.tools)
            self.error(UNKNOWN_TOOL, f"Unknown tool '{node.name}'.", span,
                       **({"fix": f"Did you mean{hint.partition('did you mean')[2]} Otherwise define "
                                  f"the tool locally or import it with a module alias."} if hint else {}))
            return "map"
        self.check_tool_args(node, tool, types)
        return "map"

    def check_tool_args(self, node: A.ToolCall, tool: A.ToolDecl, types: list) -> None:
        """The run-time input checks of namel3ss (schema_validate.py) that the code alone
        decides (``types``: the static type of each field's value, or None): warnings, in
        its words, since the call fails only when it runs."""
        fields = {f.name: f for f in tool.inputs}
        for arg, actual in zip(node.args, types):
            if arg.name not in fields:
                hint = did_you_mean(arg.name, fields).partition("did you mean")[2]
                self.error(TOOL_ARGUMENT,
                           f'Tool input for "{tool.name}" has unknown field "{arg.name}".',
                           arg.span, why=f'The tool "{tool.name}" declares no input field '
                                         f'"{arg.name}".',
                           **({"fix": f"Did you mean{hint}"} if hint else {}))
                continue
            expected = fields[arg.name].type
            if actual is not None and actual not in _TOOL_TYPE_FITS[expected]:
                self.error(TOOL_ARGUMENT, f'Tool input field "{arg.name}" must be {expected}.',
                           arg.value.span,
                           why=f"The value is {'object' if actual == 'map' else actual}, but the "
                               f"tool declares {expected}.")
        given = {arg.name for arg in node.args}
        for f in tool.inputs:
            if f.required and f.name not in given:
                self.error(TOOL_ARGUMENT,
                           f'Tool input for "{tool.name}" is missing required field "{f.name}".',
                           node.name_span,
                           why=f'The tool declares "{f.name}" as {f.type}.')

    def literal_type(self, expr: Any) -> str | None:
        """The type of a literal argument (a literal, a list or map expression), else None."""
        if isinstance(expr, A.Literal):
            v = expr.value
            if v is None:
                return "null"
            if isinstance(v, bool):
                return "boolean"
            return "text" if isinstance(v, str) else "number"
        if isinstance(expr, A.ListExpr):
            return "list"
        if isinstance(expr, A.MapExpr):
            return "map"
        return None

    def visit_Predict(self, node: A.Predict) -> str:
        span = node.model_span if node.model_span != A.UNKNOWN else node.span
        name, version = training.parse_ref(node.model)
        if not self.has_training:
            self.error(TRAINING_REQUIRED, f"predict with model '{name}' requires the 'training' capability", node.span)
        self.check_model_ref(name, version, span)
        self.visit(node.input)
        return "map"

    # ---- §6 expressions (added)
    # A collection block's names are bound for its body, then the new ones are unbound
    # (namel3ss removes them after the block): Frames.names.
    def visit_ListMap(self, node: A.ListMap) -> str:
        self.visit(node.target)
        with self.frames.names((node.var,)):
            self.visit(node.body)
        return "list"

    def visit_ListFilter(self, node: A.ListFilter) -> str:
        self.visit(node.target)
        with self.frames.names((node.var,)):
            self.visit(node.predicate)
        return "list"

    def visit_ListReduce(self, node: A.ListReduce) -> None:
        self.visit(node.target)
        self.visit(node.start)
        with self.frames.names((node.acc, node.var)):
            self.visit(node.body)
        return None

    def visit_CallBuiltin(self, node: A.CallBuiltin) -> str | None:
        if self.function is not None:
            self.error(IMPURE_FUNCTION, "Functions cannot call builtins", node.span)
        for arg in node.args:
            self.visit(arg)
        return RUN_TIME_BUILTINS.get(node.name)

    def check_model_ref(self, name: str, version: str | None, span: A.Span, ai: str | None = None) -> None:
        registered = [e for e in self.registry or () if e.get("name") == name]
        if name in self.models and not registered:
            return
        if registered:
            entry = registered[-1]
            if version is not None:
                versions = [str(e.get("version")) for e in registered if e.get("version") is not None]
                hits = [e for e in registered if str(e.get("version")) == version]
                if not hits:
                    self.error(
                        UNKNOWN_MODEL,
                        f"Model '{name}' has no version '{version}' (registered: {', '.join(versions)})",
                        span,
                    )
                    return
                entry = hits[-1]
            if entry.get("status") == "deprecated":
                reason = entry.get("status_reason")
                self.error(
                    DEPRECATED_MODEL,
                    f"Model '{name}@{entry.get('version')}' is deprecated" + (f": {reason}" if reason else ""),
                    span,
                )
            return
        if self.project_dir is None:
            return  # nothing to resolve against but the app itself
        known = sorted(set(self.models) | {str(e.get("name")) for e in self.registry or () if e.get("name")})
        fix = (
            "Use one of the known models: " + ", ".join(known) + "."
            if known
            else "No model is declared or registered yet: add a `model` block and run `n3 train`."
        )
        if ai is not None:
            self.error(
                UNTRAINED_AI_MODEL,
                f"ai '{ai}' uses model '{name}', which is not a trained model" + did_you_mean(name, known),
                span,
            )
            return
        self.error(UNKNOWN_MODEL, f"Unknown model '{name}'" + did_you_mean(name, known), span, fix=fix)

    # ------------------------------------------------------------------ whole-program
    def check_recursion(self) -> None:
        """namel3ss's walk of the call graph: a function reached again while its own calls are
        being followed is reported once, at its header."""
        graph = {f: [c.name for c in calls if c.name in self.functions] for f, calls in self.calls.items()}
        visiting: list[str] = []
        visited: set[str] = set()
        reported: set[str] = set()

        def visit(name: str) -> None:
            if name in visiting:
                if name not in reported:
                    reported.add(name)
                    chain = " -> ".join([*visiting[visiting.index(name):], name])
                    self.file = self.files.get(id(self.functions[name]), self.program.path)
                    self.error(RECURSIVE_FUNCTION, "Function recursion is not allowed",
                               _header(self.functions[name]), why=f"The calls go round: {chain}.")
                return
            if name in visited:
                return
            visiting.append(name)
            for target in graph.get(name, ()):
                visit(target)
            visiting.pop()
            visited.add(name)

        for name in self.functions:
            visit(name)


def _literal_type(value: Any) -> str:
    """namel3ss's type word of a literal value (type_name_for_value)."""
    if value is True or value is False:
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    return "text" if isinstance(value, str) else "null"


def _field_type(declared: A.FieldDecl) -> str:
    """A record field's type as namel3ss's schema names it (aliases canonical)."""
    t = declared.type
    if type(t) is A.TypeRef and not t.args:
        return TYPE_ALIASES.get(t.name, t.name)
    if isinstance(t, A.UnionType):
        return "union"
    return f"{t.name}<...>"


class _AnyName(frozenset):
    """A field set that contains every name (used when a predicate's record is unknown)."""

    def __contains__(self, item: object) -> bool:  # noqa: D105
        return True


_ANY_NAME = _AnyName()


def _show(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value + '"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- entry points
MERGE_POLICIES = ("first_ok", "all_ok", "collect", "prefer", "strict")


def _start(span: A.Span) -> A.Span:
    """Where namel3ss places an expression: its first character."""
    return A.Span(span.line, span.column, span.line, span.column + 1)


def merge_problem(node: A.Orchestration) -> tuple[str, A.Span] | None:
    """The first problem of an orchestration's `merge:` block, in namel3ss's order and words
    (parser/stmt/orchestration.py, which stops at the first); None when it is valid."""
    fields: dict[str, A.Setting] = {}
    for setting in node.merge or ():
        if setting.key in fields:
            return f"Merge field '{setting.key}' is declared more than once.", _key_span(setting)
        fields[setting.key] = setting
    merge_at = node.merge_span
    policy_field = fields.get("policy")
    if policy_field is None:
        return "Merge field 'policy' is required.", merge_at
    if not isinstance(policy_field.value, A.Literal):
        return "Merge field 'policy' must be a literal value.", _key_span(policy_field)
    policy = policy_field.value.value
    if not isinstance(policy, str) or not policy:
        return "Merge field 'policy' must be a non-empty string.", _key_span(policy_field)
    precedence: list[str] | None = None
    field = fields.get("precedence")
    if field is not None:
        value = field.value
        if isinstance(value, A.Literal) and isinstance(value.value, str) and value.value:
            precedence = [value.value]
        elif not isinstance(value, A.ListExpr):
            return "Merge field 'precedence' must be a list of strings.", _key_span(field)
        else:
            precedence = []
            for item in value.items:
                if not (isinstance(item, A.Literal) and isinstance(item.value, str) and item.value):
                    return "Merge field 'precedence' must contain only strings.", _key_span(field)
                precedence.append(item.value)
    if policy not in MERGE_POLICIES:
        return f"Unknown merge policy '{policy}'.", _key_span(policy_field)
    if policy != "prefer" and precedence:
        return "Merge field 'precedence' is only allowed with policy 'prefer'.", _key_span(policy_field)
    for key, setting in fields.items():
        if key not in ("policy", "precedence"):
            return f"Unknown merge field '{key}'.", _key_span(setting)
    if policy != "prefer":
        return None
    if not precedence:
        return "Merge policy 'prefer' requires precedence.", merge_at
    names = [branch.name for branch in node.branches]
    seen: set[str] = set()
    for name in precedence:
        if name in seen:
            return f"Merge precedence '{name}' is duplicated.", merge_at
        seen.add(name)
        if name not in names:
            return f"Merge precedence '{name}' does not match a branch.", merge_at
    return None


def _key_span(setting: A.Setting) -> A.Span:
    """A merge field's name (namel3ss places these errors there)."""
    return A.Span(setting.span.line, setting.span.column, setting.span.line,
                  setting.span.column + len(setting.key))


def check_program(program: A.Program, *, project_dir: Path | str | None = None) -> list[Diagnostic]:
    """Every semantic problem of ``program``, sorted by position. Never raises."""
    try:
        return Checker(program, project_dir).run()
    except Exception as exc:  # a checker bug must not become a traceback for the user
        return [make(INTERNAL_ERROR, f"The checker failed: {type(exc).__name__}: {exc}", A.UNKNOWN, program.path)]


# Findings that may only be echoes of a declaration the parser had to drop after a syntax
# error (a reference to it, or a spec/capabilities line it swallowed): not reported then.
_ECHOES_OF_DROPPED = frozenset({
    "missing-spec", "unknown-record", "unknown-function", "unknown-ai", "unknown-model",
    "unknown-type", "training-required", "ai-without-model", "untrained-ai-model",
})


def check_project(project: Project, path: str | Path) -> list[Diagnostic]:
    """Every diagnostic of a loaded app (its files' syntax errors and the semantic checks),
    sorted by position. ``project`` is the loaded app whose app file is ``path``.

    After a syntax error the parser drops the broken declaration and keeps the rest, so the
    semantic checks still run on what parsed; findings that could merely echo the dropped
    declaration are left out, so a syntax error never brings a cascade of complaints.
    """
    program, diagnostics = project.program, list(project.diagnostics)
    if program is not None:
        semantic = check_program(program, project_dir=Path(path).resolve().parent)
        if any(d.is_error for d in diagnostics):
            semantic = [d for d in semantic if d.code not in _ECHOES_OF_DROPPED]
        diagnostics.extend(semantic)
    diagnostics.sort(key=sort_key)
    return diagnostics
