"""The Python tool runner: a fresh child process per call, its reply on a pipe of its own.

Every test writes a small tool package into tmp_path and runs it for real (one child start
costs about a tenth of a second here)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from n3lang.runtime import tool_runner
from n3lang.runtime.tool_runner import OUTPUT_TAIL_BYTES, ToolRunError, python_for, run_python_tool

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the tool runner needs POSIX")


def project(tmp_path: Path, source: str, name: str = "tool") -> Path:
    """A project folder with tools/<name>.py holding ``source``."""
    root = tmp_path / "app"
    (root / "tools").mkdir(parents=True, exist_ok=True)
    (root / "tools" / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def run(root: Path, entry: str = "tools.tool:main", payload: dict | None = None, **options) -> object:
    options.setdefault("timeout_seconds", 20)
    return run_python_tool(root, entry, {} if payload is None else payload, **options)


def failure(root: Path, entry: str = "tools.tool:main", payload: dict | None = None, **options) -> ToolRunError:
    with pytest.raises(ToolRunError) as info:
        run(root, entry, payload, **options)
    return info.value


def gone(pid: int) -> bool:
    """Whether the process has ended (a zombie waiting for init counts as ended). A process
    killed with SIGKILL ends at once, but its reaping by init is not instant: wait for that."""
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def all_numbers(value: object) -> list[object]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in all_numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in all_numbers(v)]
    return [] if value is None or isinstance(value, (str, bool)) else [value]


# -- results and numbers ---------------------------------------------------------------------

def test_nested_data_and_exact_numbers_round_trip(tmp_path):
    root = project(tmp_path, """
        from decimal import Decimal

        def main(payload):
            seen = {k: type(v).__name__ for k, v in payload.items()}
            return {"echo": payload, "seen": seen, "exact": Decimal("0.1000000000000000000000000001"),
                    "float": 0.1, "big": 10 ** 40, "neg_zero": -0.0, "tuple": (1, "two"),
                    "long": payload["long"] + 1}
        """)
    long = Decimal(10**5000)  # more digits than Python 3.11's int() and str() take
    payload = {"tenth": Decimal("0.1"), "big": Decimal(10**30), "neg_zero": Decimal("-0"), "whole": Decimal("2.50"),
               "nested": [{"deep": [Decimal("-7"), True, None, "é ☃"]}], "flag": False, "long": long}
    result = run(root, payload=payload)
    assert result["echo"] == payload
    assert result["seen"] == {"tenth": "float", "big": "int", "neg_zero": "int", "whole": "float",
                              "nested": "list", "flag": "bool", "long": "int"}
    assert result["long"] == Decimal(10**5000 + 1)
    assert str(result["exact"]) == "0.1000000000000000000000000001"
    assert str(result["float"]) == "0.1"
    assert result["big"] == Decimal(10**40) and result["neg_zero"] == 0
    assert result["tuple"] == [Decimal(1), "two"]
    assert result["echo"]["nested"][0]["deep"][1] is True
    assert {type(n) for n in all_numbers(result)} == {Decimal}


def test_a_large_payload_goes_in_whole(tmp_path):
    root = project(tmp_path, "def main(payload):\n    return [len(payload['text']), payload['text'][-3:]]\n")
    text = "abc" * 1_000_000
    assert run(root, payload={"text": text}) == [Decimal(3_000_000), "abc"]


def test_the_project_leads_sys_path_and_is_the_working_folder(tmp_path):
    root = project(tmp_path, """
        import os, sys

        def main(payload):
            return {"cwd": os.getcwd(), "first": sys.path[0], "helper": __import__("helper").VALUE}
        """)
    (root / "helper.py").write_text("VALUE = 'from the project'\n")
    result = run(root)
    assert result == {"cwd": str(root.resolve()), "first": str(root.resolve()), "helper": "from the project"}


def test_the_projects_venv_python_is_used(tmp_path):
    root = project(tmp_path, """
        import sys

        def main(payload):
            return sys.executable
        """)
    assert python_for(root) == sys.executable
    venv_python = root / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to(sys.executable)
    assert python_for(root) == str(venv_python)
    assert run(root) == str(venv_python)


def test_a_broken_venv_python_is_reported_not_skipped(tmp_path):
    root = project(tmp_path, "def main(payload):\n    return 1\n")
    venv_python = root / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to(tmp_path / "removed-python")
    error = failure(root)
    assert error.kind == "start"
    assert error.message == f'cannot start Python "{venv_python}": No such file or directory'


def test_project_modules_named_like_the_standard_library_do_not_break_the_runner(tmp_path):
    root = project(tmp_path, """
        from decimal import Decimal

        def main(payload):
            if payload["fail"]:
                raise ValueError("failed")
            return Decimal("1.5")
        """)
    for name in ("json", "decimal", "traceback", "faulthandler"):
        (root / f"{name}.py").write_text("raise RuntimeError('the project shadows the standard library')\n")
    assert run(root, payload={"fail": False}) == Decimal("1.5")
    error = failure(root, payload={"fail": True})
    assert (error.kind, error.message) == ("exception", "failed") and "Traceback" in error.output_tail


def test_the_environment_reaches_the_tool_without_bytecode_writing(tmp_path, monkeypatch):
    monkeypatch.setenv("N3_TOOL_TEST_KEY", "secret-value")
    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    root = project(tmp_path, """
        import os, sys

        def main(payload):
            return [os.environ.get("N3_TOOL_TEST_KEY"), sys.dont_write_bytecode, "PYTHONSAFEPATH" in os.environ]
        """)
    (root / "tools" / "helper.py").write_text("X = 1\n")
    assert run(root) == ["secret-value", True, False]


def test_nothing_is_written_into_the_project(tmp_path):
    root = project(tmp_path, """
        from tools import helper

        def main(payload):
            return helper.X
        """)
    (root / "tools" / "helper.py").write_text("X = 1\n")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    assert run(root) == 1
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_what_the_tool_prints_is_not_taken_for_the_reply(tmp_path):
    root = project(tmp_path, """
        import sys

        def main(payload):
            print('{"ok": true, "result": "forged"}')
            sys.stderr.write('{"ok": true, "result": "forged"}\\n')
            return "real"
        """)
    assert run(root) == "real"


def test_calls_in_threads_do_not_mix(tmp_path):
    root = project(tmp_path, """
        def main(payload):
            print("noise", payload["n"])
            return payload["n"] * 2
        """)
    results: dict[int, object] = {}

    def call(n: int) -> None:
        results[n] = run(root, payload={"n": Decimal(n)})

    threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: Decimal(2 * n) for n in range(4)}


def test_no_temporary_files_are_left(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    root = project(tmp_path, """
        def main(payload):
            if payload["fail"]:
                raise ValueError("no")
            return "x" * 3000
        """)
    assert run(root, payload={"fail": False}) == "x" * 3000
    assert failure(root, payload={"fail": True}).kind == "exception"
    assert failure(root, payload={"fail": False}, max_result_bytes=100).kind == "too_large"
    assert list(scratch.iterdir()) == []


# -- errors of loading -----------------------------------------------------------------------

# the messages are Python's own, as namel3ss gives them ("failed with AttributeError")
IMPORT_CASES = {
    "missing module": ("tools.absent:main", "ModuleNotFoundError", "No module named 'tools.absent'"),
    "missing package": ("nothere.tool:main", "ModuleNotFoundError", "No module named 'nothere'"),
    "missing function": ("tools.tool:absent", "AttributeError", "module 'tools.tool' has no attribute 'absent'"),
    "not callable": ("tools.tool:CONSTANT", "TypeError", '"tools.tool:CONSTANT" is an int, not a function'),
    "missing dependency": ("tools.needs:main", "ModuleNotFoundError", "No module named 'no_such_dependency'"),
    "syntax error": ("tools.broken:main", "SyntaxError", "expected ':' (broken.py, line 1)"),
    "raises on import": ("tools.raising:main", "RuntimeError", "config missing"),
}


@pytest.mark.parametrize("case", IMPORT_CASES)
def test_import_errors(tmp_path, case):
    entry, exc_type, message = IMPORT_CASES[case]
    root = project(tmp_path, "CONSTANT = 3\n\ndef main(payload):\n    return 1\n")
    (root / "tools" / "needs.py").write_text("import no_such_dependency\n")
    (root / "tools" / "broken.py").write_text("def main(payload)\n    return 1\n")
    (root / "tools" / "raising.py").write_text("raise RuntimeError('config missing')\n")
    error = failure(root, entry)
    assert (error.kind, error.exc_type, error.message) == ("import", exc_type, message)
    # where an import failed is in the output, for debugging; a module that is absent needs none
    assert ("Traceback" in error.output_tail) == (case in ("missing dependency", "syntax error", "raises on import"))


def test_a_malformed_entry_is_an_import_error(tmp_path):
    error = failure(project(tmp_path, ""), "tools/tool.py")
    assert (error.kind, error.message) == ("import", 'the entry "tools/tool.py" is not of the form "module.path:function"')


def test_a_missing_python_or_project_cannot_start(tmp_path):
    root = project(tmp_path, "def main(payload):\n    return 1\n")
    error = failure(root, python=str(tmp_path / "no-python"))
    assert (error.kind, error.message) == (
        "start", f'cannot start Python "{tmp_path / "no-python"}": No such file or directory')
    error = failure(tmp_path / "elsewhere")
    assert (error.kind, error.message) == ("start", f"the project folder {tmp_path / 'elsewhere'} does not exist")


# -- errors of the tool ----------------------------------------------------------------------

def test_an_exception_gives_its_type_and_first_line_not_a_traceback(tmp_path):
    root = project(tmp_path, """
        def helper(value):
            raise ValueError(f"bad value {value}\\nsecond line")

        def main(payload):
            helper(payload["v"])
        """)
    error = failure(root, payload={"v": Decimal(3)})
    assert (error.kind, error.exc_type, error.message) == ("exception", "ValueError", "bad value 3")
    assert str(error) == "bad value 3"
    # the tool's traceback, without the runner's frames, is in the output for debugging
    assert "Traceback" in error.output_tail and 'tool.py", line 3, in helper' in error.output_tail
    assert "<string>" not in error.output_tail
    assert error.output_tail.rstrip().endswith("ValueError: bad value 3\nsecond line")


def test_a_long_exception_message_is_bounded(tmp_path):
    root = project(tmp_path, "def main(payload):\n    raise KeyError('k' * 10000)\n")
    error = failure(root)
    assert (error.kind, error.exc_type) == ("exception", "KeyError")
    assert len(error.message) == 300 and error.message.startswith("'kkk") and error.message.endswith("...")


def test_sys_exit_in_the_tool_is_an_exception(tmp_path):
    root = project(tmp_path, "import sys\n\ndef main(payload):\n    sys.exit('giving up')\n")
    error = failure(root)
    assert (error.kind, error.exc_type, error.message) == ("exception", "SystemExit", "giving up")


@pytest.mark.parametrize("value,exc_type,message", [
    ("{1, 2}", "TypeError", "the tool's result is not JSON data: result is a set"),
    ("{'a': [1, object()]}", "TypeError", "the tool's result is not JSON data: result[\"a\"][1] is an object"),
    ("{1: 'one'}", "TypeError", "the tool's result is not JSON data: result has the key 1 (int); JSON keys are text"),
    ("{'a': float('nan')}", "ValueError",
     "the tool's result is not JSON data: result[\"a\"] is the float nan, which JSON cannot hold"),
    ("[Decimal('Infinity')]", "ValueError",
     "the tool's result is not JSON data: result[0] is Decimal('Infinity'), which JSON cannot hold"),
    ("{'k': 'ok \\udc80'}", "ValueError",
     "the tool's result is not JSON data: result[\"k\"] is text with an unpaired surrogate ('\\udc80')"),
    ("nested(250)", "ValueError", "the tool's result is not JSON data: result[0][0][0][0]...[0][0][0] is nested "
                                  "more than 200 levels deep (or holds itself)"),
])
def test_a_result_that_is_not_json_data(tmp_path, value, exc_type, message):
    """Reported as json.dumps would raise it (namel3ss says the tool "failed with TypeError")."""
    root = project(tmp_path, f"""
        from decimal import Decimal

        def nested(n):
            value = []
            for _ in range(n):
                value = [value]
            return value

        def main(payload):
            return {value}
        """)
    error = failure(root)
    assert (error.kind, error.exc_type, error.message) == ("exception", exc_type, message)


def test_a_number_beyond_the_runtimes_range(tmp_path):
    root = project(tmp_path, "from decimal import Decimal\n\ndef main(payload):\n    return Decimal('1E+1000000')\n")
    error = failure(root)
    assert (error.kind, error.message) == ("protocol", "the tool's reply cannot be read: the number 1E+1000000 is "
                                                       "beyond what this runtime holds (magnitudes from 1e-1000026 "
                                                       "to 1e999999)")


def test_a_result_over_the_size_limit(tmp_path):
    root = project(tmp_path, "def main(payload):\n    return 'x' * 2000\n")
    error = failure(root, max_result_bytes=1000)
    assert (error.kind, error.message) == ("too_large", "the tool's result is 2002 bytes as JSON, over the limit of "
                                                        "1000 bytes")
    assert run(root, max_result_bytes=2002) == "x" * 2000


def test_errors_are_reported_whatever_the_size_limit(tmp_path):
    root = project(tmp_path, "def main(payload):\n    raise ValueError('\N{SNOWMAN}' * 1000)\n")
    error = failure(root, max_result_bytes=1)
    assert (error.kind, error.message) == ("exception", "\N{SNOWMAN}" * 297 + "...")


def test_a_tool_printing_hundreds_of_megabytes(tmp_path):
    root = project(tmp_path, """
        import sys

        def main(payload):
            chunk = "x" * (1 << 20)
            for _ in range(200):
                sys.stdout.write(chunk)
                sys.stderr.write(chunk)
            print("the end")
            raise RuntimeError("after the output")
        """)
    error = failure(root)
    assert (error.kind, error.message) == ("exception", "after the output")
    assert len(error.output_tail.encode()) <= OUTPUT_TAIL_BYTES
    assert error.output_tail.index("the end") < error.output_tail.index("Traceback")
    assert error.output_tail.rstrip().endswith("RuntimeError: after the output")


def test_a_crashing_child_is_a_protocol_error(tmp_path):
    root = project(tmp_path, """
        import ctypes, os

        def main(payload):
            if payload["how"] == "exit":
                print("leaving")
                os._exit(3)
            ctypes.string_at(0)
        """)
    error = failure(root, payload={"how": "exit"})
    assert (error.kind, error.message) == ("protocol", "the tool's process exited with status 3 before replying")
    assert error.output_tail == "leaving\n"  # printed lines are not lost in a buffer
    error = failure(root, payload={"how": "segfault"})
    assert (error.kind, error.message) == ("protocol", "the tool's process was killed by SIGSEGV (signal 11) "
                                                       "before replying")
    assert "Fatal Python error: Segmentation fault" in error.output_tail


# -- time ------------------------------------------------------------------------------------

def test_a_timeout_kills_the_tool_and_its_children(tmp_path):
    pids = tmp_path / "pids"
    root = project(tmp_path, f"""
        import os, subprocess, sys, time

        def main(payload):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
            with open({str(pids)!r}, "w") as f:
                f.write(f"{{os.getpid()}} {{child.pid}}")
            print("waiting")
            time.sleep(30)
        """)
    # had the runner waited for the sleep, the tool would have returned None: no timeout
    error = failure(root, timeout_seconds=Decimal(1))  # the language's numbers are Decimal
    assert (error.kind, error.message) == ("timeout", "the tool did not finish within its time limit of 1 second")
    assert error.output_tail == "waiting\n"
    tool_pid, grandchild_pid = map(int, pids.read_text().split())
    with pytest.raises(ProcessLookupError):  # ended and reaped: no zombie
        os.kill(tool_pid, 0)
    assert gone(grandchild_pid)


def test_processes_a_tool_leaves_running_are_ended_with_it(tmp_path):
    pids = tmp_path / "pids"
    root = project(tmp_path, f"""
        import subprocess, sys

        def main(payload):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
            with open({str(pids)!r}, "w") as f:
                f.write(str(child.pid))
            return "done"
        """)
    assert run(root) == "done"
    assert gone(int(pids.read_text()))


# -- the parent's side of the protocol, against fake children --------------------------------

def fake_python(tmp_path: Path, body: str) -> str:
    """An executable standing in for Python: it gets ``-c SOURCE FD PID`` and runs ``body``
    with ``fd`` (the reply pipe) bound."""
    path = tmp_path / "fake-python"
    path.write_text(f"#!{sys.executable}\nimport os, sys\nfd = int(sys.argv[-2])\nsys.stdin.read()\n"
                    + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("body,kind,message", [
    ("os.write(fd, b'x' * 20000)\n", "too_large", "the tool's result is over the limit of 1000 bytes"),
    ("os.write(fd, b'{\"ok\": true, \"result\": NaN}')\n", "protocol",
     "the tool's reply cannot be read: NaN is not a number in this language"),
    ("os.write(fd, b'{\"ok\": true, \"result\": ' + b'[' * 300 + b']' * 300 + b'}')\n", "protocol",
     "the tool's result is nested more than 200 levels deep"),
    ("os.write(fd, b'{\"ok\": true, \"result\": 1')\n", "protocol",
     "the tool's reply cannot be read: Expecting ',' delimiter: line 1 column 25 (char 24)"),
    ("os.write(fd, b'{\"ok\": \"yes\"}')\n", "protocol", "the tool's process wrote a reply that is not this runner's"),
    ("os.write(fd, b'\\xff')\n", "protocol",
     "the tool's reply is not UTF-8 text: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    ("os.write(fd, b'{\"ok\": false, \"kind\": \"exception\", \"exc_type\": \"E\", \"message\": \"a\\\\nb\"}')\n",
     "exception", "a"),
])
def test_replies_the_runner_refuses(tmp_path, body, kind, message):
    root = project(tmp_path, "")
    error = failure(root, python=fake_python(tmp_path, body), max_result_bytes=1000)
    assert (error.kind, error.message) == (kind, message)


def test_a_child_that_lingers_after_its_reply_is_ended(tmp_path, monkeypatch):
    monkeypatch.setattr(tool_runner, "_EXIT_GRACE", 0.2)
    body = "os.write(fd, b'{\"ok\": true, \"result\": 5}')\nos.close(fd)\nimport time\ntime.sleep(30)\n"
    assert run(project(tmp_path, ""), python=fake_python(tmp_path, body), timeout_seconds=20) == 5


def test_a_python_that_ends_without_reading_its_request(tmp_path):
    false = "/bin/false" if os.path.exists("/bin/false") else "/usr/bin/false"
    error = failure(project(tmp_path, ""), python=false, payload={"text": "x" * 1_000_000})
    assert (error.kind, error.message) == ("protocol", "the tool's process exited with status 1 before replying")


def test_a_payload_that_is_not_json_data(tmp_path):
    error = failure(project(tmp_path, ""), payload={"s": {1, 2}})
    assert (error.kind, error.message) == ("protocol", "the payload is not JSON data: Object of type set is not "
                                                       "JSON serializable")


# -- where the system offers less --------------------------------------------------------------

@pytest.mark.parametrize("waitid", [True, False], ids=["older Linux", "macOS"])
def test_without_pidfd_the_end_is_polled(tmp_path, monkeypatch, waitid):
    """Linux before 5.3 has no pidfd, macOS neither pidfd nor waitid: the runner looks for the
    child's end now and then."""
    monkeypatch.setattr(tool_runner, "_pidfd", lambda pid: None)
    if not waitid:
        monkeypatch.delattr(os, "waitid", raising=False)
    pids = tmp_path / "pids"
    root = project(tmp_path, f"""
        import subprocess, sys

        def main(payload):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
            with open({str(pids)!r}, "w") as f:
                f.write(str(child.pid))
            return "done"
        """)
    assert run(root) == "done"  # though a grandchild holds the output pipe
    assert gone(int(pids.read_text()))


def test_without_process_groups_the_child_alone_is_killed(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "killpg")
    pids = tmp_path / "pids"
    root = project(tmp_path, f"""
        import os, time

        def main(payload):
            with open({str(pids)!r}, "w") as f:
                f.write(str(os.getpid()))
            time.sleep(30)
        """)
    assert failure(root, timeout_seconds=1).kind == "timeout"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pids.read_text()), 0)


def test_other_systems_are_told_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "name", "nt")
    error = failure(tmp_path)
    assert (error.kind, error.message) == ("start", f"Python tools run only on POSIX systems (Linux, macOS), "
                                                    f"not on {sys.platform}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_tool_dies_with_a_runner_that_is_killed(tmp_path):
    pids = tmp_path / "pids"
    root = project(tmp_path, f"""
        import os, time

        def main(payload):
            with open({str(pids)!r}, "w") as f:
                f.write(str(os.getpid()))
            time.sleep(30)
        """)
    code = ("from n3lang.runtime.tool_runner import run_python_tool\n"
            f"run_python_tool({str(root)!r}, 'tools.tool:main', {{}}, timeout_seconds=60)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    runner = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        for _ in range(400):  # until the tool has started
            if pids.exists() and pids.read_text():
                break
            time.sleep(0.05)
        runner.kill()  # SIGKILL: no finally of the runner runs
    finally:
        runner.wait()
    assert gone(int(pids.read_text()))

