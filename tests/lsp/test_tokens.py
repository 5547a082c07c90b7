"""Semantic tokens through the real server: a declared name and a keyword used as a word differ.

Each case puts ``‸`` at the start of a token in a snippet of the text (the snippet without the
marker occurs once); the token the server gives there must have that type, modifiers and length.
"""

from __future__ import annotations

import pytest
from lsprotocol import types as T
from pytest_lsp import LanguageClient

APP = '''spec is "1.0"

capabilities:
  training

# the orders we keep
record "Order":
  total number
  note text

model "spam":
  dataset is "data/spam.jsonl"

ai "helper":
  model is "spam"

define function "double":
  input:
    x is number
  output:
    y is number
  return map:
    "y" is x * 2

flow "main": requires input.admin is true
  create "Order" with map:
    total is 3
    note is "é😀 café"  # a trailing comment
  as order
  let status is call function "double":
    x is 2
  let r is predict "spam" with "text ünïcode 😀"
  find "Order" where total is greater than 1
  return status
'''

MARK = "‸"
CASES = [
    # (snippet, type, modifiers, length in code points)
    ('‸record "Order"', "keyword", [], 6),
    ('record ‸"Order"', "string", [], 1),
    ('record "‸Order"', "class", ["declaration"], 5),
    ('record "Order‸"', "string", [], 1),
    ('create "‸Order"', "class", [], 5),
    ('find "‸Order"', "class", [], 5),
    ('  ‸total number', "property", ["declaration"], 5),
    ('  total ‸number', "type", [], 6),
    ('where ‸total', "property", [], 5),
    ('    ‸total is 3', "property", [], 5),
    ('flow "‸main"', "function", ["declaration"], 4),
    ('define function "‸double"', "function", ["declaration"], 6),
    ('call function "‸double"', "function", [], 6),
    ('‸model "spam"', "keyword", []),
    ('model "‸spam"', "namespace", ["declaration"], 4),
    ('  ‸model is "spam"', "variable", [], 5),
    ('model is "‸spam"', "namespace", [], 4),
    ('predict "‸spam"', "namespace", [], 4),
    ('ai "‸helper"', "interface", ["declaration"], 6),
    ('requires ‸input.admin', "variable", [], 5),
    ('requires input.‸admin', "property", [], 5),
    ('  ‸input:\n    x is number', "keyword", [], 5),
    ('let ‸status is', "variable", [], 6),
    ('return ‸status', "variable", [], 6),
    ('‸return status', "keyword", [], 6),
    ('note is ‸"é😀 café"', "string", [], 9),
    ('‸# the orders we keep', "comment", [], 20),
    ('‸# a trailing comment', "comment", [], 20),
    ('x ‸* 2', "operator", [], 1),
    ('x * ‸2', "number", [], 1),
    ('with ‸"text ünïcode 😀"', "string", [], 16),
]


def units(text: str, encoding: str) -> int:
    return {"utf-8": len(text.encode("utf-8")), "utf-32": len(text)}.get(encoding, len(text.encode("utf-16-le")) // 2)


def decode(data: list[int], legend: T.SemanticTokensLegend) -> list[tuple[int, int, int, str, list[str]]]:
    """(line, start, length, type, modifiers) of each token, absolute positions."""
    out = []
    line = start = 0
    for i in range(0, len(data), 5):
        delta_line, delta_start, length, kind, bits = data[i:i + 5]
        line += delta_line
        start = start + delta_start if delta_line == 0 else delta_start
        mods = [m for n, m in enumerate(legend.token_modifiers) if bits & (1 << n)]
        out.append((line, start, length, legend.token_types[kind], mods))
    return out


async def tokens_of(client: LanguageClient, name: str, text: str):
    path = client.root / name  # type: ignore[attr-defined]
    path.write_text(text, encoding="utf-8")
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=path.as_uri(), language_id="n3", version=1, text=text)))
    result = await client.text_document_semantic_tokens_full_async(T.SemanticTokensParams(
        text_document=T.TextDocumentIdentifier(uri=path.as_uri())))
    legend = client.server_capabilities.semantic_tokens_provider.legend  # type: ignore[attr-defined]
    return result.data, decode(result.data, legend)


@pytest.fixture(scope="module")
async def app_tokens(client: LanguageClient):
    return await tokens_of(client, "tokens.ai", APP)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_token_at_cursor(client: LanguageClient, app_tokens, case):
    snippet, kind, mods, *length = case
    plain = snippet.replace(MARK, "")
    assert APP.count(plain) == 1, snippet
    offset = APP.index(plain) + snippet.index(MARK)
    line = APP.count("\n", 0, offset)
    line_start = APP.rfind("\n", 0, offset) + 1
    start = units(APP[line_start:offset], client.encoding)  # type: ignore[attr-defined]
    _, found = app_tokens
    here = [t for t in found if t[:2] == (line, start)]
    assert here, f"no token at {snippet!r}"
    assert here[0][3:] == (kind, mods)
    if length:
        assert here[0][2] == units(APP[offset:offset + length[0]], client.encoding)  # type: ignore[attr-defined]


async def test_tokens_are_ordered_disjoint_and_deterministic(client: LanguageClient, app_tokens):
    data, found = app_tokens
    ends = [(line, start + length) for line, start, length, *_ in found]
    assert all(end <= (line, start) for end, (line, start, *_) in zip(ends, found[1:]))
    again, _ = await tokens_of(client, "tokens_again.ai", APP)  # computed again, for another document
    assert again == data


async def test_a_file_with_syntax_errors_still_has_its_words_told_apart(client: LanguageClient):
    text = 'spec is "1.0"\n\nflow "main":\n  let a is (\n  return status\n\nflow "other":\n  let status is 1\n  return status\n'
    _, found = await tokens_of(client, "broken.ai", text)
    lines = text.split("\n")
    words = {(lines[line][start:start + length], line): kind for line, start, length, kind, _ in found}
    assert words[("flow", 2)] == "keyword" and words[("let", 3)] == "keyword"
    assert words[("return", 4)] == "keyword"  # after the error: the lexer's view of the word
    assert words[("status", 7)] == "variable" and words[("status", 8)] == "variable"  # the second flow parses
    assert words[("other", 6)] == "function"


async def test_byte_order_mark_and_crlf_shift_nothing_but_the_first_line(client: LanguageClient):
    text = '\ufeffspec is "1.0"\r\n\r\nrecord "Rö":\r\n  x number\r\n'
    _, found = await tokens_of(client, "bom.ai", text)
    bom = units("\ufeff", client.encoding)  # type: ignore[attr-defined]
    assert found[:2] == [(0, bom, 4, "keyword", []), (0, bom + 5, 2, "keyword", [])]
    assert (2, 8, units("Rö", client.encoding), "class", ["declaration"]) in found  # type: ignore[attr-defined]
