#!/usr/bin/env python3
"""Write the VS Code extension's TextMate grammar from grammar/n3.lark.

    python scripts/gen_textmate.py            # rewrite editors/vscode/syntaxes/n3.tmLanguage.json
    python scripts/gen_textmate.py --check    # exit 1 when the committed file is stale

The keywords are the grammar's word terminals (``SPEC: "spec"``) as lark loads them, plus the
three words the lexer turns into tokens itself (``map``/``filter``/``reduce`` before ``with``);
nothing is listed by hand but the grouping into scopes. Constants, word operators and
declaration headers come from the rules that use them; control flow is a short editorial list;
every other keyword is ``keyword.other.n3``. tests/editors/test_textmate_grammar.py
regenerates the file and fails on drift, and checks that every keyword gets a scope.

TextMate cannot know the parser's context, so a keyword used as a name (lexing is contextual:
``let value is 3``) is still coloured as a keyword; `n3 lsp`'s semantic tokens correct that.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "grammar" / "n3.lark"
OUT = ROOT / "editors" / "vscode" / "syntaxes" / "n3.tmLanguage.json"
if str(ROOT) not in sys.path:  # this checkout's n3lang (its SURFACE_WORDS, VALUE_WORDS, lexer words)
    sys.path.insert(0, str(ROOT))

from n3lang.syntax.keywords import grammar_keywords  # noqa: E402  (after the path is set)

#: Rules whose word terminals are operators of expressions (`is at least`, `and`, `not`).
OPERATOR_RULES = ("or_expr", "and_expr", "not_expr", "comparison")
#: Control flow. Editorial: these words also appear in other rules, so no rule set derives them.
CONTROL_WORDS = (
    "if", "else", "repeat", "up", "times", "while", "limit", "for", "each", "in", "match",
    "when", "otherwise", "try", "catch", "return", "parallel", "orchestration", "branch", "merge",
)
#: Declarations that bring in other files rather than declare something.
IMPORT_RULES = ("use_decl", "include_decl")
#: Declarations whose header names a thing (`record "User":`): the scope of that name. A new
#: declaration of that shape must be added here or to UNNAMED_DECLS (the script says so).
NAMED_DECLS = {
    "record_decl": "entity.name.type.record.n3",
    "identity_decl": "entity.name.type.identity.n3",
    "model_decl": "entity.name.type.model.n3",
    "ai_decl": "entity.name.type.ai.n3",
    "prompt_decl": "entity.name.type.prompt.n3",
    "flow_decl": "entity.name.function.flow.n3",
    "function_decl": "entity.name.function.n3",
    "contract_decl": "entity.name.function.contract.n3",
    "override_decl": "entity.name.function.override.n3",
    "tool_decl": "entity.name.function.tool.n3",
}
#: Declarations whose string is a path or a version, not a name.
UNNAMED_DECLS = ("use_decl", "include_decl", "spec_decl")
#: Scopes of the keyword groups, in the order their patterns are tried.
KEYWORD_SCOPES = (
    "constant.language.n3",
    "keyword.operator.word.n3",
    "keyword.control.n3",
    "keyword.control.import.n3",
    "storage.type.n3",
    "keyword.other.n3",
)
#: Punctuation terminals of the grammar and their scopes (an unknown one stops the script).
PUNCTUATION_SCOPES = {
    "POW": "keyword.operator.arithmetic.n3",
    "PLUS": "keyword.operator.arithmetic.n3",
    "MINUS": "keyword.operator.arithmetic.n3",
    "STAR": "keyword.operator.arithmetic.n3",
    "SLASH": "keyword.operator.arithmetic.n3",
    "PERCENT": "keyword.operator.arithmetic.n3",
    "EQUALS": "keyword.operator.assignment.n3",
    "VBAR": "keyword.operator.union.n3",
    "LESSTHAN": "punctuation.definition.generic.begin.n3",
    "MORETHAN": "punctuation.definition.generic.end.n3",
    "COLON": "punctuation.separator.colon.n3",
    "COMMA": "punctuation.separator.comma.n3",
    "DOT": "punctuation.accessor.n3",
    "LPAR": "punctuation.section.parens.begin.n3",
    "RPAR": "punctuation.section.parens.end.n3",
    "LSQB": "punctuation.section.brackets.begin.n3",
    "RSQB": "punctuation.section.brackets.end.n3",
    "LBRACE": "punctuation.section.braces.begin.n3",
    "RBRACE": "punctuation.section.braces.end.n3",
}

#: A one-line string, as the lexer reads it (n3lang/syntax/lexer.py STR).
_STRING = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""


def is_word(text: str) -> bool:
    """A keyword's spelling: letters, and `_` inside (tenant_key); as n3lang.syntax.tables."""
    return text.replace("_", "").isalpha()


def load(path: Path = GRAMMAR):
    """(terminals, rules) of the grammar, as lark compiles it: every anonymous string named."""
    from lark.load_grammar import load_grammar

    grammar, _ = load_grammar(path.read_text(encoding="utf-8"), str(path), [], False)
    terminals, rules, _ = grammar.compile(["start"], ())
    return terminals, rules


def terminal_texts(terminals, words: bool) -> dict[str, str]:
    """Terminal name -> spelling of the string terminals that are words (or, with
    ``words=False``, punctuation)."""
    from lark.lexer import PatternStr

    return {
        t.name: t.pattern.value
        for t in terminals
        if isinstance(t.pattern, PatternStr) and is_word(t.pattern.value) == words
    }


def expansions(rules) -> dict[str, list[list[str]]]:
    """Rule name -> its alternatives, each a list of symbol names."""
    by_rule: dict[str, list[list[str]]] = {}
    for rule in rules:
        by_rule.setdefault(rule.origin.name, []).append([s.name for s in rule.expansion])
    return by_rule


def keyword_groups(terminals, rules) -> dict[str, list[str]]:
    """Every keyword of the grammar under one scope (KEYWORD_SCOPES): scope -> words."""
    words = terminal_texts(terminals, words=True)
    by_rule = expansions(rules)

    def used_in(*names: str) -> set[str]:
        return {words[s] for name in names for exp in by_rule[name] for s in exp if s in words}

    constants = {words[exp[0]] for exp in by_rule["atom"] if len(exp) == 1 and exp[0] in words}
    operators = used_in(*OPERATOR_RULES)
    control = set(CONTROL_WORDS)
    unknown = control - set(words.values())
    if unknown:
        raise SystemExit(f"CONTROL_WORDS lists words the grammar does not have: {sorted(unknown)}")
    imports = {w for name in IMPORT_RULES for w in header_words(by_rule[name], words)}
    declarations = {w for name in declaration_rules(rules) for w in header_words(by_rule[name], words)}
    everything = set(words.values()) | set(grammar_keywords())  # the one keyword list (site, editor)
    groups: dict[str, list[str]] = {}
    taken: set[str] = set()
    for scope, members in zip(KEYWORD_SCOPES, (constants, operators, control, imports, declarations, everything)):
        groups[scope] = sorted(members - taken)
        taken |= members
    return groups


def declaration_rules(rules) -> list[str]:
    """The rules a top-level declaration can be (`_decl: spec_decl | record_decl | ...`)."""
    return sorted({rule.expansion[0].name for rule in rules if rule.origin.name == "_decl"})


def header_words(expansions, words) -> list[str]:
    """The keywords that open a declaration (`define function`), from each alternative."""
    found: list[str] = []
    for exp in expansions:
        for symbol in exp:
            if symbol not in words:
                break
            if words[symbol] not in found:
                found.append(words[symbol])
    return found


def named_headers(rules, words) -> list[tuple[str, list[str], str]]:
    """(rule, header keywords, name scope) of each declaration that names a thing."""
    by_rule = expansions(rules)
    out = []
    for name in declaration_rules(rules):
        heads = []
        for exp in by_rule[name]:
            i = 0
            while i < len(exp) and exp[i] in words:
                i += 1
            if 0 < i < len(exp) and exp[i] == "STRING":
                head = [words[s] for s in exp[:i]]
                if head not in heads:
                    heads.append(head)
        if not heads:
            continue
        if name in UNNAMED_DECLS:
            continue
        if name not in NAMED_DECLS:
            raise SystemExit(f"{name} opens with keywords and a name: add it to NAMED_DECLS or UNNAMED_DECLS")
        out.extend((name, head, NAMED_DECLS[name]) for head in sorted(heads))
    missing = set(NAMED_DECLS) - {name for name, _, _ in out}
    if missing:
        raise SystemExit(f"NAMED_DECLS lists rules with no `KEYWORD \"name\"` header: {sorted(missing)}")
    return out


def alternation(words) -> str:
    """Whole words, longest first (then alphabetical), never after a `.` (`x.value`)."""
    ordered = sorted(words, key=lambda w: (-len(w), w))
    return r"(?<!\.)\b(?:" + "|".join(re.escape(w) for w in ordered) + r")\b"


def build(path: Path = GRAMMAR) -> dict:
    """The TextMate grammar (a JSON object) for the grammar at ``path``."""
    from n3lang.syntax.words import SURFACE_WORDS, VALUE_WORDS

    terminals, rules = load(path)
    words = terminal_texts(terminals, words=True)
    punct = terminal_texts(terminals, words=False)
    unknown = set(punct) - set(PUNCTUATION_SCOPES)
    if unknown:
        shown = ", ".join(f"'{punct[name]}' ({name})" for name in sorted(unknown))
        raise SystemExit(f"punctuation without a scope: {shown}: add it to PUNCTUATION_SCOPES")
    groups = keyword_groups(terminals, rules)

    declarations = []
    for rule, head, scope in named_headers(rules, words):
        keywords = r"\s+".join(f"({re.escape(w)})" for w in head)
        captures = {str(i + 1): {"name": "storage.type.n3"} for i in range(len(head))}
        captures[str(len(head) + 1)] = {"name": scope}
        declarations.append({
            "comment": f"{rule}: {' '.join(head)} \"name\"",
            "match": rf"^{keywords}\s+({_STRING})",
            "captures": captures,
        })

    operators: dict[str, list[str]] = {}
    for name, text in punct.items():
        operators.setdefault(PUNCTUATION_SCOPES[name], []).append(text)
    operator_patterns = [
        {"name": scope, "match": "|".join(re.escape(t) for t in sorted(texts, key=lambda t: (-len(t), t)))}
        for scope, texts in sorted(operators.items())
    ]

    def string(kind: str, quote: str, *, multiline: bool = False) -> dict:
        q = re.escape(quote)
        return {
            "name": f"string.quoted.{kind}.n3",
            "begin": q,
            "end": q if multiline else f"({q})|$",
            "beginCaptures": {"0": {"name": "punctuation.definition.string.begin.n3"}},
            "endCaptures": {"0" if multiline else "1": {"name": "punctuation.definition.string.end.n3"}},
            "patterns": [{"include": "#escapes"}],
        }

    repository = {
        "comments": {
            "match": r"(#).*$",
            "name": "comment.line.number-sign.n3",
            "captures": {"1": {"name": "punctuation.definition.comment.n3"}},
        },
        "strings": {
            "patterns": [
                string("triple", '"""', multiline=True),
                string("double", '"'),
                string("single", "'"),
            ]
        },
        "escapes": {
            "comment": "LANGUAGE.md §1: only \\n \\t \\\\ \\\" \\' (anything else is an error)",
            "patterns": [
                {"name": "constant.character.escape.n3", "match": r"""\\[nt\\"']"""},
                {"name": "invalid.illegal.unknown-escape.n3", "match": r"\\."},
            ],
        },
        "surface": {
            "comment": "LANGUAGE.md §10: a column-1 app-surface block (n3lang/syntax/words.py SURFACE_WORDS)",
            "match": r"^(" + "|".join(sorted(SURFACE_WORDS, key=lambda w: (-len(w), w))) + rf")\b(?:\s+({_STRING}))?",
            "captures": {
                "1": {"name": "storage.type.surface.n3"},
                "2": {"name": "entity.name.section.surface.n3"},
            },
        },
        "declarations": {"patterns": declarations},
        "names": {
            "patterns": [
                {
                    "comment": "an escaped name: a keyword or reserved word used as a name",
                    "name": "variable.other.escaped.n3",
                    "match": r"`[^`]+`",
                },
                {
                    "comment": "values read as names before a field: input.question, state.count",
                    "name": "variable.language.n3",
                    "match": r"(?<!\.)\b(?:" + "|".join(sorted(VALUE_WORDS)) + r")\b(?=\s*\.)",
                },
            ]
        },
        "numbers": {"name": "constant.numeric.n3", "match": r"\b[0-9]+(?:\.[0-9]+)?\b"},
        "keywords": {
            "patterns": [{"name": scope, "match": alternation(groups[scope])} for scope in KEYWORD_SCOPES if groups[scope]]
        },
        "operators": {"patterns": operator_patterns},
    }
    order = ["comments", "strings", "surface", "declarations", "names", "numbers", "keywords", "operators"]
    return {
        "information_for_contributors": [
            "Generated by scripts/gen_textmate.py from grammar/n3.lark; do not edit by hand.",
            "tests/editors/test_textmate_grammar.py fails when this file is stale.",
        ],
        "name": "n3",
        "scopeName": "source.n3",
        "fileTypes": ["ai"],
        "patterns": [{"include": f"#{name}"} for name in order],
        "repository": repository,
    }


def render(path: Path = GRAMMAR) -> str:
    """The file's text: stable JSON (sorted keys, two-space indent, a final newline)."""
    return json.dumps(build(path), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv[1:] == ["--check"]:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run python scripts/gen_textmate.py", file=sys.stderr)
            return 1
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
