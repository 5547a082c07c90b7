"""The symbol index: declarations and references, name spans without quotes.

Each case marks the expected spans in the text with «…»; the marks are removed before analysis.
"""

from __future__ import annotations

import re

import pytest

from n3lang.frontend import analyze
from n3lang.span import Span


def spans(marked: str) -> tuple[str, list[Span]]:
    """The text without «» and the span of each «…» (1-based, end exclusive), in order."""
    text, found = "", []
    for part in re.split(r"(«[^»]*»)", marked):
        if part.startswith("«"):
            name = part[1:-1]
            line = text.count("\n") + 1
            column = len(text) - (text.rfind("\n") + 1) + 1
            found.append(Span(line, column, line, column + len(name)))
            text += name
        else:
            text += part
    return text, found


def index_of(tmp_path, marked: str):
    text, marked_spans = spans(marked)
    path = tmp_path / "app.ai"
    path.write_text(text, encoding="utf-8")
    return analyze(path, text), str(path), marked_spans


CASES = [
    # (what, text with the references marked, kind and name they refer to, container)
    ("create map keys, where names and set lines are the record's fields",
     'spec is "1.0"\n\nrecord "Task":\n  done boolean\n  «priority» number\n\n'
     'flow "f": requires true\n  create "Task" with map:\n    done is false\n    «priority» is 2\n  as t\n'
     '  find "Task" where «priority» is at most 2 and done is true\n'
     '  update "Task" where «priority» is 4 set:\n    «priority» is 3\n  return t.priority\n',
     "field", "priority", "Task"),
    ("record types of fields, function inputs and quoted names",
     'spec is "1.0"\n\nrecord "Item":\n  name text\n\nrecord "Cart":\n  items list<«Item»>\n\n'
     'define function "count":\n  input:\n    item is «Item»\n  return 1\n\nflow "f": requires true\n'
     '  create "«Item»" with map:\n    name is "x"\n  as i\n  return i\n',
     "record", "Item", None),
    ("a declarative flow's create step",
     'spec is "1.0"\n\nrecord "Note":\n  body text\n  owner text\n\nflow "add" requires true\n  input\n'
     '    note is text\n  create "«Note»"\n    owner is "me"\n    body is "hi"\n',
     "record", "Note", None),
    ("the field lines of a declarative create step",
     'spec is "1.0"\n\nrecord "Note":\n  body text\n  «owner» text\n\nflow "add" requires true\n  input\n'
     '    note is text\n  create "Note"\n    «owner» is "me"\n    body is "hi"\n',
     "field", "owner", "Note"),
    ("contract flow and call flow (in an orchestration branch too)",
     'spec is "1.0"\n\ncontract flow "«inner»":\n  input:\n  output:\n    result is text\n\n'
     'flow "inner":\n  return map:\n    "result" is "x"\n\nflow "outer":\n  orchestration:\n    branch "a":\n'
     '      call flow "«inner»":\n        input:\n        output:\n          result\n'
     '  merge:\n    policy is "first_ok"\n  as out\n  return out\n',
     "flow", "inner", None),
]


@pytest.mark.parametrize("what, marked, kind, name, container", CASES, ids=[c[0] for c in CASES])
def test_references(tmp_path, what, marked, kind, name, container):
    analysis, path, expected = index_of(tmp_path, marked)
    assert [d.code for d in analysis.diagnostics if d.is_error] == []
    symbol = analysis.symbols.lookup(kind, name, container)
    assert symbol is not None
    found = [span for file, span in analysis.symbols.references_to(symbol, include_declaration=False)]
    if kind == "field" and len(expected) == len(found) + 1:  # the declaration is marked first
        expected = expected[1:]
    key = lambda s: (s.line, s.column)  # noqa: E731
    assert sorted(found, key=key) == sorted(expected, key=key)
    for span in found:  # each reference leads back to the declaration
        assert analysis.symbols.at(path, span.line, span.column) == symbol
        assert analysis.symbols.at(path, span.end_line, span.end_column) == symbol


def test_declarations_have_unquoted_name_spans_and_fields_their_record(tmp_path):
    analysis, path, marked = index_of(tmp_path, 'spec is "1.0"\n\nrecord "«Ordér»":\n  «total» number\n\n'
                                                'flow "«main» flow":\n  return 1\n')
    assert [(s.kind, s.name, s.name_span, s.container) for s in analysis.symbols.declarations] == [
        ("record", "Ordér", marked[0], None), ("field", "total", marked[1], "Ordér"),
        ("flow", "main flow", Span(marked[2].line, marked[2].column, marked[2].line, marked[2].end_column + 5), None)]


def test_a_variable_named_like_a_field_elsewhere_is_no_field_reference(tmp_path):
    analysis, path, _ = index_of(tmp_path, 'spec is "1.0"\n\nrecord "Task":\n  done boolean\n\n'
                                          'flow "f":\n  let done is true\n  return done\n')
    assert [r for r in analysis.symbols.references if r.kind == "field"] == []
    assert analysis.symbols.at(path, 8, 10) is None
