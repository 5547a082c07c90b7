"""A stable, indented text rendering of an AST (for golden tests and debugging)."""

from __future__ import annotations

from decimal import Decimal

from n3lang import ast as A

_SPANS = ("span", "name_span", "model_span")
#: Fields left out at these values (added to a node later; older dumps stay as they were).
_QUIET = {"declarative": False}


def dump(node, spans: bool = True) -> str:
    """One line per node: ``ClassName@line:col-end_line:end_col field=value``, children indented."""
    out: list[str] = []
    _dump(node, 0, out, spans, "")
    return "\n".join(out) + "\n"


def _scalar(value) -> str:
    if isinstance(value, Decimal):
        return f"Decimal({value})"
    return repr(value)


def _is_node(value) -> bool:
    return hasattr(type(value), "__dataclass_fields__")


def _dump(node, depth, out, spans, label):
    pad = "  " * depth
    cls = type(node)
    head = f"{pad}{label}{cls.__name__}"
    if spans and isinstance(getattr(node, "span", None), A.Span):
        s = node.span
        head += f"@{s.line}:{s.column}-{s.end_line}:{s.end_column}"
    children = []
    for name in cls.__dataclass_fields__:
        if name in _SPANS:
            continue
        value = getattr(node, name)
        if name in _QUIET and value is _QUIET[name]:
            continue
        if _is_node(value):
            children.append((name, value))
        elif isinstance(value, tuple) and any(_is_node(v) for v in value):
            children.append((name, value))
        elif isinstance(value, tuple) and not value:
            continue
        else:
            head += f" {name}={_scalar(value)}"
    out.append(head)
    for name, value in children:
        if isinstance(value, tuple):
            out.append(f"{pad}  {name}:")
            for item in value:
                _dump(item, depth + 2, out, spans, "")
        else:
            _dump(value, depth + 1, out, spans, f"{name}=")
