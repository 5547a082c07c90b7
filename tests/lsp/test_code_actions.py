"""Quick fixes through the real server: a table of documents with a cursor marker (‸) on a
problem, the exact edit offered, and a check that applying it clears the problem."""

from __future__ import annotations

import pytest
from lsprotocol import types as T
from pytest_lsp import LanguageClient

from n3lang.frontend import analyze

BASE = '''spec is "1.0"

record "User":
  name text

define function "add":
  input:
    a is number
  return a

flow "main":
  return 1
'''
MODEL = '''
model "faq":
  model_base is "gpt-4"
  dataset is "data/faq.jsonl"
'''
TRAINED = 'spec is "1.0"\n\ncapabilities:\n  training\n' + MODEL + '\nai "helper":\n  model is "faq"\n\n'

# (id, document with ‸, code fixed, title, edits as (line, start column, end column, new text), 1-based)
CASES = [
    ("unknown-record", BASE + 'flow "x": requires true\n  create "Usr‸" with map:\n    name is "a"\n  as u\n',
     "unknown-record", "Change 'Usr' to 'User'", [(14, 11, 14, "User")]),
    ("unknown-function", BASE + 'flow "x":\n  let r is call function "ad‸":\n    a is 1\n  return r\n',
     "unknown-function", "Change 'ad' to 'add'", [(14, 27, 29, "add")]),
    ("undefined-variable", BASE + 'flow "x":\n  let total is 1\n  return to‸tl\n',
     "undefined-variable", "Change 'totl' to 'total'", [(15, 10, 14, "total")]),
    ("unknown-flow", BASE + 'flow "x":\n  let r is call flow "mi‸an":\n    input:\n      a is 1\n    output:\n      b\n'
     '  return r\n', "unknown-flow", "Change 'mian' to 'main'", [(14, 23, 27, "main")]),
    ("unknown-model", TRAINED + 'flow "x":\n  let s is predict "fq‸a" with "hi"\n  return s\n',
     "unknown-model", "Change 'fqa' to 'faq'", [(14, 21, 24, "faq")]),
    ("unknown-ai", TRAINED + 'flow "x":\n  ask ai "hel‸pr" with input: "q" as a\n  return a\n',
     "unknown-ai", "Change 'helpr' to 'helper'", [(14, 11, 16, "helper")]),
    ("untrained-ai-model", TRAINED + 'ai "other":\n  model is "fq‸a"\n',
     "untrained-ai-model", "Change 'fqa' to 'faq'", [(14, 13, 16, "faq")]),
    ("unknown-type", BASE + 'record "Note":\n  pages nmb‸er\n',
     "unknown-type", "Change 'nmber' to 'number'", [(14, 9, 14, "number")]),
    ("unknown-capability", 'spec is "1.0"\n\ncapabilities:\n  trai‸nng\n',
     "unknown-capability", "Change 'trainng' to 'training'", [(4, 3, 10, "training")]),
    ("unknown-model-setting", 'spec is "1.0"\n\ncapabilities:\n  training\n' + MODEL + '  epoc‸h is 3\n',
     "unknown-model-setting", "Change 'epoch' to 'epochs'", [(9, 3, 8, "epochs")]),
    ("training-block", 'spec is "1.0"\n\ncapabilities:\n  http\n  # more later\n' + MODEL.replace("faq", "f‸aq"),
     "training-required", "Add the 'training' capability", [(4, 7, 7, "\n  training")]),
    ("training-inline", 'spec is "1.0"\ncapabilities: [http]\n' + MODEL.replace("faq", "f‸aq"),
     "training-required", "Add the 'training' capability", [(2, 20, 20, ", training")]),
    ("training-none", 'spec is "1.0"\n' + MODEL.replace("faq", "f‸aq"),
     "training-required", "Add the 'training' capability", [(1, 14, 14, "\n\ncapabilities:\n  training")]),
]


def _apply(text: str, edits: list[T.TextEdit], units) -> str:
    lines = text.split("\n")

    def offset(position: T.Position) -> int:
        line = lines[position.line]
        column = next(i for i in range(len(line) + 1) if units(line[:i]) == position.character)
        return sum(len(part) + 1 for part in lines[: position.line]) + column

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


@pytest.mark.parametrize("marked,code,title,edits", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_quick_fix(client: LanguageClient, documents, marked, code, title, edits):
    uri, position = documents.open(marked)
    text = marked.replace("‸", "")
    before = [d for d in analyze(client.root / "x.ai", text).diagnostics if d.code == code]  # type: ignore[attr-defined]
    assert len(before) == 1
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), range=T.Range(start=position, end=position),
        context=T.CodeActionContext(diagnostics=[])))
    assert [(a.title, a.kind, a.is_preferred) for a in actions] == [(title, T.CodeActionKind.QuickFix, True)]
    action = actions[0]
    assert [(d.code, d.message) for d in action.diagnostics] == [(code, before[0].message)]
    expected = [T.TextEdit(range=T.Range(start=documents.position(text, line, start),
                                         end=documents.position(text, line, end)), new_text=new)
                for line, start, end, new in edits]
    assert list(action.edit.changes[uri]) == expected and list(action.edit.changes) == [uri]
    fixed = _apply(text, action.edit.changes[uri], lambda s: documents.position(s, 1, len(s) + 1).character)
    assert [d for d in analyze(client.root / "x.ai", fixed).diagnostics if d.code == code] == []  # type: ignore[attr-defined]


async def test_no_fix_where_nothing_is_wrong_or_only_other_kinds_are_asked(client: LanguageClient, documents):
    marked = BASE + 'flow "x":\n  let total is 1\n  return to‸tl\n'
    uri, position = documents.open(marked)
    asked = T.CodeActionParams(text_document=T.TextDocumentIdentifier(uri=uri), range=T.Range(start=position, end=position),
                               context=T.CodeActionContext(diagnostics=[], only=[T.CodeActionKind.Refactor]))
    assert not await client.text_document_code_action_async(asked)
    start = T.Position(line=0, character=0)
    clean = T.CodeActionParams(text_document=T.TextDocumentIdentifier(uri=uri), range=T.Range(start=start, end=start),
                               context=T.CodeActionContext(diagnostics=[]))
    assert list(await client.text_document_code_action_async(clean)) == []
