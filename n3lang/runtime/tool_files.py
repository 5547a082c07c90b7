"""§9 ``implemented using file`` tools: read and write text files in the app's file scope.

namel3ss's semantics (runtime/backend/file_store.py): the input holds ``operation`` ("read" or
"write"), ``path`` (relative, no ``..``) and, to write, ``content`` (text); the output may
declare ``content`` (read), ``ok`` and ``bytes``. Files live in
``<app folder>/.namel3ss/files/<scope>/`` where the scope is the app file's name made a slug
(``app.ai`` -> ``appai``). Here a path whose real location (symbolic links followed) leaves
that folder is refused, the final component is opened without following a link, and a read
is bounded in size. Messages are namel3ss's.
"""

from __future__ import annotations

import errno
import os
import re
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from n3lang import ast as A
from n3lang.runtime.errors import TOOL_ERROR

#: A file read by a tool is at most this big (its text becomes a value of the run).
MAX_READ_BYTES = 8 * 1024 * 1024
_INPUTS = ("operation", "path", "content")
_OUTPUTS = ("content", "ok", "bytes")
_EXAMPLE = 'tool "read note":\n  implemented using file\n  input:\n    operation is text\n' \
           '    path is text\n  output:\n    content is text'


class FileToolProblem(Exception):
    """what, why, fix (runtime/tools.ToolProblem is built from it)."""

    def __init__(self, what: str, why: str = "", fix: str = "", example: str = _EXAMPLE) -> None:
        super().__init__(what)
        self.code, self.what, self.why, self.fix, self.example = TOOL_ERROR, what, why, fix, example


def scope_name(app_file: str) -> str:
    """namel3ss's slugify_text of the app file's name: ``app.ai`` -> ``appai``."""
    lowered = re.sub(r"[\s_-]+", "_", Path(app_file).name.lower())
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "", lowered)).strip("_") or "app"


def check_declaration(tool: A.ToolDecl) -> None:
    """namel3ss's _validate_file_tool_schema: the fields a file tool may declare."""
    inputs = {f.name: f for f in tool.inputs}
    outputs = {f.name: f for f in tool.outputs}
    for name in ("operation", "path"):
        if name not in inputs:
            raise FileToolProblem(f'File tool "{tool.name}" is missing "{name}" input.',
                                  "File tools must declare operation and path.",
                                  f"Add `{name} is text` to the input block.",
                                  "input:\n  operation is text\n  path is text")
    wanted = (("operation", "text", inputs), ("path", "text", inputs), ("content", "text", inputs),
              ("content", "text", outputs), ("ok", "boolean", outputs), ("bytes", "number", outputs))
    for name, expected, fields in wanted:
        f = fields.get(name)
        if f is not None and f.type != expected:
            raise FileToolProblem(f'File tool "{tool.name}" input "{name}" must be {expected}.',
                                  f"The tool declares {name} as {f.type}.",
                                  f"Update {name} to {expected}.", f"input:\n  {name} is {expected}")
    if any(name not in _INPUTS for name in inputs):
        raise FileToolProblem(f'File tool "{tool.name}" has unsupported input fields.',
                              "File tools only support operation, path, and content.",
                              "Remove unsupported input fields.",
                              "input:\n  operation is text\n  path is text")
    if any(name not in _OUTPUTS for name in outputs):
        raise FileToolProblem(f'File tool "{tool.name}" has unsupported output fields.',
                              "File tools only support content, ok, and bytes outputs.",
                              "Remove unsupported output fields.", "output:\n  content is text")


def _relative_path(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FileToolProblem("File path must be a non-empty string",
                              "The path names a file inside the app's file scope.",
                              'Give a relative path such as "notes/today.txt".')
    path = PurePosixPath(value.strip())
    if path.is_absolute() or ".." in path.parts or "\\" in value:
        raise FileToolProblem("File path must be relative to the app file scope",
                              f"'{value}' is absolute or climbs out with '..'; file tools see only "
                              f".namel3ss/files/ of the app.",
                              'Give a relative path such as "notes/today.txt".')
    return path.as_posix()


def _inside(root: Path, rel: str) -> Path:
    target = root.joinpath(*PurePosixPath(rel).parts)
    real_root = root.resolve()
    if not target.resolve().is_relative_to(real_root):
        raise FileToolProblem("File path must stay within the app file scope",
                              "The path leads outside .namel3ss/files/ of the app (through a "
                              "symbolic link).", "Use a path to a real file inside the scope.")
    return target


def _open_flags(base: int) -> int:
    return base | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _read(target: Path) -> str:
    try:
        fd = os.open(target, _open_flags(os.O_RDONLY))
    except FileNotFoundError:
        raise FileToolProblem("File does not exist", f"There is no file at {target}.",
                              'Write it first (operation is "write"), or fix the path.') from None
    except OSError as exc:
        raise _os_problem(exc, target) from None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_READ_BYTES + 1)
    if len(data) > MAX_READ_BYTES:
        raise FileToolProblem("File is too large to read",
                              f"{target} is larger than {MAX_READ_BYTES // (1024 * 1024)} MB.",
                              "Read a smaller file.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileToolProblem("File is not UTF-8 text", f"{target} cannot be read as UTF-8 text.",
                              "File tools read and write text files only.") from None


def _write(target: Path, content: str) -> int:
    data = content.encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, _open_flags(os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 0o644)
    except OSError as exc:
        raise _os_problem(exc, target) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return len(data)


def _os_problem(exc: OSError, target: Path) -> FileToolProblem:
    if exc.errno == errno.ELOOP:
        return FileToolProblem("File path must stay within the app file scope",
                               f"{target} is a symbolic link; file tools do not follow links.",
                               "Use a path to a real file inside the scope.")
    return FileToolProblem("File tool could not use the file", f"{target}: {exc.strerror or exc}",
                           "Check the path and the folder's permissions.")


def run_file_tool(project_dir: Path, app_file: str, tool: A.ToolDecl, payload: dict) -> dict:
    """One call of a file tool whose payload already passed the input checks: the output
    the tool's output fields ask for (check_declaration has passed). Raises FileToolProblem."""
    operation = payload.get("operation")
    if not isinstance(operation, str):
        raise FileToolProblem("File operation must be text", "The operation is read or write.",
                              'Use "read" or "write".')
    operation = operation.strip().lower()
    if operation not in ("read", "write"):
        raise FileToolProblem(f"Unsupported file operation '{operation}'.",
                              "Only read and write are supported.", 'Use "read" or "write".',
                              'operation is "read"')
    rel = _relative_path(payload.get("path"))
    content = payload.get("content")
    if operation == "write" and not isinstance(content, str):
        raise FileToolProblem("File write content must be text",
                              "A write stores the text given as content.",
                              "Give the tool a content field holding text.")
    root = project_dir / ".namel3ss" / "files" / scope_name(app_file)
    root.mkdir(parents=True, exist_ok=True)
    target = _inside(root, rel)
    available: dict[str, Any] = {"ok": True}
    if operation == "read":
        text = _read(target)
        available["content"] = text
        available["bytes"] = Decimal(len(text.encode("utf-8")))
    else:
        assert isinstance(content, str)
        available["bytes"] = Decimal(_write(target, content))
    output = {}
    for f in tool.outputs:
        if f.name not in available:
            raise FileToolProblem(
                f'File tool "{tool.name}" cannot provide "{f.name}" for this operation.',
                "Read operations return content; write operations return ok/bytes.",
                "Align the output fields with the operation.",
                "output:\n  ok is boolean\n  bytes is number")
        output[f.name] = available[f.name]
    return output
