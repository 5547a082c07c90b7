"""Recovery after a syntax error: every declaration that parses, and further errors.

The file is re-parsed one top-level declaration at a time (each line at column 1 that starts
with a declaration keyword begins one: the keywords the grammar accepts at the start of a
file), so the checker still gets every declaration that parsed. Inside a broken declaration,
the broken line is replaced by a placeholder and the declaration parsed again to find its
further errors (up to MAX_ERRORS_PER_DECLARATION); the broken declaration itself is dropped,
never guessed at.
"""

from __future__ import annotations

import re
from typing import Callable

from n3lang.diagnostics import Diagnostic
from n3lang.syntax.errors import UNTERMINATED_STRING
from n3lang.syntax.words import SURFACE_WORDS

#: ``parse(text, begin, end, first_line)``: (declarations, diagnostics), or (error
#: diagnostics, None) when text[begin:end] does not parse.
Parse = Callable[[str, int, "int | None", int], tuple[list, "list[Diagnostic] | None"]]


def declaration_line(tables: dict) -> re.Pattern:
    """A line that starts a top-level declaration: one of the keywords the grammar accepts at
    the start of a file, at column 1."""
    row = tables["states"][tables["start"]]
    words = sorted(word for word, name in tables["keywords"].items() if name in row)
    if "SURFACE" in row:  # §10: the app-surface words start a declaration too
        words = sorted(set(words) | SURFACE_WORDS)
    return re.compile(r"^(?:%s)(?!\w)" % "|".join(map(re.escape, words)), re.M)


def recover(parse: Parse, source: str, declaration_line: re.Pattern) -> tuple[list, list[Diagnostic]]:
    """Parse each top-level declaration on its own, collecting what parses and every error."""
    starts = [m.start() for m in declaration_line.finditer(source)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(source))
    decls: list = []
    diagnostics: list[Diagnostic] = []
    line = 1
    for begin, end in zip(starts, starts[1:]):
        found, diags = parse(source, begin, end, line)
        if diags is None:
            diagnostics.extend(found)
            diagnostics.extend(_more_errors(parse, source[begin:end], line, found))
        else:
            decls.extend(found)
            diagnostics.extend(diags)
        line += source.count("\n", begin, end)
    return decls, diagnostics


#: Most further syntax errors looked for inside one broken declaration.
MAX_ERRORS_PER_DECLARATION = 10


def _more_errors(parse: Parse, chunk: str, first_line: int, found: list) -> list:
    """Further syntax errors of one broken declaration.

    The line of the last error (and the lines indented under it) is blanked out and the
    declaration parsed again, until it parses or no progress is made. The declaration itself
    is still dropped, so the checker never sees a guess; only the errors are kept.
    """
    seen = {(d.code, d.span.line, d.span.column, d.message) for d in found}
    more: list[Diagnostic] = []
    lines = chunk.split("\n")
    last = found[-1].span.line
    if found[-1].code == UNTERMINATED_STRING:  # the rest of the file is inside the string
        return more
    for _ in range(MAX_ERRORS_PER_DECLARATION):
        index = last - first_line
        if index <= 0 or index >= len(lines):
            break
        _blank_statement(lines, index)
        result, diags = parse("\n".join(lines), 0, None, first_line)
        parsed = diags is not None
        new: list[Diagnostic] = diags if diags is not None else result
        # Only what lies after the blanked line is news: an error before it, or a block the
        # blanking left empty, is an artefact.
        fresh = [
            d
            for d in new
            if d.span.line > last
            and not d.message.startswith("Expected an indented block")
            and (d.code, d.span.line, d.span.column, d.message) not in seen
        ]
        for d in fresh:
            seen.add((d.code, d.span.line, d.span.column, d.message))
        if parsed:  # the rest of the declaration is fine
            more.extend(fresh)
            break
        if new[-1] not in fresh:
            break
        more.extend(fresh)
        if new[-1].code == UNTERMINATED_STRING:
            break
        last = new[-1].span.line
    return more


def _blank_statement(lines: list[str], index: int) -> None:
    """Replace a broken line (and the lines indented under it) by a placeholder that is valid
    where it stands, chosen by the header of its block; blank lines never indent."""
    depth = _indent(lines[index]) or 0
    lines[index] = " " * depth + _placeholder(lines, index, depth)
    for k in range(index + 1, len(lines)):
        level = _indent(lines[k])
        if level is None:
            continue
        if level <= depth:
            break
        lines[k] = ""


def _placeholder(lines: list[str], index: int, depth: int) -> str:
    for up in range(index - 1, -1, -1):
        level = _indent(lines[up])
        if level is None or level >= depth:
            continue
        header = lines[up].split(" #")[0].strip()
        word = header.split(" ", 1)[0]
        if header.endswith(("map:", "set:")) or "call function" in header:
            return "recovered is 0"
        if header == "let:" or word == "set" and header.endswith("with:"):  # §5 blocks
            return "recovered is 0"
        if header == "calc:":
            return "recovered = 0"
        if word in ("record", "fields:"):
            return "recovered text"
        if word in ("input:", "output:"):
            return "recovered is number"
        if word in ("ai", "model"):
            return "recovered is 0"
        if word == "capabilities:":
            return "recovered"
        if header.endswith("list:"):
            return "0"
        if word == "with:":
            return ""
        return "let recovered is 0"
    return ""


def _indent(line: str) -> int | None:
    """Indentation of a code line; None for a blank or comment-only line."""
    stripped = line.lstrip(" ")
    if not stripped or stripped.startswith("#") or stripped == "\r":
        return None
    return len(line) - len(stripped)

