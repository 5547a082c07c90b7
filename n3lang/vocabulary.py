"""The language's shared vocabulary: names the parser, checker, interpreter and messages agree on.

One home per fact (issue 11): anything two stages must spell the same way lives here.
"""

from __future__ import annotations


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
