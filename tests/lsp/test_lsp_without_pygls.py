"""`n3 lsp` without the lsp extra: the pip command to run, exit 1, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# pygls and lsprotocol cannot be imported, as where `pip install 'n3lang[lsp]'` never ran
BLOCKER = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pygls", "lsprotocol"):
            raise ImportError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
from n3lang.cli.main import main
main(["lsp"])
"""


def test_n3_lsp_without_pygls_says_what_to_install():
    done = subprocess.run([sys.executable, "-c", BLOCKER], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == ("n3 lsp needs the language-server extra, which is not installed (lsprotocol is missing).\n"
                           "Install it with:  pip install 'n3lang[lsp]'\n")
