"""yaml-language-server (the npm package behind VS Code's YAML extension, and what Neovim and
Helix run for YAML) reads our schemas as an editor user meets them: through the modeline on
line 1 of training.yaml and models_registry.yaml, or through the `yaml.schemas` setting shown in
README's Editors section. pytest-lsp drives the real server over stdio as VS Code, with
LspSpecificationWarning an error. One server per module (per xdist worker).

The server comes from tests/editors/yaml/package-lock.json: `npm ci --prefix tests/editors/yaml`
(.ci/run does it). Without Node or that install the module is skipped, saying which.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from click.testing import CliRunner
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from n3lang.cli.main import cli
from n3lang.training import registry

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tests" / "editors" / "yaml"
SERVER = PACKAGE / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
NODE = shutil.which("node")

if NODE is None:
    pytest.skip("Node.js is not installed, and yaml-language-server runs on it: apt-get install nodejs npm, "
                f"then npm ci --prefix {PACKAGE.relative_to(ROOT)}", allow_module_level=True)
if not SERVER.is_file():
    pytest.skip(f"yaml-language-server is not installed: npm ci --prefix {PACKAGE.relative_to(ROOT)}",
                allow_module_level=True)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]


def schema(name: str) -> dict:
    return json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))


TRAINING = schema("training-config")
REGISTRY_MODEL = schema("registry")["definitions"]["model"]
MODELINE = "# yaml-language-server: $schema=.n3/schemas/training-config.schema.json\n"  # as README says
# The `yaml` settings VS Code's YAML extension sends, less the schema store: the tests must not
# reach the network, and our schemas come from the modeline or `yaml.schemas` (none here: the
# server keeps the last `schemas` it saw unless told there are none).
SETTINGS = {"yaml": {"validate": True, "hover": True, "completion": True, "schemaStore": {"enable": False},
                     "schemas": {}}}
SCHEMAS_CHANGED = asyncio.Event()  # set when the server asks for a code lens refresh


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A project as README sets it up: the schemas written with `n3 schema --write .n3/schemas`."""
    root = tmp_path_factory.mktemp("project")
    assert CliRunner().invoke(cli, ["schema", "--write", str(root / ".n3" / "schemas")]).exit_code == 0
    return root


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[NODE, str(SERVER), "--stdio"]))
async def client(lsp_client: LanguageClient, workspace: Path):
    lsp_client.set_configuration(SETTINGS)

    # VS Code answers these two requests; pytest-lsp's client has no handler for them. The server
    # listens for settings changes once the client has accepted its registration, and asks for a
    # code lens refresh once new settings have changed its schemas (reconfigure waits for both).
    listening = asyncio.Event()

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        if any(r.method == types.WORKSPACE_DID_CHANGE_CONFIGURATION for r in params.registrations):
            listening.set()

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(params: None) -> None:
        SCHEMAS_CHANGED.set()

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=workspace.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
    ))
    await asyncio.wait_for(listening.wait(), timeout=30)
    yield
    await lsp_client.shutdown_session()


async def reconfigure(client: LanguageClient, settings: dict) -> None:
    """Change the client's settings as VS Code does (the server pulls them on the notification)
    and wait until the server has applied them."""
    SCHEMAS_CHANGED.clear()
    client.set_configuration(settings)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.wait_for(SCHEMAS_CHANGED.wait(), timeout=30)


def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    """Open ``path`` in the server (with ``text`` written to it first, if given); its URI."""
    if text is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="yaml", version=1, text=path.read_text(encoding="utf-8"))))
    return uri


def close_file(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))


async def completion(client: LanguageClient, uri: str, line: int, character: int) -> list[types.CompletionItem]:
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))
    return list(result.items if isinstance(result, types.CompletionList) else result or [])


def documentation(item: types.CompletionItem) -> str | None:
    doc = item.documentation
    return doc.value if isinstance(doc, types.MarkupContent) else doc


async def hover(client: LanguageClient, uri: str, line: int, character: int) -> tuple[str, str, str]:
    """(heading, description, source) of the hover at a position. The server writes Markdown:
    a heading, the description with Markdown's characters escaped, the examples, and a link
    to the schema file it used."""
    result = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))
    assert result is not None and isinstance(result.contents, types.MarkupContent), result
    paragraphs = result.contents.value.split("\n\n")
    return paragraphs[0], re.sub(r"\\(.)", r"\1", paragraphs[1]), paragraphs[-1]


async def diagnostics(client: LanguageClient, uri: str) -> list[tuple[str, int, int, str]]:
    """(message, line, character, severity) of what the server publishes for ``uri`` once it has
    validated it against its schema."""
    async def published():
        while uri not in client.diagnostics:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    await asyncio.wait_for(published(), timeout=30)
    return [(d.message, d.range.start.line, d.range.start.character, d.severity.name if d.severity else "")
            for d in client.diagnostics[uri]]


def key_positions(text: str) -> dict[str, tuple[int, int]]:
    """Top-level key -> (line, character) of its first letter."""
    return {m.group(1): (n, 0) for n, line in enumerate(text.splitlines()) if (m := re.match(r"(\w+):", line))}


async def test_completion_on_the_empty_line_after_the_modeline_offers_every_key_with_its_description(client, workspace):
    uri = open_file(client, workspace / "training.yaml", MODELINE + "\n")
    items = await completion(client, uri, 1, 0)
    keys = {i.label: documentation(i) for i in items if i.kind == types.CompletionItemKind.Property}
    assert keys == {name: prop["description"] for name, prop in TRAINING["properties"].items()}
    # Besides the keys, the whole file as a snippet: the schema's title, its required keys.
    [whole] = [i for i in items if i.kind != types.CompletionItemKind.Property]
    assert whole.label == TRAINING["title"]
    assert re.findall(r"^(\w+): ", whole.insert_text or "", re.M) == TRAINING["required"]
    close_file(client, uri)


async def test_completion_leaves_out_the_keys_already_written(client, workspace):
    text = MODELINE + "model_base: text-base\ndataset: data/rows.jsonl\n\n"
    uri = open_file(client, workspace / "app" / "training.yaml", text.replace(".n3/", "../.n3/"))
    items = await completion(client, uri, 3, 0)
    assert sorted(i.label for i in items if i.kind == types.CompletionItemKind.Property) == sorted(
        set(TRAINING["properties"]) - {"model_base", "dataset"})
    close_file(client, uri)


@pytest.mark.parametrize("example", ["commands", "digits", "supportbot"])
async def test_hover_on_every_key_of_an_example_shows_its_description_and_the_file_is_clean(client, example):
    """The examples' own modeline ($schema relative to the file) reaches the repository's schema."""
    path = ROOT / "examples" / example / "training.yaml"
    uri = open_file(client, path)
    assert await diagnostics(client, uri) == []
    for key, (line, character) in key_positions(path.read_text(encoding="utf-8")).items():
        assert await hover(client, uri, line, character + 1) == (
            f"#### {TRAINING['title']}", TRAINING["properties"][key]["description"],
            f"Source: [training-config.schema.json]({(ROOT / 'schemas' / 'training-config.schema.json').as_uri()})")
    close_file(client, uri)


async def test_a_misspelt_key_is_an_error_in_the_editor(client, workspace):
    text = MODELINE + "model_base: text-base\ndataset: data/rows.jsonl\noutput_name: m\nepochz: 3\n"
    uri = open_file(client, workspace / "typo" / "training.yaml", text.replace(".n3/", "../.n3/"))
    assert await diagnostics(client, uri) == [("Property epochz is not allowed.", 4, 0, "Error")]
    close_file(client, uri)


async def test_a_registry_n3_wrote_is_clean_and_hover_shows_the_entry_descriptions(client, workspace):
    """models_registry.yaml as `n3 train` writes it: its modeline reaches the registry schema."""
    with registry.locked(workspace):
        registry.append(workspace, {
            "name": "faq", "version": "1.0.0", "base_model": "text-base", "domain": "text", "status": "active",
            "artifact_uri": "models/faq/1.0.0/model.bin", "artifact_sha256": "0" * 64,
            "dataset_snapshot": "0" * 64, "training_seed": 13, "created_at": "2026-01-01T00:00:00Z",
            "metrics": {"accuracy": 0.9}})
    path = workspace / registry.REGISTRY_FILE
    uri = open_file(client, path)
    assert await diagnostics(client, uri) == []
    lines = path.read_text(encoding="utf-8").splitlines()
    for key in ("name", "artifact_sha256", "previous_sha256"):
        [(line, character)] = [(n, s.index(key)) for n, s in enumerate(lines) if re.match(rf"(- |  ){key}:", s)]
        heading, description, source = await hover(client, uri, line, character + 1)
        assert description == REGISTRY_MODEL["properties"][key]["description"], key
        assert source == f"Source: [registry.schema.json]({(workspace / '.n3' / 'schemas' / 'registry.schema.json').as_uri()})"
    close_file(client, uri)


def readme_vscode_settings() -> dict:
    """The `settings.json` block of README's Editors section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```json\n(.*?)```", readme, re.S) if '"yaml.schemas"' in b]
    return json.loads(block)


async def test_without_a_modeline_the_readme_yaml_schemas_setting_ties_both_files_to_their_schemas(client, workspace):
    """VS Code sends `yaml.schemas` from settings.json; the server pulls it on a configuration change."""
    settings = readme_vscode_settings()
    assert set(settings) == {"yaml.schemas"}
    await reconfigure(client, {"yaml": {**SETTINGS["yaml"], "schemas": settings["yaml.schemas"]}})
    try:
        training = open_file(client, workspace / "plain" / "training.yaml", "model_base: text-base\n\n")
        items = await completion(client, training, 1, 0)
        assert sorted(i.label for i in items if i.kind == types.CompletionItemKind.Property) == sorted(
            set(TRAINING["properties"]) - {"model_base"})
        heading, description, source = await hover(client, training, 0, 1)
        assert description == TRAINING["properties"]["model_base"]["description"]
        assert source.endswith(f"({(workspace / '.n3' / 'schemas' / 'training-config.schema.json').as_uri()})")
        close_file(client, training)
        models = open_file(client, workspace / "plain" / registry.REGISTRY_FILE, "- name: faq\n  domain: text\n")
        heading, description, source = await hover(client, models, 1, 3)
        assert description == REGISTRY_MODEL["properties"]["domain"]["description"]
        assert source.endswith(f"({(workspace / '.n3' / 'schemas' / 'registry.schema.json').as_uri()})")
        close_file(client, models)
    finally:
        await reconfigure(client, SETTINGS)
