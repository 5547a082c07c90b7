"""`n3 check` and `n3 reserved`.

For `check` the diagnostics are the result, so they go to stdout: each rendered with the
shared caret renderer, then one summary line (`app.ai: ok (2 warnings)`). `--json` prints the
list of diagnostic objects of schemas/diagnostics.schema.json instead. Exit 0 when there is no
error (warnings and notes allowed), 1 when there is one.
"""

from __future__ import annotations

import sys

import click

from n3lang.cli.common import EXIT_OK, EXIT_USER_ERROR, echo, json_option, print_json, read_sources
from n3lang.diagnostics import NOTE, WARNING, Diagnostic, render


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(path: str, diagnostics: list[Diagnostic]) -> str:
    """``app.ai: ok``, ``app.ai: ok (1 warning, 2 notes)`` or ``app.ai: failed (2 errors, ...)``."""
    errors = sum(d.is_error for d in diagnostics)
    parts = []
    if errors:
        parts.append(_count(errors, "error"))
    warnings = sum(d.severity == WARNING for d in diagnostics)
    if warnings:
        parts.append(_count(warnings, "warning"))
    notes = sum(d.severity == NOTE for d in diagnostics)
    if notes:
        parts.append(_count(notes, "note"))
    verdict = "failed" if errors else "ok"
    return f"{path}: {verdict}" + (f" ({', '.join(parts)})" if parts else "")


def render_check(path: str, diagnostics: list[Diagnostic], source: str) -> str:
    """The whole human output of `n3 check`: each diagnostic, then the summary line."""
    others = read_sources([d for d in diagnostics if d.file != path])  # included files (§9)
    blocks = [render(d, source if d.file == path else others.get(d.file)) for d in diagnostics]
    blocks.append(summary_line(path, diagnostics))
    return "\n\n".join(blocks)


@click.command()
@click.argument("app", required=False, default="app.ai", metavar="[APP.ai]")
@json_option
def check(app: str, as_json: bool) -> None:
    """Check an app for errors without running it (default: ./app.ai).

    \b
    Prints every problem found, then a summary line; --json prints the list of
    diagnostics (schemas/diagnostics.schema.json) instead.
    Exit 0 when there is no error (warnings allowed), 1 when there is one.
    """
    from n3lang.frontend import analyze

    analysis = analyze(app)
    diagnostics, source = list(analysis.diagnostics), analysis.source
    if as_json:
        print_json([d.to_json() for d in diagnostics])
    else:
        echo(render_check(app, diagnostics, source))
    sys.exit(EXIT_USER_ERROR if any(d.is_error for d in diagnostics) else EXIT_OK)


@click.command()
@json_option
def reserved(as_json: bool) -> None:
    """List the reserved words, one per line (escape them with backticks to use as names)."""
    from n3lang.syntax import RESERVED_WORDS

    words = sorted(RESERVED_WORDS)
    if as_json:
        print_json(words)
    else:
        for word in words:
            echo(word)
