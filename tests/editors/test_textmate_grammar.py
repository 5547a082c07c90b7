"""The VS Code extension's TextMate grammar is scripts/gen_textmate.py's output for
grammar/n3.lark: regenerated here and compared with the committed file, and every keyword of
the grammar has a scope. (test_textmate_tokens.py runs it through VS Code's own engine.)"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from editor_tools import ROOT, VSCODE, grammar_keywords  # noqa: E402

COMMITTED = VSCODE / "syntaxes" / "n3.tmLanguage.json"


@functools.cache
def _generator():
    spec = importlib.util.spec_from_file_location("gen_textmate", ROOT / "scripts" / "gen_textmate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _generated() -> str:
    return _generator().render()


def _keyword_patterns(grammar: dict) -> list[tuple[str, re.Pattern]]:
    return [(p["name"], re.compile(p["match"])) for p in grammar["repository"]["keywords"]["patterns"]]


def _scope_of(grammar: dict, word: str) -> list[str]:
    return [name for name, pattern in _keyword_patterns(grammar) if pattern.fullmatch(word)]


def test_committed_grammar_is_the_generated_one() -> None:
    current = COMMITTED.read_text(encoding="utf-8")
    assert current == _generated(), f"{COMMITTED.relative_to(ROOT)} is stale: run python scripts/gen_textmate.py"


def test_generated_text_is_stable_json() -> None:
    text = _generated()
    assert text == _generator().render()  # a second build: no set or dict order leaks in
    assert text.endswith("}\n")
    grammar = json.loads(text)
    assert grammar["scopeName"] == "source.n3"
    assert text == json.dumps(grammar, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_every_keyword_gets_exactly_one_keyword_scope() -> None:
    grammar = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for word in grammar_keywords():
        assert len(_scope_of(grammar, word)) == 1, (word, _scope_of(grammar, word))


@pytest.mark.parametrize(
    "word, scope",
    [
        ("if", "keyword.control.n3"),
        ("otherwise", "keyword.control.n3"),
        ("return", "keyword.control.n3"),
        ("true", "constant.language.n3"),
        ("null", "constant.language.n3"),
        ("is", "keyword.operator.word.n3"),
        ("strictly", "keyword.operator.word.n3"),
        ("and", "keyword.operator.word.n3"),
        ("record", "storage.type.n3"),
        ("define", "storage.type.n3"),
        ("capabilities", "storage.type.n3"),
        ("use", "keyword.control.import.n3"),
        ("include", "keyword.control.import.n3"),
        ("let", "keyword.other.n3"),
        ("tenant_key", "keyword.other.n3"),
        ("filter", "keyword.other.n3"),
    ],
)
def test_keyword_groups(word: str, scope: str) -> None:
    grammar = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert _scope_of(grammar, word) == [scope]


def test_keywords_are_whole_words_longest_first() -> None:
    grammar = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for _, pattern in _keyword_patterns(grammar):
        words = re.search(r"\(\?:(.*)\)", pattern.pattern).group(1).split("|")
        assert words == sorted(words, key=lambda w: (-len(w), w))
        assert not pattern.search("lists") and not pattern.search("x.if") and not pattern.search("record_id")


def _grammar_with(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "n3.lark"
    text = (ROOT / "grammar" / "n3.lark").read_text(encoding="utf-8")
    path.write_text(text.replace("     | override_decl\n", "     | override_decl\n     | widget_decl\n") + extra,
                    encoding="utf-8")
    return path


def test_a_new_keyword_in_the_grammar_gets_a_scope(tmp_path: Path) -> None:
    path = _grammar_with(tmp_path, '\nwidget_decl: WIDGETS ":" _NL\nWIDGETS: "widgets"\n')
    grammar = _generator().build(path)
    assert _scope_of(grammar, "widgets") == ["storage.type.n3"]


def test_a_new_named_declaration_must_say_what_it_names(tmp_path: Path) -> None:
    path = _grammar_with(tmp_path, '\nwidget_decl: WIDGET STRING ":" _NL\nWIDGET: "widget"\n')
    with pytest.raises(SystemExit, match="widget_decl opens with keywords and a name: add it to NAMED_DECLS"):
        _generator().build(path)


def test_new_punctuation_must_get_a_scope(tmp_path: Path) -> None:
    path = _grammar_with(tmp_path, '\nwidget_decl: "@" STRING _NL\n')
    with pytest.raises(SystemExit, match="punctuation without a scope: '@'"):
        _generator().build(path)


def test_declared_names_and_strings() -> None:
    grammar = json.loads(COMMITTED.read_text(encoding="utf-8"))
    heads = {p["comment"]: re.compile(p["match"]) for p in grammar["repository"]["declarations"]["patterns"]}
    found = heads['function_decl: define function "name"'].match('define function "add \\"one\\"":')
    assert found and found.group(3) == '"add \\"one\\""'
    assert heads['record_decl: record "name"'].match("record 'User' version \"2\":").group(2) == "'User'"
    assert not heads['flow_decl: flow "name"'].match('  call flow "x":')
    assert set(heads) == {
        f'{rule}: {head} "name"'
        for rule, head in [
            ("ai_decl", "ai"), ("contract_decl", "contract flow"), ("flow_decl", "flow"),
            ("function_decl", "define function"), ("identity_decl", "identity"), ("model_decl", "model"),
            ("override_decl", "override flow"), ("prompt_decl", "prompt"), ("record_decl", "record"),
            ("tool_decl", "tool"),
        ]
    }


def test_check_mode_reports_drift(tmp_path: Path, monkeypatch, capsys) -> None:
    gen = _generator()
    text = _generated()  # built once per worker, before render is replaced by it
    monkeypatch.setattr(gen, "OUT", tmp_path / "n3.tmLanguage.json")
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    monkeypatch.setattr(gen, "render", lambda: text)
    assert gen.main(["gen_textmate.py", "--check"]) == 1
    assert "n3.tmLanguage.json is stale: run python scripts/gen_textmate.py" in capsys.readouterr().err
    assert gen.main(["gen_textmate.py"]) == 0
    assert gen.main(["gen_textmate.py", "--check"]) == 0
    assert (tmp_path / "n3.tmLanguage.json").read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")
