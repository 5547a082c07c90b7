-- Neovim: .ai files with the n3 language server. Put this file in ~/.config/nvim/plugin/ (or
-- paste it into init.lua). Needs `pip install 'n3lang[lsp]'` so that `n3 lsp` runs.
-- Colouring comes from the server's semantic tokens (Neovim 0.9 and later).

vim.filetype.add({ extension = { ai = 'n3' } })

vim.api.nvim_create_autocmd('FileType', {
  pattern = 'n3',
  callback = function()
    vim.bo.commentstring = '# %s'
    vim.bo.shiftwidth = 2
    vim.bo.expandtab = true
  end,
})

if vim.lsp.config then
  -- Neovim 0.11 and later: the built-in configuration API (nvim-lspconfig not needed).
  vim.lsp.config('n3', {
    cmd = { 'n3', 'lsp' },
    filetypes = { 'n3' },
    root_markers = { 'app.ai', '.git' },
  })
  vim.lsp.enable('n3')
else
  -- Older Neovim with nvim-lspconfig: register n3 as a custom server, then set it up.
  local configs = require('lspconfig.configs')
  if not configs.n3 then
    configs.n3 = {
      default_config = {
        cmd = { 'n3', 'lsp' },
        filetypes = { 'n3' },
        root_dir = require('lspconfig.util').root_pattern('app.ai', '.git'),
        single_file_support = true,
      },
    }
  end
  require('lspconfig').n3.setup({})
end
