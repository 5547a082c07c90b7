"""The language's shared vocabulary: names the parser, checker, interpreter and messages agree on.

One home per fact (issue 11): anything two stages must spell the same way lives here.
"""

from __future__ import annotations

#: The spec versions that run.
SUPPORTED_SPECS = ("1.0",)

#: namel3ss's 54 capability tokens, in its order (LANGUAGE.md §2). Tokens are lower-cased.
CAPABILITIES = tuple("""
    http jobs files scheduling uploads secrets embedding vision speech huggingface local_runner
    vision_gen third_party_apis dependency_management training streaming performance
    versioning_quality_mlops performance_scalability decoupled_ui_api
    ecosystem_developer_experience security_compliance custom_ui ui.custom_layouts
    ui.rag_patterns ui.theming ui.i18n ui.plugins ui.slider ui.tooltip ui.citations_enhanced
    composition.includes diagnostics.trace ui_layout ui_rag ui_theme ui_navigation ui_state
    app_permissions app_packaging custom_theme theme_editor dev_tools plugin_registry
    responsive_design sandbox service multi_user remote_studio extension_hooks hook_execution
    extension_trust remote_registry""".split())

#: The language's type names (what runtime values.type_name says of a value, and the checker's
#: static types), each as a message reads it after "is" ("must be a number", "must be text").
TYPE_NAMES = {"text": "text", "number": "a number", "boolean": "a boolean", "json": "json",
              "list": "a list", "map": "a map", "null": "null"}

#: Type names namel3ss still accepts, and the canonical name each stands for.
TYPE_ALIASES = {"string": "text", "str": "text", "int": "number", "integer": "number",
                "bool": "boolean"}

#: The capabilities this runtime enforces; the others are accepted and noted as unused.
ENFORCED_CAPABILITIES = frozenset(("training", "http", "files", "secrets", "composition.includes"))


def results_name(record: str) -> str:
    """The variable ``find "Rec"`` binds: the record's name lower-cased, spaces and ``.`` as
    ``_``, plus ``_results`` (``find "Order Line"`` binds ``order_line_results``)."""
    return record.lower().replace(".", "_").replace(" ", "_") + "_results"


def state_key(record: str) -> str:
    """The state key ``save "Rec"`` stores: ``state.rec`` (same lowering as results_name)."""
    return record.lower().replace(".", "_").replace(" ", "_")


def id_field(field_names) -> str:
    """``id`` for a record that declares it (auto-numbered unless given), else ``_id``."""
    return "id" if "id" in field_names else "_id"


# --------------------------------------------------------------------------- built-ins
#: Built-ins written as words (``list length of xs``, ``map get m key k``), each with the
#: type the checker knows it returns (None: it depends on the data).
WORD_BUILTINS = {
    "list length": "number",
    "list append": "list",
    "list get": None,
    "map get": None,
    "map set": "map",
    "map keys": "list",
}

#: Built-ins written as calls over one list of numbers (``sum(xs)``): each returns a number.
LIST_BUILTINS = ("sum", "min", "max", "mean", "median")

#: Every ``BuiltinCall`` name (ast.BuiltinCall), with the type the checker knows it returns.
BUILTINS = {**WORD_BUILTINS, **dict.fromkeys(LIST_BUILTINS, "number")}

#: Call-syntax names namel3ss resolves only when it runs (``ast.CallBuiltin``; any other name is
#: `Unknown builtin` at run time), with the type the checker knows each returns.
RUN_TIME_BUILTINS = {"secret": None, "has_role": "boolean", "has_permission": "boolean"}


# --------------------------------------------------------------------------- comparisons
#: Comparisons that take any values (equality by value, never truthiness).
EQUALITY_COMPARISONS = (
    "is",  # also "is equal to"
    "is not",  # also "is not equal to"
    "is one of",  # operands: the candidates
)

#: Comparisons that need numbers: the English phrase -> the test on (value, operands).
NUMBER_COMPARISONS = {
    "is greater than": lambda a, args: a > args[0],
    "is less than": lambda a, args: a < args[0],
    "is at least": lambda a, args: a >= args[0],
    "is at most": lambda a, args: a <= args[0],
    "is between": lambda a, args: args[0] <= a <= args[1],  # inclusive
    "is strictly between": lambda a, args: args[0] < a < args[1],  # exclusive
}

#: Every comparison operator (``ast.Compare.op``), by its English spelling.
COMPARE_OPS = (*EQUALITY_COMPARISONS[:2], *NUMBER_COMPARISONS, EQUALITY_COMPARISONS[2])


# --------------------------------------------------------------------------- constraints
#: Record field constraints (``ast.Constraint.kind``) -> (argument count, the rule as the
#: ``must ...`` messages word it, before its arguments).
CONSTRAINTS = {
    "present": (0, "be present"),
    "unique": (0, "be unique"),
    "greater_than": (1, "be greater than"),
    "less_than": (1, "be less than"),
    "at_least": (1, "be at least"),
    "at_most": (1, "be at most"),
    "between": (2, "be between"),
    "integer": (0, "be an integer"),
    "pattern": (1, "match pattern"),  # the argument is text (a regular expression)
    "length_at_least": (1, "have length at least"),
    "length_at_most": (1, "have length at most"),
}

#: The constraints that compare a number, each with the comparison that tests it.
NUMBER_CONSTRAINTS = {
    "greater_than": "is greater than",
    "less_than": "is less than",
    "at_least": "is at least",
    "at_most": "is at most",
    "between": "is between",
}

#: The constraints on a value's length (text, list or map): kind -> comparison.
LENGTH_CONSTRAINTS = {"length_at_least": "is at least", "length_at_most": "is at most"}


def constraint_rule(kind: str, shown: str = "") -> str:
    """``must be greater than 3``: the rule a constraint message states (``shown``: its
    arguments as written, joined)."""
    count, words = CONSTRAINTS[kind]
    return f"must {words} {shown}" if count else f"must {words}"
