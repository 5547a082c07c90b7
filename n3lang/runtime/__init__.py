"""The runtime: run one flow of a parsed program and return its result, state and traces.

``run_flow`` never raises for problems in the program or its input: they come back as
``RunResult.error`` (a Diagnostic with the span of the failing statement or expression).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import localcontext
from pathlib import Path
from typing import Any, Callable

from n3lang import ast as A
from n3lang.diagnostics import Diagnostic, make
from n3lang.runtime.errors import (
    FLOW_ERROR,
    INPUT_ERROR,
    LIMIT_ERROR,
    STATE_ERROR,
    GuardFailure,
    RuntimeFailure,
)
from n3lang.runtime.interpreter import Interpreter
from n3lang.runtime.limits import Limits, output_problem
from n3lang.runtime.records import RecordStore, SQLiteStore, StoreBusy, StoreError, describe_location, open_store
from n3lang.runtime.values import CONTEXT, dumps, from_json, to_json_value

__all__ = ["run_flow", "RunResult", "Limits", "to_json_value", "dumps", "RecordStore",
           "SQLiteStore", "select_flow"]


@dataclass
class RunResult:
    """The outcome of one run: ok, result, state, traces and error (a Diagnostic or None)."""

    ok: bool
    result: Any = None
    state: dict = field(default_factory=dict)
    traces: list = field(default_factory=list)
    error: Diagnostic | None = None

    def to_json(self) -> dict:
        """The `n3 run --json` payload, with numbers ready for exact output (values.dumps)."""
        state: dict | None = self.state
        if not self.ok and output_problem(state, Limits.max_value_depth) is not None:
            state = None  # a failed run's state that JSON cannot carry (the error says why)
        payload = {
            "ok": self.ok,
            "result": to_json_value(self.result),
            "state": to_json_value(state),
            "traces": to_json_value(self.traces),
        }
        if self.error is not None:
            payload["error"] = self.error.to_json()
            payload["diagnostics"] = [self.error.to_json()]
        return payload


def select_flow(program: A.Program, flow_name: str | None) -> A.FlowDecl | Diagnostic:
    """The flow to run: the named one, or the only one; else a diagnostic listing them."""
    flows = program.of_type(A.FlowDecl)
    names = ", ".join(f'"{f.name}"' for f in flows) or "none"
    if flow_name is None:
        if len(flows) == 1:
            return flows[0]
        if not flows:
            return make(FLOW_ERROR, "This app has no flow to run", A.UNKNOWN, program.path,
                        why="`n3 run` runs a flow, and the app declares none.",
                        example='flow "demo":\n  return "ok"')
        return make(FLOW_ERROR, f"This app has several flows; choose one with --flow: {names}",
                    flows[0].name_span if flows[0].name_span.line else flows[0].span,
                    program.path)
    for f in flows:
        if f.name == flow_name:
            return f
    return make(FLOW_ERROR, f"Unknown flow '{flow_name}'. Flows in this app: {names}",
                A.UNKNOWN, "--flow")


def _busy_or(exc: Exception, words: str) -> str:
    """How a state-store message starts: "Cannot use" when another run holds the file."""
    return "Cannot use" if isinstance(exc, StoreBusy) else words


def _store_failure(exc: StoreError, message: str, file: str) -> Diagnostic:
    """A store problem as a diagnostic: its own code and advice when it has them (a PostgreSQL
    URL, connection or schema problem), else runtime-state-error's."""
    return make(exc.code or STATE_ERROR, message, A.UNKNOWN, file, why=exc.why, fix=exc.fix)


def _quiet_rollback(store: RecordStore) -> None:
    try:
        store.rollback()
    except StoreError:
        pass


def run_flow(
    program: A.Program,
    flow_name: str | None,
    input_value: Any = None,
    *,
    state_path: str | Path | None = None,
    source: str = "",
    project_dir: str | Path | None = None,
    limits: Limits | None = None,
    predictor_loader: Callable[[Path, str], Any] | None = None,
    store: RecordStore | None = None,
    identity: dict | None = None,
) -> RunResult:
    """Run one flow. State and records persist in ``state_path`` when given: a SQLite file, or a
    PostgreSQL database named by a postgresql:// URL."""
    file = program.path
    flow = select_flow(program, flow_name)
    if isinstance(flow, Diagnostic):
        return RunResult(ok=False, error=flow)
    file = program.file_of(flow)  # a flow of an included file reports errors in that file
    try:
        value = {} if input_value is None else from_json(input_value)
    except (TypeError, RecursionError) as exc:
        return RunResult(ok=False, error=make(INPUT_ERROR, f"Invalid flow input: {exc}",
                                              A.UNKNOWN, file))
    try:
        who = {} if identity is None else from_json(identity)
    except (TypeError, RecursionError) as exc:
        return RunResult(ok=False, error=make(INPUT_ERROR, f"Invalid identity: {exc}", A.UNKNOWN, file))
    own_store = store is None
    # "state file 'app.db'", or "state database 'postgresql://app@db/app'" (never the password)
    label, shown = describe_location(None if state_path is None else str(state_path))
    if own_store:
        try:
            store = open_store(None if state_path is None else str(state_path))
        except StoreError as exc:
            return RunResult(ok=False, error=_store_failure(exc, f"{_busy_or(exc, 'Cannot open')} {label}: {exc}",
                                                            shown))
    assert store is not None
    interp = Interpreter(program, store, limits=limits,
                         project_dir=Path(project_dir) if project_dir is not None else None,
                         predictor_loader=predictor_loader, identity=who)
    try:
        with localcontext(CONTEXT):
            try:
                state = store.load_state()
            except StoreError as exc:
                return RunResult(ok=False, error=_store_failure(
                    exc, f"{_busy_or(exc, 'Cannot read')} {label}: {exc}", shown))
            try:
                result = interp.run(flow, value, state)
                depth_limit = interp.limits.max_value_depth
                for what, v in (("result", result), ("state", interp.state)):
                    problem = output_problem(v, depth_limit)  # each shared part walked once
                    if problem is not None:
                        raise GuardFailure(LIMIT_ERROR, f"The flow's {what} {problem}.", flow.span)
                    interp.meter.check(*interp.meter.size(v), flow.span)
                store.save_state(interp.state)
                store.commit()
            except StoreError as exc:
                _quiet_rollback(store)
                return RunResult(ok=False, state=interp.state, traces=interp.finish_traces(),
                                 error=_store_failure(exc, f"The state store failed: {exc}"
                                                      if not isinstance(exc, StoreBusy) else
                                                      f"Cannot use {label}: {exc}",
                                                      shown if state_path else str(file)))
            except RuntimeFailure as failure:
                _quiet_rollback(store)
                return RunResult(ok=False, state=interp.state, traces=interp.finish_traces(),
                                 error=failure.to_diagnostic(failure.file or file))
            except RecursionError:
                _quiet_rollback(store)
                guard = GuardFailure(LIMIT_ERROR, "The program is nested too deeply to run.",
                                     flow.span)
                return RunResult(ok=False, state=interp.state, traces=interp.finish_traces(),
                                 error=guard.to_diagnostic(file))
            except MemoryError:
                _quiet_rollback(store)
                guard = GuardFailure(LIMIT_ERROR, "The run ran out of memory.", flow.span)
                return RunResult(ok=False, state=interp.state, traces=interp.finish_traces(),
                                 error=guard.to_diagnostic(file))
        return RunResult(ok=True, result=result, state=interp.state, traces=interp.finish_traces())
    finally:
        if own_store:
            store.close()
