"""The tutorial (and the other app-author pages written with it) followed as a user would:
each step in order, in one empty folder, every command a real process in bash with `n3` on
PATH, every output compared with what the page shows.

The `n3` is a fresh install: a wheel of this checkout in a new virtual environment.
The page convention is docs/dev/EXAMPLES.md's (tests/docs/test_examples.py runs every page
in-process; this walk is its out-of-process twin for the pages listed in WALKED):

- ```ai: written to app.ai (or ``<!-- n3: file=PATH -->``), then `n3 check` on it must say
  ``PATH: ok`` (``errors``: must fail; ``part``: written only);
- ```console: each ``$ command`` runs in the folder; the lines after it are what it prints
  (stdout and stderr), a line ``...`` standing for any number of lines;
  ``<!-- n3: skip="why" -->`` leaves the block out;
- ```bash with ``<!-- n3: run -->``: runs and must exit 0; any other block with ``file=PATH``
  is written there.

What a page shows but does not mark stays a picture (``mkdir helpdesk && cd helpdesk`` is
what the reader does; the walk starts in that empty folder).
"""

from __future__ import annotations

import difflib
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from doc_pages import ROOT, blocks, commands, matches  # noqa: E402

# The tutorial is the page a new user follows step by step; the others run in-process in
# tests/docs/test_examples.py (walking them too would add about a minute of process starts).
WALKED = ["docs/tutorial.md"]


def fresh_install(tmp: Path) -> Path:
    """The bin folder of a new virtual environment with n3lang installed from a wheel of this
    checkout, as a user installs it (so a file the wheel leaves out fails the walk). The
    dependencies come from this environment (--system-site-packages): the machine needs no
    index for them, and the venv's own n3lang comes first on its path."""
    wheels, venv = tmp / "wheels", tmp / "venv"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, f"building the wheel failed:\n{built.stdout}{built.stderr}"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    wheel = next(wheels.glob("n3lang-*.whl"))
    installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                                str(wheel)], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, f"installing the wheel failed:\n{installed.stdout}{installed.stderr}"
    return venv / "bin"


class Folder:
    """An empty folder and a shell with an `n3` first on PATH: the one in ``bin_dir`` (a fresh
    install), else this checkout's."""

    def __init__(self, tmp: Path, bin_dir: Path | None = None) -> None:
        self.path = tmp / "work"
        self.path.mkdir()
        self.env = dict(os.environ, COLUMNS="80", NO_COLOR="1")
        self.env.pop("PYTHONPATH", None)
        if bin_dir is None:
            bin_dir = tmp / "bin"
            bin_dir.mkdir()
            shim = bin_dir / "n3"
            shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m n3lang.cli.main "$@"\n')
            shim.chmod(0o755)
            self.env["PYTHONPATH"] = str(ROOT)
        self.env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        for name in ("N3_IDENTITY_JSON", "N3_TRAIN_CREATED_AT"):
            self.env.pop(name, None)

    def sh(self, script: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-e", "-c", script], cwd=self.path, env=self.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)

    def write(self, name: str, body: str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")


def walk(page: Path, tmp: Path, bin_dir: Path | None = None) -> int:
    """Follow every step of ``page`` (with the `n3` of ``bin_dir`` when given); returns how
    many ran. Fails at the first difference."""
    folder = Folder(tmp, bin_dir)
    ran = 0
    for block in blocks(page):
        at, lang, body, d = block.where(), block.lang, block.text, block.directive
        if lang == "ai":
            name = d.get("file") or "app.ai"
            folder.write(name, body)
            if d.get("part"):
                continue
            done = folder.sh(f"n3 check {shlex.quote(name)}")
            if d.get("errors"):
                assert done.returncode == 1, f"{at}: marked `errors`, but it checks:\n{done.stdout}"
            elif d.get("warns"):
                assert done.returncode == 0 and " warning" in done.stdout, f"{at}: expected a warning:\n{done.stdout}"
            else:
                assert done.stdout == f"{name}: ok\n", f"{at}: does not check clean:\n{done.stdout}"
            ran += 1
        elif lang == "console":
            if "skip" in d:
                assert isinstance(d["skip"], str) and d["skip"].strip(), f"{at}: say why it is skipped"
                continue
            for command, expected in commands(block):
                got = folder.sh(command).stdout.splitlines()
                if not matches(expected, got):
                    diff = "\n".join(difflib.unified_diff(expected, got, "the page says", "n3 prints", lineterm=""))
                    pytest.fail(f"{at}: `$ {command}` prints something else:\n{diff}")
                ran += 1
        elif lang in ("bash", "sh", "shell") and d.get("run"):
            done = folder.sh(body)
            assert done.returncode == 0, f"{at}: exits {done.returncode}:\n{done.stdout}"
            ran += 1
        elif d.get("file"):
            folder.write(d["file"], body)
    return ran


@pytest.mark.parametrize("page", WALKED)
def test_page_works_as_written_with_a_fresh_install(page, tmp_path):
    assert walk(ROOT / page, tmp_path, fresh_install(tmp_path)) > 0


def test_a_drifted_output_fails_with_the_line(tmp_path):
    page = tmp_path / "probe.md"
    text = '```ai\nspec is "1.0"\n\nflow "demo":\n  return 10 / 4\n```\n\n```console\n$ n3 run app.ai\n2.6\n```\n'
    page.write_text(text, encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match=r"probe.md:8: `\$ n3 run app.ai` prints something else(.|\n)*-2.6\n\+2.5"):
        walk(page, tmp_path)


def test_matching_and_parsing(tmp_path):
    assert matches(["a", "...", "c"], ["a", "b", "b", "c"]) and not matches(["a", "..."], ["b"])
    page = tmp_path / "p.md"
    page.write_text("<!-- n3: file=x.jsonl -->\n```json\n{}\n```\n\n```console\n$ n3 run app.ai \\\n  --input '{}'\nout\n```\n")
    found = blocks(page)
    assert [(b.line, b.lang, b.text, b.directive) for b in found[:1]] == [(2, "json", "{}\n", {"file": "x.jsonl"})]
    assert commands(found[1]) == [("n3 run app.ai --input '{}'", ["out"])]
