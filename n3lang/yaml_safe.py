"""Reading YAML text safely: the safe loader (libyaml when available) with a depth limit.

Shared by training.yaml (training/config.py), models_registry.yaml (training/registry.py) and
.namel3ss/tools.yaml (runtime/tools.py); a leaf: it imports nothing of n3lang.
"""

from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


MAX_YAML_DEPTH = 1000  # libyaml's composer recurses per level (tens of thousands overflow the C stack)


class TooDeep(yaml.MarkedYAMLError):
    """The YAML text nests collections deeper than MAX_YAML_DEPTH (a YAMLError, so callers
    that report bad YAML report this too, at ``problem_mark``)."""

    def __init__(self, mark) -> None:
        super().__init__(problem=f"collections nested more than {MAX_YAML_DEPTH} levels deep", problem_mark=mark)


def _check_depth(text: str) -> None:
    """Raise TooDeep before composing when collections nest too deeply. The parser's events
    are produced without recursion; they are only walked when the text holds enough
    brackets to be that deep (block nesting that deep would exceed the size limit)."""
    if text.count("[") + text.count("{") <= MAX_YAML_DEPTH:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise TooDeep(event.start_mark)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def safe_compose_load(text: str):
    """(node tree, data) of one YAML document with the safe loader (libyaml when available).
    Raises TooDeep (a YAMLError) for collections nested more than MAX_YAML_DEPTH deep."""
    _check_depth(text)
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data
