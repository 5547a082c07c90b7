"""The n3 language server (`n3 lsp`): pygls is imported only here, and only when it runs."""
