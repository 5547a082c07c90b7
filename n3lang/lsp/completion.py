"""Completion: the keywords the parser can accept at the cursor and the names that fit there.

``complete(text, line, column, symbols)`` is pure: the document's text, our 1-based cursor
and the symbol index in, ``Item``s out, in the order they should be shown. The keywords come
from the LALR tables (``n3lang.lsp.expected``), never from a hand list; the names from the
symbol index, by what the line says before the cursor (`create "` wants a record, `call flow
"` a flow); inside `capabilities:` the capability tokens, inside a `model` block its keys with
their descriptions from the training-config JSON Schema. ``register`` wires it to the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from n3lang import ast as A
from n3lang.checker import AI_KEYS, AI_PROVIDERS, MEMORY_KEYS, PROMPT_KEYS
from n3lang.frontend.symbols import SymbolIndex
from n3lang.lsp.expected import expected_at, word_start
from n3lang.lsp.model_keys import key_markdown, key_values, model_keys
from n3lang.syntax.words import KEYWORDS, SURFACE_WORDS
from n3lang.vocabulary import CAPABILITIES, TYPE_NAMES

#: Sort groups: what fits the place best first.
NAMES, VALUES, KEYWORD, SURFACE = "0", "1", "2", "3"

#: Terminals the lexer makes from a word, and that word.
_LEXER_WORDS = {"MAP_EACH": "map", "FILTER": "filter", "REDUCE": "reduce"}

#: `<words> "` before a quoted name, and the kind of declaration it names.
_NAME_BEFORE = [
    (re.compile(r"\b(?:create|find|update|delete|save)\s*$"), "record"),
    (re.compile(r"\b(?:call|contract|override)\s+flow\s*$"), "flow"),
    (re.compile(r"\bcall\s+function\s*$"), "function"),
    (re.compile(r"\bpredict\s*$"), "model"),
    (re.compile(r"\bask\s+ai\s*$"), "ai"),
    (re.compile(r"\bexpose\s*$"), "tool"),
]
_WHERE = re.compile(r'\b(?:find|update|delete)\s+"([^"]+)"\s+where\b')
_BINDINGS = re.compile(
    r"\blet\s+(\w+)\s+is\b|\bas\s+(\w+)\b|\bfor\s+each\s+(\w+)\s+in\b|\bcatch\s+(\w+)|^\s*(\w+)\s*=[^=]"
    r"|^\s+(\w+)\s+is\s+(?:optional\s+)?(?:text|number|boolean|json|list|map)\b", re.M)  # function inputs
_FIND = re.compile(r'\bfind\s+"([^"]+)"')


@dataclass(frozen=True)
class Item:
    """One completion: label, kind (keyword, record, flow, function, tool, model, ai, field,
    capability, setting, value, variable, type), detail, documentation (Markdown), the text to
    insert (the label when None), and its sort group."""

    label: str
    kind: str
    detail: str = ""
    documentation: str = ""
    insert: str | None = None
    group: str = KEYWORD


@dataclass(frozen=True)
class Context:
    """Where the cursor is: its line's text before the word being typed (``prefix``), that
    word, the column where the replaced text starts, and whether it is inside a string."""

    prefix: str
    word: str
    start: int
    in_string: bool
    after: str = ""  # the text after the cursor on its line
    quote: str = '"'  # the quote the string was opened with


def context_at(text: str, line: int, column: int) -> Context | None:
    """The cursor's context, or None inside a comment."""
    lines = text.split("\n")
    line_text = lines[line - 1] if 0 < line <= len(lines) else ""
    before = line_text[: column - 1]
    quote = None
    for index, char in enumerate(before):
        if quote is None and char == "#":
            return None
        if quote is None and char in "\"'":
            quote = (char, index)
        elif quote is not None and char == quote[0] and before[index - 1] != "\\":
            quote = None
    if quote is not None:
        start = quote[1] + 2
        return Context(before[: quote[1]], before[quote[1] + 1:], start, True, line_text[column - 1:], quote[0])
    start = word_start(line_text, column)
    return Context(before[: start - 1], before[start - 1:], start, False, line_text[column - 1:])


def _declaration_header(text: str, line: int) -> str:
    """The first line of the top-level declaration the cursor's line belongs to."""
    lines = text.split("\n")
    for index in range(line - 1, -1, -1):
        candidate = lines[index]
        if candidate[:1] not in ("", " ", "#"):
            return candidate
    return ""


def _block_header(text: str, line: int, indent: int) -> tuple[int, str]:
    """(line number, text) of the nearest line above with less indentation than ``indent``."""
    lines = text.split("\n")
    for index in range(line - 2, -1, -1):
        candidate = lines[index]
        stripped = candidate.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        if len(candidate) - len(stripped) < indent:
            return index + 1, candidate
    return 0, ""


def _names(symbols: SymbolIndex, kind: str) -> list[str]:
    return sorted(symbols.names(kind), key=str.lower)


def _detail(symbols: SymbolIndex, kind: str, name: str) -> str:
    symbol = symbols.lookup(kind, name)
    return symbol.detail if symbol is not None else kind


def _quoted_names(symbols: SymbolIndex, kind: str, ctx: Context) -> list[Item]:
    """Declared names of one kind, quoted unless the cursor is already inside the quotes."""
    items = []
    for name in _names(symbols, kind):
        if ctx.in_string:
            insert = name if ctx.after.startswith(ctx.quote) else name + ctx.quote
        else:
            insert = f'"{name}"'
        items.append(Item(name, kind, _detail(symbols, kind, name), insert=insert, group=NAMES))
    return items


def _fields(symbols: SymbolIndex, record: str) -> list[Item]:
    return [Item(s.name, "field", f'{s.detail}  (record "{record}")', group=NAMES)
            for s in symbols.declarations if s.kind == "field" and s.container == record]


def _capabilities(text: str, line: int, ctx: Context) -> list[Item] | None:
    """The capability tokens not yet listed, when the cursor is inside `capabilities:`."""
    header = _declaration_header(text, line)
    inline = re.match(r"capabilities\s*:\s*\[", ctx.prefix)
    if not inline and not (header.startswith("capabilities") and ctx.prefix.strip() == "" and ctx.start > 1):
        return None
    listed = set(re.findall(r"[\w.]+", ctx.prefix[inline.end():])) if inline else set()
    if not inline:
        for other in _block_lines(text, line):
            listed.add(other.strip().strip("\"'").lower())
    listed.discard(ctx.word)
    return [Item(token, "capability", "capability", group=NAMES) for token in CAPABILITIES if token not in listed]


def _block_lines(text: str, line: int) -> list[str]:
    """The other lines of the indented block the cursor's line is in."""
    lines = text.split("\n")
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip(" "))
    header, _ = _block_header(text, line, indent or 1)
    found = []
    for index in range(header, len(lines)):
        number = index + 1
        candidate = lines[index]
        stripped = candidate.lstrip(" ")
        if number == line or not stripped or stripped.startswith("#"):
            continue
        if len(candidate) - len(stripped) < max(indent, 1):
            break
        found.append(stripped)
    return found


def _model_block(text: str, line: int, ctx: Context) -> list[Item] | None:
    """Inside `model "x":`: the keys not yet set (at a line's start), or values after `key is`."""
    header = _declaration_header(text, line)
    if not header.startswith("model") or ctx.start == 1 or not ctx.prefix.startswith(" "):
        return None
    if ctx.prefix.strip() == "" and not ctx.in_string:
        present = {other.split()[0] for other in _block_lines(text, line) if other.split()}
        return [Item(key, "setting", "model setting", key_markdown(key) or "", insert=f"{key} is ", group=NAMES)
                for key in model_keys() if key not in present]
    setting = re.match(r"\s+(\w+)\s+is\s*$", ctx.prefix)
    if setting and setting.group(1) in model_keys():
        return [Item(value, "value", setting.group(1), key_markdown(setting.group(1)) or "", group=VALUES)
                for value in key_values(setting.group(1))]
    return None


def _variables(text: str, line: int, ctx: Context) -> list[Item]:
    """Names bound above the cursor in its declaration (let, as, for each, catch, calc,
    inputs), plus `input` and `state`; `find "R"` binds `r_results`."""
    lines = text.split("\n")
    first = line
    while first > 1 and lines[first - 1][:1] in ("", " ", "#"):
        first -= 1
    above = "\n".join(lines[first - 1: line - 1])
    found: dict[str, None] = {}
    for match in _BINDINGS.finditer(above):
        found[next(g for g in match.groups() if g)] = None
    for record in _FIND.findall(above):
        found[record.lower().replace(".", "_").replace(" ", "_") + "_results"] = None
    found.pop(ctx.word, None)
    items = [Item(name, "variable", "variable", group=NAMES) for name in sorted(found, key=str.lower)]
    items += [Item(name, "variable", "built-in value", group=VALUES) for name in ("input", "state")]
    return items


def _keywords(expected: set[str]) -> list[Item]:
    words: set[str] = set()
    for term in expected:
        word = KEYWORDS.get(term) or _LEXER_WORDS.get(term)
        if word is not None:
            words.add(word)
    items = [Item(word, "keyword", "keyword") for word in sorted(words)]
    if "SURFACE" in expected:  # after the language's own declarations
        items += [Item(word, "keyword", "app surface (accepted, not served)", group=SURFACE)
                  for word in sorted(SURFACE_WORDS - words)]
    return items


def _arguments(text: str, line: int, ctx: Context, program: A.Program | None) -> list[Item] | None:
    """At the start of a line of `call function "f":`, of `call flow "f":`'s `input:` or of a
    tool call's block: the inputs not given yet, each as `name is `."""
    if program is None or ctx.prefix.strip() or ctx.in_string or ctx.start == 1:
        return None
    number, header = _block_header(text, line, len(ctx.prefix))
    params: list[tuple[str, str]] = []
    called = re.search(r'\bcall\s+function\s+"([^"]+)"\s*:\s*$', header)
    tool = re.search(r"(?:\bis|=)\s+([^\"':#]+?)\s*:\s*$", header)
    if called:
        found = next((d for d in program.of_type(A.FunctionDecl) if d.name == called.group(1)), None)
        params = [(p.name, getattr(p.type, "name", "")) for p in found.inputs] if found else []
    elif re.match(r"\s+input\s*:\s*$", header):
        _, above = _block_header(text, number, len(header) - len(header.lstrip(" ")))
        flow = re.search(r'\bcall\s+(?:flow|pipeline)\s+"([^"]+)"\s*:\s*$', above)
        contract = next((d for d in program.of_type(A.ContractDecl) if flow and d.name == flow.group(1)), None)
        params = [(p.name, getattr(p.type, "name", "")) for p in contract.inputs] if contract else []
    elif tool:
        phrase = " ".join(tool.group(1).split())
        found_tool = next((d for d in program.of_type(A.ToolDecl) if d.name == phrase), None)
        params = [(f.name, f.type) for f in found_tool.inputs] if found_tool else []
    if not params:
        return None
    given = {re.split(r"\s+is\b", other)[0].strip() for other in _block_lines(text, line)}
    return [Item(name, "field", f"input: {kind}" if kind else "input", insert=f"{name} is ", group=NAMES)
            for name, kind in params if name not in given]


def complete(text: str, line: int, column: int, symbols: SymbolIndex, program: A.Program | None = None) -> list[Item]:
    """What fits at (line, column): see the module docstring. Deterministic order. With the
    program, the inputs of the function, flow or tool called in the block around the cursor."""
    ctx = context_at(text, line, column)
    if ctx is None:
        return []
    arguments = _arguments(text, line, ctx, program)
    if arguments is not None:
        return arguments
    for pattern, kind in _NAME_BEFORE:
        if pattern.search(ctx.prefix):
            return _quoted_names(symbols, kind, ctx)
    model = _model_block(text, line, ctx)
    if model is not None:
        return model
    capabilities = _capabilities(text, line, ctx)
    if capabilities is not None:
        return capabilities
    if ctx.in_string:
        if re.search(r"^\s+model\s+is\s*$", ctx.prefix) and _declaration_header(text, line).startswith("ai"):
            return _quoted_names(symbols, "model", ctx)
        if re.search(r"^\s+provider\s+is\s*$", ctx.prefix) and _declaration_header(text, line).startswith("ai"):
            return [Item(name, "value", "ai provider", insert=name if ctx.after.startswith(ctx.quote) else name + ctx.quote,
                         group=VALUES) for name in AI_PROVIDERS]
        return []
    expected = expected_at(text, line, ctx.start)
    if expected is None:
        return []
    items: list[Item] = _setting_keys(text, line, ctx) if "NAME" in expected else []
    if "TOOL_CALL" in expected:
        items += [Item(name, "tool", _detail(symbols, "tool", name), insert=f"{name}:", group=NAMES)
                  for name in _names(symbols, "tool")]
    if "NAME" in expected:
        header = _declaration_header(text, line)
        where = _WHERE.search(ctx.prefix)
        if where:
            items += _fields(symbols, where.group(1))
        if header.startswith(("record", "identity")) or re.match(r"\s+(input|output)\s*:", _block_header(
                text, line, len(ctx.prefix) - len(ctx.prefix.lstrip(" ")))[1]):
            if ctx.prefix.strip():  # a field's type, after its name
                items += [Item(name, "type", "type", group=NAMES) for name in TYPE_NAMES]
                items += [Item(name, "record", _detail(symbols, "record", name),
                               insert=name if name.isidentifier() else f'"{name}"', group=NAMES)
                          for name in _names(symbols, "record")]
        elif header.startswith(("flow", "define", "override")) and _in_expression(expected):
            items += _variables(text, line, ctx)
    if "NAME" in expected or "STRING" in expected:
        items += _record_set_fields(text, line, symbols, ctx)
    return items + _keywords(expected)


def _setting_keys(text: str, line: int, ctx: Context) -> list[Item]:
    """At the start of a line of an ai, memory or prompt block: the keys the checker knows,
    those not set yet."""
    if ctx.prefix.strip() or ctx.start == 1:
        return []
    header = _declaration_header(text, line)
    _, block = _block_header(text, line, len(ctx.prefix))
    if header.startswith("ai") and block.strip().startswith("memory"):
        keys, what = MEMORY_KEYS, "ai memory setting"
    elif header.startswith("ai") and block == header:
        keys, what = AI_KEYS, "ai setting"
    elif header.startswith("prompt") and block == header:
        keys, what = PROMPT_KEYS, "prompt setting"
    else:
        return []
    present = {other.split()[0] for other in _block_lines(text, line) if other.split()}
    return [Item(key, "setting", what, insert=f"{key} is ", group=NAMES) for key in keys if key not in present]


def _in_expression(expected: set[str]) -> bool:
    """A place where an expression may start (literals are accepted), not a binding's name."""
    return "NUMBER" in expected or "TRUE" in expected


def _record_set_fields(text: str, line: int, symbols: SymbolIndex, ctx: Context) -> list[Item]:
    """At the start of a line of `create "R" with map:` or `update "R" ... set:`: R's fields."""
    if ctx.prefix.strip():
        return []
    _, header = _block_header(text, line, len(ctx.prefix))
    found = re.search(r'\b(?:create|update)\s+"([^"]+)"\s+.*\b(?:map|set)\s*:\s*$', header)
    if found is None:
        return []
    return [Item(item.label, "field", item.detail, insert=f"{item.label} is ", group=NAMES)
            for item in _fields(symbols, found.group(1))]


def register(server) -> None:  # pragma: no cover - exercised through tests/lsp
    from lsprotocol import types as T

    from n3lang.lsp.positions import Lines

    kinds = {
        "keyword": T.CompletionItemKind.Keyword, "record": T.CompletionItemKind.Struct,
        "flow": T.CompletionItemKind.Function, "function": T.CompletionItemKind.Function,
        "tool": T.CompletionItemKind.Method, "model": T.CompletionItemKind.Class,
        "ai": T.CompletionItemKind.Interface, "field": T.CompletionItemKind.Field,
        "capability": T.CompletionItemKind.EnumMember, "setting": T.CompletionItemKind.Property,
        "value": T.CompletionItemKind.Value, "variable": T.CompletionItemKind.Variable,
        "type": T.CompletionItemKind.TypeParameter,
    }

    @server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=['"']))
    def completion(ls, params: T.CompletionParams) -> T.CompletionList:
        uri = params.text_document.uri
        source = ls.workspace.get_text_document(uri).source
        lines = Lines(source, ls.workspace.position_codec)
        text = source.removeprefix("\ufeff").replace("\r\n", "\n")
        line, column = lines.point(params.position)
        analysis = ls.analysis(uri)
        found = complete(text, line, column, analysis.symbols, analysis.program)
        ctx = context_at(text, line, column)
        start = lines.position(line, ctx.start if ctx is not None else column)
        edit_range = T.Range(start=start, end=params.position)
        result = []
        for index, item in enumerate(found):
            doc = T.MarkupContent(kind=T.MarkupKind.Markdown, value=item.documentation) if item.documentation else None
            result.append(T.CompletionItem(
                label=item.label, kind=kinds[item.kind], detail=item.detail or None, documentation=doc,
                sort_text=f"{item.group}{index:04d}", filter_text=item.label,
                text_edit=T.TextEdit(range=edit_range, new_text=item.insert if item.insert is not None else item.label),
            ))
        return T.CompletionList(is_incomplete=False, items=result)
