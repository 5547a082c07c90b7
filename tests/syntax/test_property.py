"""Property tests: whatever the input, parse_source returns a Program and diagnostics; it
never raises. Inputs are random text and valid programs mutated by deleting, inserting and
duplicating characters and lines."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from n3lang import ast as A
from n3lang.diagnostics import REGISTRY
from n3lang.syntax import parse_source

VALID = sorted((Path(__file__).resolve().parent.parent / "data" / "valid").glob("*.ai"))
SOURCES = [p.read_text(encoding="utf-8") for p in VALID]
# Characters that matter to the lexer, mixed with arbitrary text.
ALPHABET = st.sampled_from(
    list(' \n\n\n\t\r:.,()[]<>|+-*/%"\'`#\\^;=@$~0123456789abcxyz_é')
    + ["is", "let", "flow", "if", "else", "list", "map", "and", "not", "  ", "    ", '"""']
)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def check(source: str) -> None:
    program, diagnostics = parse_source(source, "fuzz.ai")
    assert isinstance(program, A.Program)
    for d in diagnostics:
        assert d.code in REGISTRY, d
        assert d.code != "parser-internal-error", d.message
        assert d.span.line >= 1 and d.span.column >= 1
        assert d.file == "fuzz.ai"
        for raw in ("_NL", "_INDENT", "_DEDENT", "__ANON", "$END"):
            assert raw not in d.message or raw in source, d.message


@SETTINGS
@given(st.text(max_size=300))
def test_random_text_never_raises(text: str) -> None:
    check(text)


@SETTINGS
@given(st.lists(ALPHABET, max_size=120).map("".join))
def test_random_tokens_never_raise(text: str) -> None:
    check(text)


@st.composite
def mutated_program(draw):
    source = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "drop_line", "dup_line", "indent"]))
        if not source:
            break
        i = draw(st.integers(0, len(source) - 1))
        if op == "delete":
            j = draw(st.integers(i, min(len(source), i + 8)))
            source = source[:i] + source[j:]
        elif op == "insert":
            source = source[:i] + draw(ALPHABET) + source[i:]
        elif op == "duplicate":
            j = draw(st.integers(i, min(len(source), i + 8)))
            source = source[:j] + source[i:j] + source[j:]
        else:
            lines = source.split("\n")
            k = draw(st.integers(0, len(lines) - 1))
            if op == "drop_line":
                del lines[k]
            elif op == "dup_line":
                lines.insert(k, lines[k])
            else:
                lines[k] = " " * draw(st.integers(1, 5)) + lines[k]
            source = "\n".join(lines)
    return source


@SETTINGS
@given(mutated_program())
def test_mutated_programs_never_raise(source: str) -> None:
    check(source)


def test_pathological_inputs() -> None:
    cases = [
        "",
        "\n" * 1000,
        "# only a comment",
        "\x00\xff\ufeff",
        "\ufeffspec is \"1.0\"\n",
        'spec is "1.0"\nflow "x":\n  return ' + "(" * 5000 + "1" + ")" * 5000 + "\n",
        'spec is "1.0"\nflow "x":\n  return ' + "-" * 5000 + "1\n",
        'spec is "1.0"\nflow "x":\n  return ' + "not " * 5000 + "true\n",
        'spec is "1.0"\nflow "x":\n  return 2' + " ** 2" * 5000 + "\n",
        'spec is "1.0"\nflow "x":\n  return ' + "9" * 100000 + "\n",
        'spec is "1.0"\nflow "x":\n' + "".join("  " * (i + 1) + "if true:\n" for i in range(300)),
        'spec is "1.0"\nflow "x":\n  let x is list:\n' + "    list:\n" * 3,
        '"""' + "x" * 10000,
        "flow" * 10000,
    ]
    for source in cases:
        check(source)


def test_bytes_and_other_inputs_never_raise() -> None:
    program, diagnostics = parse_source(b'spec is "1.0"\n')  # type: ignore[arg-type]
    assert diagnostics == [] and program.declarations
    program, diagnostics = parse_source(b"\xff\xfe")  # type: ignore[arg-type]
    assert diagnostics and diagnostics[0].code == "unreadable-file"
