"""`n3 lsp`: the language server, on pygls 2.x over stdio.

The server holds the editor's open documents (pygls's workspace) and, per document version,
one ``n3lang.frontend.Analysis``: the same function `n3 check` calls, so the diagnostics an
editor shows are exactly those of `n3 check --json`. Each feature (completion, hover,
navigation, ...) lives in its own module with a ``register(server)`` function that adds its
handlers; they read the analysis through ``N3Server.analysis`` and convert positions through
``n3lang.lsp.positions``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from n3lang import __version__
from n3lang.diagnostics import ERROR, NOTE, WARNING, Diagnostic
from n3lang.frontend import Analysis, analyze
from n3lang.lsp.positions import Lines, to_range
from n3lang.syntax.parser import reuse_declarations

_SEVERITY = {ERROR: T.DiagnosticSeverity.Error, WARNING: T.DiagnosticSeverity.Warning,
             NOTE: T.DiagnosticSeverity.Information}


def path_of(uri: str) -> str:
    """The file path of a ``file:`` URI; other URIs (unsaved buffers) keep their text as a name."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    return uri


def uri_of(path: str) -> str:
    """The ``file:`` URI of a path (as the editor spelled it when it opened the file)."""
    return Path(path).absolute().as_uri() if not path.startswith(("untitled:", "<")) else path


class N3Server(LanguageServer):
    """The n3 language server: open documents, their analyses, what was published where."""

    def __init__(self) -> None:
        super().__init__("n3lang", __version__)
        self._analyses: dict[str, tuple[int | None, Analysis]] = {}
        self._published: dict[str, set[str]] = {}  # document uri -> uris given diagnostics
        self._lines: dict[str, tuple[str, Lines]] = {}  # file -> (its text, its Lines)
        # a keystroke re-parses the declaration it is in, not the file (tests/syntax/test_reuse.py)
        reuse_declarations()

    def analysis(self, uri: str) -> Analysis:
        """The analysis of an open document at its current version (computed once per version)."""
        document = self.workspace.get_text_document(uri)
        cached = self._analyses.get(uri)
        if cached is not None and cached[0] == document.version:
            return cached[1]
        result = analyze(path_of(uri), document.source)
        self._analyses[uri] = (document.version, result)
        return result

    def including(self, uri: str) -> Analysis:
        """The analysis that sees most of the program around document ``uri``: that of an open
        app that includes this file (as the editor holds it), else the document's own."""
        own = self.analysis(uri)
        path = path_of(uri)
        text = own.source
        for other, (_, analysis) in list(self._analyses.items()):
            if other != uri and analysis.sources.get(path) == text and len(analysis.sources) > len(own.sources):
                return analysis
        return own

    def dependents(self, uri: str) -> list[str]:
        """The other open documents whose program reads this document's file (they include it)."""
        path = path_of(uri)
        return [other for other, (_, analysis) in list(self._analyses.items())
                if other != uri and path in analysis.sources]

    def lines(self, analysis: Analysis, file: str) -> Lines:
        """The lines of one file of an analysis, for position conversion (made once per text)."""
        text = analysis.sources.get(file, "")
        cached = self._lines.get(file)
        if cached is None or cached[0] is not text:
            cached = self._lines[file] = (text, Lines(text, self.workspace.position_codec))
        return cached[1]

    def forget(self, uri: str) -> None:
        self._analyses.pop(uri, None)

    def clear(self, uri: str) -> None:
        """Withdraw what was published for a closed document (its own list and its included files')."""
        for target in {uri} | self._published.pop(uri, set()):
            self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=target, diagnostics=[]))

    def publish(self, uri: str) -> None:
        """Publish the document's diagnostics, one list per file they name (an included file's
        problems go to that file), and clear the files that had problems before and have none now."""
        analysis = self.analysis(uri)
        by_uri: dict[str, list[T.Diagnostic]] = {uri: []}
        app = path_of(uri)
        for diagnostic in analysis.diagnostics:
            target = uri if diagnostic.file == app else uri_of(diagnostic.file)
            by_uri.setdefault(target, []).append(self.to_lsp(analysis, diagnostic))
        for stale in self._published.get(uri, set()) - set(by_uri):
            by_uri[stale] = []
        self._published[uri] = {u for u, found in by_uri.items() if found and u != uri}
        for target, found in by_uri.items():
            self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=target, diagnostics=found))

    def to_lsp(self, analysis: Analysis, diagnostic: Diagnostic) -> T.Diagnostic:
        """One diagnostic in the client's terms: range in its position encoding, our code, the
        what (message); why, fix and example travel in ``data`` for hover and quick fixes."""
        return T.Diagnostic(
            range=to_range(self.lines(analysis, diagnostic.file), diagnostic.span),
            message=diagnostic.message,
            severity=_SEVERITY.get(diagnostic.severity, T.DiagnosticSeverity.Error),
            code=diagnostic.code,
            source="n3",
            data={"why": diagnostic.why, "fix": diagnostic.fix, "example": diagnostic.example},
        )


def make_server() -> N3Server:
    """A server with every feature registered."""
    from n3lang.lsp import actions, completion, documents, formatting, hover, navigation, tokens

    server = N3Server()
    for feature in (documents, completion, hover, actions, navigation, tokens, formatting):
        feature.register(server)
    return server


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit."""
    make_server().start_io()
