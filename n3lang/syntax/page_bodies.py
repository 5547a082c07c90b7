"""A `page "name":` header with no indented body (LANGUAGE.md §10): namel3ss's parser wants the
body at the next token (parser/decl/page_parser.py, "Expected indented page body"). The page
is app surface, kept as text (lexer.py SURFACE), so this is read after the file parses, where
the next token is the next declaration or the end of the file."""

from __future__ import annotations

from n3lang import ast as A
from n3lang.diagnostics import Diagnostic, make
from n3lang.syntax.errors import SYNTAX_ERROR


def page_body_problems(decls: tuple, source: str, path: str) -> list[Diagnostic]:
    problems = []
    for i, decl in enumerate(decls):
        if type(decl) is not A.SurfaceDecl or decl.kind != "page" or "\n" in decl.text:
            continue
        after = decls[i + 1].span if i + 1 < len(decls) else None
        # namel3ss's end of file is the line after the last one
        line, column = (after.line, after.column) if after else (len(source.splitlines()) + 1, 1)
        problems.append(make(
            SYNTAX_ERROR, "Expected indented page body", A.Span(line, column, line, column + 1), path,
            why=f'The page "{decl.name}" on line {decl.span.line} has a header and no body.',
            fix="Indent the page's items under its header.",
            example='page "home":\n  title is "Orders"',
        ))
    return problems
