"""`n3 fmt`: rewrite .ai files in the canonical layout (n3lang/syntax/format.py).

A file is rewritten only when its bytes change, atomically (a temporary file in the same
folder, then os.replace, keeping the file's mode). A file that does not parse is left as it is
and its errors are reported. Symbolic links are skipped (never replaced by a regular file).
Results (`reformatted PATH`, the summary) go to stdout, diagnostics and notes to stderr;
with `-` the formatted text is the only thing on stdout.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile

import click

from n3lang.cli.common import EXIT_OK, EXIT_USAGE, EXIT_USER_ERROR, echo
from n3lang.diagnostics import Diagnostic, make, register, render_all

FMT_WRITE_FAILED = register(
    "fmt-write-failed",
    why="The formatted text could not be written next to the file (a temporary file in the same "
        "folder replaces it), so the file is left as it was.",
    fix="Check that you may write to the file's folder and that the disk has room.",
    example="n3 fmt app.ai")

#: folders never searched for .ai files (besides hidden ones, whose names start with '.')
SKIPPED_DIRS = frozenset(("node_modules", "__pycache__"))


def _count(n: int, word: str) -> str:
    return f"{n} file{'' if n == 1 else 's'} {word}"


def find_files(paths: tuple[str, ...]) -> list[str]:
    """The files to format: each file named, and the *.ai files under each folder named
    (sorted; hidden folders and files, .venv, node_modules and links to folders skipped)."""
    found: list[str] = []
    for name in paths:
        if os.path.islink(name) or not os.path.isdir(name):
            found.append(name)  # a link (even to a folder) is reported as skipped
            continue
        before = len(found)
        for folder, dirs, files in os.walk(name):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS
                             and not os.path.islink(os.path.join(folder, d)))
            for f in sorted(files):
                if f.endswith(".ai") and not f.startswith("."):
                    path = os.path.join(folder, f)
                    found.append(path[2:] if path.startswith("./") else path)
        if len(found) == before:
            echo(f"no .ai files in {name}", err=True)
    return found


def _decode(data: bytes, name: str) -> tuple[str | None, list[Diagnostic]]:
    from n3lang.span import Span
    from n3lang.syntax.errors import UNREADABLE_FILE

    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        what = "input" if name == "-" else "file"
        return None, [make(UNREADABLE_FILE, f"The {what} is not valid UTF-8 text (byte 0x{data[exc.start]:02x})",
                           Span(line, column, line, column + 1), name)]


def _read(name: str) -> tuple[str | None, list[Diagnostic]]:
    """The text of a regular file, or the diagnostics saying why it cannot be read."""
    from n3lang.syntax.errors import UNREADABLE_FILE

    try:  # non-blocking: a FIFO or a device must not hang the command
        with os.fdopen(os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not stat.S_ISREG(mode):
                return None, [make(UNREADABLE_FILE, f"Cannot read '{name}': it is a FIFO, device or socket, "
                                   "not a regular file", file=name)]
            data = fh.read()
    except OSError as exc:
        return None, [make(UNREADABLE_FILE, f"Cannot read '{name}': {exc.strerror or type(exc).__name__}",
                           file=name)]
    except ValueError as exc:  # a name with a NUL byte
        return None, [make(UNREADABLE_FILE, f"Cannot read '{name}': {exc}", file=name)]
    return _decode(data, name)


def write_atomically(path: str, data: bytes) -> None:
    """Replace the file at ``path`` by ``data`` in one step, keeping its permission bits."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    folder, base = os.path.split(path)
    fd, temp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=folder or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _report(diagnostics: list[Diagnostic], sources: dict[str, str]) -> None:
    echo(render_all(diagnostics, sources), err=True)


def _format_stdin(check: bool) -> int:
    from n3lang.syntax.format import format_or_diagnostics

    data = click.get_binary_stream("stdin").read()
    text, problems = _decode(data, "-")
    if text is None:
        _report(problems, {})
        return EXIT_USER_ERROR
    formatted, problems = format_or_diagnostics(text, "-")
    if formatted is None:
        _report(problems, {"-": text})
        return EXIT_USER_ERROR
    if check:
        if formatted != text:
            echo("would reformat -", err=True)
            return EXIT_USER_ERROR
        return EXIT_OK
    out = click.get_binary_stream("stdout")
    out.write(formatted.encode("utf-8"))
    out.flush()
    return EXIT_OK


@click.command()
@click.argument("files", nargs=-1, metavar="[FILES]...")
@click.option("--check", is_flag=True, help="Change nothing; list the files that would change and exit 1 if any would.")
def fmt(files: tuple[str, ...], check: bool) -> None:
    """Format .ai files in the canonical layout (default: ./app.ai).

    \b
    Two-space indentation per block, single spaces between words, no trailing
    spaces, one blank line between top-level declarations, comments kept.
    Only spacing and blank lines change: every word, string and comment stays.
    A folder is searched for *.ai files (hidden folders and .venv skipped); a
    file with syntax errors is left as it is and its errors are printed.
    Symbolic links are skipped: format what they point to instead.
    `-` reads the source from stdin and writes the result to stdout.
    Exit 0 when all is formatted, 1 on errors or when --check finds changes.

    \b
    Examples:
      n3 fmt                     format ./app.ai
      n3 fmt --check .           list the .ai files under . that would change
      n3 fmt - < app.ai          print the formatted text (for editors)
    """
    from n3lang.syntax.format import format_or_diagnostics

    if "-" in files:
        if len(files) > 1:
            echo("n3 fmt: '-' (stdin) cannot be combined with other files", err=True)
            sys.exit(EXIT_USAGE)
        sys.exit(_format_stdin(check))
    changed = unchanged = failed = 0
    for name in find_files(files or ("app.ai",)):
        if os.path.islink(name):
            echo(f"skipped {name}: a symbolic link (format what it points to: "
                 f"{os.path.realpath(name)})", err=True)
            continue
        text, problems = _read(name)
        formatted = None
        if text is not None:
            formatted, problems = format_or_diagnostics(text, name)
        if formatted is None:
            _report(problems, {name: text} if text is not None else {})
            failed += 1
            continue
        if formatted == text:
            unchanged += 1
            continue
        if check:
            echo(f"would reformat {name}")
            changed += 1
            continue
        try:
            write_atomically(name, formatted.encode("utf-8"))
        except OSError as exc:
            _report([make(FMT_WRITE_FAILED, f"Cannot write '{name}': {exc.strerror or type(exc).__name__}",
                          file=name)], {})
            failed += 1
            continue
        echo(f"reformatted {name}")
        changed += 1
    parts = [_count(changed, "would be reformatted" if check else "reformatted"),
             _count(unchanged, "already formatted" if check else "left unchanged")]
    if failed:
        parts.append(_count(failed, "with errors (left unchanged)"))
    echo(", ".join(parts))
    sys.exit(EXIT_USER_ERROR if failed or (check and changed) else EXIT_OK)

