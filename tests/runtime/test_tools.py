"""§9 tools at run time: bindings, field checks and real tool processes (small tool
packages written into tmp_path).

The messages are namel3ss's, recorded by running namel3ss 0.1.0a24 (the oracle) on the same
app folders (spec/programs/tools/tool_call_binding and spec/failures/tools/missing_binding
among them); the column is the tool phrase's, as namel3ss reports it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.runtime import run_flow
from n3lang.runtime.limits import Limits
from n3lang.syntax import parse_source

ECHO_APP = '''spec is "1.0"

tool "echo payload":
  implemented using python

  input:
    payload is json

  output:
    result is json

flow "demo":
  let output is echo payload:
    payload is input.payload
  return output
'''

ECHO_BINDING = 'tools:\n  "echo payload":\n    kind: "python"\n    entry: "tools.echo:run"\n    runner: "local"\n'

GREET_APP = '''spec is "1.0"

tool "greet someone":
  implemented using python
{extra}  input:
    name is text
    times is optional number
  output:
    message is text

flow "demo":
  let r is greet someone:
    name is "Ada"
  return r
'''

GREET_BINDING = 'tools:\n  "greet someone":\n    kind: "python"\n    entry: "tools.greet:run"\n'


def make_app(root: Path, app: str, tool_code: str | None = None, *, binding: str | None = GREET_BINDING,
             module: str = "greet") -> Path:
    (root / "app.ai").write_text(app, encoding="utf-8")
    if binding is not None:
        (root / ".namel3ss").mkdir(exist_ok=True)
        (root / ".namel3ss" / "tools.yaml").write_text(binding, encoding="utf-8")
    if tool_code is not None:
        (root / "tools").mkdir(exist_ok=True)
        (root / "tools" / "__init__.py").write_text("", encoding="utf-8")
        (root / "tools" / f"{module}.py").write_text(tool_code, encoding="utf-8")
    return root


def run(root: Path, input_value=None):
    source = (root / "app.ai").read_text(encoding="utf-8")
    program, diagnostics = parse_source(source, str(root / "app.ai"))
    assert not [d for d in diagnostics if d.is_error]
    return run_flow(program, None, input_value, project_dir=root)


def failure(root: Path, input_value=None) -> tuple[int, int, str, str]:
    result = run(root, input_value)
    assert not result.ok
    e = result.error
    return e.span.line, e.span.column, e.message, e.why


def greet(tmp_path: Path, code: str, extra: str = "", **kw) -> Path:
    return make_app(tmp_path, GREET_APP.format(extra=extra), code, **kw)


def test_tool_call_binding_spec_program(tmp_path):
    """namel3ss's spec/programs/tools/tool_call_binding, with its input."""
    make_app(tmp_path, ECHO_APP, "def run(payload):\n    return {'result': payload}\n",
             binding=ECHO_BINDING, module="echo")
    result = run(tmp_path, {"payload": {"message": "hi", "n": 1.5}})
    assert result.ok, result.error
    assert result.result == {"result": {"payload": {"message": "hi", "n": pytest.approx(1.5)}}}
    (event,) = [t for t in result.traces if t["type"] == "tool_call"]
    assert event == {"type": "tool_call", "tool": "echo payload", "kind": "python",
                     "purity": "impure", "entry": "tools.echo:run", "timeout_ms": 10000,
                     "status": "ok"}


def test_numbers_stay_exact_both_ways(tmp_path):
    greet(tmp_path, "def run(p):\n    return {'message': repr(p['times'])}\n")
    app = (tmp_path / "app.ai").read_text().replace('name is "Ada"', 'name is "Ada"\n    times is 3')
    (tmp_path / "app.ai").write_text(app)
    assert run(tmp_path).result == {"message": "3"}


def test_the_convention_binding_without_tools_yaml(tmp_path):
    make_app(tmp_path, GREET_APP.format(extra=""), "def run(p):\n    return {'message': 'hi ' + p['name']}\n",
             binding=None, module="greet_someone")
    assert run(tmp_path).result == {"message": "hi Ada"}


def test_missing_binding(tmp_path):
    """namel3ss's spec/failures/tools/missing_binding: what, why, fix and example."""
    app = ECHO_APP.replace("echo payload", "unbound").replace("payload is json", "value is text") \
        .replace("result is json", "result is text").replace("value is input.payload", "")
    app = '''spec is "1.0"

tool "unbound":
  implemented using python

  input:
    value is text

  output:
    result is text

flow "demo":
  let output is unbound:
    value is "hi"
  return output
'''
    make_app(tmp_path, app, binding=None)
    result = run(tmp_path)
    e = result.error
    assert (e.code, e.span.line, e.span.column) == ("runtime-tool-binding", 13, 17)
    assert e.message == 'Tool "unbound" is not bound to a python entry.'
    assert e.why == "Tool declarations no longer include module paths; bindings live in .namel3ss/tools.yaml."
    # namel3ss's fix names its `n3 tools bind` command, which this n3 does not have
    assert e.fix == ('Add the tool to .namel3ss/tools.yaml in the app folder, with the entry '
                     '"module:function" of its Python code under tools/ (e.g. tools/unbound.py '
                     'with a function run(payload)).')
    assert e.example == 'tools:\n  "unbound":\n    kind: "python"\n    entry: "tools.unbound:run"'


def test_tool_exception_gives_its_message_not_a_traceback(tmp_path):
    greet(tmp_path, "def run(p):\n    raise ValueError('bad name given')\n")
    assert failure(tmp_path) == (12, 12, 'Python tool "greet someone" failed with ValueError.',
                                 "bad name given")


def test_missing_function(tmp_path):
    greet(tmp_path, "def other(p):\n    return {}\n")
    line, col, message, why = failure(tmp_path)
    assert (line, col, message) == (12, 12, 'Python tool "greet someone" failed with AttributeError.')
    assert "run" in why and "Traceback" not in why


def test_import_error_inside_the_tool(tmp_path):
    greet(tmp_path, "import no_such_module_here\n\ndef run(p):\n    return {}\n")
    line, col, message, why = failure(tmp_path)
    assert (line, col, message) == (12, 12, 'Python tool "greet someone" failed with ModuleNotFoundError.')
    assert "no_such_module_here" in why


def test_missing_module(tmp_path):
    greet(tmp_path, None, binding=GREET_BINDING.replace("tools.greet", "tools.nothere"))
    line, col, message, why = failure(tmp_path)
    assert (line, col, message) == (12, 12, 'Tool "greet someone" entry module was not found (missing_tool).')
    assert why == (f"Expected a module at {tmp_path / 'tools' / 'nothere.py'} or "
                   f"{tmp_path / 'tools' / 'nothere' / '__init__.py'}.")


def test_timeout_names_the_limit_and_how_to_raise_it(tmp_path):
    greet(tmp_path, "import time\n\ndef run(p):\n    time.sleep(30)\n", extra="  timeout_seconds is 1\n")
    result = run(tmp_path)
    e = result.error
    assert (e.code, e.span.line, e.span.column, e.message) == \
        ("runtime-tool-error", 13, 12, "Python tool execution timed out.")
    assert e.why == 'Tool exceeded 1s timeout (tool "greet someone").'
    assert "timeout_seconds is 2" in e.fix
    assert result.traces[-1]["status"] == "error"


@pytest.mark.parametrize("code,message,why", [
    ("return {}", 'Tool output for "greet someone" is missing required field "message".',
     'The tool declares "message" as text.'),
    ("return {'message': 3}", 'Tool output field "message" must be text.',
     "The value is number, but the tool declares text."),
    ("return [1]", 'Tool output for "greet someone" must be a JSON object.',
     "The output value is list, but fields require an object."),
    ("return None", 'Tool output for "greet someone" must be a JSON object.',
     "The output value is null, but fields require an object."),
    ("return {'message': 'x', 'more': 1}", 'Tool output for "greet someone" has unknown field "more".',
     "The field is not declared in the tool schema."),
])
def test_bad_output(tmp_path, code, message, why):
    greet(tmp_path, f"def run(p):\n    {code}\n")
    assert failure(tmp_path) == (12, 12, message, why)


@pytest.mark.parametrize("lines,message", [
    ('    nme is "x"', 'Tool input for "greet someone" has unknown field "nme".'),
    ("    name is input.n", 'Tool input field "name" must be text.'),
    ("", 'Tool input for "greet someone" is missing required field "name".'),
])
def test_bad_input_is_caught_before_the_tool_runs(tmp_path, lines, message):
    greet(tmp_path, "import pathlib\n\ndef run(p):\n    pathlib.Path('ran').write_text('x')\n    return {'message': 'x'}\n")
    app = (tmp_path / "app.ai").read_text().replace('    name is "Ada"\n', lines + "\n" if lines else "")
    (tmp_path / "app.ai").write_text(app)
    line, col, got, _ = failure(tmp_path, {"n": 1})
    assert (line, col, got) == (12, 12, message)
    assert not (tmp_path / "ran").exists()


def test_errors_are_catchable_by_try(tmp_path):
    app = GREET_APP.format(extra="").replace(
        '  let r is greet someone:\n    name is "Ada"\n  return r\n',
        '  try:\n    let r is greet someone:\n      name is "Ada"\n    return r\n'
        '  with catch err:\n    return "caught"\n')
    make_app(tmp_path, app, "def run(p):\n    raise RuntimeError('boom')\n")
    result = run(tmp_path)
    assert result.ok and result.result == "caught"


def test_a_tool_that_prints_megabytes_completes(tmp_path):
    greet(tmp_path, "import sys\n\ndef run(p):\n    for _ in range(64):\n"
                    "        print('x' * 65536)\n        sys.stderr.write('y' * 65536)\n"
                    "    return {'message': 'done'}\n")
    assert run(tmp_path).result == {"message": "done"}


def test_a_huge_result_fails_cleanly(tmp_path):
    greet(tmp_path, "def run(p):\n    return {'message': 'x' * (9 * 1024 * 1024)}\n")
    line, col, message, _ = failure(tmp_path)
    assert (line, col, message) == (12, 12, 'Python tool "greet someone" returned a result larger than 8 MB.')


@pytest.mark.parametrize("yaml_text,message", [
    ("tools\n  - x\n", "Tool bindings file is invalid."),
    ("tools: [1, 2]\n", "Tool bindings file is invalid."),
    ('tools:\n  "greet someone": "tools.greet:run"\n', "Tool binding 'greet someone' must be an object."),
    ('tools:\n  "greet someone":\n    kind: "python"\n', "Tool binding 'greet someone' is missing 'entry'."),
    ('tools:\n  "greet someone":\n    kind: "ruby"\n    entry: "tools.greet:run"\n',
     "Tool binding 'greet someone' has invalid kind 'ruby'."),
    ('tools:\n  "greet someone":\n    kind: "python"\n    entry: "tools.greet:run"\n    color: "red"\n',
     "Unsupported binding field 'color' for 'greet someone'."),
    ('tools:\n  "greet someone":\n    kind: "python"\n    entry: "tools.greet:run"\n    runner: "bogus"\n',
     "Unknown tool runner 'bogus'."),
    ('tools:\n  "greet someone":\n    kind: "python"\n    entry: "tools.greet.run"\n',
     'Tool "greet someone" entry must be "module:function".'),
    ('tools:\n  "greet someone":\n    kind: "python"\n    entry: "os.path:join"\n',
     'Tool "greet someone" entry must point inside tools/ or built-in packs.'),
    ('tools:\n  other:\n    kind: "python"\n    entry: "tools.greet:run"\n',
     'Tool "greet someone" is not bound to a python entry.'),
])
def test_bindings_file_problems(tmp_path, yaml_text, message):
    greet(tmp_path, "def run(p):\n    return {'message': 'x'}\n", binding=yaml_text)
    result = run(tmp_path)
    assert not result.ok
    assert (result.error.code, result.error.message) == ("runtime-tool-binding", message)


def test_a_malformed_bindings_file_is_named_with_its_line(tmp_path):
    greet(tmp_path, "def run(p):\n    return {'message': 'x'}\n", binding='tools:\n  "a": [\n')
    e = run(tmp_path).error
    assert e.message == "Tool bindings file is invalid."
    assert str(tmp_path / ".namel3ss" / "tools.yaml") in e.why and "line 3" in e.why


def test_a_bindings_file_nested_too_deeply_is_refused_before_yaml_recurses(tmp_path):
    # 100,000 nested lists fit in the size limit; libyaml's composer would recurse per level
    greet(tmp_path, "def run(p):\n    return {'message': 'x'}\n",
          binding="tools: " + "[" * 100_000 + "]" * 100_000 + "\n")
    e = run(tmp_path).error
    assert (e.code, e.message) == ("runtime-tool-binding", "Tool bindings file is invalid.")
    assert "line 1: collections nested more than 1000 levels deep" in e.why


def test_a_runner_other_than_local_is_refused_clearly(tmp_path):
    greet(tmp_path, "def run(p):\n    return {'message': 'x'}\n",
          binding=GREET_BINDING + '    runner: "container"\n')
    e = run(tmp_path).error
    assert e.message == 'Tool "greet someone" uses the container runner, which this runtime does not have.'
    assert "locally only" in e.why


def test_binding_timeout_ms_wins(tmp_path):
    greet(tmp_path, "import time\n\ndef run(p):\n    time.sleep(30)\n",
          binding=GREET_BINDING + "    timeout_ms: 500\n", extra="  timeout_seconds is 20\n")
    e = run(tmp_path).error
    assert (e.message, e.why) == ("Python tool execution timed out.",
                                  'Tool exceeded 0.5s timeout (tool "greet someone").')


@pytest.mark.parametrize("kind,capability", [("http", "http"), ("file", "files")])
def test_without_the_capability_namel3ss_gate_fails_the_call(tmp_path, kind, capability):
    app = GREET_APP.format(extra="").replace("implemented using python", f"implemented using {kind}")
    make_app(tmp_path, app, binding=None)
    e = run(tmp_path).error
    assert (e.code, e.span.line, e.span.column, e.message) == (
        "runtime-capability-missing", 12, 12,
        f'Capability "{capability}" is required for tool "greet someone".')


HTTP_APP = '''spec is "1.0"

capabilities:
  http

tool "fetch page":
  implemented using http
  input:
    url is text
    headers is optional json
  output:
    status is number
    body is text
    json is json

flow "demo":
  let fetched is fetch page:
    url is input.url
    headers is map:
      "X-Demo" is "yes"
  return fetched
'''


@pytest.fixture
def web():
    """A web server on localhost: /data answers JSON (echoing the X-Demo header), /text plain
    text, /redirect-SCHEME a redirect to SCHEME:///etc/passwd, anything else 404."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path.startswith("/redirect-"):
                self.send_response(302)
                self.send_header("Location", self.path[len("/redirect-"):] + ":///etc/passwd")
                self.end_headers()
                return
            if self.path not in ("/data", "/text"):
                self.send_error(404)
                return
            body = (json.dumps({"n": 1.5, "demo": self.headers.get("X-Demo")}) if self.path == "/data"
                    else "plain words").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_tool_get(tmp_path, web):
    make_app(tmp_path, HTTP_APP, binding=None)
    result = run(tmp_path, {"url": f"{web}/data"})
    assert result.ok, result.error
    assert result.result == {"status": 200, "body": '{"n": 1.5, "demo": "yes"}',
                             "json": {"n": Decimal("1.5"), "demo": "yes"}}


@pytest.mark.parametrize("path,message", [
    ("/text", 'HTTP tool "fetch page" expected JSON output.'),
    ("/missing", 'HTTP tool "fetch page" request failed: HTTP Error 404: Not Found'),
    ("/redirect-file", 'HTTP tool "fetch page" request failed: HTTP Error 302: Found - Redirection '
                       "to url 'file:///etc/passwd' is not allowed"),
    ("/redirect-ftp", 'HTTP tool "fetch page" request failed: HTTP Error 302: redirect to a non-web '
                      'address: ftp:///etc/passwd'),
])
def test_http_tool_failures(tmp_path, web, path, message):
    make_app(tmp_path, HTTP_APP, binding=None)
    e = run(tmp_path, {"url": f"{web}{path}"}).error
    assert (e.code, e.span.line, e.span.column, e.message) == ("runtime-tool-error", 17, 18, message)


def test_http_tool_fetches_web_addresses_only(tmp_path):
    make_app(tmp_path, HTTP_APP, binding=None)
    e = run(tmp_path, {"url": "file:///etc/passwd"}).error
    assert e.message == "HTTP url must start with http:// or https://"


def test_a_tool_never_runs_past_the_run_time_limit(tmp_path):
    greet(tmp_path, "import time\n\ndef run(p):\n    time.sleep(30)\n")
    source = (tmp_path / "app.ai").read_text()
    program, _ = parse_source(source, str(tmp_path / "app.ai"))
    result = run_flow(program, None, None, project_dir=tmp_path, limits=Limits(max_seconds=1))
    assert (result.error.code, result.error.message) == ("runtime-limit", "Time limit exceeded (1 seconds).")


FILE_APP = '''spec is "1.0"

capabilities:
  files

tool "save note":
  implemented using file
  input:
    operation is text
    path is text
    content is optional text
  output:
    ok is boolean
    bytes is number

tool "load note":
  implemented using file
  input:
    operation is text
    path is text
  output:
    content is text
    bytes is number

flow "demo":
  let w is save note:
    operation is "write"
    path is input.path
    content is "héllo"
  let r is load note:
    operation is "read"
    path is input.path
  return map:
    w is w
    r is r
'''


def test_file_tools_write_and_read_in_the_app_file_scope(tmp_path):
    """As namel3ss (recorded with the oracle): the file lands in .namel3ss/files/appai/."""
    make_app(tmp_path, FILE_APP, binding=None)
    result = run(tmp_path, {"path": "notes/a.txt"})
    assert result.ok, result.error
    assert result.result == {"w": {"ok": True, "bytes": 6}, "r": {"content": "héllo", "bytes": 6}}
    assert (tmp_path / ".namel3ss" / "files" / "appai" / "notes" / "a.txt").read_text("utf-8") == "héllo"


@pytest.mark.parametrize("path,message", [
    ("../x.txt", "File path must be relative to the app file scope"),
    ("/etc/passwd", "File path must be relative to the app file scope"),
    ("", "File path must be a non-empty string"),
    ("out/x.txt", "File path must stay within the app file scope"),
    ("link.txt", "File path must stay within the app file scope"),
])
def test_file_tools_stay_in_their_scope(tmp_path, path, message):
    make_app(tmp_path, FILE_APP, binding=None)
    scope = tmp_path / ".namel3ss" / "files" / "appai"
    scope.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (scope / "out").symlink_to(outside)
    (scope / "link.txt").symlink_to(outside / "secret.txt")
    (outside / "secret.txt").write_text("secret")
    e = run(tmp_path, {"path": path}).error
    assert (e.span.line, e.span.column, e.message) == (26, 12, message)
    assert (outside / "secret.txt").read_text() == "secret"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_file_tool_read_of_a_missing_file(tmp_path):
    app = FILE_APP.replace("  let w is save note:\n    operation is \"write\"\n    path is input.path\n"
                           "    content is \"héllo\"\n", "  let w is 1\n")
    make_app(tmp_path, app, binding=None)
    e = run(tmp_path, {"path": "nothere.txt"}).error
    assert (e.code, e.span.line, e.message) == ("runtime-tool-error", 27, "File does not exist")


def test_n3_run_end_to_end(tmp_path):
    make_app(tmp_path, ECHO_APP, "def run(payload):\n    print('noise')\n    return {'result': payload}\n",
             binding=ECHO_BINDING, module="echo")
    out = CliRunner().invoke(cli, ["run", str(tmp_path / "app.ai"), "--input",
                                   json.dumps({"payload": {"message": "hi"}})], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {"result": {"payload": {"message": "hi"}}}  # the tool's print is not output


@pytest.mark.parametrize("kind,message", [
    ("node", 'This runtime does not run node tools ("greet someone").'),
    ("banana", 'Tool "greet someone" has unsupported kind "banana".'),
])
def test_kinds_this_runtime_does_not_run(tmp_path, kind, message):
    app = GREET_APP.format(extra="").replace("implemented using python", f"implemented using {kind}")
    make_app(tmp_path, app, binding=None)
    e = run(tmp_path).error
    assert (e.code, e.span.line, e.span.column, e.message) == ("runtime-tool-binding", 12, 12, message)
