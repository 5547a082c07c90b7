"""Completion through the real server: a table of documents with a cursor marker (‸)."""

from __future__ import annotations

import pytest
from lsprotocol import types as T
from pytest_lsp import LanguageClient

APP = '''spec is "1.0"

capabilities:
  training

record "User":
  name text
  email text

record "Order Line":
  qty number

define function "add":
  input:
    a is number
  return a

flow "main":
  return 1

model "faq":
  model_base is "gpt-4"
  dataset is "data/faq.jsonl"

ai "helper":
  model is "faq"

tool "greet someone":
  implemented using python
  input:
    name is text
  output:
    message is text
'''

STATEMENTS = ["ai", "ask", "calc", "create", "delete", "enqueue", "find", "for", "if", "keep", "let", "log",
              "match", "metric", "orchestration", "order", "parallel", "repeat", "return", "run", "save", "set",
              "tick", "try", "update"]
HEADER_ITEMS = ["audited", "purity", "requires"]
DECLARATIONS = ["ai", "capabilities", "contract", "define", "flow", "identity", "include", "model", "override",
                "prompt", "record", "spec", "tool", "use"]
EXPRESSION_WORDS = ["call", "false", "filter", "list", "map", "not", "null", "predict", "reduce", "true"]
MODEL_KEYS = ["model_base", "dataset", "epochs", "learning_rate", "seed", "output_name", "mode",
              "validation_split", "output_dir", "report_dir", "allow_weak_model", "shards", "executor", "scheduler"]

# (id, document with ‸, the labels offered in order, or a prefix of them ending with ...)
CASES = [
    ("flow-body", APP + 'flow "x":\n  ‸', sorted(STATEMENTS + HEADER_ITEMS)),
    ("statement", APP + 'flow "x":\n  let y is 1\n  ‸', STATEMENTS),
    ("typed-keyword", APP + 'flow "x":\n  let y is 1\n  re‸', STATEMENTS),
    ("after-if-block", APP + 'flow "x":\n  if true:\n    let y is 1\n  ‸', sorted(STATEMENTS + ["else"])),
    ("error-in-another-flow", APP + 'flow "bad":\n  let x is is\n\nflow "x":\n  let y is 1\n  ‸', STATEMENTS),
    ("after-a-block-value", APP + 'flow "x": requires true\n  create "User" with map:\n    name is "a"\n  ‸',
     ["and", "as", "is", "or"]),
    ("top-level", APP + '‸', DECLARATIONS + ["agent", "app", "..."]),
    ("empty-file", '‸', DECLARATIONS + ["agent", "app", "..."]),
    ("expression", APP + 'flow "x":\n  let y is 1\n  let z is ‸',
     ["greet someone", "y", "input", "state"] + EXPRESSION_WORDS),
    ("operator", APP + 'flow "x":\n  let y is 1 ‸', ["and", "constant", "is", "or"]),
    ("create-record", APP + 'flow "x":\n  create ‸', ["Order Line", "User"]),
    ("create-record-quoted", APP + 'flow "x":\n  create "Us‸', ["Order Line", "User"]),
    ("find-fields", APP + 'flow "x":\n  find "User" where ‸', ["name", "email", "input", "state"] + EXPRESSION_WORDS),
    ("call-flow", APP + 'flow "x":\n  let r is call flow "‸', ["main"]),
    ("call-function", APP + 'flow "x":\n  let r is call function ‸', ["add"]),
    ("predict", APP + 'flow "x":\n  let r is predict ‸', ["faq"]),
    ("ask-ai", APP + 'flow "x":\n  ask ai "‸', ["helper"]),
    ("ai-model", APP + 'ai "other":\n  model is "‸', ["faq"]),
    ("field-type", APP + 'record "Note":\n  author ‸',
     ["text", "number", "boolean", "json", "list", "map", "null", "Order Line", "User", "is"]),
    ("map-entry-fields", APP + 'flow "x": requires true\n  create "User" with map:\n    ‸', ["name", "email"]),
    ("function-arguments", APP + 'flow "x":\n  let r is call function "add":\n    ‸', ["a"]),
    ("tool-arguments", APP + 'flow "x":\n  let r is greet someone:\n    ‸', ["name"]),
    ("flow-inputs", APP + 'contract flow "main":\n  input:\n    q is text\n    n is number\n  output:\n    r is text\n'
     'flow "x":\n  let r is call flow "main":\n    input:\n      q is "hi"\n      ‸', ["n"]),
    ("ai-keys", APP + 'ai "other":\n  model is "faq"\n  ‸', ["provider", "system_prompt", "memory", "tools"]),
    ("ai-memory-keys", APP + 'ai "other":\n  model is "faq"\n  memory:\n    ‸', ["short_term", "semantic", "profile"]),
    ("prompt-keys", APP + 'prompt "p":\n  text is "hi"\n  ‸', ["version", "description"]),
    ("ai-provider", APP + 'ai "other":\n  provider is "‸', ["mock", "ollama", "openai", "..."]),
    ("capabilities", 'capabilities:\n  training\n  ‸', ["http", "jobs", "files", "scheduling", "..."]),
    ("capabilities-inline", 'capabilities: [http, ‸', ["jobs", "files", "scheduling", "uploads", "..."]),
    ("model-keys", APP + 'model "m":\n  model_base is "text-base"\n  ‸', MODEL_KEYS[1:]),
    ("model-values", APP + 'model "m":\n  mode is ‸', ['"text"', '"image"', '"audio"']),
    ("in-comment", APP + 'flow "x":\n  let y is 1 # let ‸', []),
]


def _labels(result) -> list[str]:
    items = result.items if isinstance(result, T.CompletionList) else result
    return [item.label for item in sorted(items, key=lambda i: i.sort_text or i.label)]


@pytest.mark.parametrize("marked,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_completion_offers(client: LanguageClient, documents, marked, expected):
    uri, position = documents.open(marked)
    result = await client.text_document_completion_async(T.CompletionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=position))
    labels = _labels(result)
    if expected and expected[-1] == "...":
        assert labels[: len(expected) - 1] == expected[:-1]
    else:
        assert labels == expected


async def test_items_replace_the_typed_word_in_the_client_encoding(client: LanguageClient, documents):
    marked = APP + 'flow "x":\n  let y is "é😀" + 1\n  cre‸'
    uri, position = documents.open(marked)
    result = await client.text_document_completion_async(T.CompletionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=position))
    create = next(i for i in result.items if i.label == "create")
    assert create.kind == T.CompletionItemKind.Keyword
    start = T.Position(line=position.line, character=position.character - 3)
    assert create.text_edit == T.TextEdit(range=T.Range(start=start, end=position), new_text="create")


async def test_quoted_names_close_the_string_and_carry_their_declaration(client: LanguageClient, documents):
    uri, position = documents.open(APP + 'flow "x":\n  create "Ord‸')
    result = await client.text_document_completion_async(T.CompletionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=position))
    item = next(i for i in result.items if i.label == "Order Line")
    assert item.kind == T.CompletionItemKind.Struct
    assert item.detail == 'record "Order Line":'
    start = T.Position(line=position.line, character=position.character - 3)
    assert item.text_edit == T.TextEdit(range=T.Range(start=start, end=position), new_text='Order Line"')


async def test_model_keys_come_with_their_schema_description(client: LanguageClient, documents):
    uri, position = documents.open(APP + 'model "m":\n  ‸')
    result = await client.text_document_completion_async(T.CompletionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=position))
    item = next(i for i in result.items if i.label == "validation_split")
    assert item.kind == T.CompletionItemKind.Property
    assert item.text_edit.new_text == "validation_split is "
    assert item.documentation.kind == T.MarkupKind.Markdown
    assert item.documentation.value.startswith(
        "**validation_split** (model block setting)\n\nFraction of rows held out (by a stable hash of each row "
        "and the seed) to measure the model; 0 trains on every row and measures nothing")
    assert "- default: `0.2`" in item.documentation.value
