"""§9 tools at run time: bindings, field checks, and running a python tool.

A python tool runs the function its binding names: ``.namel3ss/tools.yaml`` in the app folder
(``tools: "name": {kind: python, entry: "tools.mod:func"}``), or, when there is no such file,
``tools/<tool_name>.py``'s ``run`` (namel3ss's convention). The call's fields are checked
against the tool's ``input:`` block before it runs and its answer against the ``output:``
block after (namel3ss's schema_validate.py, word for word); the function itself runs in a
separate Python process (runtime/tool_runner.py). Every problem is a RuntimeFailure at the
call, in namel3ss's words, catchable by ``try``.

``file`` tools read and write text files in the app's file scope (runtime/tool_files.py),
``http`` tools make one GET request (runtime/tool_http.py), each behind its capability.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from n3lang import ast as A
from n3lang.runtime import tool_files, tool_http
from n3lang.runtime.errors import CAPABILITY_ERROR, TOOL_BINDING_ERROR, TOOL_ERROR, RuntimeFailure
from n3lang.span import Span

#: namel3ss's DEFAULT_TOOL_TIMEOUT_SECONDS (runtime/tools/python_runtime/process.py).
DEFAULT_TIMEOUT_SECONDS = 10
#: tools.yaml is a short file; a bigger one is refused before it is parsed.
MAX_BINDINGS_BYTES = 256 * 1024
BINDINGS_FILE = Path(".namel3ss") / "tools.yaml"

_BINDING_FIELDS = ("kind", "entry", "runner", "url", "image", "command", "env", "purity",
                   "timeout_ms", "sandbox", "enforcement")
_BINDING_KINDS = ("node", "python")
_RUNNERS = ("local", "service", "container", "node")
_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]+")
#: The capability each built-in tool kind needs (namel3ss's _builtin_capability_for_kind).
KIND_CAPABILITY = {"http": "http", "file": "files"}


@dataclass(frozen=True)
class Binding:
    """A tool's binding: kind, entry (``module:function``), runner, timeout_ms."""

    kind: str
    entry: str
    runner: str | None = None
    timeout_ms: int | None = None


class ToolProblem(Exception):
    """A tool problem not yet placed: the call turns it into a RuntimeFailure."""

    def __init__(self, code: str, what: str, why: str, fix: str, example: str) -> None:
        super().__init__(what)
        self.code, self.what, self.why, self.fix, self.example = code, what, why, fix, example

    def at(self, span: Span) -> RuntimeFailure:
        return RuntimeFailure(self.code, self.what, span, why=self.why, fix=self.fix,
                              example=self.example)


# ----------------------------------------------------------------------------- examples
def tool_example(name: str) -> str:
    """namel3ss's example of a tool declaration (its _tool_example)."""
    return (f'tool "{name}":\n  implemented using python\n\n  input:\n    web address is text\n\n'
            "  output:\n    data is json")


def bindings_example(name: str, entry: str = "tools.my_tool:run") -> str:
    return f'tools:\n  "{name}":\n    kind: "python"\n    entry: "{entry}"'


def slug(name: str) -> str:
    """namel3ss's slugify_tool_name: the module name tools/<slug>.py of a tool."""
    text = _NON_ALNUM.sub("_", name.strip()).strip("_").lower() or "tool"
    if not text[0].isalpha() and text[0] != "_":
        text = f"tool_{text}"
    return text


# ----------------------------------------------------------------------------- bindings
def _binding_problem(what: str, why: str, fix: str, example: str) -> ToolProblem:
    return ToolProblem(TOOL_BINDING_ERROR, what, why, fix, example)


def _invalid_file(path: Path, detail: str = "") -> ToolProblem:
    return _binding_problem(
        "Tool bindings file is invalid.",
        f"Expected a tools: mapping in {path.as_posix()}{detail}.",
        "Rewrite the bindings file in the shape of the example.",
        bindings_example("get data from a web address"),
    )


def load_bindings(project_dir: Path) -> dict[str, Binding] | None:
    """The bindings of ``project_dir``'s .namel3ss/tools.yaml; None when there is no file.
    Raises ToolProblem for a file that is too large, not YAML, or not namel3ss's shape."""
    path = project_dir / BINDINGS_FILE
    if not path.is_file():
        return None
    try:
        size = path.stat().st_size
        if size > MAX_BINDINGS_BYTES:
            raise _invalid_file(path, f" (the file is {size} bytes; the limit is "
                                      f"{MAX_BINDINGS_BYTES})")
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _invalid_file(path, f" (it cannot be read as UTF-8 text: {exc})") from None
    import yaml  # only apps with tools read YAML

    from n3lang.yaml_safe import safe_compose_load

    try:
        _, data = safe_compose_load(text)  # nesting bounded before libyaml recurses
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}: {getattr(exc, 'problem', None) or 'not YAML'})" \
            if mark is not None else " (it is not YAML)"
        raise _invalid_file(path, where) from None
    if not isinstance(data, dict) or set(data) != {"tools"} \
            or not isinstance(data["tools"], (dict, type(None))):
        raise _invalid_file(path)
    bindings: dict[str, Binding] = {}
    for name, fields in (data["tools"] or {}).items():
        if not isinstance(name, str) or not name.strip():
            raise _invalid_file(path)
        bindings[name] = _binding(name, fields)
    return bindings


def _binding(name: str, fields: Any) -> Binding:
    example = bindings_example(name)
    if not isinstance(fields, dict):
        raise _binding_problem(f"Tool binding '{name}' must be an object.",
                               "Inline string bindings are no longer supported.",
                               "Use a mapping with kind and entry fields.", example)
    for key in fields:
        if key not in _BINDING_FIELDS:
            raise _binding_problem(
                f"Unsupported binding field '{key}' for '{name}'.",
                "Bindings only support kind, entry, runner, url, image, command, env, purity, "
                "timeout_ms, sandbox, and enforcement.",
                "Remove the unsupported field.", example)
    for key in ("kind", "entry"):
        if not isinstance(fields.get(key), str) or not fields[key]:
            raise _binding_problem(f"Tool binding '{name}' is missing '{key}'.",
                                   "The binding entry is incomplete.", "Add the missing field.",
                                   example)
    kind = fields["kind"]
    if kind not in _BINDING_KINDS:
        raise _binding_problem(f"Tool binding '{name}' has invalid kind '{kind}'.",
                               f"Supported kinds are: {', '.join(_BINDING_KINDS)}.",
                               "Set kind to a supported value.", example)
    runner = fields.get("runner")
    if runner is not None and (not isinstance(runner, str) or not runner):
        raise _binding_problem(f"Tool binding '{name}' has invalid runner.",
                               f"runner must be one of: {', '.join(sorted(_RUNNERS))}.",
                               "Update runner or remove the field.", example)
    timeout_ms = fields.get("timeout_ms")
    if timeout_ms is not None and (type(timeout_ms) is not int or timeout_ms <= 0):
        raise _binding_problem(f"Tool binding '{name}' has invalid timeout_ms.",
                               "timeout_ms must be a positive integer.",
                               "Update timeout_ms or remove the field.", example)
    return Binding(kind, fields["entry"], runner, timeout_ms)


def resolve_binding(project_dir: Path, name: str, bindings: dict[str, Binding] | None) -> Binding:
    """The binding of tool ``name``: from tools.yaml, else (no tools.yaml at all) the
    convention tools/<slug>.py:run; else namel3ss's missing-binding error."""
    found = bindings.get(name) if bindings is not None else None
    if found is None and bindings is None:
        module = slug(name)
        tools = project_dir / "tools"
        if (tools / f"{module}.py").is_file() or (tools / module / "__init__.py").is_file():
            found = Binding("python", f"tools.{module}:run")
    if found is None:
        raise _binding_problem(
            f'Tool "{name}" is not bound to a python entry.',
            "Tool declarations no longer include module paths; bindings live in "
            ".namel3ss/tools.yaml.",
            f'Add the tool to .namel3ss/tools.yaml in the app folder, with the entry '
            f'"module:function" of its Python code under tools/ (e.g. tools/{slug(name)}.py '
            f'with a function run(payload)).',
            bindings_example(name, f"tools.{slug(name)}:run"))
    runner = found.runner or "local"
    if runner not in _RUNNERS:
        raise _binding_problem(f"Unknown tool runner '{runner}'.",
                               "Supported runners are local, service, container, and node.",
                               "Update the binding runner or remove the runner field.",
                               'runner: "local"')
    if runner != "local":
        raise _binding_problem(
            f'Tool "{name}" uses the {runner} runner, which this runtime does not have.',
            "This runtime runs python tools locally only: in a separate Python process on this "
            "machine (runner: local).",
            'Remove the runner field, or set runner: "local".', 'runner: "local"')
    if found.kind != "python":
        raise _binding_problem(f'Tool "{name}" binding kind is "{found.kind}".',
                               "Python tools require python bindings in tools.yaml.",
                               'Set kind to "python" in the binding.', bindings_example(name))
    return found


def check_entry(project_dir: Path, name: str, entry: str) -> None:
    """namel3ss's entry checks (entry_validation.py): ``module:function`` with the module
    under the app's tools/ folder, and its file present."""
    example = bindings_example(name, entry)
    bind_fix = 'Write the entry in .namel3ss/tools.yaml as "tools.my_tool:run" (module:function).'
    if ":" not in entry:
        raise _binding_problem(f'Tool "{name}" entry must be "module:function".',
                               "The entry string is missing a ':' separator.", bind_fix, example)
    module, function = (part.strip() for part in entry.split(":", 1))
    if not module or not function:
        raise _binding_problem(f'Tool "{name}" entry must be "module:function".',
                               "The entry string is missing a module or function name.",
                               bind_fix, example)
    if module != "tools" and not module.startswith("tools."):
        # namel3ss also allows its own built-in packs (namel3ss.tool_packs), which this
        # runtime does not have: a tool runs code of the app's own tools/ folder only.
        raise _binding_problem(f'Tool "{name}" entry must point inside tools/ or built-in packs.',
                               f"Entry module '{module}' is not allowed.",
                               "Use a module under tools/ in the app folder.", example)
    if not all(part.isidentifier() for part in module.split(".")):
        raise _binding_problem(f'Tool "{name}" entry has invalid module path.',
                               f"'{module}' is not a valid Python module path.",
                               "Use dot-separated Python identifiers for the module path.",
                               example)
    if not function.isidentifier():
        raise _binding_problem(f'Tool "{name}" entry has invalid function name.',
                               f"'{function}' is not a valid Python identifier.",
                               "Rename the function or update the binding entry to a valid name.",
                               example)
    target = project_dir.joinpath(*module.split("."))
    if not (target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()):
        raise _binding_problem(
            f'Tool "{name}" entry module was not found (missing_tool).',
            f"Expected a module at {target.with_suffix('.py')} or {target / '__init__.py'}.",
            "Create the module file or update the binding entry.", example)


# ----------------------------------------------------------------------------- fields
def kind_of(value: Any) -> str:
    """namel3ss's _value_kind: a value's type in the words of its tool messages."""
    if value is True or value is False:
        return "boolean"
    if isinstance(value, (Decimal, int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _fits(value: Any, expected: str) -> bool:
    kind = kind_of(value)
    if expected == "json":
        return kind in ("object", "list")
    return kind == expected


def _payload_example(name: str, phase: str, fields: tuple[A.ToolField, ...],
                     highlight: str | None = None) -> str:
    """namel3ss's _tool_payload_example."""
    if not fields:
        return f"let result is {name}:\n  # add fields here\n\n# tool output should return a JSON object"
    samples = {"text": '"value"', "number": "1", "boolean": "true"}
    lines = [f"let result is {name}:"] if phase == "input" else ["return {"]
    for f in fields:
        sample = samples.get(f.type, "{}")
        line = f"  {f.name} is {sample}" if phase == "input" else f'  "{f.name}": {sample},'
        if f.name == highlight:
            line += "  # required"
        lines.append(line)
    if phase == "output":
        lines.append("}")
    return "\n".join(lines)


def check_fields(tool: A.ToolDecl, phase: str, payload: Any) -> None:
    """A payload against the tool's input or output fields (namel3ss's validate_tool_fields:
    the same checks in the same order, the same words). Raises ToolProblem."""
    fields = tool.inputs if phase == "input" else tool.outputs
    name = tool.name

    def problem(what: str, why: str, fix: str, highlight: str | None = None) -> ToolProblem:
        return ToolProblem(TOOL_ERROR, what, why, fix,
                           _payload_example(name, phase, fields, highlight))

    if not isinstance(payload, dict):
        raise problem(f'Tool {phase} for "{name}" must be a JSON object.',
                      f"The {phase} value is {kind_of(payload)}, but fields require an object.",
                      f"Return a JSON object for tool {phase}.")
    declared = {f.name: f for f in fields}
    for key in payload:
        if key not in declared:
            raise problem(f'Tool {phase} for "{name}" has unknown field "{key}".',
                          "The field is not declared in the tool schema.",
                          "Remove the field or add it to the tool declaration.")
    for f in fields:
        if f.required and f.name not in payload:
            raise problem(f'Tool {phase} for "{name}" is missing required field "{f.name}".',
                          f'The tool declares "{f.name}" as {f.type}.',
                          "Add the field to the tool payload or mark it optional.", f.name)
    for f in fields:
        if f.name in payload and not _fits(payload[f.name], f.type):
            raise problem(f'Tool {phase} field "{f.name}" must be {f.type}.',
                          f"The value is {kind_of(payload[f.name])}, but the tool declares {f.type}.",
                          f'Provide a {f.type} value for "{f.name}".', f.name)


# ----------------------------------------------------------------------------- calls
def require_kind(tool: A.ToolDecl, capabilities: frozenset[str], span: Span) -> None:
    """Tools this runtime cannot run fail here, in namel3ss's words where it has them."""
    if tool.kind == "python":
        return
    needed = KIND_CAPABILITY.get(tool.kind)
    if tool.kind == "node":
        raise RuntimeFailure(
            TOOL_BINDING_ERROR, f'This runtime does not run node tools ("{tool.name}").', span,
            why="namel3ss runs `implemented using node` tools with Node.js; this runtime runs "
                "python, http and file tools.",
            fix="Implement the tool in Python (`implemented using python`, bound in "
                ".namel3ss/tools.yaml), or run the app with namel3ss.",
            example=tool_example(tool.name))
    if needed is None:
        raise RuntimeFailure(
            TOOL_BINDING_ERROR, f'Tool "{tool.name}" has unsupported kind "{tool.kind}".', span,
            why="Only python, node, http, and file tools can be called directly from flows.",
            fix="Declare the tool with `implemented using python`, `implemented using node`, "
                "`implemented using http`, or `implemented using file` before calling it.",
            example=tool_example(tool.name))
    if needed not in capabilities:
        raise RuntimeFailure(
            CAPABILITY_ERROR, f'Capability "{needed}" is required for tool "{tool.name}".', span,
            why="Built-in backend capabilities are deny-by-default.",
            fix="Add the capability to the app capabilities block.",
            example=f"capabilities:\n  {needed}")


def timeout_of(tool: A.ToolDecl, binding: Binding) -> float:
    """Seconds a call may take: the binding's timeout_ms, else the tool's timeout_seconds,
    else namel3ss's default (10)."""
    if binding.timeout_ms is not None:
        return binding.timeout_ms / 1000
    return float(tool.timeout_seconds or DEFAULT_TIMEOUT_SECONDS)


def _seconds(value: float) -> str:
    return f"{value:g}"


def run_failure(tool: A.ToolDecl, exc: Any, timeout: float, limit_bytes: int) -> ToolProblem:
    """A ToolRunError (runtime/tool_runner.py) in namel3ss's words."""
    name = tool.name
    fix = "Fix the tool implementation in tools/ and try again."
    example = tool_example(name)
    kind = exc.kind
    if kind in ("exception", "import"):
        exc_type = exc.exc_type or ("ImportError" if kind == "import" else "Exception")
        return ToolProblem(TOOL_ERROR, f'Python tool "{name}" failed with {exc_type}.',
                           exc.message or "The tool function raised an exception during execution.",
                           fix, example)
    if kind == "timeout":
        return ToolProblem(
            TOOL_ERROR, "Python tool execution timed out.",
            f'Tool exceeded {_seconds(timeout)}s timeout (tool "{name}").',
            f"Increase timeout_seconds or optimize the tool: `timeout_seconds is "
            f"{max(int(timeout) * 2, 2)}` in its declaration raises the limit.",
            f'tool "{name}":\n  implemented using python\n  timeout_seconds is '
            f'{max(int(timeout) * 2, 2)}')
    tail = (exc.output_tail or "").strip()
    said = f" Its last output: {tail[-400:]}" if tail else ""
    if kind == "too_large":
        return ToolProblem(
            TOOL_ERROR, f'Python tool "{name}" returned a result larger than '
                        f'{limit_bytes // (1024 * 1024)} MB.',
            f"{exc.message}", "Return a smaller result (send large data through files or "
                              "records instead).", example)
    if kind == "start":
        return ToolProblem(TOOL_ERROR, f'Python tool "{name}" could not be started.',
                           f"{exc.message}{said}",
                           "Check the app's Python (.venv/bin/python in the app folder, else the "
                           "one running n3).", example)
    return ToolProblem(TOOL_ERROR, f'Python tool "{name}" did not answer properly.',
                       f"{exc.message}{said}",
                       "The tool process ended without returning a value: make sure the tool "
                       "returns instead of exiting, and does not close its standard streams.",
                       example)


def call_file_tool(project_dir: Path, app_file: str, tool: A.ToolDecl, payload: dict) -> dict:
    """Run a file tool (runtime/tool_files.py) with namel3ss's checks around it, in its
    order: the declaration's fields, the input, the operation, the output."""
    try:
        tool_files.check_declaration(tool)
        check_fields(tool, "input", payload)
        result = tool_files.run_file_tool(project_dir, app_file, tool, payload)
    except tool_files.FileToolProblem as p:
        raise ToolProblem(p.code, p.what, p.why, p.fix, p.example) from None
    check_fields(tool, "output", result)
    return result


def call_http_tool(tool: A.ToolDecl, payload: dict, max_seconds: float | None) -> dict:
    """Run an http tool (runtime/tool_http.py) with namel3ss's checks around it."""
    try:
        tool_http.check_declaration(tool)
        check_fields(tool, "input", payload)
        result = tool_http.run_http_tool(tool, payload, max_seconds or float("inf"))
    except tool_http.HttpToolProblem as p:
        raise ToolProblem(p.code, p.what, p.why, p.fix, p.example) from None
    check_fields(tool, "output", result)
    return result


def call_python_tool(project_dir: Path, tool: A.ToolDecl, payload: dict,
                     bindings: dict[str, Binding] | None, trace: dict,
                     max_seconds: float | None = None) -> Any:
    """Run a python tool with a checked payload; return its checked answer. Fills ``trace``
    (entry, timeout_ms) as it goes; ``max_seconds`` (what is left of the run's time limit)
    caps the tool's timeout. Raises ToolProblem."""
    from n3lang.runtime import tool_runner  # the process runner: only when a tool runs

    binding = resolve_binding(project_dir, tool.name, bindings)
    check_fields(tool, "input", payload)
    check_entry(project_dir, tool.name, binding.entry)
    timeout = timeout_of(tool, binding)
    trace["entry"] = binding.entry
    trace["timeout_ms"] = int(timeout * 1000)
    if max_seconds is not None:
        timeout = max(min(timeout, max_seconds), 0.001)
    limit = 8 * 1024 * 1024
    try:
        result = tool_runner.run_python_tool(project_dir, binding.entry, payload,
                                             timeout_seconds=timeout, max_result_bytes=limit)
    except tool_runner.ToolRunError as exc:
        trace["error_type"] = exc.kind if exc.kind not in ("exception", "import") \
            else (exc.exc_type or exc.kind)
        raise run_failure(tool, exc, timeout, limit) from None
    check_fields(tool, "output", result)
    return result
