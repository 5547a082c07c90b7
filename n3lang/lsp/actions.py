"""Quick fixes for the commonest diagnostics (textDocument/codeAction, kind quickfix).

``quick_fixes(diagnostic, text)`` is pure: one diagnostic and the text of its file in, the
fixes (title, edits as (span, new text), preferred) out. Three kinds:
- did you mean: a message or fix that says "did you mean 'x'" replaces the misspelt name
  (the quoted name of the message closest to the suggestion) with x, where the diagnostic
  points (unknown records, flows, functions, ais, models, tools, types, fields, variables,
  capabilities, model settings);
- training-required: adds `training` to the app's `capabilities:` (a line under the block,
  or an item of the inline list), or adds the block after `spec is` when there is none;
- unknown-model-setting: the closest known key of the training-config schema (difflib),
  when the checker's message suggests none.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from n3lang.diagnostics import Diagnostic
from n3lang.lsp.model_keys import model_keys
from n3lang.span import Span

_SUGGESTION = re.compile(r"""[Dd]id you mean ['"]([^'"]+)['"]""")
_QUOTED = re.compile(r"""'([^']+)'|"([^"]+)\"""")


@dataclass(frozen=True)
class Fix:
    """One quick fix: its title, the edits (span to replace, new text) and whether it is the
    obvious one (isPreferred)."""

    title: str
    edits: tuple[tuple[Span, str], ...]
    preferred: bool = True


def quick_fixes(diagnostic: Diagnostic, text: str) -> list[Fix]:
    """The fixes of one diagnostic of a file whose text is ``text``."""
    if diagnostic.code == "training-required":
        return [_add_training(text)]
    fixes = _did_you_mean(diagnostic, text)
    if not fixes and diagnostic.code == "unknown-model-setting":
        fixes = _closest_key(diagnostic, text)
    return fixes


def _find_name(text: str, name: str, span: Span) -> Span | None:
    """The span of ``name`` (quoted or a whole word) from the start of ``span`` to its end line."""
    pattern = re.compile(r'"(%s)"|(?<![\w.`])(%s)(?![\w`])' % (re.escape(name), re.escape(name)))
    lines = text.split("\n")
    for number in range(span.line, min(span.end_line, len(lines)) + 1):
        start = span.column - 1 if number == span.line else 0
        match = pattern.search(lines[number - 1], start)
        if match:
            group = 1 if match.group(1) is not None else 2
            return Span(number, match.start(group) + 1, number, match.end(group) + 1)
    return None


def _did_you_mean(diagnostic: Diagnostic, text: str) -> list[Fix]:
    found = _SUGGESTION.search(diagnostic.message) or _SUGGESTION.search(diagnostic.fix or "")
    if found is None:
        return []
    suggestion = found.group(1)
    quoted = [a or b for a, b in _QUOTED.findall(diagnostic.message)]
    candidates = [q for q in quoted if q != suggestion]
    if not candidates:
        return []
    wrong = max(candidates, key=lambda q: difflib.SequenceMatcher(None, q, suggestion).ratio())
    where = _find_name(text, wrong, diagnostic.span)
    if where is None:
        return []
    return [Fix(f"Change '{wrong}' to '{suggestion}'", ((where, suggestion),))]


def _closest_key(diagnostic: Diagnostic, text: str) -> list[Fix]:
    found = re.match(r"Unknown model setting '([^']+)'", diagnostic.message)
    if found is None:
        return []
    key = found.group(1)
    close = difflib.get_close_matches(key, list(model_keys()), n=3, cutoff=0.4)
    where = _find_name(text, key, diagnostic.span)
    if where is None:
        return []
    return [Fix(f"Change '{key}' to '{option}'", ((where, option),), preferred=len(close) == 1) for option in close]


def _add_training(text: str) -> Fix:
    """`training` added to the capabilities the file declares, or a new block after the spec."""
    lines = text.split("\n")
    title = "Add the 'training' capability"
    for index, line in enumerate(lines):
        if not re.match(r"capabilities\s*:", line):
            continue
        number = index + 1
        inline = re.match(r"capabilities\s*:\s*\[(.*?)\]", line)
        if inline:
            items = inline.group(1).rstrip()
            at = inline.start(1) + len(items) + 1
            insert = "training" if not items.strip() else " training" if items.endswith(",") else ", training"
            return Fix(title, ((Span(number, at, number, at), insert),))
        last, indent = number, "  "
        for below in range(index + 1, len(lines)):
            stripped = lines[below].lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            depth = len(lines[below]) - len(stripped)
            if depth == 0:
                break
            last, indent = below + 1, " " * depth
        end = len(lines[last - 1]) + 1
        return Fix(title, ((Span(last, end, last, end), f"\n{indent}training"),))
    spec = next((i + 1 for i, line in enumerate(lines) if re.match(r"spec\s+is\b", line)), None)
    if spec is None:
        return Fix(title, ((Span(1, 1, 1, 1), "capabilities:\n  training\n\n"),))
    end = len(lines[spec - 1]) + 1
    return Fix(title, ((Span(spec, end, spec, end), "\n\ncapabilities:\n  training"),))


def register(server) -> None:  # pragma: no cover - exercised through tests/lsp
    from lsprotocol import types as T

    from n3lang.lsp.positions import Lines, to_range
    from n3lang.lsp.server import path_of

    @server.feature(T.TEXT_DOCUMENT_CODE_ACTION,
                    T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
    def code_action(ls, params: T.CodeActionParams) -> list[T.CodeAction] | None:
        only = params.context.only
        if only is not None and not any(T.CodeActionKind.QuickFix.value.startswith(k) for k in only):
            return None
        uri = params.text_document.uri
        source = ls.workspace.get_text_document(uri).source
        lines = Lines(source, ls.workspace.position_codec)
        text = source.removeprefix("\ufeff").replace("\r\n", "\n")
        analysis = ls.analysis(uri)
        file = path_of(uri)
        start = lines.point(params.range.start)
        end = lines.point(params.range.end)
        actions = []
        for diagnostic in analysis.diagnostics:
            span = diagnostic.span
            if diagnostic.file != file or (span.end_line, span.end_column) < start or (span.line, span.column) > end:
                continue
            for fix in quick_fixes(diagnostic, text):
                edits = [T.TextEdit(range=to_range(lines, where), new_text=new) for where, new in fix.edits]
                actions.append(T.CodeAction(
                    title=fix.title, kind=T.CodeActionKind.QuickFix,
                    diagnostics=[ls.to_lsp(analysis, diagnostic)], is_preferred=fix.preferred,
                    edit=T.WorkspaceEdit(changes={uri: edits})))
        return actions
