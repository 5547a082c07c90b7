"""§9 tools at check time: the declaration's parse-time messages, unknown and duplicate
tools, capabilities, and the call's fields.

Every expected message and position below was recorded by running namel3ss 0.1.0a24 (the
oracle, /work/ref-venv) on the same program; where namel3ss names no position (the missing
capability), the declaration is the place.
"""

from __future__ import annotations

import pytest

from n3lang import ast as A
from n3lang.checker import check_program
from n3lang.syntax import parse_source

TOOL = '''tool "greet someone":
  implemented using python
  input:
    name is text
    times is optional number
  output:
    message is text
'''


def diagnostics(source: str) -> list:
    program, found = parse_source('spec is "1.0"\n' + source, "app.ai")
    found = list(found)
    if program is not None and not any(d.is_error for d in found):
        found += check_program(program)
    return sorted(found, key=lambda d: (d.span.line, d.span.column))


def first_error(source: str) -> tuple[int, int, str]:
    errors = [d for d in diagnostics(source) if d.is_error]
    assert errors, "no error"
    d = errors[0]
    return d.span.line, d.span.column, d.message


# namel3ss's parse and load errors: (source after the spec line, line, column, message)
DECLARATION_ERRORS = {
    "no implementation": ('tool "t":\n  input:\n    a is text\n  output:\n    b is text\n',
                          2, 1, 'Tool "t" is missing implementation.'),
    "no input": ('tool "t":\n  implemented using python\n  output:\n    b is text\n',
                 2, 1, 'Tool "t" is missing an input section.'),
    "no output": ('tool "t":\n  implemented using python\n  input:\n    a is text\n',
                  2, 1, 'Tool "t" is missing an output section.'),
    "unknown field": ('tool "t":\n  implemented using python\n  description is "x"\n  input:\n'
                      '    a is text\n  output:\n    b is text\n',
                      4, 3, "Unknown field in tool declaration"),
    "old kind": ('tool "t":\n  kind is "python"\n', 3, 3, "Old tool syntax is no longer supported."),
    "old entry": ('tool "t":\n  implemented using python\n  entry is "x"\n',
                  4, 3, "Old tool syntax is no longer supported."),
    "timeout zero": ('tool "t":\n  implemented using python\n  timeout_seconds is 0\n',
                     4, 22, "timeout_seconds must be a positive integer"),
    "timeout fraction": ('tool "t":\n  implemented using python\n  timeout_seconds is 1.5\n',
                         4, 22, "timeout_seconds must be a positive integer"),
    "timeout text": ('tool "t":\n  implemented using python\n  timeout_seconds is "3"\n',
                     4, 22, "timeout_seconds must be a number literal"),
    "timeout negative": ('tool "t":\n  implemented using python\n  timeout_seconds is -2\n',
                         4, 22, "timeout_seconds must be a number literal"),
    "purity": ('tool "t":\n  implemented using python\n  purity is "clean"\n',
               4, 13, "purity must be 'pure' or 'impure'"),
    "duplicate field": ('tool "t":\n  implemented using python\n  input:\n    a is text\n'
                        '    a is number\n  output:\n    b is text\n',
                        6, 5, "Duplicate input field 'a'."),
    "unknown type": ('tool "t":\n  implemented using python\n  input:\n    a is date\n'
                     '  output:\n    b is text\n', 5, 10, "Expected input field type."),
    "list type": ('tool "t":\n  implemented using python\n  input:\n    a is list\n'
                  '  output:\n    b is text\n', 5, 10, "Expected input field type."),
    "implemented twice": ('tool "t":\n  implemented using python\n  implemented using http\n',
                          4, 3, "Tool implementation is declared more than once"),
    "input twice": ('tool "t":\n  implemented using python\n  input:\n    a is text\n  input:\n'
                    '    a is text\n', 6, 3, "Tool input is declared more than once"),
    "duplicate call field": (TOOL + 'flow "f":\n  let r is greet someone:\n    name is "a"\n'
                             '    name is "b"\n  return r\n', 12, 5, "Duplicate tool field 'name'."),
    "duplicate tool": ('tool "t":\n  implemented using python\n  input:\n    a is text\n'
                       '  output:\n    b is text\ntool "t":\n  implemented using python\n'
                       '  input:\n    a is text\n  output:\n    b is text\n',
                       8, 1, "Duplicate tool declaration 't'"),
    "unknown tool": (TOOL + 'flow "f":\n  let r is greet somone:\n    name is "x"\n  return r\n',
                     10, 12, "Unknown tool 'greet somone'."),
    "tool in a function": (TOOL + 'define function "g":\n  input:\n    a is text\n'
                           '  let r is greet someone:\n    name is a\n  return r\n',
                           12, 12, "Functions cannot call tools"),
    "http without capability": ('tool "fetch page":\n  implemented using http\n  input:\n'
                                '    url is text\n  output:\n    body is text\n',
                                2, 1, "Missing capabilities: http."),
    "file without capability": ('tool "read it":\n  implemented using file\n  input:\n'
                                '    path is text\n  output:\n    body is text\n',
                                2, 1, "Missing capabilities: files."),
}


@pytest.mark.parametrize("name", sorted(DECLARATION_ERRORS))
def test_namel3ss_messages_at_namel3ss_positions(name):
    source, line, column, message = DECLARATION_ERRORS[name]
    assert first_error(source) == (line, column, message)


def test_missing_sections_are_not_reported_after_another_error():
    # namel3ss stops at the block's first error; so do we (no cascade of "missing" errors)
    errors = [d for d in diagnostics('tool "t":\n  kind is "python"\n') if d.is_error]
    assert [d.message for d in errors] == ["Old tool syntax is no longer supported."]


def test_the_declaration():
    source = ('tool "get data from a web address":\n  implemented using "Python"\n'
              '  purity is pure\n  timeout_seconds is 3\n  input:\n    web address is text\n'
              '    list of things is optional json\n    count is int\n    flag is bool\n'
              '  output:\n    data is json\n')
    program, found = parse_source('spec is "1.0"\n' + source)
    assert not [d for d in found if d.is_error]
    (tool,) = program.of_type(A.ToolDecl)
    assert (tool.name, tool.kind, tool.purity, tool.timeout_seconds) == \
        ("get data from a web address", "python", "pure", 3)
    assert [(f.name, f.type, f.required) for f in tool.inputs] == [
        ("web address", "text", True), ("list of things", "json", False),
        ("count", "number", True), ("flag", "boolean", True)]
    assert [(f.name, f.type) for f in tool.outputs] == [("data", "json")]
    assert not [d for d in check_program(program) if d.is_error]


def test_an_empty_input_block_and_the_defaults():
    program, found = parse_source('spec is "1.0"\ntool "ping":\n  implemented using python\n'
                                  '  input:\n  output:\n    ok is boolean\n')
    assert not [d for d in found if d.is_error]
    (tool,) = program.of_type(A.ToolDecl)
    assert (tool.inputs, tool.purity, tool.timeout_seconds) == ((), "impure", None)


CALLS = TOOL + '''flow "f":
  let a is greet someone:
    name is "Ada"
    times is 2
  let:
    b is greet someone:
      name is "Bo"
  calc:
    c = greet someone:
      name is "Cy"
  set c is greet someone:
    name is "Di"
  let m is map:
    a is 1
  let xs is list:
    1
  let ys is map xs with item as n:
    n * 2
  let zs is filter xs with item as n:
    n is greater than 0
  let t is list of number: 1, 2
  let u is map get m key "a"
  let v is "a: b"
  return a
'''


def test_tool_calls_where_namel3ss_takes_them_and_other_colons_unchanged():
    program, found = parse_source('spec is "1.0"\n' + CALLS)
    assert not [d for d in found if d.is_error]
    flow = program.of_type(A.FlowDecl)[0]
    calls = []
    for stmt in flow.body:
        for step in getattr(stmt, "lets", None) or getattr(stmt, "steps", None) or (stmt,):
            value = getattr(step, "value", None)
            if isinstance(value, A.ToolCall):
                calls.append((value.name, [(a.name, a.value.value) for a in value.args],
                              value.name_span.line, value.name_span.column))
    assert calls == [("greet someone", [("name", "Ada"), ("times", 2)], 10, 12),
                     ("greet someone", [("name", "Bo")], 14, 10),
                     ("greet someone", [("name", "Cy")], 17, 9),
                     ("greet someone", [("name", "Di")], 19, 12)]
    assert [type(s.value).__name__ for s in flow.body[4:-1]] == [
        "MapExpr", "ListExpr", "ListMap", "ListFilter", "ListExpr", "BuiltinCall", "Literal"]
    assert not [d for d in check_program(program) if d.is_error]


def test_the_phrase_is_its_words():
    program, _ = parse_source('spec is "1.0"\n' + TOOL
                              + 'flow "f":\n  let r is greet    someone:\n    name is "x"\n  return r\n')
    call = program.of_type(A.FlowDecl)[0].body[0].value
    assert call.name == "greet someone"


# Fields namel3ss checks when the call runs (schema_validate.py): warnings here.
@pytest.mark.parametrize("lines,line,column,message", [
    ('    nme is "x"\n', 11, 5, 'Tool input for "greet someone" has unknown field "nme".'),
    ('    name is 3\n', 11, 13, 'Tool input field "name" must be text.'),
    ('    name is 1 + 2\n', 11, 13, 'Tool input field "name" must be text.'),
    ('    name is list:\n      1\n', 11, 13, 'Tool input field "name" must be text.'),
    ('    name is "x"\n    times is "2"\n', 12, 14, 'Tool input field "times" must be number.'),
    ('', 10, 12, 'Tool input for "greet someone" is missing required field "name".'),
])
def test_call_fields_that_fail_when_the_call_runs_are_warnings(lines, line, column, message):
    found = diagnostics(TOOL + 'flow "f":\n  let r is greet someone:\n' + lines + '  return r\n')
    assert not [d for d in found if d.is_error]
    assert (line, column, message) in [(d.span.line, d.span.column, d.message) for d in found
                                       if d.code == "tool-argument"]


def test_unknown_tool_suggests_the_closest_name():
    (d,) = [d for d in diagnostics(TOOL + 'flow "f":\n  let r is greet somone:\n    name is "x"\n'
                                   '  return r\n') if d.is_error]
    assert d.code == "unknown-tool"
    assert d.fix.startswith("Did you mean 'greet someone'?")


def test_capabilities_declared_clear_the_error():
    found = diagnostics('capabilities:\n  http\n  files\ntool "fetch page":\n  implemented using http\n'
                        '  input:\n    url is text\n  output:\n    body is text\n'
                        'tool "read it":\n  implemented using file\n  input:\n    path is text\n'
                        '  output:\n    body is text\nflow "f":\n  return 1\n')
    assert not [d for d in found if d.is_error]


def test_quoted_field_names_are_phrases_too():
    # namel3ss joins the values of a phrase's tokens: "full name" names `full name`
    source = ('tool "greet someone":\n  implemented using python\n  input:\n    "full name" is text\n'
              '  output:\n    message is text\nflow "f":\n  let r is greet someone:\n'
              '    "full name" is "x"\n  return r\n')
    program, found = parse_source('spec is "1.0"\n' + source)
    assert not [d for d in found if d.is_error]
    assert program.of_type(A.ToolDecl)[0].inputs[0].name == "full name"
    assert program.of_type(A.FlowDecl)[0].body[0].value.args[0].name == "full name"
    assert not check_program(program)


@pytest.mark.parametrize("value", ['call tool "x":\n    a is 1', 'call "x"'])
def test_old_tool_calls_get_namel3ss_message(value):
    # recorded with the oracle: at the `call` word
    assert first_error(f'flow "f":\n  let r is {value}\n  return r\n') == \
        (3, 12, "Old tool syntax is no longer supported.")
