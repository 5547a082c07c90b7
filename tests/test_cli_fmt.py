"""`n3 fmt` end to end through click: --check, rewriting in place, stdin, errors, folders, links."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli

MESSY = 'spec is "1.0"\nflow "x":\n    let a is 1+2\n    return a\n'
CLEAN = 'spec is "1.0"\n\nflow "x":\n  let a is 1 + 2\n  return a\n'
BROKEN = 'spec is "1.0"\nflow "x"\n  return 1 +\n'
OLD = 1_000_000_000  # an mtime long ago: a file left alone keeps it


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "messy.ai").write_text(MESSY, encoding="utf-8")
    (tmp_path / "clean.ai").write_text(CLEAN, encoding="utf-8")
    for name in ("messy.ai", "clean.ai"):
        os.utime(tmp_path / name, (OLD, OLD))
    return tmp_path


def fmt(*args: str, input: bytes | None = None):
    return CliRunner().invoke(cli, ["fmt", *args], input=input, catch_exceptions=False)


def test_check_lists_the_files_that_would_change_and_writes_nothing(project):
    result = fmt("--check", "messy.ai", "clean.ai")
    assert result.exit_code == 1
    assert result.stdout == "would reformat messy.ai\n1 file would be reformatted, 1 file already formatted\n"
    assert (project / "messy.ai").read_text(encoding="utf-8") == MESSY
    assert os.stat(project / "messy.ai").st_mtime == OLD


def test_check_passes_when_everything_is_formatted(project):
    result = fmt("--check", "clean.ai")
    assert result.exit_code == 0
    assert result.stdout == "0 files would be reformatted, 1 file already formatted\n"


def test_rewrites_in_place_and_leaves_formatted_files_alone(project):
    os.chmod(project / "messy.ai", 0o640)
    result = fmt("messy.ai", "clean.ai")
    assert result.exit_code == 0
    assert result.stdout == "reformatted messy.ai\n1 file reformatted, 1 file left unchanged\n"
    assert (project / "messy.ai").read_text(encoding="utf-8") == CLEAN
    assert stat.S_IMODE(os.stat(project / "messy.ai").st_mode) == 0o640
    assert os.stat(project / "clean.ai").st_mtime == OLD  # not rewritten
    assert sorted(p.name for p in project.iterdir()) == ["clean.ai", "messy.ai"]  # no temp file left
    again = fmt("messy.ai", "clean.ai")
    assert again.exit_code == 0
    assert again.stdout == "0 files reformatted, 2 files left unchanged\n"


def test_default_is_app_ai(project):
    (project / "app.ai").write_text(MESSY, encoding="utf-8")
    result = fmt()
    assert result.exit_code == 0
    assert result.stdout == "reformatted app.ai\n1 file reformatted, 0 files left unchanged\n"
    assert (project / "app.ai").read_text(encoding="utf-8") == CLEAN


def test_crlf_file_is_rewritten_with_lf(project):
    (project / "crlf.ai").write_bytes(CLEAN.replace("\n", "\r\n").encode())
    assert fmt("--check", "crlf.ai").stdout.startswith("would reformat crlf.ai\n")
    assert fmt("crlf.ai").exit_code == 0
    assert (project / "crlf.ai").read_bytes() == CLEAN.encode()


def test_syntax_error_file_is_untouched_and_reported(project):
    (project / "bad.ai").write_text(BROKEN, encoding="utf-8")
    os.utime(project / "bad.ai", (OLD, OLD))
    result = fmt("bad.ai", "messy.ai")
    assert result.exit_code == 1
    assert (project / "bad.ai").read_text(encoding="utf-8") == BROKEN
    assert os.stat(project / "bad.ai").st_mtime == OLD
    assert result.stderr.startswith(
        "bad.ai:3:13: error: Expected an expression after '+' [syntax-error]\n"
        "   3 |   return 1 +\n"
        "     |             ^\n"
        "  What happened: Expected an expression after '+'\n")
    assert result.stderr.endswith("\n1 error, 0 warnings\n")
    # the other file is still formatted
    assert result.stdout == ("reformatted messy.ai\n"
                             "1 file reformatted, 0 files left unchanged, 1 file with errors (left unchanged)\n")
    assert (project / "messy.ai").read_text(encoding="utf-8") == CLEAN


def test_non_utf8_and_missing_files_are_clear_errors(project):
    (project / "latin.ai").write_bytes(b'spec is "caf\xe9"\n')
    result = fmt("latin.ai", "nope.ai")
    assert result.exit_code == 1
    assert "latin.ai:1:13: error: The file is not valid UTF-8 text (byte 0xe9) [unreadable-file]" in result.stderr
    assert "nope.ai: error: Cannot read 'nope.ai': No such file or directory [unreadable-file]" in result.stderr
    assert "Traceback" not in result.output
    assert (project / "latin.ai").read_bytes() == b'spec is "caf\xe9"\n'
    assert result.stdout == "0 files reformatted, 0 files left unchanged, 2 files with errors (left unchanged)\n"


def test_stdin_to_stdout(project):
    result = fmt("-", input=MESSY.encode())
    assert result.exit_code == 0
    assert result.stdout == CLEAN
    assert result.stderr == ""


def test_stdin_check(project):
    assert fmt("--check", "-", input=CLEAN.encode()).exit_code == 0
    result = fmt("--check", "-", input=MESSY.encode())
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "would reformat -\n"


def test_stdin_errors(project):
    result = fmt("-", input=BROKEN.encode())
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("-:3:13: error: Expected an expression after '+' [syntax-error]\n   3 |   return 1 +\n")
    latin = fmt("-", input=b"spec is '\xff'\n")
    assert latin.exit_code == 1 and latin.stdout == ""
    assert latin.stderr.startswith("-:1:10: error: The input is not valid UTF-8 text (byte 0xff) [unreadable-file]\n")


def test_stdin_cannot_be_mixed_with_files(project):
    result = fmt("-", "messy.ai")
    assert result.exit_code == 2
    assert result.stderr == "n3 fmt: '-' (stdin) cannot be combined with other files\n"


def test_folders_are_searched_for_ai_files(project):
    for folder in ("sub/deeper", ".hidden", ".venv/lib", "node_modules/x"):
        (project / folder).mkdir(parents=True)
    (project / "sub" / "deeper" / "a.ai").write_text(MESSY, encoding="utf-8")
    (project / "sub" / "notes.txt").write_text(MESSY, encoding="utf-8")
    for skipped in (".hidden/h.ai", ".venv/lib/v.ai", "node_modules/x/n.ai", "sub/.tmp.ai"):
        (project / skipped).write_text(MESSY, encoding="utf-8")
    result = fmt("--check", ".")
    assert result.exit_code == 1
    assert result.stdout == ("would reformat messy.ai\nwould reformat sub/deeper/a.ai\n"
                             "2 files would be reformatted, 1 file already formatted\n")
    assert fmt("sub").stdout == "reformatted sub/deeper/a.ai\n1 file reformatted, 0 files left unchanged\n"
    assert (project / ".hidden" / "h.ai").read_text(encoding="utf-8") == MESSY


def test_a_folder_without_ai_files_says_so(project):
    (project / "empty").mkdir()
    result = fmt("empty")
    assert result.exit_code == 0
    assert result.stderr == "no .ai files in empty\n"
    assert result.stdout == "0 files reformatted, 0 files left unchanged\n"


def test_symbolic_links_are_skipped_not_replaced(project):
    (project / "link.ai").symlink_to(project / "messy.ai")
    result = fmt("link.ai")
    assert result.exit_code == 0
    assert result.stderr == f"skipped link.ai: a symbolic link (format what it points to: {os.path.realpath(project / 'messy.ai')})\n"
    assert (project / "link.ai").is_symlink()
    assert (project / "messy.ai").read_text(encoding="utf-8") == MESSY
    (project / "outside").mkdir()
    (project / "outside" / "o.ai").write_text(MESSY, encoding="utf-8")
    (project / "folder").symlink_to(project / "outside", target_is_directory=True)
    walked = fmt(".")
    assert walked.stderr == (f"skipped link.ai: a symbolic link (format what it points to: {os.path.realpath(project / 'messy.ai')})\n")
    assert walked.stdout.splitlines()[:2] == ["reformatted messy.ai", "reformatted outside/o.ai"]
    assert (project / "link.ai").is_symlink()
    assert (project / "messy.ai").read_text(encoding="utf-8") == CLEAN
    (project / "outside" / "o.ai").write_text(MESSY, encoding="utf-8")
    named = fmt("folder")  # a link to a folder, named: skipped as well
    assert named.stderr == f"skipped folder: a symbolic link (format what it points to: {os.path.realpath(project / 'outside')})\n"
    assert (project / "outside" / "o.ai").read_text(encoding="utf-8") == MESSY


def test_a_failed_write_leaves_the_file_and_no_temp_file(project, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    result = fmt("messy.ai")
    assert result.exit_code == 1
    assert result.stderr.startswith("messy.ai: error: Cannot write 'messy.ai': Permission denied [fmt-write-failed]\n")
    assert (project / "messy.ai").read_text(encoding="utf-8") == MESSY
    assert sorted(p.name for p in project.iterdir()) == ["clean.ai", "messy.ai"]


def test_help_shows_an_example():
    result = CliRunner().invoke(cli, ["fmt", "--help"])
    assert result.exit_code == 0
    assert "n3 fmt --check .           list the .ai files under . that would change" in result.output
    assert "fmt" in CliRunner().invoke(cli, ["--help"]).output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_not_read(project):
    os.mkfifo(project / "pipe.ai")
    result = fmt("pipe.ai")
    assert result.exit_code == 1
    assert "Cannot read 'pipe.ai': it is a FIFO, device or socket, not a regular file" in result.stderr


def test_examples_are_formatted():
    """The example apps are written in the canonical layout."""
    root = Path(__file__).resolve().parent.parent
    result = CliRunner().invoke(cli, ["fmt", "--check", str(root / "examples")])
    assert result.exit_code == 0, result.output
