"""Run a Python tool function in a fresh child process and give back its result.

The child is the app's own Python (:func:`python_for`) running ``tool_child.py`` (passed with
``-c``) in the project folder, with the project first on ``sys.path``. The request (entry,
payload, limits) goes in on stdin as JSON; the reply comes back on a pipe of its own, so what
the tool prints (stdout and stderr, merged into one pipe of which the last
:data:`OUTPUT_TAIL_BYTES` are kept) can neither corrupt nor forge it. One selector pumps the
three pipes: no threads, no temporary files, nothing shared between calls.

Limits: a wall-clock time limit (the whole process group is killed, grandchildren too), the
size of the reply (``max_result_bytes``) and its nesting depth (:data:`MAX_RESULT_DEPTH`).
Processes the tool leaves running are killed when it ends. Numbers go in exactly (the child
reads an integral number as ``int``, any other as ``float``) and come back as ``Decimal``.

POSIX only (a pipe handed to the child by number, process groups); elsewhere every call fails
with kind ``"start"`` and says so.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from n3lang import json_limits
from n3lang.runtime import values

#: why a run gave no result (ToolRunError.kind)
KINDS = ("start", "import", "exception", "timeout", "too_large", "protocol")
#: how much of what the tool printed is kept, for the error's output_tail
OUTPUT_TAIL_BYTES = 64 * 1024
#: lists and maps nested deeper than this are refused (the runtime's own value depth)
MAX_RESULT_DEPTH = 200
DEFAULT_MAX_RESULT_BYTES = 8 * 1024 * 1024

_CHILD_SOURCE = Path(__file__).with_name("tool_child.py")
# room in the reply for '{"ok":true,"result":' ... '}' around the result, or for an error reply
# (messages are bounded to 300 characters, each at most 12 bytes as JSON escapes)
_ENVELOPE_BYTES = 8192
_REPLY_KINDS = ("import", "exception", "too_large", "protocol")  # what the child may report
_CHUNK = 64 * 1024
_POLL_SECONDS = 0.05  # how often to look for the child's end where no pidfd tells it
_EXIT_GRACE = 1.0  # after its reply, how long the process may take to exit on its own
_DRAIN_GRACE = 0.5  # after the group is killed, how long to wait for the last output
_MAX_MESSAGE = 300


class ToolRunError(Exception):
    """A Python tool run that did not give a result. ``kind`` says why (one of :data:`KINDS`):
    "start" (no Python, cannot spawn), "import" (module or function missing, not callable,
    or its import failed), "exception" (the tool raised, or returned something that is not
    JSON data: exc_type TypeError or ValueError, as json.dumps would raise), "timeout",
    "too_large" (result over the limit), "protocol" (the child died without a reply, or its
    reply cannot be read: a number beyond the runtime's range, say)."""

    def __init__(self, kind: str, message: str, *, exc_type: str | None = None, output_tail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message  # one line; for "exception", the tool's own str(exc)
        self.exc_type = exc_type  # the tool's exception class name, for "import"/"exception"
        self.output_tail = output_tail  # the end of what the tool printed (stdout + stderr)

    def __repr__(self) -> str:
        return f"ToolRunError({self.kind!r}, {self.message!r}, exc_type={self.exc_type!r})"


def python_for(project_dir: Path) -> str:
    """The app's own Python: project_dir/.venv/bin/python (Scripts/python.exe on Windows)
    if it exists, else sys.executable. The path is not resolved (a venv's python is a
    symlink that finds its site-packages by where it is); a broken link is still chosen,
    so that the run says it cannot start it rather than running without the venv."""
    venv = Path(project_dir) / ".venv"
    candidate = venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"
    return str(candidate) if os.path.lexists(candidate) else sys.executable


def run_python_tool(project_dir: Path, entry: str, payload: dict, *, timeout_seconds: float,
                    python: str | None = None, max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES) -> object:
    """Run ``module.path:function`` (entry) from project_dir in a fresh Python process,
    calling function(payload) with payload as plain JSON data, and return the function's
    return value decoded from JSON with numbers as decimal.Decimal. Raises ToolRunError."""
    if os.name != "posix":
        raise ToolRunError("start", f"Python tools run only on POSIX systems (Linux, macOS), not on {sys.platform}")
    timeout = float(timeout_seconds)  # the language's numbers are Decimal
    max_bytes = int(max_result_bytes)
    if not 0 < timeout < float("inf"):
        raise ValueError(f"timeout_seconds must be positive, not {timeout_seconds!r}")
    if max_bytes <= 0:
        raise ValueError(f"max_result_bytes must be positive, not {max_result_bytes!r}")
    module, sep, function = entry.partition(":")
    if not (sep and function.isidentifier() and all(part.isidentifier() for part in module.split("."))):
        raise ToolRunError("import", f'the entry "{entry}" is not of the form "module.path:function"')
    project = Path(project_dir).absolute()
    if not project.is_dir():
        raise ToolRunError("start", f"the project folder {project} does not exist")
    request = _encode_request(entry, payload, max_bytes)
    exe = python or python_for(project)
    child = _Child(exe, project, request, timeout, max_bytes + _ENVELOPE_BYTES)
    child.run()
    return child.outcome(timeout, max_bytes)


def _encode_request(entry: str, payload: dict, max_result_bytes: int) -> bytes:
    request = {"entry": entry, "payload": payload, "max_result_bytes": max_result_bytes,
               "max_depth": MAX_RESULT_DEPTH}
    try:  # exact number text: the child's json reads an integral number as int, others as float
        return values.dumps(request, indent=None, sort_keys=False).encode("utf-8")
    except (TypeError, ValueError) as exc:  # a set, an object, a lone surrogate...
        raise ToolRunError("protocol", f"the payload is not JSON data: {exc}") from None


def _child_env() -> dict[str, str]:
    """The parent's environment (tools need PATH, HOME, keys...), adjusted for a tool run."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the user's project
    env.setdefault("PYTHONIOENCODING", "utf-8")  # the output tail is read as UTF-8
    env.pop("PYTHONSAFEPATH", None)  # the child puts the project first; the tool's own scripts
    # and `python -c`s get the sys.path[0] they expect
    env.pop("PYTHONINSPECT", None)  # would open an interactive prompt after the reply
    return env


class _Child:
    """One child process and its pipes, pumped by one selector until it ends."""

    def __init__(self, python: str, project: Path, request: bytes, timeout_seconds: float,
                 max_reply: int) -> None:
        self.deadline = time.monotonic() + timeout_seconds
        self.max_reply = max_reply
        self.tail = bytearray()
        self.tail_cut = False
        self.reply = bytearray()
        self.reply_overflow = False
        self.reply_done_at: float | None = None
        self.pending = memoryview(request)
        self.reply_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [python, "-c", _CHILD_SOURCE.read_text(encoding="utf-8"), str(write_fd), str(os.getpid())],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                cwd=project, env=_child_env(), pass_fds=(write_fd,), start_new_session=True,
            )
        except OSError as exc:
            os.close(self.reply_fd)
            raise ToolRunError("start", f'cannot start Python "{python}": {exc.strerror or exc}') from None
        finally:
            os.close(write_fd)  # the child holds the only write end now
        self.timed_out = False

    def run(self) -> None:
        try:
            self.timed_out = self._communicate()
        finally:
            self._close()

    # -- pumping ---------------------------------------------------------------------------

    def _communicate(self) -> bool:
        """Run the child to its end (or its deadline), then kill its group and drain the
        pipes; True when it timed out."""
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        os.set_blocking(proc.stdin.fileno(), False)
        pidfd = _pidfd(proc.pid)
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE, "in")
            sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "out")
            sel.register(self.reply_fd, selectors.EVENT_READ, "reply")
            if pidfd is not None:
                sel.register(pidfd, selectors.EVENT_READ, "exit")
            try:
                timed_out = self._until_exit(sel, pidfd is not None)
                _kill_group(proc)  # the tool on timeout; on success, what it left running
                proc.wait()
                if pidfd is not None:
                    sel.unregister(pidfd)
                self._finish_stdin(sel)
                self._drain(sel)
            finally:
                if pidfd is not None:
                    os.close(pidfd)
        return timed_out

    def _until_exit(self, sel: selectors.BaseSelector, has_pidfd: bool) -> bool:
        while True:
            now = time.monotonic()
            limit = self.deadline
            if self.reply_done_at is not None:  # replied: it may take a moment to exit
                limit = min(limit, max(self.reply_done_at + _EXIT_GRACE, now))
            if now >= limit:
                return self.reply_done_at is None
            wait = limit - now
            if not has_pidfd:  # look for the end now and then, as others may hold the pipes
                wait = min(wait, _POLL_SECONDS if len(sel.get_map()) > 0 else 0.005)
            exited = False
            for key, _ in sel.select(wait):
                if key.data == "exit":
                    exited = True
                else:
                    self._pump(sel, key)
            if exited or (not has_pidfd and _has_exited(self.proc)):
                return False

    def _pump(self, sel: selectors.BaseSelector, key: selectors.SelectorKey) -> None:
        fd = key.fd
        if key.data == "in":
            try:
                written = os.write(fd, self.pending[:_CHUNK])
            except BlockingIOError:
                return
            except OSError:  # the child is gone or closed its stdin
                written = len(self.pending)
            self.pending = self.pending[written:]
            if not self.pending:
                self._finish_stdin(sel)
            return
        data = os.read(fd, _CHUNK)
        if key.data == "out":
            if not data:
                sel.unregister(fd)
                return
            self.tail += data
            if len(self.tail) > 2 * OUTPUT_TAIL_BYTES:  # trim now and then, not on every read
                del self.tail[:-OUTPUT_TAIL_BYTES]
                self.tail_cut = True
            return
        # the reply
        if data and len(self.reply) + len(data) <= self.max_reply:
            self.reply += data
            return
        sel.unregister(fd)
        self.reply_done_at = time.monotonic()
        if data:  # over the limit: stop reading, so that the child's write fails and it ends
            self.reply_overflow = True
            os.close(fd)
            self.reply_fd = -1

    def _finish_stdin(self, sel: selectors.BaseSelector) -> None:
        stdin = self.proc.stdin
        if stdin is not None and not stdin.closed:
            sel.unregister(stdin.fileno())
            try:
                stdin.close()  # EOF: the child reads the request to its end
            except OSError:
                pass

    def _drain(self, sel: selectors.BaseSelector) -> None:
        """Read what is left in the pipes once the group is dead; a process that left the
        group (setsid) may hold them open: it gets a short grace, then is left to itself."""
        stop = time.monotonic() + _DRAIN_GRACE
        while sel.get_map():
            now = time.monotonic()
            if now >= stop:
                break
            for key, _ in sel.select(stop - now):
                self._pump(sel, key)

    def _close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        if self.reply_fd >= 0:
            os.close(self.reply_fd)
        if self.proc.returncode is None:  # an error of ours mid-run: leave no process behind
            _kill_group(self.proc)
            self.proc.wait()

    # -- the outcome -------------------------------------------------------------------------

    def output_tail(self) -> str:
        data = bytes(self.tail[-OUTPUT_TAIL_BYTES:])
        if self.tail_cut or len(self.tail) > OUTPUT_TAIL_BYTES:
            data = data.lstrip(bytes(range(0x80, 0xC0)))  # no half a character at the start
        return data.decode("utf-8", "replace")

    def outcome(self, timeout_seconds: float, max_result_bytes: int) -> object:
        tail = self.output_tail()
        if self.timed_out:
            raise ToolRunError("timeout", f"the tool did not finish within its time limit of "
                                          f"{_seconds(timeout_seconds)}", output_tail=tail)
        if self.reply_overflow:
            raise ToolRunError("too_large", f"the tool's result is over the limit of {max_result_bytes} bytes",
                               output_tail=tail)
        if not self.reply:
            raise ToolRunError("protocol", f"the tool's process {_status(self.proc.returncode)} before replying",
                               output_tail=tail)
        reply = _decode_reply(bytes(self.reply), tail)
        if reply.get("ok") is True:
            result = reply["result"]
            if _too_deep(result, MAX_RESULT_DEPTH):
                raise ToolRunError("protocol", f"the tool's result is nested more than {MAX_RESULT_DEPTH} "
                                               f"levels deep", output_tail=tail)
            return result
        exc_type = reply.get("exc_type")
        raise ToolRunError(reply["kind"], _one_line(reply["message"]),
                           exc_type=_one_line(exc_type) if exc_type is not None else None, output_tail=tail)


def _decode_reply(data: bytes, tail: str) -> dict[str, Any]:
    """The child's reply, checked: numbers as Decimal, no NaN or Infinity."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolRunError("protocol", f"the tool's reply is not UTF-8 text: {exc}", output_tail=tail) from None
    try:
        reply = values.parse_json_text(text)
    except json_limits.ERRORS as exc:
        problem, _ = json_limits.describe(exc, text)
        # a number beyond the runtime's range, say (NaN and broken JSON only come from a child
        # that is not tool_child.py)
        raise ToolRunError("protocol", f"the tool's reply cannot be read: {problem}", output_tail=tail) from None
    if isinstance(reply, dict):
        if reply.get("ok") is True and set(reply) == {"ok", "result"}:
            return reply
        if (reply.get("ok") is False and reply.get("kind") in _REPLY_KINDS and isinstance(reply.get("message"), str)
                and isinstance(reply.get("exc_type"), (str, type(None)))):
            return reply
    raise ToolRunError("protocol", "the tool's process wrote a reply that is not this runner's", output_tail=tail)


def _too_deep(value: object, limit: int) -> bool:
    """Whether lists and maps nest more than ``limit`` levels (without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth >= limit:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return False


def _pidfd(pid: int) -> int | None:
    """A descriptor that turns readable when the process ends (Linux), or None."""
    try:
        return os.pidfd_open(pid)  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        return None


def _has_exited(proc: subprocess.Popen) -> bool:
    """Whether the child ended, leaving it unreaped where the system allows (so that its
    process group id cannot be reused before the group is killed)."""
    if hasattr(os, "waitid"):
        try:
            return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True
    return proc.poll() is not None


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group (it leads a session of its own); without
    process groups, the child alone."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.kill()
    except OSError:
        pass


def _status(returncode: int | None) -> str:
    if returncode is None:
        return "did not end"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "a signal"
        return f"was killed by {name} (signal {-returncode})"
    return f"exited with status {returncode}"


def _seconds(seconds: float) -> str:
    if seconds == int(seconds):
        return f"{int(seconds)} second{'' if seconds == 1 else 's'}"
    return f"{seconds:g} seconds"


def _one_line(text: str) -> str:
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 3] + "..."
