"""The child side of :mod:`n3lang.runtime.tool_runner`: run one tool function, write one reply.

This file is not imported by n3lang: the runner passes its text to the app's own Python with
``-c`` (that Python may be another version, without n3lang installed), so it uses only the
standard library and no syntax newer than Python 3.7.

Protocol: ``python -c <this file> <fd>`` with cwd the project folder. The request comes on
stdin as one JSON object ``{"entry", "payload", "max_result_bytes", "max_depth"}``.
The reply goes to the pipe ``fd``, never to stdout (what the tool prints goes to stdout and
stderr, which the runner only keeps a tail of), as one JSON object:
``{"ok": true, "result": ...}`` or ``{"ok": false, "kind", "message", "exc_type"}``. Numbers in
the result are written exactly: a ``Decimal`` the tool returns keeps all its digits.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from decimal import Decimal

MAX_MESSAGE = 300  # characters of a message (one line) sent back


class NotJson(Exception):
    """A value in the result that JSON cannot hold; ``path`` is filled while unwinding."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []


def one_line(text: str) -> str:
    """The first non-blank line of ``text``, bounded, as text that encodes to UTF-8."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    if len(line) > MAX_MESSAGE:
        line = line[: MAX_MESSAGE - 3] + "..."
    return line.encode("utf-8", "replace").decode("utf-8")


def failure(kind: str, message: str, exc_type: str | None = None) -> dict:
    return {"ok": False, "kind": kind, "message": one_line(message), "exc_type": exc_type}


def print_traceback(exc: BaseException, skip: int) -> None:
    """The tool's traceback on stderr (the runner keeps its tail), without this file's frames."""
    tb = exc.__traceback__
    for _ in range(skip):
        if tb is not None:
            tb = tb.tb_next
    try:
        traceback.print_exception(type(exc), exc, tb, file=sys.stderr)
    except Exception:  # a broken stderr must not hide the reply
        pass


def load(project: str, module_name: str, attr: str) -> object:
    """The tool function, or a failure reply (a dict) saying why it cannot be loaded."""
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        where = os.path.relpath(exc.filename, project) if exc.filename else module_name
        return failure("import", f"{where}, line {exc.lineno}: {exc.msg}", "SyntaxError")
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            return failure("import", f'no module "{module_name}" in the project folder or the Python path',
                           type(exc).__name__)
        print_traceback(exc, 1)
        return failure("import", f'importing "{module_name}" failed: {exc}', type(exc).__name__)
    except BaseException as exc:  # the module's own code raised (or called sys.exit) while importing
        print_traceback(exc, 1)
        return failure("import", f'importing "{module_name}" failed: {type(exc).__name__}: {exc}',
                       type(exc).__name__)
    function = getattr(module, attr, None)
    if function is None and not hasattr(module, attr):
        return failure("import", f'module "{module_name}" has no function "{attr}"', "AttributeError")
    if not callable(function):
        return failure("import", f'"{module_name}:{attr}" is a {type(function).__name__}, not a function',
                       "TypeError")
    return function


def where(path: list[str]) -> str:
    return "result" + "".join(path)


def check(value: object, depth: int, max_depth: int) -> bool:
    """Raise NotJson unless ``value`` is JSON data; True when it holds a Decimal."""
    if value is None or isinstance(value, (bool, str)):
        return False
    if isinstance(value, int):
        return False
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NotJson(f"is the float {value!r}, which JSON cannot hold")
        return False
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotJson(f"is Decimal('{value}'), which JSON cannot hold")
        return True
    if depth >= max_depth:
        raise NotJson(f"is nested more than {max_depth} levels deep (or holds itself)")
    found = False
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            try:
                found = check(item, depth + 1, max_depth) or found
            except NotJson as exc:
                exc.path.insert(0, f"[{index}]")
                raise
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJson(f"has the key {key!r} ({type(key).__name__}); JSON keys are text")
            try:
                found = check(item, depth + 1, max_depth) or found
            except NotJson as exc:
                exc.path.insert(0, f"[{json.dumps(key)}]")
                raise
        return found
    raise NotJson(f"is a {type(value).__name__}")


def encode_exact(value: object) -> str:
    """JSON text of checked data holding Decimals, each written with all its digits."""
    if isinstance(value, Decimal):
        return str(value)  # finite: digits, an optional fraction and exponent, as JSON writes numbers
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + encode_exact(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(encode_exact(v) for v in value) + "]"
    return json.dumps(value, allow_nan=False)


def encode_result(result: object, max_depth: int, max_bytes: int) -> str | dict:
    """The reply's JSON text, or a failure reply when the result is not JSON data or too big."""
    try:
        exact = check(result, 0, max_depth)
        text = encode_exact(result) if exact else json.dumps(result, allow_nan=False, separators=(",", ":"))
    except NotJson as exc:
        return failure("protocol", f"the tool's result is not JSON data: {where(exc.path)} {exc.problem}")
    except (ValueError, RecursionError) as exc:  # an int of over 4300 digits, say
        return failure("protocol", f"the tool's result cannot be written as JSON: {exc}")
    if len(text) > max_bytes:  # ASCII (json.dumps escapes the rest), so characters are bytes
        return failure("too_large", f"the tool's result is {len(text)} bytes as JSON, over the limit of "
                                    f"{max_bytes} bytes")
    return '{"ok":true,"result":' + text + "}"


def run(request: dict) -> str | dict:
    """Load and call the tool; the reply as JSON text or a failure dict."""
    module_name, _, attr = request["entry"].partition(":")
    function = load(os.getcwd(), module_name, attr)
    if isinstance(function, dict):
        return function
    try:
        result = function(request["payload"])  # type: ignore[operator]
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the tool did not finish
        print_traceback(exc, 1)
        return failure("exception", str(exc), type(exc).__name__)
    return encode_result(result, request["max_depth"], request["max_result_bytes"])


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main() -> None:
    fd = int(sys.argv[1])
    os.set_inheritable(fd, False)  # programs the tool starts must not hold the reply pipe open
    del sys.argv[1:]
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    project = os.getcwd()
    # the project first, instead of the '' that -c puts there
    sys.path[:] = [project] + [p for p in sys.path if p not in ("", project)]
    reply = run(request)
    text = reply if isinstance(reply, str) else json.dumps(reply)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    try:
        write_all(fd, text.encode("utf-8"))
    except BrokenPipeError:  # the runner stopped reading (the reply was too big)
        pass
    os.close(fd)


if __name__ == "__main__":
    main()
