"""`n3 run`: parse and check an app, run one flow, print its result.

Results go to stdout (a readable rendering, or with --json the payload
``{"ok", "result", "state", "traces"}`` with numbers written exactly); problems are rendered
with the shared caret renderer on stderr (with --json, as JSON on stdout with ``ok: false``).
Exit 0 on success, 1 when the app, its input or the run fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from n3lang.cli.common import EXIT_OK, EXIT_USER_ERROR, echo, fail, json_option, json_text
from n3lang.diagnostics import Diagnostic, make

MAX_INPUT_BYTES = 64 << 20  # --input @file
MAX_JSON_DIGITS = 4300  # Python's default int-string limit: json.loads refuses longer integers


def _longest_number(value) -> int:
    """The most digits of any number in a to_json_value payload (containers walked once each,
    without recursion)."""
    longest = 0
    stack = [value]
    seen: set[int] = set()
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple, dict)):
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.extend(v.values() if isinstance(v, dict) else v)
        elif isinstance(v, float):  # exact decimals are float subclasses carrying their text
            text = getattr(v, "text", "")
            longest = max(longest, sum(ch.isdigit() for ch in text.partition("E")[0].partition("e")[0]))
        elif isinstance(v, int) and not isinstance(v, bool):
            longest = max(longest, 1 if v == 0 else (v.bit_length() * 30103) // 100000 + 1)
    return longest


def _input_error(message: str, option: str = "--input", why: str | None = None) -> Diagnostic:
    from n3lang.runtime.errors import INPUT_ERROR

    return make(INPUT_ERROR, message, file=option, why=why)


def read_identity(text: str | None, environ=None):
    """The identity (LANGUAGE.md §9): N3_IDENTITY_JSON (a JSON object), else the
    N3_IDENTITY_<FIELD> variables (lower-cased field names, text values), else --identity
    (JSON text or @file.json, an object). Returns (dict or None, diagnostic)."""
    import os

    from n3lang.runtime.values import parse_json_text

    env = os.environ if environ is None else environ
    raw = env.get("N3_IDENTITY_JSON")
    if raw:
        try:
            value = parse_json_text(raw)
        except (ValueError, RecursionError) as exc:
            return None, _input_error("Identity JSON is invalid.", "N3_IDENTITY_JSON",  # namel3ss's words
                                      why=f"Parsing N3_IDENTITY_JSON failed: {exc}.")
        if not isinstance(value, dict):
            return None, _input_error("Identity JSON is invalid.", "N3_IDENTITY_JSON",
                                      why="Parsing N3_IDENTITY_JSON failed: Expected a JSON object.")
        return value, None
    fields = {key[len("N3_IDENTITY_"):].lower(): v for key, v in env.items()
              if key.startswith("N3_IDENTITY_") and key != "N3_IDENTITY_JSON"
              and len(key) > len("N3_IDENTITY_")}
    if fields:
        return fields, None
    if text is None:
        return None, None
    value, problem = read_input(text, "--identity")
    if problem is None and not isinstance(value, dict):
        return None, _input_error("The identity in --identity is not a JSON object", "--identity")
    return value, problem


def read_input(text: str | None, option: str = "--input"):
    """The flow input from --input: JSON text, or @file.json. Returns (value, diagnostic)."""
    from n3lang.runtime.values import parse_json_text

    if text is None:
        return {}, None
    what = "an identity" if option == "--identity" else "a flow input"
    where = option
    if text.startswith("@"):
        from n3lang.training import files

        where = text[1:]
        try:  # a regular file within the limit: never a FIFO (blocks) or /dev/zero (never ends)
            text = files.read_limited(where, MAX_INPUT_BYTES).decode("utf-8")
        except files.TooLarge as exc:
            return None, _input_error(f"Cannot read input file '{where}': it is {exc.size} bytes, over the "
                                      f"{MAX_INPUT_BYTES}-byte limit of {what}", option)
        except files.NotRegularFile as exc:
            return None, _input_error(f"Cannot read input file '{where}': it {exc.strerror}", option)
        except UnicodeDecodeError as exc:
            return None, _input_error(f"Cannot read input file '{where}': it is not UTF-8 text (byte offset "
                                      f"{exc.start})", option)
        except (OSError, ValueError) as exc:
            return None, _input_error(f"Cannot read input file '{where}': {getattr(exc, 'strerror', None) or exc}", option)
    try:
        return parse_json_text(text), None
    except ValueError as exc:
        return None, _input_error(f"The input in {where} is not valid JSON: {exc}", option)
    except RecursionError:
        return None, _input_error(f"The input in {where} is nested too deeply", option)


@click.command()
@click.argument("app", required=False, default="app.ai", metavar="[APP.ai]")
@click.argument("flow_arg", required=False, default=None, metavar="[FLOW]")
@click.option("--flow", "flow_name", default=None, metavar="NAME",
              help="The flow to run (required when the app has several); may also be given "
                   "as the second argument.")
@click.option("--input", "input_text", default=None, metavar="JSON|@FILE",
              help="The flow input: JSON text, or @file.json.")
@click.option("--identity", "identity_text", default=None, metavar="JSON|@FILE",
              help="The identity (a JSON object, or @file.json) when N3_IDENTITY_JSON and "
                   "N3_IDENTITY_<FIELD> are not set.")
@click.option("--state", "state_path", default=None, metavar="FILE|URL",
              help="Where state and records persist across runs: a SQLite file, or a PostgreSQL "
                   "database as postgresql://USER@HOST[:PORT]/DATABASE (needs the postgres extra) "
                   "(default: in memory).")
@click.option("--time-limit", "time_limit", default=2.0, show_default=True, metavar="SECONDS",
              type=click.FloatRange(min=0, min_open=True, max=1e9),
              help="Stop a run that takes longer (a safety net against loops that never end; "
                   "results never depend on it).")
@json_option
def run(app: str, flow_arg: str | None, flow_name: str | None, input_text: str | None,
        identity_text: str | None, state_path: str | None, time_limit: float, as_json: bool) -> None:
    """Run a flow of an app (default: ./app.ai) and print its result.

    \b
    The flow is the app's only flow, or the one named by FLOW or --flow.
    \b
    --json prints {"ok", "result", "state", "traces"} with exact numbers.
    Exit 0 on success, 1 when the app does not check or the run fails.
    """
    if flow_arg is not None:
        if flow_name is not None and flow_name != flow_arg:
            raise click.UsageError(f"Two different flows given: '{flow_arg}' and --flow '{flow_name}'.")
        flow_name = flow_arg
    from n3lang.runtime import Limits, run_flow
    from n3lang.runtime.values import display, dumps
    from n3lang.syntax.loader import load_project

    project = load_project(app)  # the app file and the files it includes or uses (§9)
    program, diagnostics, source = project.program, list(project.diagnostics), project.sources[app]
    if program is not None and not any(d.is_error for d in diagnostics):
        from n3lang.checker import check_program

        diagnostics.extend(check_program(program, project_dir=Path(app).resolve().parent))
    errors = [d for d in diagnostics if d.is_error]
    if program is None or errors:
        fail(errors or diagnostics, as_json, project.sources)

    value, problem = read_input(input_text)
    if problem is not None:
        fail([problem], as_json, {})

    identity, problem = read_identity(identity_text)
    if problem is not None:
        fail([problem], as_json, {})

    outcome = run_flow(program, flow_name, value, state_path=state_path, source=source, identity=identity,
                       project_dir=Path(app).resolve().parent,
                       limits=Limits(max_seconds=time_limit))
    try:
        payload = outcome.to_json() if as_json else None
        digits = _longest_number(payload) if as_json else 0
        if digits > MAX_JSON_DIGITS:
            from n3lang.runtime.errors import LIMIT_ERROR

            fail([make(LIMIT_ERROR, f"The result holds a number of {digits} digits; --json writes numbers of at "
                                    f"most {MAX_JSON_DIGITS} digits (Python's json module, and many others, "
                                    "cannot read longer ones back).", file=app,
                       fix="Print the result without --json, or return such a number as text.")], as_json, {})
        text = dumps(payload) if as_json else (
            display(outcome.result) if outcome.ok else None)
    except RecursionError:
        from n3lang.runtime.errors import LIMIT_ERROR

        fail([make(LIMIT_ERROR, "The result is nested too deeply to print.", file=app)],
             as_json, {})
    if as_json:
        assert text is not None  # dumps() always gives text
        click.echo(json_text(text))
        sys.exit(EXIT_OK if outcome.ok else EXIT_USER_ERROR)
    if not outcome.ok:
        assert outcome.error is not None  # a failed run carries its diagnostic
        fail([outcome.error], False, project.sources)
    assert text is not None  # a run that succeeded has its result displayed
    echo(text)
    sys.exit(EXIT_OK)
