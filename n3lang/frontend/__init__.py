"""The front end as one pure function: an app file's text to (AST, diagnostics, symbols).

``n3 check`` and ``n3 lsp`` both call ``analyze``, so an editor shows exactly the diagnostics
``n3 check --json`` prints; the server adds no checks of its own. ``text`` is the app file as
the editor holds it (unsaved changes included); files it includes are read from disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from n3lang import ast as A
from n3lang.checker import check_project
from n3lang.diagnostics import Diagnostic
from n3lang.frontend.symbols import Reference, Symbol, SymbolIndex, build_index
from n3lang.syntax.loader import load_project

__all__ = ["Analysis", "Reference", "Symbol", "SymbolIndex", "analyze"]


@dataclass(frozen=True)
class Analysis:
    """What the front end knows of an app: path (the app file), program (None when the file
    cannot be read), diagnostics (sorted by position, each naming its file), sources (file ->
    text, the app file's included), symbols (built on first use: publishing diagnostics after a
    keystroke does not need them)."""

    path: str
    program: A.Program | None
    diagnostics: tuple[Diagnostic, ...]
    sources: Mapping[str, str]
    _symbols: SymbolIndex | None = field(default=None, repr=False, compare=False)

    @property
    def symbols(self) -> SymbolIndex:
        """The symbol index of the program (empty when there is none)."""
        if self._symbols is None:
            index = build_index(self.program, self.sources) if self.program is not None else SymbolIndex()
            object.__setattr__(self, "_symbols", index)
        return self._symbols  # type: ignore[return-value]

    @property
    def source(self) -> str:
        """The app file's text."""
        return self.sources.get(self.path, "")


def analyze(path: str | Path, text: str | None = None) -> Analysis:
    """Load, parse and check the app file ``path`` (its ``text`` when given). Never raises."""
    name = str(path)
    project = load_project(name, text)
    diagnostics = check_project(project, name)
    return Analysis(name, project.program, tuple(diagnostics), dict(project.sources))
