"""Every code example in the documentation runs (docs/dev/EXAMPLES.md says how to write one).

Each page of docs/ (not docs/dev/, which is for us and holds no app examples) and README.md is
one test: its fenced blocks are taken in order, in one temporary folder per page.

- ```ai: written to app.ai (or the directive's file=) and checked with n3lang.frontend.analyze:
  no errors and no warnings, unless the directive says ``errors`` / ``warns`` (then it must have
  them). ``part`` writes a file that is part of an app (an included module) without checking it.
- ```console: ``$ command`` lines run in the page's folder with ``n3`` on PATH, and the lines
  after each command are its output, stdout and stderr together, compared exactly (a line
  ``...`` stands for any number of lines). ``n3 ...`` commands without shell syntax run in
  this process (milliseconds); anything else runs in bash.
- ```bash / ```sh: run only with the ``run`` directive, and must exit 0.
- any block with ``file=PATH``: written there first (a training.yaml, a tool's Python).

A directive is an HTML comment on the line before the fence: ``<!-- n3: file=tools.yaml -->``;
``skip="why"`` leaves a console block out (installing, long training), with its reason.
A block that drifts from the implementation fails with the page, its line and the difference.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from doc_pages import ROOT, Block, blocks, commands, matches  # noqa: E402

DOCS = ROOT / "docs"
#: docs/dev/ is the developers' (architecture, contracts, this convention): no app examples.
PAGES = sorted(p for p in DOCS.rglob("*.md") if DOCS / "dev" not in p.parents) + [ROOT / "README.md"]

#: Shell syntax that needs a real shell; a plain `n3 ...` command runs in this process.
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`*?~\\\n]")


class Page:
    """One page's temporary folder, with `n3` on PATH (this checkout's code)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "work"
        self.folder.mkdir()
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "n3"
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m n3lang.cli.main "$@"\n')
        shim.chmod(0o755)
        self.env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
                        COLUMNS="80", NO_COLOR="1")
        self.env.pop("N3_IDENTITY_JSON", None)

    def write(self, block: Block, default: str | None) -> Path:
        name = block.directive.get("file") or default
        if not isinstance(name, str) or not name:
            pytest.fail(f"{block.where()}: say where this block goes: <!-- n3: file=PATH -->")
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text, encoding="utf-8")
        return path

    def run(self, command: str) -> str:
        """What the command prints (stdout and stderr as they interleave)."""
        words = shlex.split(command) if not _SHELL_SYNTAX.search(command) else []
        if words and words[0] == "n3":
            return self._in_process(words[1:])
        done = subprocess.run(["bash", "-c", command], cwd=self.folder, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=120)
        return done.stdout

    def _in_process(self, args: list[str]) -> str:
        from click.testing import CliRunner

        from n3lang.cli.main import main

        here = os.getcwd()
        sigterm = signal.getsignal(signal.SIGTERM)  # main() installs its own; the test process keeps its
        os.chdir(self.folder)
        try:
            with CliRunner().isolation(env={"COLUMNS": "80", "NO_COLOR": "1", "N3_IDENTITY_JSON": None}) as streams:
                try:
                    main(args)
                except SystemExit:
                    pass
                sys.stdout.flush()
                sys.stderr.flush()
                output = streams[2] if len(streams) > 2 else streams[0]  # click 8.2+: both, interleaved
                return output.getvalue().decode("utf-8", "replace")
        finally:
            os.chdir(here)
            signal.signal(signal.SIGTERM, sigterm)


def run_page(page: Path, folder: Path, text: str | None = None) -> int:
    """Run every block of a page; returns how many ran. Fails at the first drift."""
    from n3lang.frontend import analyze

    work = Page(folder)
    count = 0
    for block in blocks(page, text):
        d = block.directive
        if block.lang == "ai":
            path = work.write(block, "app.ai")
            if d.get("part"):
                continue
            result = analyze(path, block.text)
            errors = [x for x in result.diagnostics if x.severity == "error"]
            warnings = [x for x in result.diagnostics if x.severity == "warning"]
            shown = "\n".join(f"  {x.file}:{x.span.line}:{x.span.column}: {x.severity}: {x.message} [{x.code}]"
                              for x in result.diagnostics)
            if d.get("errors"):
                assert errors, f"{block.where()}: marked `errors`, but the example checks without errors"
            elif errors or (warnings and not d.get("warns")):
                pytest.fail(f"{block.where()}: the example does not check clean:\n{shown}")
            elif d.get("warns") and not warnings:
                pytest.fail(f"{block.where()}: marked `warns`, but the example checks without warnings")
            count += 1
        elif block.lang == "console":
            if "file" in d:
                pytest.fail(f"{block.where()}: a console block is run, not written to a file")
            if "skip" in d:
                if d["skip"] is True or not d["skip"].strip():
                    pytest.fail(f'{block.where()}: say why the block is skipped: <!-- n3: skip="why" -->')
                continue
            for command, expected in commands(block):
                actual = work.run(command).splitlines()
                if not matches(expected, actual):
                    diff = "\n".join(difflib.unified_diff(expected, actual, "the page says", "n3 prints", lineterm=""))
                    pytest.fail(f"{block.where()}: `$ {command}` prints something else:\n{diff}")
                count += 1
        elif block.lang in ("bash", "sh", "shell") and d.get("run"):
            done = subprocess.run(["bash", "-e", "-c", block.text], cwd=work.folder, env=work.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
            assert done.returncode == 0, f"{block.where()}: the commands fail (exit {done.returncode}):\n{done.stdout}"
            count += 1
        elif "file" in d:
            work.write(block, None)
        elif d:
            pytest.fail(f"{block.where()}: a {block.lang or 'plain'} block takes no directive but file=PATH")
    return count


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page, tmp_path):
    run_page(page, tmp_path)


# ----------------------------------------------------------------------------- the harness
def _page(tmp_path, text: str) -> tuple[Path, str]:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page, text


APP = 'spec is "1.0"\n\nflow "demo":\n  return 10 / 4\n'


def test_a_stated_result_is_compared(tmp_path):
    page, text = _page(tmp_path, f"# P\n\n```ai\n{APP}```\n\n```console\n$ n3 run app.ai\n2.5\n```\n")
    (tmp_path / "a").mkdir()
    assert run_page(page, tmp_path / "a", text) == 2
    drifted = text.replace("2.5\n```", "2.6\n```")
    (tmp_path / "b").mkdir()
    with pytest.raises(pytest.fail.Exception, match=r"page.md:10: `\$ n3 run app.ai` prints something else:(.|\n)*-2.6\n\+2.5"):
        run_page(page, tmp_path / "b", drifted)


def test_an_ai_block_that_does_not_check_fails_with_its_line(tmp_path):
    page, text = _page(tmp_path, "# P\n\nText.\n\n```ai\nspec is \"1.0\"\nflow \"x\":\n  return y z\n```\n")
    with pytest.raises(pytest.fail.Exception, match=r"page.md:5: the example does not check clean:\n  .*app.ai:3:"):
        run_page(page, tmp_path, text)


def test_error_and_warning_examples_must_have_them(tmp_path):
    bad = 'spec is "1.0"\nflow "x":\n  return 1 / 0\n'
    page, text = _page(tmp_path, f"<!-- n3: warns -->\n```ai\n{bad}```\n<!-- n3: errors -->\n```ai\n{APP}```\n")
    with pytest.raises(AssertionError, match="page.md:8: marked `errors`"):
        run_page(page, tmp_path, text)


def test_files_shell_and_ellipsis(tmp_path):
    text = ("<!-- n3: file=data/rows.txt -->\n```text\none\ntwo\nthree\n```\n"
            "```console\n$ cat data/rows.txt | sort\none\n...\n$ n3 check app.ai\n"
            "Error: ...\n```\n<!-- n3: run -->\n```bash\ntest -f data/rows.txt\n```\n")
    page, text = _page(tmp_path, text)
    assert [b.lang for b in blocks(page, text)] == ["text", "console", "bash"]
    with pytest.raises(pytest.fail.Exception, match=r"`\$ n3 check app.ai` prints something else"):
        run_page(page, tmp_path, text)
    assert matches(["one", "...", "three"], ["one", "two", "three"])
    assert matches(["one", "...", "two"], ["one", "two"]) and not matches(["one", "..."], ["two"])


def test_unknown_directives_are_refused(tmp_path):
    page, text = _page(tmp_path, "<!-- n3: chek -->\n```ai\nx\n```\n")
    with pytest.raises(ValueError, match="unknown directive 'chek'"):
        blocks(page, text)
