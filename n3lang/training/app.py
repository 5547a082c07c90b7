"""Finding the app, and the `training` capability gate (TRAINING.md section 7).

Training sits below the language front end, so it never parses: the caller (the CLI) passes
the parser in, ``parse(path) -> (program or None, diagnostics, source)``, i.e.
``n3lang.syntax.parse_file``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from n3lang.diagnostics import DiagnosticError
from n3lang.training import errors

APP_FILE = "app.ai"
Parse = Callable[[Path], Any]  # n3lang.syntax.parse_file


def find_app(start: Path) -> Path | None:
    """./app.ai, else the nearest parent directory holding app.ai."""
    start = Path(start).resolve()
    for d in (start, *start.parents):
        candidate = d / APP_FILE
        if candidate.is_file():
            return candidate
    return None


@dataclass
class AppInfo:
    """What training needs from the app: its path, directory, capabilities and model blocks."""

    path: Path
    display: str
    capabilities: tuple[str, ...]
    models: list = field(default_factory=list)  # ModelDecl nodes

    @property
    def project_dir(self) -> Path:
        return self.path.parent


def load_app(path: Path, parse: Parse, display: str | None = None) -> AppInfo:
    """Parse the app and collect capabilities and model blocks (DiagnosticError when unusable)."""
    from n3lang.ast import ModelDecl

    display = display or path.name
    program, diagnostics, _source = parse(path)
    errs = [d for d in diagnostics if d.is_error]
    if program is None or errs:
        raise DiagnosticError(errs or [errors.error(errors.APP_INVALID, f"{display} could not be parsed", display)])
    return AppInfo(path, display, tuple(program.capabilities), program.of_type(ModelDecl))


def resolve_app(app_arg: str | None, cwd: Path, parse: Parse) -> AppInfo:
    """The app for `n3 train`: the given path, else found from ``cwd``; checks the gate."""
    path: Path | None
    if app_arg:
        path = (cwd / app_arg) if not Path(app_arg).is_absolute() else Path(app_arg)
        if path.is_dir():
            path = path / APP_FILE
        if not path.is_file():
            raise errors.fail(errors.APP_MISSING, f"app file {app_arg} does not exist", app_arg)
        display = app_arg
    else:
        path = find_app(cwd)
        if path is None:
            raise errors.fail(
                errors.APP_MISSING,
                "no app.ai found in this directory or any parent directory; training is enabled "
                "per app by its `training` capability",
                APP_FILE)
        try:
            display = str(path.relative_to(cwd.resolve()))
        except ValueError:
            display = str(path)
    info = load_app(path, parse, display)
    check_gate(info)
    return info


def check_gate(info: AppInfo) -> None:
    if "training" not in info.capabilities:
        have = ", ".join(info.capabilities) if info.capabilities else "none"
        raise errors.fail(
            errors.CAPABILITY_MISSING,
            f"{info.display} does not declare the `training` capability (declared: {have}), "
            "so `n3 train` stops before reading any data",
            info.display)
