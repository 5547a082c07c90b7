"""Document life cycle: diagnostics on open, change and save; a closed document is forgotten
and its diagnostics withdrawn."""

from __future__ import annotations

from lsprotocol import types as T

from n3lang.lsp.server import N3Server


def register(server: N3Server) -> None:
    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: N3Server, params: T.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: N3Server, params: T.DidChangeTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: N3Server, params: T.DidSaveTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)  # an included file may have changed on disk
        ls.publish(params.text_document.uri)
        for other in ls.dependents(params.text_document.uri):  # the apps that include this file
            ls.forget(other)
            ls.publish(other)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: N3Server, params: T.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)
        ls.clear(params.text_document.uri)
