"""The pure functions under completion, hover and quick fixes, without a server."""

from __future__ import annotations

import re

import pytest

from n3lang.diagnostics import Diagnostic
from n3lang.frontend import analyze
from n3lang.lsp.actions import quick_fixes
from n3lang.lsp.completion import complete
from n3lang.lsp.expected import expected_at, reads_as_keyword
from n3lang.lsp.hover import symbol_markdown
from n3lang.lsp.keyword_docs import DOCS, ENTRIES
from n3lang.span import Span
from n3lang.syntax.parser import get_parser, parse_source

TOP_LEVEL = re.compile(r"(spec|capabilities|record|flow|define|ai|prompt|model|identity|contract|tool|use|include)\b")


def _at(marked: str) -> tuple[str, int, int]:
    index = marked.index("‸")
    text = marked.replace("‸", "")
    before = text[:index]
    return text, before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


# ---- keyword docs
def test_every_keyword_of_the_grammar_has_a_doc():
    keywords = set(get_parser()[2]["keywords"])
    assert keywords == set(DOCS)
    assert len(keywords) > 100  # the grammar's word terminals were read


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: " ".join(e.words))
def test_each_keyword_example_parses_and_shows_its_words(entry):
    source = entry.example if TOP_LEVEL.match(entry.example) else (
        'flow "demo":\n' + "\n".join("  " + line for line in entry.example.split("\n")))
    _, diagnostics = parse_source(source + "\n")
    assert [d.message for d in diagnostics if d.severity == "error"] == []
    for word in entry.words:
        assert re.search(rf"\b{word}\b", entry.example), word


# ---- what the parser accepts
@pytest.mark.parametrize("marked,has,lacks", [
    ('flow "x":\n  let y is 1\n  ‸', {"LET", "RETURN", "IF", "_DEDENT"}, {"FLOW", "RECORD", "NAME"}),
    ('flow "x":\n  let y is 1\n‸', {"FLOW", "RECORD", "SPEC", "MODEL", "SURFACE"}, {"LET"}),
    ('flow "x":\n  let y is ‸', {"NAME", "NUMBER", "LIST", "MAP_EACH", "TOOL_CALL", "PREDICT"}, {"LET", "ONE"}),
    # an error above the cursor, inside the same declaration, is replaced as recovery does
    ('flow "x":\n  let y is is is\n  let z is 1\n  ‸', {"LET", "RETURN"}, {"FLOW"}),
    # after a block-valued expression the statement may go on (`as x`) or end
    ('flow "x":\n  create "R" with map:\n    a is 1\n  ‸', {"AS"}, {"FLOW"}),
    ('flow "x":\n  let m is map:\n    a is 1\n  ‸', {"LET", "IS", "CONSTANT"}, set()),
])
def test_expected_terminals(marked, has, lacks):
    found = expected_at(*_at(marked))
    assert found is not None
    assert has <= found and not (lacks & found), sorted(found)


def test_a_broken_cursor_line_gives_no_answer():
    assert expected_at(*_at('flow "x":\n  let y is 1 2 ‸')) is None


@pytest.mark.parametrize("marked,term,keyword", [
    ('flow "x":\n  return ‸list', "LIST", False),
    ('flow "x":\n  return ‸list: 1, 2', "LIST", True),
    ('flow "x":\n  let ‸list is 2', "LIST", False),
    ('flow "x":\n  return ‸true', "TRUE", True),
])
def test_a_keyword_word_is_a_keyword_only_where_the_parser_reads_it_so(marked, term, keyword):
    text, line, column = _at(marked)
    assert reads_as_keyword(text, line, column, column + len(term), term) is keyword


# ---- completion without a server
def test_completion_offers_variables_bound_above_in_the_flow_only():
    text, line, column = _at('flow "a":\n  let inner is 1\n  return 1\n\nflow "b":\n  let total is 0\n'
                             '  for each n in list: 1:\n    set total is total + n\n  find "User" where true\n'
                             '  return ‸')
    labels = [i.label for i in complete(text, line, column, analyze("app.ai", text).symbols) if i.kind == "variable"]
    assert labels == ["n", "total", "user_results", "input", "state"]


def test_function_inputs_are_variables_and_arguments_of_calls_are_not():
    text, line, column = _at('define function "f":\n  input:\n    a is number\n    b is optional text\n'
                             '  let c is call function "g":\n    x is 1\n  return ‸')
    labels = [i.label for i in complete(text, line, column, analyze("app.ai", text).symbols) if i.kind == "variable"]
    assert labels == ["a", "b", "c", "input", "state"]


def test_a_name_inside_quotes_closes_them_with_the_same_quote_unless_closed():
    text = 'record "User":\n  name text\n\nflow "x":\n  create \'Us\n  find "U" where true\n'
    symbols = analyze("app.ai", text).symbols
    assert [(i.label, i.insert) for i in complete(text, 5, 13, symbols)] == [("User", "User'")]
    assert [(i.label, i.insert) for i in complete(text, 6, 10, symbols)] == [("User", "User")]


# ---- hover without a server
def test_a_long_declaration_is_shown_cut_with_the_count_of_lines_left_out():
    body = "".join(f"  let v{i} is {i}\n" for i in range(20))
    text = 'spec is "1.0"\n\nflow "long":\n' + body + '\nflow "next":\n  return 1\n'
    analysis = analyze("app.ai", text)
    symbol = analysis.symbols.lookup("flow", "long")
    shown = symbol_markdown(symbol, text).split("\n")
    assert shown[:4] == ["**flow** `long`", "", "```n3", 'flow "long":']
    assert shown[-3:] == ["  let v10 is 10", "  # … 9 more lines", "```"]


# ---- quick fixes without a server
def _fix(text: str, diagnostic: Diagnostic) -> list:
    return [(f.title, f.edits, f.preferred) for f in quick_fixes(diagnostic, text)]


def test_training_joins_an_inline_list_that_ends_in_a_comma_or_is_empty():
    training = Diagnostic("training-required", "Model 'm' requires the 'training' capability")
    assert _fix("capabilities: [http,]\n", training) == [
        ("Add the 'training' capability", ((Span(1, 21, 1, 21), " training"),), True)]
    assert _fix("capabilities: []\n", training) == [
        ("Add the 'training' capability", ((Span(1, 16, 1, 16), "training"),), True)]
    assert _fix('model "m":\n  dataset is "d"\n', training) == [
        ("Add the 'training' capability", ((Span(1, 1, 1, 1), "capabilities:\n  training\n\n"),), True)]


def test_an_unknown_model_key_without_a_suggestion_gets_the_closest_schema_keys():
    text = 'model "m":\n  output is "x"\n'
    unknown = Diagnostic("unknown-model-setting", "Unknown model setting 'output'", span=Span(2, 3, 2, 16))
    assert _fix(text, unknown) == [
        ("Change 'output' to 'output_dir'", ((Span(2, 3, 2, 9), "output_dir"),), False),
        ("Change 'output' to 'output_name'", ((Span(2, 3, 2, 9), "output_name"),), False),
    ]


def test_the_misspelt_name_is_the_quoted_one_closest_to_the_suggestion():
    text = 'ai "helper":\n  model is "fqa"\n'
    untrained = Diagnostic("untrained-ai-model", "ai 'helper' uses model 'fqa', which is not a trained model; "
                           "did you mean 'faq'?", span=Span(2, 12, 2, 17))
    assert _fix(text, untrained) == [("Change 'fqa' to 'faq'", ((Span(2, 13, 2, 16), "faq"),), True)]
