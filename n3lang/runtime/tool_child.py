"""The child side of :mod:`n3lang.runtime.tool_runner`: run one tool function, write one reply.

This file is not imported by n3lang: the runner passes its text to the app's own Python with
``-c`` (that Python may be another version, without n3lang installed), so it uses only the
standard library and no syntax newer than Python 3.7.

Protocol: ``python -c <this file> <fd> <runner pid>`` with cwd the project folder. The
request comes on stdin as one JSON object ``{"entry", "payload", "max_result_bytes", "max_depth"}``.
The reply goes to the pipe ``fd``, never to stdout (what the tool prints goes to stdout and
stderr, which the runner only keeps a tail of), as one JSON object:
``{"ok": true, "result": ...}`` or ``{"ok": false, "kind", "message", "exc_type"}``. Numbers in
the result are written exactly: a ``Decimal`` the tool returns keeps all its digits.
"""

from __future__ import annotations

import sys

# -c put the working folder (the project) first: the project's own json.py or decimal.py must
# not replace the modules this file needs; main() puts the project back first for the tool
if sys.path and sys.path[0] == "":
    del sys.path[0]

import faulthandler  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import traceback  # noqa: E402
from decimal import Decimal  # noqa: E402

MAX_MESSAGE = 300  # characters of a message (one line) sent back
# Python 3.11 refuses str() and int() of integers over 4300 digits; Decimal converts them
# without that limit, so long integers go through it (the runner reads numbers as Decimal)
LONG_INT_BITS = 13000  # about 3900 digits


def read_int(text: str) -> int:
    return int(text) if len(text) < 4000 else int(Decimal(text))


class NotJson(Exception):
    """A value in the result that JSON cannot hold; ``path`` is filled while unwinding.
    ``exc_type`` is what json.dumps would raise: TypeError for a type, ValueError for a value."""

    def __init__(self, problem: str, exc_type: str = "ValueError") -> None:
        super().__init__(problem)
        self.problem = problem
        self.exc_type = exc_type
        self.path: list[str] = []


def one_line(text: str) -> str:
    """The first non-blank line of ``text``, bounded, as text that encodes to UTF-8."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    if len(line) > MAX_MESSAGE:
        line = line[: MAX_MESSAGE - 3] + "..."
    return line.encode("utf-8", "replace").decode("utf-8")


def failure(kind: str, message: str, exc_type: str | None = None) -> dict:
    return {"ok": False, "kind": kind, "message": one_line(message),
            "exc_type": None if exc_type is None else one_line(exc_type)}


def text_of(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not hide the reply
        return "(the exception's message cannot be shown)"


def a(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def print_traceback(exc: BaseException, skip: int) -> None:
    """The tool's traceback on stderr (the runner keeps its tail), without this file's frames."""
    try:
        sys.stdout.flush()  # what the tool printed before, then its traceback
    except Exception:
        pass
    tb = exc.__traceback__
    for _ in range(skip):
        if tb is not None:
            tb = tb.tb_next
    try:
        traceback.print_exception(type(exc), exc, tb, file=sys.stderr)
    except Exception:  # a broken stderr must not hide the reply
        pass


def load(module_name: str, attr: str) -> object:
    """The tool function, or a failure reply (a dict) saying why it cannot be loaded. The
    message is the exception's own text, as namel3ss gives it ("No module named 'x'")."""
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # the module's own code may raise anything, or call sys.exit
        missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        if not (missing and (module_name == missing or module_name.startswith(missing + "."))):
            print_traceback(exc, 1)  # not merely absent: where it failed goes to the output tail
        return failure("import", text_of(exc), type(exc).__name__)
    function = getattr(module, attr, None)
    if function is None and not hasattr(module, attr):
        return failure("import", f"module '{module_name}' has no attribute '{attr}'", "AttributeError")
    if not callable(function):
        return failure("import", f'"{module_name}:{attr}" is {a(type(function).__name__)}, not a function',
                       "TypeError")
    return function


def where(path: list[str]) -> str:
    """``result["a"][1]``; a deep path keeps its ends (``result[0][0][0]...[0][0]``)."""
    if len(path) > 8:
        path = path[:4] + ["..."] + path[-3:]
    return "result" + "".join(path)


def check(value: object, depth: int, max_depth: int) -> bool:
    """Raise NotJson unless ``value`` is JSON data; True when it holds a Decimal."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        check_text(value, "is")
        return False
    if isinstance(value, int):
        return value.bit_length() > LONG_INT_BITS  # written by encode_exact
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
                raise NotJson(f"has the key {key!r} ({type(key).__name__}); JSON keys are text", "TypeError")
            check_text(key, "has a key that is")
            try:
                found = check(item, depth + 1, max_depth) or found
            except NotJson as exc:
                exc.path.insert(0, f"[{json.dumps(key)}]")
                raise
        return found
    raise NotJson(f"is {a(type(value).__name__)}", "TypeError")


def check_text(text: str, verb: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: JSON can escape it, no reader takes it
        raise NotJson(f"{verb} text with an unpaired surrogate ({text[exc.start]!r})") from None


def encode_exact(value: object) -> str:
    """JSON text of checked data holding Decimals, each written with all its digits."""
    if isinstance(value, Decimal):
        return str(value)  # finite: digits, an optional fraction and exponent, as JSON writes numbers
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > LONG_INT_BITS:
        return str(Decimal(value))
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
        return failure("exception", f"the tool's result is not JSON data: {where(exc.path)} {exc.problem}",
                       exc.exc_type)
    except (ValueError, RecursionError) as exc:  # not expected after check(): a recursion limit the tool lowered
        return failure("exception", f"the tool's result cannot be written as JSON: {exc}", type(exc).__name__)
    if len(text) > max_bytes:  # ASCII (json.dumps escapes the rest), so characters are bytes
        return failure("too_large", f"the tool's result is {len(text)} bytes as JSON, over the limit of "
                                    f"{max_bytes} bytes")
    return '{"ok":true,"result":' + text + "}"


def run(request: dict) -> str | dict:
    """Load and call the tool; the reply as JSON text or a failure dict."""
    module_name, _, attr = request["entry"].partition(":")
    function = load(module_name, attr)
    if isinstance(function, dict):
        return function
    try:
        result = function(request["payload"])  # type: ignore[operator]
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the tool did not finish
        print_traceback(exc, 1)
        return failure("exception", text_of(exc), type(exc).__name__)
    return encode_result(result, request["max_depth"], request["max_result_bytes"])


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def die_with_parent(parent: int) -> None:
    """On Linux, have the kernel kill this process when the runner's thread ends: the runner
    kills the tool's group itself, except when it is killed first (SIGKILL, say)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) != 0:  # 1: PR_SET_PDEATHSIG
            return
    except Exception:  # no ctypes in this Python: best effort
        return
    if os.getppid() != parent:  # the runner was gone before the line above
        os._exit(1)


def main() -> None:
    fd = int(sys.argv[1])
    die_with_parent(int(sys.argv[2]))
    os.set_inheritable(fd, False)  # programs the tool starts must not hold the reply pipe open
    del sys.argv[1:]
    faulthandler.enable()  # a crash leaves the Python stack in the output tail
    try:  # so that what the tool printed before a timeout or a crash is not lost in a buffer
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except (AttributeError, ValueError):  # the stream was replaced, or is not a text stream
        pass
    project = os.getcwd()
    # the project first, instead of the '' that -c puts there
    sys.path[:] = [project] + [p for p in sys.path if p not in ("", project)]
    try:
        request = json.loads(sys.stdin.buffer.read().decode("utf-8"), parse_int=read_int)
    except ValueError as exc:  # not expected: the runner writes the request
        reply = failure("protocol", f"the tool's Python cannot read the payload: {exc}")  # type: str | dict
    else:
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
