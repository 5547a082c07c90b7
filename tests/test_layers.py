"""The layer rule of n3lang (docs/dev/ARCHITECTURE.md), enforced over the import graph.

Every ``import`` in every module of n3lang/ counts, at the top of the file or inside a
function, so a lazy import cannot slip past the rule. From the bottom up:

    base      n3lang.span (nothing) <- n3lang.ast <- n3lang.visitor; n3lang.diagnostics (span only);
              leaf helpers json_limits, surrogates, resources, words, vocabulary, yaml_safe (no n3lang import
              at all);
              n3lang.codes, the code table, imports the family homes by name and is imported
              by nothing in the package (scripts/gen_codes.py and the tests read it)
    syntax    base + syntax
    checker   base + syntax + training.interface (the training seam; no registry internals)
    frontend  base + syntax + checker: analyze(), text to AST, diagnostics and symbols
    lsp       base + syntax + checker + frontend (the editor server; pygls only inside it)
    runtime   base + runtime + training.interface (the same seam: predictor_loader)
    training  base + training; never syntax, checker, runtime or cli
    cli       anything; but no command module (cli/*_cmd.py) imports another one:
              what commands share lives in cli/common.py

LAZY lists the imports that must stay inside functions so that `n3 check` and `n3 --help`
start fast, each with the reason measured (see docs/dev/ARCHITECTURE.md for how).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "n3lang"

BASE = {"n3lang", "n3lang.span", "n3lang.ast", "n3lang.visitor", "n3lang.diagnostics", "n3lang.json_limits", "n3lang.words",
        "n3lang.vocabulary", "n3lang.surrogates", "n3lang.resources", "n3lang.yaml_safe"}
SEAM = "n3lang.training.interface"

# importer -> modules it may import besides its own package
BOTTOM = {
    "n3lang": set(),
    "n3lang.span": set(),
    "n3lang.ast": {"n3lang.span"},
    "n3lang.visitor": {"n3lang.ast"},  # the walkers' dispatch table and scope frames
    "n3lang.diagnostics": {"n3lang.span"},
    "n3lang.json_limits": set(),
    "n3lang.surrogates": set(),
    "n3lang.resources": set(),
    "n3lang.words": set(),
    "n3lang.vocabulary": set(),
    "n3lang.yaml_safe": set(),
    "n3lang.codes": {"n3lang.diagnostics"},  # the code table: imports the homes by name only
}

# (importer, imported, reason, incremental cost in ms measured on the CI machine over what
# `n3 check` already imports; python -X importtime -m n3lang.cli.main check examples/supportbot/app.ai
# shows the same modules absent)
LAZY = [
    ("n3lang.cli.main", "n3lang.cli.*_cmd", "each command imports its own stack; `n3 --help` and "
     "`n3 check` never load training or the runtime", "runtime 114, training.trainer 392"),
    ("n3lang.cli.train_cmd", "n3lang.training", "numpy, PyYAML, threadpoolctl; `n3 train --help` stays instant",
     "392"),
    ("n3lang.cli.models_cmd", "n3lang.training", "registry and inference pull numpy", "registry 396, inference 567"),
    ("n3lang.cli.predict_cmd", "n3lang.training", "inference pulls numpy", "567"),
    ("n3lang.cli.dataset_cmd", "n3lang.training", "convert and datasets", "-"),
    ("n3lang.cli.lsp_cmd", "n3lang.lsp", "pygls and lsprotocol; `n3 lsp --help` works without the extra", "-"),
    ("n3lang.cli.run_cmd", "n3lang.runtime", "the interpreter, SQLite store and exact decimals", "114"),
    ("n3lang.runtime.records", "n3lang.runtime.records_pg", "the PostgreSQL store, only for a "
     "postgresql:// --state", "-"),
    ("n3lang.runtime.records_pg", "psycopg", "the postgres extra: only for a postgresql:// --state, "
     "and n3 runs without it", "298"),
    ("n3lang.syntax.tables", "lark", "only when the cached parse tables are missing or stale", "175"),
    ("n3lang.training.interface", "n3lang.training.config", "`n3 check` of an app without a model "
     "block never loads the config code", "config 35 (without PyYAML)"),
    ("n3lang.training.interface", "n3lang.training.registry", "only when the app folder has a "
     "models_registry.yaml; shape pulls numpy", "396"),
    ("n3lang.training.interface", "n3lang.training.inference", "only when a flow runs a model", "567"),
    ("n3lang.training.config", "yaml", "the checker validates model blocks through config; PyYAML "
     "is only needed to read training.yaml", "74"),
    ("n3lang.runtime.interpreter", SEAM, "models load through the seam only when a flow asks one", "567"),
    ("n3lang.training.image", "PIL", "Pillow only for image files, not inline pixels", "63"),
    ("n3lang.training.reports", "jsonschema", "only when a report is validated", "277"),
    ("n3lang.training.trainer", "threadpoolctl", "only while fitting", "14"),
]

# must never be loaded by what `n3 check` imports
NOT_FOR_CHECK = ("numpy", "yaml", "jsonschema", "lark", "PIL", "threadpoolctl", "pygls", "pygments", "n3lang.runtime",
                 "n3lang.training.config", "n3lang.training.registry", "n3lang.training.inference")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(base: str, name: str) -> str:
    """``from base import name``: the submodule when there is one, else ``base``."""
    candidate = f"{base}.{name}"
    rel = Path(*candidate.split("."))
    if (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file():
        return candidate
    return base


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at top level?) for every import statement of a file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    for node in tree.body:  # `try:` and `if` blocks at the top run at import time, `if TYPE_CHECKING:` never
        type_only = isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        if isinstance(node, (ast.If, ast.Try)) and not type_only:
            top |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out += [(_resolve(base, a.name), id(node) in top) for a in node.names]
    return out


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}
GRAPH = {m: imports(p) for m, p in MODULES.items()}


def _group(module: str) -> str:
    for prefix in ("n3lang.syntax", "n3lang.runtime", "n3lang.training", "n3lang.cli", "n3lang.frontend", "n3lang.lsp"):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return module


def allowed(importer: str, imported: str) -> bool:
    if not imported.startswith("n3lang"):
        return True
    group = _group(importer)
    if importer in BOTTOM:
        return imported in BOTTOM[importer]
    if _group(imported) == group:
        if group == "n3lang.cli" and importer.endswith("_cmd") and imported.endswith("_cmd"):
            return False  # command modules share code through cli/common.py only
        return True
    if group == "n3lang.syntax":
        return imported in BASE
    if group == "n3lang.checker":
        return imported in BASE or _group(imported) == "n3lang.syntax" or imported in (SEAM, "n3lang.training")
    if group == "n3lang.frontend":
        return imported in BASE or _group(imported) in ("n3lang.syntax", "n3lang.checker")
    if group == "n3lang.lsp":
        return imported in BASE or _group(imported) in ("n3lang.syntax", "n3lang.checker", "n3lang.frontend")
    if group == "n3lang.runtime":
        return imported in BASE or imported == SEAM
    if group == "n3lang.training":
        return imported in BASE
    if group == "n3lang.cli":
        return True
    return False


def test_every_module_is_in_a_layer():
    groups = {_group(m) for m in MODULES}
    assert groups <= set(BOTTOM) | {"n3lang.syntax", "n3lang.checker", "n3lang.frontend", "n3lang.lsp",
                                    "n3lang.runtime", "n3lang.training", "n3lang.cli"}, groups


@pytest.mark.parametrize("module", sorted(MODULES))
def test_layer_rule(module):
    bad = sorted({name for name, _top in GRAPH[module] if not allowed(module, name)})
    assert not bad, f"{module} imports {bad}, against the layer rule (tests/test_layers.py docstring)"


def test_the_graph_is_read_correctly():
    """Guards the reader itself: known edges are seen, function-level ones included."""
    edges = {(m, n) for m, names in GRAPH.items() for n, _ in names}
    assert ("n3lang.checker", SEAM) in edges
    assert ("n3lang.runtime.interpreter", SEAM) in edges  # inside a method
    assert ("n3lang.ast", "n3lang.span") in edges
    assert ("n3lang.training.registry", "n3lang.yaml_safe") in edges
    assert ("n3lang.runtime.tools", "n3lang.yaml_safe") in edges  # inside a function


def test_pygments_only_in_the_site_lexer():
    """The docs extra's Pygments is imported by the site's lexer alone, which nothing imports."""
    users = sorted(m for m, names in GRAPH.items() if any(n.split(".")[0] == "pygments" for n, _ in names))
    assert users == ["n3lang.syntax.highlight"]
    assert not [m for m, names in GRAPH.items() if any(n == "n3lang.syntax.highlight" for n, _ in names)]


def _matches(name: str, pattern: str) -> bool:
    if pattern.endswith("*_cmd"):
        return name.startswith(pattern[: -len("*_cmd")]) and name.endswith("_cmd")
    return name == pattern or name.startswith(pattern + ".")


@pytest.mark.parametrize("importer,imported,reason,cost", LAZY, ids=lambda x: str(x)[:40])
def test_lazy_imports_stay_inside_functions(importer, imported, reason, cost):
    if importer == "n3lang.cli.main":  # by name, through importlib: no import statement at all
        assert not any(_matches(n, imported) for n, _ in GRAPH[importer])
        return
    names = [(n, top) for n, top in GRAPH[importer] if _matches(n, imported)]
    assert names, f"{importer} no longer imports {imported}: drop it from LAZY"
    assert not any(top for _, top in names), f"{importer} imports {imported} at module level ({reason})"


def test_check_loads_nothing_heavy():
    code = ("import sys\nimport n3lang.cli.main, n3lang.cli.check_cmd\nfrom n3lang.frontend import analyze\n"
            f"analyze({str(ROOT / 'examples' / 'supportbot' / 'app.ai')!r})\n"
            f"print([m for m in {NOT_FOR_CHECK!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = eval(out.stdout)  # a printed list of names
    # the example declares a model, so its settings are validated by the config code
    assert loaded == ["n3lang.training.config"], loaded
