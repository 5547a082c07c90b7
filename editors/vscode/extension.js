// The n3lang extension: the language (package.json, language-configuration.json, the generated
// TextMate grammar) plus a client that starts `n3 lsp` (settings n3.server.path and
// n3.server.args) and talks LSP with it over stdio. Plain JavaScript: no build step.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

function serverCommand() {
  const config = vscode.workspace.getConfiguration('n3.server');
  return { command: config.get('path', 'n3'), args: config.get('args', ['lsp']) };
}

async function start() {
  const { command, args } = serverCommand();
  const executable = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    'n3',
    'n3 language server',
    { run: executable, debug: executable },
    {
      documentSelector: [
        { scheme: 'file', language: 'n3' },
        { scheme: 'untitled', language: 'n3' },
      ],
    },
  );
  try {
    await client.start();
  } catch (err) {
    const shown = [command, ...args].join(' ');
    vscode.window.showErrorMessage(
      `n3: could not start the language server (\`${shown}\`): ${err && err.message ? err.message : err}. ` +
        "Install it with `pip install 'n3lang[lsp]'`, or set n3.server.path to the n3 of your virtualenv.",
    );
  }
}

async function stop() {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (_) {
      // it never started (a wrong path): nothing to stop
    }
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('n3.server.restart', async () => {
      await stop();
      await start();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('n3.server')) {
        await stop();
        await start();
      }
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
