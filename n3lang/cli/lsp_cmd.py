"""`n3 lsp`: the language server for editors, over stdin/stdout."""

from __future__ import annotations

import sys

import click

from n3lang.cli.common import EXIT_USER_ERROR

INSTALL_HINT = "pip install 'n3lang[lsp]'"


@click.command()
def lsp() -> None:
    """Run the language server on stdin/stdout (editors start it; see README "Editors").

    \b
    Needs the lsp extra:  pip install 'n3lang[lsp]'
    Example (Neovim):     vim.lsp.config('n3', { cmd = { 'n3', 'lsp' }, filetypes = { 'n3' } })
    """
    try:
        from n3lang.lsp.server import serve
    except ImportError as exc:
        if exc.name not in ("pygls", "lsprotocol") and not str(exc.name or "").startswith(("pygls.", "lsprotocol.")):
            raise
        click.echo(f"n3 lsp needs the language-server extra, which is not installed ({exc.name} is missing).\n"
                   f"Install it with:  {INSTALL_HINT}", err=True)
        sys.exit(EXIT_USER_ERROR)
    serve()
