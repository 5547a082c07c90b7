"""pytest-lsp drives the real `n3 lsp` over stdio, as VS Code and as Neovim would.

``client`` is one started server per test module and client kind (its capabilities are those
the real editor sends); ``LspSpecificationWarning`` is an error in every test here, so a
response that breaks the protocol fails the test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "n3lang.cli.main", "lsp"]
CLIENTS = ["visual-studio-code", "neovim"]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=CLIENTS, scope="module")
async def client(request, lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    result = await lsp_client.initialize_session(
        T.InitializeParams(capabilities=client_capabilities(request.param), root_uri=root.as_uri(),
                           workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name="workspace")])
    )
    lsp_client.root = root  # type: ignore[attr-defined]
    # the position encoding the server chose from the client's offer (UTF-16 when none)
    lsp_client.encoding = result.capabilities.position_encoding or "utf-16"  # type: ignore[attr-defined]
    lsp_client.server_capabilities = result.capabilities  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


#: Where the cursor is in a table's document text; stripped before the text is sent.
CURSOR = "‸"


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


class Documents:
    """Opens table documents in one client: each under a new file name, the cursor marker
    stripped and its position given in the client's negotiated encoding."""

    count = 0  # over the session: every document gets a file of its own

    def __init__(self, client: LanguageClient) -> None:
        self.client = client

    def open(self, marked: str, name: str | None = None) -> tuple[str, T.Position]:
        """Open ``marked`` (text holding one CURSOR): (uri, the cursor's position)."""
        index = marked.index(CURSOR)
        text = marked.replace(CURSOR, "")
        before = text[:index]
        line = before.count("\n")
        column_text = before[before.rfind("\n") + 1:]
        Documents.count += 1
        path = self.client.root / (name or f"doc{Documents.count}") / "app.ai"  # type: ignore[attr-defined]
        path.parent.mkdir(parents=True, exist_ok=True)
        uri = path.as_uri()
        self.client.text_document_did_open(T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=uri, language_id="n3", version=1, text=text)))
        position = T.Position(line=line, character=_units(column_text, self.client.encoding))  # type: ignore[attr-defined]
        return uri, position

    def position(self, text: str, line: int, column: int) -> T.Position:
        """The client position of our 1-based (line, column) in ``text``."""
        line_text = text.split("\n")[line - 1]
        return T.Position(line=line - 1, character=_units(line_text[: column - 1], self.client.encoding))  # type: ignore[attr-defined]


@pytest.fixture
def documents(client: LanguageClient) -> Documents:
    return Documents(client)
