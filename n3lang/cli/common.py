"""What every command shares: printing diagnostics and JSON, and the exit-code contract."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable, NoReturn

import click

from n3lang.diagnostics import Diagnostic, render_all

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")


# C0 controls but newline and tab, DEL and the C1 controls (0x9b is a CSI on some terminals):
# text from outside (labels, names, messages quoting them) must not retitle or clear a terminal
_CONTROLS = [c for c in range(0x20) if c not in (0x0A, 0x09)] + list(range(0x7F, 0xA0))
_ESCAPE = {c: {0x0D: "\\r", 0x1B: "\\x1b"}.get(c, f"\\x{c:02x}") for c in _CONTROLS}
_JSON_ESCAPE = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}  # json.dumps leaves these raw


def escape_controls(text: str) -> str:
    """``text`` with control characters written as escapes (``\\x1b``), newlines and tabs kept."""
    return text.translate(_ESCAPE)


def json_text(text: str) -> str:
    """JSON text with DEL and C1 controls as \\u escapes (the same JSON value: json.dumps
    escapes the C0 controls already, and these can only occur inside strings)."""
    return text.translate(_JSON_ESCAPE)


def echo(text: str = "", err: bool = False) -> None:
    """click.echo for people: control characters escaped (see escape_controls)."""
    click.echo(escape_controls(str(text)), err=err)


def print_json(payload: Any) -> None:
    """Write one JSON document to stdout (sorted keys, UTF-8, stable)."""
    click.echo(json_text(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)))


MAX_SOURCE_BYTES = 64 << 20  # larger files are reported without their source line


def read_sources(diagnostics: Iterable[Diagnostic]) -> dict[str, str]:
    """Source text of each file named by a diagnostic, for caret rendering (best effort)."""
    sources: dict[str, str] = {}
    for d in diagnostics:
        if d.file in sources:
            continue
        try:  # only regular files of a sane size: never a device, a pipe or a huge dump
            if os.path.isfile(d.file) and os.path.getsize(d.file) <= MAX_SOURCE_BYTES:
                with open(d.file, encoding="utf-8", errors="replace", newline="") as fh:
                    sources[d.file] = fh.read()
        except (OSError, ValueError):  # ValueError: a name with a NUL byte
            pass
    return sources


def fail(diagnostics: list[Diagnostic], as_json: bool, sources: dict[str, str] | None = None) -> NoReturn:
    """Report diagnostics (JSON on stdout, or rendered on stderr) and exit 1."""
    if as_json:
        print_json({"ok": False, "diagnostics": [d.to_json() for d in diagnostics]})
    else:
        if sources is None:
            sources = read_sources(diagnostics)
        echo(render_all(diagnostics, sources), err=True)
    sys.exit(EXIT_USER_ERROR)


def project_dir() -> Path:
    """The directory of the app found from the current directory, else the current directory."""
    from n3lang.training.app import find_app

    app = find_app(Path.cwd())
    return app.parent if app is not None else Path.cwd()


def status(message: str) -> None:
    """A status line for people, on stderr (stdout stays for results)."""
    echo(message, err=True)
