"""The documentation site builds with `mkdocs build --strict`: no warning, no broken link or
anchor, every page in the nav, and the .ai examples coloured by n3lang's lexer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="the docs extra (pip install -e '.[docs]')")
pytest.importorskip("material", reason="the docs extra (pip install -e '.[docs]')")
tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]


def _lexer_metadata(folder: Path) -> Path:
    """A dist-info declaring pyproject.toml's pygments.lexers entry points, for the build's
    Python: the site is built with the lexer as pyproject declares it, even when the installed
    n3lang's metadata predates it (an editable install made before the entry point existed)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lexers = project["entry-points"]["pygments.lexers"]
    info = folder / "n3lang_site_lexers-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: n3lang-site-lexers\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "[pygments.lexers]\n" + "".join(f"{name} = {target}\n" for name, target in lexers.items()))
    return folder


def test_site_builds_strictly_with_highlighted_ai(tmp_path):
    site = tmp_path / "site"
    paths = [str(_lexer_metadata(tmp_path / "meta")), str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p), NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert not re.search(r"^(WARNING|ERROR)\b", log, re.M), log
    assert "not included in the \"nav\"" not in log, log  # every page is reachable
    home = (site / "index.html").read_text(encoding="utf-8")
    # the lexer's tokens: a declaration keyword, a keyword, a string
    assert '<span class="kd">flow</span>' in home
    assert '<span class="k">return</span>' in home
    assert '<span class="s2">&quot;1.0&quot;</span>' in home or '<span class="s2">1.0</span>' in home
    # README's Editors section is included in the Editors page
    assert "yaml-language-server" in (site / "editors" / "index.html").read_text(encoding="utf-8")
