#!/usr/bin/env node
// Tokenizes .ai files with the extension's TextMate grammar, through the engine VS Code itself
// uses (vscode-textmate + the oniguruma WebAssembly build), and prints the tokens as text.
//
//   node scripts/tokenize.js FILE...          one listing per file, each after a "== FILE" line
//   node scripts/tokenize.js --json FILE...   {"FILE": "listing", ...} (read by the pytest test)
//
// A listing has one "LINE: text" line per source line, then one indented line per token:
// "start-end 'text' scope scope ..." (columns from 0, end exclusive, the root scope left out).
// A token's spaces at either end are trimmed off, and spaces-only tokens are left out: spaces
// look alike whatever their scopes.
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const GRAMMAR = path.join(__dirname, '..', 'syntaxes', 'n3.tmLanguage.json');
const ROOT_SCOPE = 'source.n3';

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== ROOT_SCOPE) return null;
      return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR);
    },
  });
  return registry.loadGrammar(ROOT_SCOPE);
}

function listing(grammar, text) {
  const out = [];
  let stack = vsctm.INITIAL;
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, index) => {
    out.push(`${index + 1}: ${line}`);
    const result = grammar.tokenizeLine(line, stack);
    for (const token of result.tokens) {
      const raw = line.slice(token.startIndex, token.endIndex);
      const piece = raw.trim();
      if (piece === '') continue;
      const start = token.startIndex + raw.indexOf(piece);
      const scopes = token.scopes.filter((s) => s !== ROOT_SCOPE);
      out.push(`  ${start}-${start + piece.length} ${JSON.stringify(piece)} ${scopes.join(' ')}`.trimEnd());
    }
    stack = result.ruleStack;
  });
  return out.join('\n') + '\n';
}

async function main(argv) {
  const json = argv[0] === '--json';
  const files = json ? argv.slice(1) : argv;
  if (!files.length) {
    process.stderr.write('usage: tokenize.js [--json] FILE...\n');
    return 2;
  }
  const grammar = await loadGrammar();
  const results = {};
  for (const file of files) results[file] = listing(grammar, fs.readFileSync(file, 'utf8'));
  if (json) {
    process.stdout.write(JSON.stringify(results) + '\n');
  } else {
    for (const file of files) process.stdout.write(`== ${file}\n${results[file]}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`${err && err.stack || err}\n`); process.exitCode = 1; },
);
