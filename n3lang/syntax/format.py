"""`n3 fmt`: one canonical layout for .ai source, keeping every token and comment.

``format_source(text, path)`` returns the formatted text, or ``text`` unchanged when it does
not parse; ``format_or_diagnostics(text, path)`` says which (the LSP server and the CLI use it).

The layout works on the token stream of a file that parses (the lexer's own token expression),
so it never changes a token's spelling, only the spaces and blank lines between tokens:
- each line is indented two spaces per block level (the levels the lexer sees, in order);
- tokens are separated by one space, or none where punctuation glues them
  (``f(x)``, ``a.b``, ``x, y``, ``list<text>``, ``-1``), keeping a call's or an index's
  choice (``f(x)`` or ``f (x)``) where a word before a bracket may be a keyword;
- a trailing comment gets two spaces before its ``#``; the trailing comments of adjacent lines
  are aligned; a comment on its own line goes to the open block level nearest its column;
- runs of blank lines become one; top-level declarations are separated by one blank line
  (two adjacent one-line declarations, such as `spec` and `use` lines, may stay together);
  no blank lines at the start, and the text ends with exactly one newline.
App-surface declarations (LANGUAGE.md §10) keep their text as written: the AST holds it.
Triple-quoted strings and the insides of all strings are never touched.

Safety: the result is parsed again and must give the same AST (spans aside); if it does not
(a bug), a layout that only re-indents is tried, and then the text is returned unchanged.
"""

from __future__ import annotations

from n3lang import ast as A
from n3lang.diagnostics import Diagnostic
from n3lang.syntax.lexer import _MASTER as TOKEN_RE  # the lexer's one token expression
from n3lang.syntax.parser import parse_source

__all__ = ["INDENT", "format_or_diagnostics", "format_source"]

INDENT = "  "
COMMENT_GAP = 2  # spaces before a trailing comment (at least)

# _MASTER's groups
_NAME, _PUNCT, _NL, _NUMBER, _STR, _STR3, _COMMENT, _BQ, _END = range(1, 10)
#: token kinds after which `(` or `[` may be a call or an index (the gap is kept: 0 or 1)
_VALUE_KINDS = frozenset((_NAME, _NUMBER, _STR, _STR3, _BQ))


def format_source(text: str, path: str = "<input>") -> str:
    """The canonical layout of ``text``; ``text`` itself when it does not parse. Never raises."""
    formatted, _ = format_or_diagnostics(text, path)
    return text if formatted is None else formatted


def format_or_diagnostics(text: str, path: str = "<input>") -> tuple[str | None, list[Diagnostic]]:
    """(formatted text, []) when ``text`` parses; (None, its error diagnostics) when it does not."""
    source = _normalize(text)
    program, diagnostics = parse_source(source, path)
    errors = [d for d in diagnostics if d.is_error]
    if errors or program is None:
        return None, errors
    for respace in (True, False):
        try:
            formatted = layout(source, program, respace=respace)
        except Exception:  # a bug: the text stays as it is
            continue
        if formatted == source or _same_program(formatted, program, path):
            return formatted, []
    return text, []  # both layouts changed the program (a bug): the text stays as it is


def _normalize(text: str) -> str:
    """The text the parser reads: without a byte-order mark, with LF line ends."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n")


def _same_program(formatted: str, program: A.Program, path: str) -> bool:
    again, diagnostics = parse_source(formatted, path)
    return again == program and not any(d.is_error for d in diagnostics)


# ----------------------------------------------------------------------------- rows
class _Row:
    """One line of the layout: code (tokens, maybe a trailing comment), a comment, a blank,
    or an app-surface block kept as written (``verbatim``)."""

    __slots__ = ("kind", "line", "indent", "items", "comment", "depth", "levels", "verbatim")

    def __init__(self, kind: str, line: int, indent: int = 0) -> None:
        self.kind = kind  # "code", "comment", "blank" or "verbatim"
        self.line = line  # first physical line (1-based)
        self.indent = indent  # original column of the first token or the '#'
        self.items: list[tuple[int, str, int, int, int]] = []  # (group, text, start, end, line)
        self.comment = ""  # a trailing comment (code rows) or the comment (comment rows)
        self.depth = 0
        self.levels: list[int] = []  # the lexer's indentation levels after this code row
        self.verbatim = ""


def _rows(source: str) -> list[_Row]:
    """The rows of ``source`` (which lexes: it parsed), from the lexer's token expression."""
    rows: list[_Row] = []
    row: _Row | None = None
    line, line_start = 1, 0
    for m in TOKEN_RE.finditer(source):
        group = m.lastindex or _END
        if group == _END:
            break
        start, stop = m.start(group), m.end(group)
        if group == _NL:
            row = None
            parts = m[group].split("\n")
            for part in parts[1:-1]:  # blank and comment-only lines inside the newline token
                line += 1
                hash_at = part.find("#")
                if hash_at < 0:
                    rows.append(_Row("blank", line))
                else:
                    comment = _Row("comment", line, hash_at)
                    comment.comment = part[hash_at:].rstrip()
                    rows.append(comment)
            line += 1
            line_start = stop - len(parts[-1])
            continue
        if group == _COMMENT:
            text = m[group].rstrip()
            if row is None:
                comment = _Row("comment", line, start - line_start)
                comment.comment = text
                rows.append(comment)
            else:
                row.comment = text
            continue
        if row is None:
            row = _Row("code", line, start - line_start)
            rows.append(row)
        row.items.append((group, m[group], start, stop, line))
        if group == _STR3 and "\n" in m[group]:
            line += m[group].count("\n")
            line_start = start + m[group].rfind("\n") + 1
    return rows


def _surfaces(rows: list[_Row], program: A.Program, lines: list[str]) -> list[_Row]:
    """Rows with each app-surface declaration's lines replaced by one verbatim row (the AST
    holds its text as written); indented comment lines right after it stay as they are."""
    spans = [(d.span.line, d.span.end_line) for d in program.declarations if type(d) is A.SurfaceDecl]
    if not spans:
        return rows
    out: list[_Row] = []
    spans.reverse()
    after_surface = False
    for row in rows:
        while spans and row.line > spans[-1][1]:
            spans.pop()
        if spans and spans[-1][0] <= row.line:
            first, last = spans[-1]
            if row.line == first:
                block = _Row("verbatim", first)
                block.verbatim = "\n".join(lines[first - 1:last - 1] + [lines[last - 1].rstrip()])
                out.append(block)
            after_surface = True
            continue
        if row.kind == "code":
            after_surface = False
        elif row.kind == "comment" and after_surface and row.indent > 0:
            kept = _Row("verbatim", row.line)
            kept.verbatim = " " * row.indent + row.comment
            out.append(kept)
            continue
        out.append(row)
    return out


def _place(rows: list[_Row]) -> None:
    """Set each code row's depth (the lexer's indentation levels) and each comment's (the
    level nearest its column, among the levels open at the line before and a new one the
    line after opens)."""
    levels = [0]
    code: list[_Row] = []
    for row in rows:
        if row.kind == "verbatim":
            levels = [0]
            row.levels = levels[:]
            code.append(row)
        elif row.kind == "code":
            if row.indent > levels[-1]:
                levels.append(row.indent)
            else:
                while row.indent < levels[-1]:
                    levels.pop()
            row.depth = len(levels) - 1
            row.levels = levels[:]
            code.append(row)
    # comments: between the code row before (its levels) and the one after (a new level?)
    before: _Row | None = None
    upcoming = iter(code)
    after = next(upcoming, None)
    for row in rows:
        if row is after:
            before, after = after, next(upcoming, None)
        elif row.kind == "comment":
            reach = list(before.levels) if before is not None else [0]
            if after is not None and after.kind == "code" and after.indent > reach[-1]:
                reach.append(after.indent)
            # the nearest level; between two, the deeper (a comment mostly speaks of the
            # line after it, which is often the deeper one)
            row.depth = min(range(len(reach)), key=lambda i: (abs(reach[i] - row.indent), -i))


# ----------------------------------------------------------------------------- spacing
_AST_CLASSES = frozenset(v for v in vars(A).values() if isinstance(v, type) and v.__module__ == A.__name__)


def _binary_operators(program: A.Program) -> set[tuple[int, int]]:
    """Where the binary + and - operators are (line, column); every other + or - is a sign."""
    found: set[tuple[int, int]] = set()
    nodes = _AST_CLASSES
    stack: list = list(program.declarations)
    while stack:
        node = stack.pop()
        cls = type(node)
        if cls is tuple:
            stack.extend(item for item in node if type(item) in nodes or type(item) is tuple)
            continue
        if cls is A.Binary and node.at is not None:
            found.add((node.at.line, node.at.column))
        for name in cls.__slots__:
            value = getattr(node, name, None)
            if type(value) is tuple or type(value) in nodes:
                stack.append(value)
    return found


def _code_text(row: _Row, respace: bool, binary: set[tuple[int, int]], line_starts: list[int]) -> str:
    """A code row's tokens with canonical gaps (or, with ``respace`` False, the original gaps)."""
    parts: list[str] = []
    prev = None
    for item in row.items:
        if prev is not None:
            if respace:
                parts.append(_gap(prev, item, binary, line_starts))
            else:
                parts.append(" " * (item[2] - prev[3]))
        parts.append(item[1])
        prev = item
    return "".join(parts)


def _is_sign(item, binary: set[tuple[int, int]], line_starts: list[int]) -> bool:
    group, text, start, _, line = item
    if group != _PUNCT or text not in "+-":
        return False
    return (line, start - line_starts[line - 1] + 1) not in binary


def _gap(a, b, binary: set[tuple[int, int]], line_starts: list[int]) -> str:
    """The spaces between two tokens of a line."""
    ta = a[1] if a[0] == _PUNCT else ""
    tb = b[1] if b[0] == _PUNCT else ""
    if ta in ("(", "["):
        return ""
    if tb == "}":
        return "" if ta == "{" else " "
    if tb in (")", "]", ",", ":", ".") or ta == ".":
        return ""
    if ta == "<" or tb in ("<", ">"):  # a type's arguments: list<text>, map<text, number>
        return ""
    if ta and _is_sign(a, binary, line_starts):
        return " " if tb in ("+", "-") else ""  # `-x`, `- -x`
    if tb in ("(", "["):
        # a call or an index glued to its name stays glued (`f(x)`, `xs[0]`); a word before
        # a parenthesis may be a keyword (`return (a)`), so the original choice is kept
        if a[0] in _VALUE_KINDS or ta in (")", "]"):
            return "" if b[2] == a[3] else " "
    return " "


# ----------------------------------------------------------------------------- layout
def layout(source: str, program: A.Program, *, respace: bool = True) -> str:
    """The canonical text of ``source``, which parsed into ``program`` (not checked again)."""
    lines = source.split("\n")
    line_starts = [0]
    for physical in lines[:-1]:
        line_starts.append(line_starts[-1] + len(physical) + 1)
    rows = _surfaces(_rows(source), program, lines)
    _place(rows)
    binary = _binary_operators(program) if respace else set()
    starts = {d.span.line for d in program.declarations}
    rows = _blank_lines(rows, starts)

    # each row's text; trailing comments come after, aligned in runs of adjacent code lines
    texts = [_row_text(row, respace, binary, line_starts) for row in rows]
    i = 0
    while i < len(rows):
        run = i
        while run < len(rows) and rows[run].kind == "code" and rows[run].comment \
                and "\n" not in texts[run]:
            run += 1
        if run - i >= 2:
            width = max(len(texts[k]) for k in range(i, run))
            for k in range(i, run):
                texts[k] += " " * (width - len(texts[k]) + COMMENT_GAP) + rows[k].comment
            i = run
            continue
        if rows[i].kind == "code" and rows[i].comment:
            texts[i] += " " * COMMENT_GAP + rows[i].comment
        i += 1
    return "\n".join(texts) + "\n" if texts else ""


def _row_text(row: _Row, respace: bool, binary: set[tuple[int, int]], line_starts: list[int]) -> str:
    """A row without its trailing comment."""
    if row.kind == "code":
        return INDENT * row.depth + _code_text(row, respace, binary, line_starts)
    if row.kind == "comment":
        return INDENT * row.depth + row.comment
    if row.kind == "verbatim":
        return row.verbatim
    return ""


def _blank_lines(rows: list[_Row], starts: set[int]) -> list[_Row]:
    """Runs of blank lines made one, none at the start or the end, and one blank line before
    each top-level declaration (before the comment lines just above it), unless it and the
    declaration before it are one line each."""
    kept: list[_Row] = []
    for row in rows:
        if row.kind == "blank" and (not kept or kept[-1].kind == "blank"):
            continue
        kept.append(row)
    while kept and kept[-1].kind == "blank":
        kept.pop()
    # the declarations: index of each start row, and whether the declaration is one line
    decl_at = [i for i, row in enumerate(kept)
               if row.kind in ("code", "verbatim") and row.depth == 0 and row.line in starts]
    one_line = set()
    for n, i in enumerate(decl_at):
        end = decl_at[n + 1] if n + 1 < len(decl_at) else len(kept)
        row = kept[i]
        if row.kind == "code" and not any(r.kind in ("code", "verbatim") for r in kept[i + 1:end]) \
                and not any("\n" in item[1] for item in row.items):
            one_line.add(i)
    inserts: list[int] = []
    for n in range(1, len(decl_at)):
        i, prev = decl_at[n], decl_at[n - 1]
        if i in one_line and prev in one_line:
            continue
        # the gap since the previous declaration's last code line
        last = max(k for k in range(prev, i) if kept[k].kind in ("code", "verbatim"))
        if any(kept[k].kind == "blank" for k in range(last + 1, i)):
            continue
        at = i
        while at - 1 > last and kept[at - 1].kind == "comment" and kept[at - 1].depth == 0:
            at -= 1
        inserts.append(at)
    for at in reversed(inserts):
        kept.insert(at, _Row("blank", kept[at].line))
    return kept
