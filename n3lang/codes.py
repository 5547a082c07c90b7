"""Every diagnostic code, in one table: its family, its home module and a one-line summary.

The why / fix / example texts stay beside the code that raises them (each home module
registers its codes with ``diagnostics.register`` at import time); this table is the index
over all of them. ``all_codes()`` imports every home (by name, so this module stays at the
bottom of the layers) and returns the table joined with the registered texts.
``scripts/gen_codes.py`` writes docs/CODES.md from it; tests/test_codes.py fails when a code
is registered but missing here, listed here but never registered, registered by another
module than its home, or when docs/CODES.md is stale.

To add a code: register it in its family's home module, add a line here, run
``python scripts/gen_codes.py``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from n3lang.diagnostics import REGISTERED_BY, REGISTRY, CodeInfo

# family -> home module (where its codes are registered)
FAMILIES = {
    "internal": "n3lang.diagnostics",
    "syntax": "n3lang.syntax.errors",
    "module": "n3lang.syntax.loader",
    "check": "n3lang.checker",
    "runtime": "n3lang.runtime.errors",
    "training": "n3lang.training.errors",
    "convert": "n3lang.training.convert",
    "cli": "n3lang.cli.schema_cmd",
    "fmt": "n3lang.cli.fmt_cmd",
    "init": "n3lang.cli.init_cmd",
}

# code -> (family, one-line summary)
CODES: dict[str, tuple[str, str]] = {
    "internal-error": ("internal", "A bug in n3: a stage failed unexpectedly (reported instead of a traceback)."),
    # syntax
    "syntax-error": ("syntax", "A word or symbol where the grammar does not allow it."),
    # modules and includes (§9; n3lang/syntax/loader.py)
    "module-not-found": ("module", "An included file or used module that does not exist."),
    "module-path": ("module", "An include or module path that is absolute, has '..', leaves the app's folder or is not .ai."),
    "module-cycle": ("module", "Files that include each other."),
    "module-capability": ("module", "include without the composition.includes capability."),
    "module-conflict": ("module", "A name declared in two files, or a declaration a module or included file may not hold."),
    "module-limit": ("module", "Includes nested too deeply, or too many or too large files."),
    "module-export": ("module", "A name a module does not export (or exports without declaring it)."),
    "duplicate-include": ("module", "A file included twice (the second include is ignored)."),
    "unsupported-character": ("syntax", "A character that is not part of the language (tabs included)."),
    "unsupported-escape": ("syntax", "A backslash escape inside a string that has no meaning."),
    "unterminated-string": ("syntax", "A string that does not close on its line."),
    "inconsistent-indentation": ("syntax", "A line indented deeper without a header, or back to no enclosing level."),
    "reserved-word": ("syntax", "A reserved word used as a name."),
    "invalid-purity": ("check", "A flow's purity that is neither \"pure\" nor \"effectful\"."),
    "pure-flow-without-contract": ("check", "A pure flow with no contract declaration."),
    "duplicate-contract": ("check", "Two contract declarations for one flow."),
    "call-flow-without-contract": ("check", "call flow of a flow that has no contract declaration."),
    "flow-call-cycle": ("check", "Flows that call each other (or themselves) with call flow."),
    "pure-flow-calls-effectful": ("check", "A pure flow that calls a flow not declared pure."),
    "non-canonical-type": ("check", "string, str, int, integer or bool instead of the canonical type name."),
    "legacy-field": ("syntax", "A record field in the older `field \"name\" is type` form."),
    "escaped-identifier": ("syntax", "Backticks that are empty, unclosed, or hold more than a name."),
    "unknown-builtin": ("syntax", "name(xs) with a name that is not a built-in operation."),
    "nesting-too-deep": ("syntax", "Expressions or blocks nested deeper than the parser supports."),
    "unreadable-file": ("syntax", "The source file cannot be read as UTF-8 text."),
    "parser-internal-error": ("syntax", "A bug in the parser (reported instead of a traceback)."),
    # check
    "missing-spec": ("check", "The file does not start with `spec is \"1.0\"`."),
    "duplicate-spec": ("check", "A second spec line."),
    "unsupported-spec": ("check", "A spec version other than \"1.0\"."),
    "unknown-capability": ("check", "A capability token that is not in the language's list."),
    "duplicate-capability": ("check", "A capability declared twice."),
    "unused-capability": ("check", "A known capability that this runtime has no feature behind."),
    "duplicate-flow": ("check", "Two flows with one name."),
    "duplicate-record": ("check", "Two records with one name."),
    "duplicate-function": ("check", "Two functions with one name."),
    "duplicate-ai": ("check", "Two ai blocks with one name."),
    "duplicate-model": ("check", "Two model blocks with one name."),
    "duplicate-identity": ("check", "More than one identity declaration in an app."),
    "duplicate-field": ("check", "A record field declared twice."),
    "duplicate-input": ("check", "A function input declared twice."),
    "duplicate-argument": ("check", "A function input given twice in one call."),
    "duplicate-setting": ("check", "A setting repeated in an ai or model block."),
    "undefined-variable": ("check", "A name used before anything binds it in the flow."),
    "set-undeclared": ("check", "`set` on a variable that was never bound with `let`."),
    "set-constant": ("check", "`set` on a variable bound with `let ... constant`."),
    "unknown-record": ("check", "A record statement names an undeclared record."),
    "unknown-function": ("check", "`call function` names an undeclared function."),
    "unknown-ai": ("check", "`ask ai` names an undeclared ai."),
    "unknown-flow": ("check", "An app-surface declaration names an undeclared flow."),
    "surface-not-served": ("check", "An app-surface declaration (page, agent, job, ...): accepted, not served."),
    "capsule-outside-module": ("check", "A capsule declaration outside modules/<name>/capsule.ai (the app or an included file)."),
    "invalid-permissions": ("check", "A `permissions:` block namel3ss refuses: domain, action, decision, or no capability."),
    "invalid-preset": ("check", "A `use preset` or `override flow` namel3ss refuses (unknown, twice, bad target, empty, no preset)."),
    "unknown-type": ("check", "A field or input type that is neither built in nor a declared record."),
    "unknown-field": ("check", "An update sets a field the record does not declare."),
    "invalid-step": ("check", "A declarative flow step with a value, selector or type namel3ss refuses."),
    "missing-argument": ("check", "A call leaves out a required function input."),
    "unexpected-argument": ("check", "A call passes an input the function does not declare."),
    "recursive-function": ("check", "A function calls itself, directly or through others."),
    "state-in-function": ("check", "A function reads or changes `state`."),
    "records-in-function": ("check", "A function uses a record statement."),
    "invalid-pattern": ("check", "A `must match pattern` regular expression that does not compile."),
    "training-required": ("check", "A model is declared or used without the `training` capability."),
    "unknown-model": ("check", "A model name that is neither declared nor registered."),
    "unknown-model-setting": ("check", "A model block key that is not a training setting."),
    "invalid-model-setting": ("check", "A model block value the training config rejects (type or range)."),
    "missing-model-setting": ("check", "A model block lacks a setting training requires (a flag may supply it)."),
    "mutation-without-requires": ("check", "A flow changes records without a `requires` line."),
    "unreachable-code": ("check", "Statements after a `return` in the same block."),
    "duplicate-case": ("check", "A `match` case whose value an earlier case already takes."),
    "duplicate-assignment": ("check", "A field set twice in one update."),
    "deprecated-model": ("check", "A model version the registry marks as deprecated."),
    "function-output": ("check", "A function's return does not match its output: block."),
    "untrained-ai-model": ("check", "An ai names a hosted model this runtime cannot call."),
    "condition-not-boolean": ("check", "A condition whose type is known and is not boolean."),
    "type-mismatch": ("check", "An operation on operand types it never accepts."),
    "division-by-zero": ("check", "`/` or `%` by the literal 0."),
    "bad-loop-count": ("check", "A loop count or limit that is not a suitable whole number."),
    "ai-in-function": ("check", "A function calls an ai."),
    "ai-without-model": ("check", "An ai block without `model is \"...\"`."),
    "unknown-tool": ("check", "A tool call whose phrase names no declared tool."),
    "duplicate-tool": ("check", "Two tool declarations with one name."),
    "tool-capability-missing": ("check", "An http or file tool without the http or files capability."),
    "tool-in-function": ("check", "A function calls a tool."),
    "tool-argument": ("check", "A tool call's fields that do not match the tool's input: block."),
    "invalid-ai": ("check", "An ai block line namel3ss refuses (unknown key, value not text, memory field, tool exposure)."),
    "invalid-prompt": ("check", "A prompt block that is incomplete or malformed, or a prompt name declared twice."),
    "invalid-parallel": ("check", "A parallel block with a repeated task name or a malformed merge block."),
    "invalid-orchestration": ("check", "An orchestration block with a repeated branch, a branch that is not a call, or a bad merge block."),
    "invalid-tenant-key": ("check", "A record's tenant_key that is not one identity.<field> path."),
    "impure-function": ("check", "A function reads identity or calls a built-in, a flow or a tool."),
    "function-without-return": ("check", "A function body with no `return`."),
    "argument-type": ("check", "A literal function argument of the wrong type."),
    # runtime
    "runtime-error": ("runtime", "The running flow did something the language does not allow."),
    "runtime-type-error": ("runtime", "An operation received a value of the wrong type."),
    "runtime-condition-error": ("runtime", "A condition evaluated to something other than true or false."),
    "runtime-arithmetic-error": ("runtime", "Arithmetic without a finite result (division by zero, overflow)."),
    "runtime-name-error": ("runtime", "A name unbound at this point, or a constant set."),
    "runtime-attribute-error": ("runtime", "A missing map key, or a field of a value that is not a map."),
    "runtime-index-error": ("runtime", "A list index out of range or not a whole number."),
    "runtime-loop-error": ("runtime", "A bad loop count, limit or subject, or a while loop past its limit."),
    "runtime-builtin-error": ("runtime", "A built-in operation given arguments it cannot use."),
    "runtime-function-error": ("runtime", "A call that does not match the function's inputs or outputs."),
    "runtime-record-error": ("runtime", "A record value that breaks its declared types or constraints."),
    "runtime-unsupported-spec": ("runtime", "A spec version other than 1.0 at run time."),
    "runtime-access-denied": ("runtime", "A mutating flow without `requires`, or whose condition is false."),
    "runtime-capability-missing": ("runtime", "A feature used without its capability."),
    "runtime-ai-error": ("runtime", "An ai or model call that cannot be made in this runtime."),
    "runtime-limit": ("runtime", "A safety limit hit: steps, call depth or value size."),
    "runtime-flow-error": ("runtime", "`n3 run` cannot tell which flow to run."),
    "runtime-input-error": ("runtime", "The flow input is not a JSON document."),
    "runtime-state-error": ("runtime", "The state store (a SQLite file or a PostgreSQL database) cannot be opened or read."),
    "runtime-state-driver": ("runtime", "A postgresql:// --state without the psycopg package (the postgres extra)."),
    "runtime-state-url": ("runtime", "A postgresql:// --state that is not a valid PostgreSQL URL."),
    "runtime-state-connect": ("runtime", "The PostgreSQL server a --state URL names cannot be reached or refuses the login."),
    "runtime-state-schema": ("runtime", "A PostgreSQL n3_state or n3_records table with other columns, or one that cannot be created."),
    "runtime-tool-error": ("runtime", "A tool call that failed: bad input or output, the tool raised, timed out or answered badly."),
    "runtime-tool-binding": ("runtime", "A tool with no usable binding in .namel3ss/tools.yaml, or a tool kind this runtime cannot run."),
    "runtime-surface-error": ("runtime", "A statement needs the app surface (agents, jobs, themes), which this runtime does not serve."),
    # training
    "training-capability-missing": ("training", "`n3 train` on an app without the `training` capability."),
    "training-app-missing": ("training", "No app.ai here or in any parent directory."),
    "training-app-invalid": ("training", "The app cannot be parsed, so its capabilities are unknown."),
    "config-missing-field": ("training", "A required training setting is given nowhere."),
    "config-unknown-key": ("training", "A training.yaml key that is not a setting."),
    "config-invalid-value": ("training", "A training setting of the wrong type or out of range."),
    "config-file-invalid": ("training", "training.yaml is missing, too large, not UTF-8 or not a YAML mapping."),
    "mode-unsupported": ("training", "A mode other than text, image or audio."),
    "base-unsupported": ("training", "A base model that is not in the catalog."),
    "base-mode-mismatch": ("training", "A base that belongs to another mode."),
    "dataset-too-large": ("training", "A dataset file or line larger than the limit (N3_MAX_DATASET_BYTES, N3_MAX_LINE_BYTES)."),
    "dataset-missing": ("training", "No dataset file at the given path."),
    "dataset-empty": ("training", "A dataset without rows."),
    "dataset-encoding": ("training", "A dataset that is not UTF-8."),
    "dataset-row-invalid": ("training", "A dataset line that is not a usable row."),
    "dataset-too-small": ("training", "Fewer than 2 usable rows."),
    "dataset-single-class": ("training", "Every row has the same target."),
    "output-name-invalid": ("training", "An output_name that is a path or has unsafe characters."),
    "output-name-exists": ("training", "The model name and version are already registered."),
    "registry-corrupted": ("training", "models_registry.yaml is unreadable or its hash chain is broken."),
    "model-not-found": ("training", "No registered model with that name (and version)."),
    "model-deprecated": ("training", "The model version is deprecated."),
    "model-corrupted": ("training", "A model file's sha256 differs from the registry's."),
    "predict-input-invalid": ("training", "A prediction input of the wrong kind for the model."),
    "training-failed": ("training", "Training could not finish with these data and settings."),
    "model-did-not-learn": ("training", "The model is not clearly better than always answering the most frequent "
                            "class."),
    # convert
    "convert-input-missing": ("convert", "The state export to convert does not exist."),
    "convert-input-invalid": ("convert", "The state export is not JSON of the expected shape."),
    "convert-record-invalid": ("convert", "A record that cannot become a training row."),
    "convert-output-invalid": ("convert", "The converted dataset cannot be written."),
    # cli
    "schema-unknown": ("cli", "`n3 schema NAME` with a name that is not shipped."),
    "schema-write-conflict": ("cli", "`n3 schema --write` would replace a file that holds something else."),
    "schema-write-failed": ("cli", "`n3 schema --write` cannot create the folder or a file."),
    # fmt
    "fmt-write-failed": ("fmt", "`n3 fmt` cannot write the formatted file (it is left unchanged)."),
    "init-folder-not-empty": ("init", "`n3 init` into a folder that already holds files, without --into-existing."),
    "init-not-a-folder": ("init", "`n3 init FOLDER` where FOLDER is a file."),
    "init-write-failed": ("init", "`n3 init` cannot create the folder or a file in it."),
}


@dataclass(frozen=True)
class CodeEntry:
    """One code: family, home module, summary and the registered texts."""

    code: str
    family: str
    home: str
    summary: str
    info: CodeInfo


def load_homes() -> None:
    """Import every family's home module, so every code is registered."""
    for module in FAMILIES.values():
        importlib.import_module(module)


def all_codes() -> list[CodeEntry]:
    """Every code of the table, in its order, with the registered texts."""
    load_homes()
    return [CodeEntry(code, family, FAMILIES[family], summary, REGISTRY[code])
            for code, (family, summary) in CODES.items()]


def registered_elsewhere() -> dict[str, str]:
    """Codes registered by a module other than the home of their family: code -> module."""
    load_homes()
    return {code: REGISTERED_BY.get(code, "?") for code, (family, _) in CODES.items()
            if code in REGISTRY and REGISTERED_BY.get(code) != FAMILIES[family]}
