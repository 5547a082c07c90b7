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
