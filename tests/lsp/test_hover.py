"""Hover through the real server: a table of documents with a cursor marker (‸)."""

from __future__ import annotations

import pytest
from lsprotocol import types as T
from pytest_lsp import LanguageClient

import n3lang.checker  # noqa: F401  (registers the checker's codes)
from n3lang.diagnostics import REGISTRY
from n3lang.lsp.keyword_docs import DOCS

APP = '''spec is "1.0"

capabilities:
  training

record "User":
  name text
  email text

flow "main": requires true
  let list is 1
  create "User" with map:
    name is "é😀"
  as u
  return list

model "faq":
  model_base is "gpt-4"
  dataset is "data/faq.jsonl"
  epochs is 3
'''


def _keyword(word: str) -> str:
    doc = DOCS[word]
    return f"**`{word}`** (keyword)\n\n{doc.text}\n\n```n3\n{doc.example}\n```"


def _undefined(name: str) -> str:
    info = REGISTRY["undefined-variable"]
    return (f"**undefined-variable** (warning): Unknown variable '{name}'\n\nWhy: {info.why}\n\nFix: {info.fix}\n\n"
            f"Example:\n```n3\n{info.example}\n```")


# (id, document with ‸, hover Markdown, (line, start column, end column) of its range, 1-based)
CASES = [
    ("keyword", APP.replace("  let list", "  le‸t list"), _keyword("let"), (11, 3, 6)),
    ("keyword-as-name", APP.replace("return list", "return li‸st"), None, None),
    ("keyword-list", APP.replace("let list is 1", "let xs is li‸st: 1, 2"), _keyword("list"), (11, 13, 17)),
    ("keyword-after-non-ascii", APP.replace('name is "é😀"\n  as u', 'name is "é😀"\n  a‸s u'),
     _keyword("as"), (14, 3, 5)),
    ("record-reference", APP.replace('create "User"', 'create "Us‸er"'),
     '**record** `User`\n\n```n3\nrecord "User":\n  name text\n  email text\n```', (12, 11, 15)),
    ("field", APP.replace("  email text", "  em‸ail text"),
     "**field** `email` of record `User`\n\n```n3\n  email text\n```", (8, 3, 8)),
    ("model-key", APP.replace("  epochs is 3", "  epo‸chs is 3"),
     "**epochs** (model block setting)\n\nPasses over the training rows (default: the base's). (A whole number "
     "written as text, \"3\", is accepted.)\n\n- type: `integer or string`\n- example: `epochs is 3`", (20, 3, 9)),
    ("diagnostic", APP.replace("return list", "return nop‸e"), _undefined("nope"), (15, 10, 14)),
    ("string", APP.replace('name is "é😀"', 'name is "é‸😀"'), None, None),
]


@pytest.mark.parametrize("marked,markdown,where", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_hover_shows(client: LanguageClient, documents, marked, markdown, where):
    uri, position = documents.open(marked)
    result = await client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=position))
    if markdown is None:
        assert result is None
        return
    assert result.contents == T.MarkupContent(kind=T.MarkupKind.Markdown, value=markdown)
    text = marked.replace("‸", "")
    line, start, end = where
    assert result.range == T.Range(start=documents.position(text, line, start), end=documents.position(text, line, end))


async def test_a_diagnostic_and_the_name_under_it_show_together(client: LanguageClient, documents):
    marked = APP.replace('create "User"', 'create "Us‸er"').replace("flow \"main\": requires true", "flow \"main\":")
    uri, position = documents.open(marked)
    result = await client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=position))
    declaration, problem = result.contents.value.split("\n\n---\n\n")
    assert declaration.startswith("**record** `User`")
    assert problem.startswith("**mutation-without-requires** (warning): Flow 'main' creates records but declares "
                              "no 'requires'\n\nWhy: ")
