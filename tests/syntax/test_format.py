"""`n3 fmt`'s layout (n3lang/syntax/format.py): golden files, the properties over the whole
corpus (the layout keeps the AST and is idempotent), and variations of corpus files that must
format to the same text.

Golden files: tests/data/fmt/<case>.ai is a messy input, <case>.formatted.ai its expected
layout. Regenerate with ``N3_UPDATE_GOLDEN=1 pytest tests/syntax/test_format.py`` and review
the diff.
"""

from __future__ import annotations

import os
import random
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from n3lang import ast as A
from n3lang.syntax import format as fmt
from n3lang.syntax import parse_source
from n3lang.syntax.format import format_or_diagnostics, format_source, layout
from n3lang.syntax.lexer import _MASTER

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "fmt"
UPDATE = os.environ.get("N3_UPDATE_GOLDEN") == "1"
CASES = sorted(p.name[: -len(".ai")] for p in GOLDEN.glob("*.ai") if not p.name.endswith(".formatted.ai"))


def _read(path: Path) -> str | None:
    """The file's text as stored (no newline translation), or None when it is not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None


def _corpus() -> list[Path]:
    """Every .ai file under tests/ and examples/ that parses without an error."""
    found = []
    for path in sorted([*ROOT.joinpath("tests").rglob("*.ai"), *ROOT.joinpath("examples").rglob("*.ai")]):
        source = _read(path)
        if source is None:
            continue
        _, diagnostics = parse_source(source, str(path))
        if not any(d.is_error for d in diagnostics):
            found.append(path)
    return found


CORPUS = _corpus()


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ----------------------------------------------------------------------------- golden files
def test_golden_cases_exist():
    assert CASES == ["blank_lines", "comments", "indentation", "spacing", "strings", "surface"]


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    source = (GOLDEN / f"{case}.ai").read_bytes().decode("utf-8")
    expected_path = GOLDEN / f"{case}.formatted.ai"
    formatted = format_source(source, f"{case}.ai")
    if UPDATE or not expected_path.exists():
        expected_path.write_bytes(formatted.encode("utf-8"))
    assert formatted == expected_path.read_bytes().decode("utf-8")
    assert formatted != source  # every case is messy
    assert format_source(formatted, f"{case}.ai") == formatted
    assert parse_source(formatted, f"{case}.ai")[0] == parse_source(source, f"{case}.ai")[0]


# ----------------------------------------------------------------------------- the corpus
def test_corpus_is_the_whole_corpus():
    names = {_name(p) for p in CORPUS}
    assert len(CORPUS) > 900
    assert "examples/supportbot/app.ai" in names
    assert "tests/conformance/programs/s1_indent_four.ai" in names
    assert any(n.startswith("tests/conformance/programs/s9_module_use_capsule/modules/") for n in names)
    assert "tests/data/fmt/comments.formatted.ai" in names


@pytest.mark.parametrize("path", CORPUS, ids=_name)
def test_corpus_keeps_the_ast_and_is_idempotent(path):
    source = _read(path)
    program, _ = parse_source(source, "x.ai")
    assert program is not None
    # the layout itself (format_source would fall back to a plainer one if this failed)
    out = layout(fmt._normalize(source), program)
    again, diagnostics = parse_source(out, "x.ai")
    assert not any(d.is_error for d in diagnostics)
    assert again == program
    assert layout(out, again) == out
    assert out == "" or (out.endswith("\n") and not out.endswith("\n\n") and not out.startswith("\n"))
    assert "\n\n\n" not in _outside_strings_and_surfaces(out, again)


def _outside_strings_and_surfaces(text: str, program: A.Program) -> str:
    """``text`` with the lines of app-surface blocks and the insides of strings masked (blank
    lines and trailing spaces are kept there as written); no other line has trailing spaces."""
    surface = {n for d in program.declarations if type(d) is A.SurfaceDecl
               for n in range(d.span.line, d.span.end_line + 1)}
    kept = []
    for number, line in enumerate(_mask_strings(text).split("\n"), 1):
        if number in surface:
            kept.append("(surface)")
        else:
            assert line == line.rstrip(" "), f"trailing spaces on line {number}"
            kept.append(line)
    return "\n".join(kept)


def _mask_strings(text: str) -> str:
    out = []
    for m in _MASTER.finditer(text):
        group = m.lastindex
        if group in (5, 6):  # strings: their newlines stay (lines keep their numbers)
            out.append(text[m.start():m.start(group)] + "".join(c if c == "\n" else "s" for c in m[group]))
        else:
            out.append(m[0])
    return "".join(out)


# ----------------------------------------------------------------------------- variations
def _surface_lines(program: A.Program, source: str) -> set[int]:
    """The lines of app-surface blocks, with the comment and blank lines right after each
    (fmt keeps an indented comment there as written: it may belong to the block)."""
    lines = source.split("\n")
    found = set()
    for d in program.declarations:
        if type(d) is A.SurfaceDecl:
            found.update(range(d.span.line, d.span.end_line + 1))
            n = d.span.end_line + 1
            while n <= len(lines) and lines[n - 1].strip(" ")[:1] in ("", "#"):
                found.add(n)
                n += 1
    return found


def vary(source: str, program: A.Program, rnd: random.Random, scale: int, crlf: bool,
         comments: bool = False) -> str:
    """``source`` with changes that keep its meaning and that fmt must undo: wider gaps
    between tokens, longer runs of blank lines (some with spaces), trailing spaces, every
    indentation times ``scale``, CRLF line ends. App-surface blocks stay as they are (the AST
    holds their text), and so do strings. With ``comments``, comment lines at any column and
    trailing comments are added too (fmt keeps those)."""
    zone = _surface_lines(program, source)
    out: list[str] = []
    pos, line, after_token = 0, 1, False
    for m in _MASTER.finditer(source):
        group = m.lastindex
        start = m.start(group) if group else m.end()
        gap = source[pos:start]
        if group == 3:  # a newline, with the blank and comment lines after it
            if line not in zone and rnd.random() < 0.3:
                gap += " " * rnd.randint(1, 3)
            if comments and line not in zone and rnd.random() < 0.2:
                gap += " " * rnd.randint(0, 3) + "# trailing"
            parts = m[3].split("\n")
            new = [parts[0]]
            if comments and line not in zone and rnd.random() < 0.3:
                new.append(" " * rnd.randint(0, 12) + "# a comment line")
            for part in parts[1:-1]:
                line += 1
                text = part.lstrip(" ")
                if line in zone:
                    new.append(part)
                elif text:
                    new.append(" " * ((len(part) - len(text)) * scale) + text)
                else:
                    new.append(part)
                    new.extend(" " * rnd.randint(0, 3) for _ in range(rnd.randint(0, 2)))
            line += 1
            indent = parts[-1]
            new.append(indent if line in zone and line - 1 in zone else " " * (len(indent) * scale))
            out.append(gap + "\n".join(new))
            pos, after_token = m.end(), False
            continue
        if group is None or group == 9:
            break
        if after_token and gap and line not in zone and rnd.random() < 0.3:
            gap += " " * rnd.randint(1, 3)
        out.append(gap + m[group])
        pos, after_token = m.end(), True
        if group == 6:
            line += m[group].count("\n")
    out.append(source[pos:])
    varied = "".join(out)
    return varied.replace("\n", "\r\n") if crlf else varied


@lru_cache(maxsize=None)
def _parsed(path: Path) -> tuple[str, A.Program, str]:
    source = _read(path)
    assert source is not None
    program, _ = parse_source(source, "x.ai")
    assert program is not None
    return source, program, format_source(source, "x.ai")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(CORPUS), seed=st.integers(0, 2**32), scale=st.sampled_from([1, 2, 3]),
       crlf=st.booleans())
def test_variations_format_the_same(path, seed, scale, crlf):
    source, program, formatted = _parsed(path)
    varied = vary(source, program, random.Random(seed), scale, crlf)
    assert parse_source(varied, "x.ai")[0] == program  # the variation kept the meaning
    assert format_source(varied, "x.ai") == formatted


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(CORPUS), seed=st.integers(0, 2**32), scale=st.sampled_from([1, 2, 3]))
def test_added_comments_keep_the_ast_and_format_once(path, seed, scale):
    source, program, _ = _parsed(path)
    varied = vary(source, program, random.Random(seed), scale, False, comments=True)
    formatted = format_source(varied, "x.ai")
    assert parse_source(formatted, "x.ai")[0] == program
    assert format_source(formatted, "x.ai") == formatted
    assert formatted.count("# a comment line") == varied.count("# a comment line")
    assert formatted.count("# trailing") == varied.count("# trailing")


def test_variation_helper_changes_text():
    """The variations are real: with scale 2 an indented file changes."""
    source, program, _ = _parsed(ROOT / "examples" / "supportbot" / "app.ai")
    varied = vary(source, program, random.Random(1), 2, False)
    assert varied != source and "\n    model_base is" in varied


# ----------------------------------------------------------------------------- units
def test_syntax_error_leaves_the_text_and_reports():
    text = 'spec is "1.0"\nflow "x"\n  return 1 +\n'
    assert format_source(text, "bad.ai") == text
    formatted, diagnostics = format_or_diagnostics(text, "bad.ai")
    assert formatted is None
    assert [(d.code, d.message, d.span.line, d.span.column, d.file) for d in diagnostics] == [
        ("syntax-error", "Expected an expression after '+'", 3, 13, "bad.ai")]


def test_lexical_error_leaves_the_text():
    text = 'spec  is "1.0"\nflow "x":\n\treturn 1\n'
    assert format_source(text) == text
    formatted, diagnostics = format_or_diagnostics(text)
    assert formatted is None and diagnostics[0].code == "unsupported-character"


def test_warnings_do_not_stop_formatting():
    text = 'spec is "1.0"\nrecord "R":\n    field "email" is text\n'
    formatted, diagnostics = format_or_diagnostics(text)
    assert formatted == 'spec is "1.0"\n\nrecord "R":\n  field "email" is text\n'
    assert diagnostics == []
    assert any(d.code == "legacy-field" for d in parse_source(text)[1])


def test_crlf_and_byte_order_mark():
    text = '\ufeffspec is "1.0"\r\nflow "x":\r\n    return """a\r\nb"""\r\n'
    assert format_source(text) == 'spec is "1.0"\n\nflow "x":\n  return """a\nb"""\n'


def test_empty_and_comment_only_texts():
    assert format_source("") == ""
    assert format_source("\n\n   \n") == ""
    assert format_source("  # only a comment  \n\n\n") == "# only a comment\n"


def test_final_newline_added_once():
    assert format_source('spec is "1.0"') == 'spec is "1.0"\n'
    assert format_source('spec is "1.0"\n\n\n') == 'spec is "1.0"\n'


def test_one_line_declarations_keep_their_grouping():
    grouped = 'spec is "1.0"\ninclude "a.ai"\ninclude "b.ai"\n'
    assert format_source(grouped) == grouped
    apart = 'spec is "1.0"\n\n\n\ninclude "a.ai"\n'
    assert format_source(apart) == 'spec is "1.0"\n\ninclude "a.ai"\n'


def test_a_blank_line_goes_above_the_comments_of_a_declaration():
    text = 'flow "a":\n  return 1\n# about b\n# more\nflow "b":\n  return 2\n'
    assert format_source(text) == 'flow "a":\n  return 1\n\n# about b\n# more\nflow "b":\n  return 2\n'


def test_signs_and_binary_operators():
    text = 'flow "x":\n  return 1-2 - -3*(-x)+ + 4\n'
    assert format_source(text) == 'flow "x":\n  return 1 - 2 - -3 * (-x) + +4\n'


def test_continuation_after_a_block_keeps_the_statement_level():
    text = 'flow "x":\n      let a is map:\n            k is 1\n      return a\n'
    assert format_source(text) == 'flow "x":\n  let a is map:\n    k is 1\n  return a\n'


def test_declarative_flow_selectors_are_untouched():
    text = ('spec is "1.0"\nrecord "Note":\n  id number\nflow "drop"   requires true\n'
            '    delete "Note"\n        where "id   is 1"\n')
    assert format_source(text) == ('spec is "1.0"\n\nrecord "Note":\n  id number\n\n'
                                   'flow "drop" requires true\n  delete "Note"\n    where "id   is 1"\n')


def test_fallback_when_the_layout_changes_the_program(monkeypatch):
    """The safety net: a layout whose result parses differently is not used."""
    text = 'flow "x":\n    return 1  +  2\n'
    real = fmt.layout

    def broken(source, program, *, respace=True):
        out = real(source, program, respace=respace)
        return out.replace("1 + 2", "1 + 3") if respace else out

    monkeypatch.setattr(fmt, "layout", broken)
    assert format_source(text) == 'flow "x":\n  return 1  +  2\n'  # re-indented only
    monkeypatch.setattr(fmt, "layout", lambda source, program, respace=True: source + "flow\n")
    assert format_source(text) == text
    monkeypatch.setattr(fmt, "layout", lambda source, program, respace=True: 1 / 0)
    assert format_source(text) == text
