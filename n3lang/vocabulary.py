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

#: Type names namel3ss still accepts, and the canonical name each stands for.
TYPE_ALIASES = {"string": "text", "str": "text", "int": "number", "integer": "number",
                "bool": "boolean"}

#: The capabilities this runtime enforces; the others are accepted and noted as unused.
ENFORCED_CAPABILITIES = frozenset(("training", "http", "files", "secrets"))


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
