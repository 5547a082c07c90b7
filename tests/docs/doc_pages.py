"""Reading the documentation's pages: fenced blocks with their directives, the commands of a
console block and their stated output, and the comparison that lets ``...`` stand for any
lines. tests/docs/test_examples.py (every page, in-process) and test_walk_pages.py (the
tutorial, out of process with a fresh install) read pages the same way through this module.
The convention is docs/dev/EXAMPLES.md's."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*n3:(?P<body>.*?)-->\s*$")
KNOWN = {"file", "part", "errors", "warns", "skip", "run"}


@dataclass
class Block:
    """One fenced block: where it starts (1-based line of the fence), its language, text and
    directive (key -> value, True for a bare key)."""

    page: Path
    line: int
    lang: str
    text: str
    directive: dict = field(default_factory=dict)

    def where(self) -> str:
        return f"{_shown(self.page)}:{self.line}"


def _shown(page: Path) -> Path:
    """A page's path as messages name it: relative to the repository."""
    return page.relative_to(ROOT) if page.is_relative_to(ROOT) else page


def parse_directive(body: str, where: str) -> dict:
    out: dict = {}
    for word in shlex.split(body):
        key, eq, value = word.partition("=")
        if key not in KNOWN:
            raise ValueError(f"{where}: unknown directive {key!r} (known: {', '.join(sorted(KNOWN))})")
        out[key] = value if eq else True
    return out


def blocks(page: Path, text: str | None = None) -> list[Block]:
    """The fenced blocks of a Markdown page, with the directive on the line before each."""
    lines = (page.read_text(encoding="utf-8") if text is None else text).splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m["indent"]), m["fence"], m["info"]
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = _FENCE.match(lines[i])
            if close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence) and not close["info"]:
                break
            line = lines[i]
            body.append(line[indent:] if line[:indent].strip() == "" else line)
            i += 1
        i += 1
        where = f"{_shown(page)}:{start + 1}"
        directive: dict = {}
        before = start - 1
        if before >= 0:
            d = _DIRECTIVE.match(lines[before])
            if d:
                directive = parse_directive(d["body"], where)
        lang = info.split()[0] if info else ""
        found.append(Block(page, start + 1, lang, "\n".join(body) + "\n", directive))
    return found


def commands(block: Block) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of a console block; a command ending in \\ goes on."""
    out: list[tuple[str, list[str]]] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            if out:
                out[-1][1].append(line)
            elif line.strip():
                pytest.fail(f"{block.where()}: a console block starts with `$ command`, not {line!r}")
            i += 1
            continue
        command = line[2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1] + lines[i].lstrip("> ")
        out.append((command, []))
        i += 1
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line after trimming trailing spaces; a line `...` matches any number of lines."""
    def trim(lines: list[str]) -> list[str]:
        lines = [ln.rstrip() for ln in lines]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    want, got = trim(expected), trim(actual)

    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i] == "...":
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and want[i] == got[j] and match(i + 1, j + 1)

    return match(0, 0)


