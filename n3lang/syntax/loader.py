"""Loading an app made of several files (LANGUAGE.md §9): `include "file.ai"` and `use`.

The parser stays text to AST for one file; this module reads the files an app names and puts
one Program together, each declaration remembering its file (``Program.origins``), so `n3
check` reports a problem of an included file at that file's line and column and `n3 run` can
run a flow defined there. As namel3ss's module_loader:

- ``include "path.ai"`` (needs the ``composition.includes`` capability): the path is relative
  to the app's folder (nested includes too); the included file's records, flows, functions,
  ai, contracts, models and app-surface declarations join the app (not its spec,
  capabilities or identity; pages and ui only in the app file). A cycle, a missing file, a
  name declared twice across files are errors; an include repeated is ignored with a warning.
- ``use module "modules/common.ai" as common``: one file of functions, records, tools and pages
  (no flows, ai, identity), merged under their own names.
- ``use "inventory" as inv``: the capsule under ``modules/inventory/`` (or
  ``packages/inventory/``): ``capsule.ai`` lists its exports; the other .ai files of the folder
  declare them. Their names become ``inventory.Name``; the app refers to them as ``inv.Name``.

Security: every path stays inside the app's folder (no absolute path, no ``..``, no symlink
leading out); the nesting depth, the number of files and their total size are bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from n3lang import ast as A
from n3lang.diagnostics import WARNING, Diagnostic, make, register
from n3lang.syntax.parser import parse_file, parse_source
from n3lang.syntax.rewrite import rebuild
from n3lang.syntax.transformer import include_path_ok
from n3lang.vocabulary import results_name

__all__ = ["MAX_DEPTH", "MAX_FILES", "MAX_TOTAL_BYTES", "Project", "load_project"]

MAX_DEPTH = 16  # includes inside includes
MAX_FILES = 256  # files one app may bring in
MAX_TOTAL_BYTES = 16 << 20  # their total size

INCLUDES_CAPABILITY = "composition.includes"

MODULE_NOT_FOUND = register(
    "module-not-found",
    why="An include or use names a file or module folder that does not exist in the app's folder.",
    fix="Check the path (it is relative to the folder of the app file), or create the file.",
    example='include "modules/flows.ai"',
)
MODULE_PATH = register(
    "module-path",
    why="Included files and modules are read from inside the app's folder only: a path may not "
        "be absolute, contain '..', or lead out through a symbolic link, and names a .ai file.",
    fix="Move the file into the app's folder and name it by a relative path.",
    example='include "modules/flows.ai"',
)
MODULE_CYCLE = register(
    "module-cycle",
    why="Files that include each other would never finish loading.",
    fix="Move what both files need into a third file that both include.",
    example='include "shared.ai"',
)
MODULE_CAPABILITY = register(
    "module-capability",
    why="Including other files is a capability an app declares (namel3ss's composition.includes).",
    fix="Add composition.includes to the app's capabilities.",
    example='capabilities:\n  composition.includes\n\ninclude "modules/flows.ai"',
)
MODULE_CONFLICT = register(
    "module-conflict",
    why="The files of an app share one set of names, and some declarations belong to the app "
        "file alone (namel3ss's rules).",
    fix="Rename one of the declarations, or move it into the app file.",
    example='include "modules/flows.ai"',
)
MODULE_LIMIT = register(
    "module-limit",
    why=f"An app may bring in at most {MAX_FILES} files of {MAX_TOTAL_BYTES >> 20} MiB in "
        f"total, included at most {MAX_DEPTH} levels deep.",
    fix="Include fewer or smaller files.",
    example='include "modules/flows.ai"',
)
MODULE_EXPORT = register(
    "module-export",
    why="Only what a module's capsule.ai exports is visible outside it, under the module's alias.",
    fix="Export the name in modules/<name>/capsule.ai, or refer to an exported name.",
    example='capsule "inventory":\n  exports:\n    record "Product"',
)
DUPLICATE_INCLUDE = register(
    "duplicate-include",
    why="A file is included once; a second include of it adds nothing.",
    fix="Remove the repeated include.",
    example='include "modules/flows.ai"',
    severity=WARNING,
)

# What an included file adds to the app (namel3ss's includes_expand.py): not its spec,
# capabilities or identity; pages and ui only in the app file (checked apart).
_ROOT_ONLY_SURFACE = frozenset({"page", "ui", "theme", "app", "ui_state", "permissions"})
# Everything else an included file declares joins the app (tools, prompts, ... as they come).
_DROPPED_FROM_INCLUDES = (A.SpecDecl, A.CapabilitiesDecl, A.IdentityDecl, A.IncludeDecl)
# What a module file may not declare (namel3ss's runtime/modules/validate.py words); of the
# rest, its functions, records, tools and pages join the app.
_NOT_IN_MODULE_FILES = {
    "FlowDecl": "Flows are not allowed in modules.",
    "UseDecl": "Module files cannot import other modules.",
    "IdentityDecl": "Identity is not allowed in modules.",
    "ContractDecl": "Contracts are not allowed in modules.",
    "AIDecl": "AI and agent declarations are not allowed in modules.",
    "agent": "AI and agent declarations are not allowed in modules.",
    "app": "App declaration is not allowed in modules.",
    "capsule": "Capsule declaration is not allowed in modules.",
}
# What a capsule module may not declare (namel3ss's module_loader words).
_APP_ONLY = {
    "IdentityDecl": "Identity declarations are only allowed in app.ai.",
    "team of agents": "Team of agents is only allowed in app.ai.",
    "app": "App declarations are not allowed inside modules.",
    "theme": "Theme declarations are not allowed inside modules.",
    "ui": "UI declarations are not allowed inside modules.",
    "ui_state": "ui_state declarations are not allowed inside modules.",
    "permissions": "permissions declarations are not allowed inside modules.",
}
_LABELS = {"ai": "AI profile"}  # namel3ss's KIND_LABELS, where they differ from the kind
_NAMED = {A.RecordDecl: "record", A.FlowDecl: "flow", A.FunctionDecl: "function",
          A.AIDecl: "ai", A.ModelDecl: "model"}


def _name_span(decl: Any) -> A.Span:
    span = getattr(decl, "name_span", A.UNKNOWN)
    return span if span != A.UNKNOWN else decl.span


def _kind_of(decl: Any) -> str | None:
    """The kind of a named declaration, for names declared twice across files: record, flow,
    function, ai, model, or the class's word for declarations added later (tool, prompt)."""
    kind = _NAMED.get(type(decl))
    if kind is None and not isinstance(decl, (A.SurfaceDecl, A.UseDecl, A.ContractDecl)) \
            and isinstance(getattr(decl, "name", None), str):
        kind = type(decl).__name__.removesuffix("Decl").lower()
    return kind


@dataclass
class Project:
    """The app put together: program (None when the app file cannot be read), diagnostics of
    every file (each with its own file), sources (path -> text) for rendering."""

    program: A.Program | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)


class _Loader:
    def __init__(self, app: Path) -> None:
        self.app = app
        self.root = app.resolve().parent
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, str] = {}
        self.total = 0
        self.files = 0
        self.over = False

    # ------------------------------------------------------------------ plumbing
    def error(self, code: str, message: str, span: A.Span, file: str, **texts: Any) -> None:
        self.diagnostics.append(make(code, message, span, file, **texts))

    def target(self, raw: str, span: A.Span, file: str, module: bool = False) -> Path | None:
        """The file ``raw`` names inside the app's folder, or None (reported in namel3ss's
        words: its include loader's, or with ``module`` its runtime/modules resolver's)."""
        text = raw.strip().replace("\\", "/")
        candidate = Path(text)
        if not text or candidate.is_absolute() or re.match(r"[A-Za-z]:", text):
            self.error(MODULE_PATH, "Module path must be relative." if module else
                       "Compile error: include paths must be relative to the root app file.", span, file)
            return None
        if ".." in candidate.parts and not module:
            self.error(MODULE_PATH, "Compile error: include paths cannot contain '..'.", span, file)
            return None
        try:
            resolved = (self.root / candidate).resolve()
        except (OSError, ValueError, RuntimeError):  # a NUL byte, a loop of symbolic links
            self.error(MODULE_PATH, f"Cannot use the path {raw!r}.", span, file)
            return None
        if not resolved.is_relative_to(self.root):  # '..' or a symbolic link leading out
            self.error(MODULE_PATH, "Module path escapes the project root." if module else
                       "Compile error: include path escapes the project root.", span, file)
            return None
        if candidate.suffix != ".ai":
            self.error(MODULE_PATH, "Module path must end with .ai." if module else
                       "Compile error: include paths must end with .ai.", span, file)
            return None
        if not resolved.is_file():
            rel = resolved.relative_to(self.root).as_posix()
            self.error(MODULE_NOT_FOUND, f"Module file not found at {self.display(resolved)}." if module
                       else f'Compile error: included file not found: "{rel}"', span, file)
            return None
        return resolved

    def read(self, path: Path, span: A.Span, file: str) -> A.Program | None:
        """Parse one more file of the app, within the bounds (its diagnostics kept)."""
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        self.files += 1
        self.total += size
        if self.files > MAX_FILES or self.total > MAX_TOTAL_BYTES:
            if self.over:
                return None  # reported once
            self.over = True
            self.error(MODULE_LIMIT, f"The app brings in too many files or too much text (at most "
                                     f"{MAX_FILES} files, {MAX_TOTAL_BYTES >> 20} MiB).", span, file)
            return None
        name = self.display(path)
        program, diagnostics, source = parse_file(name)
        self.sources[name] = source
        self.diagnostics.extend(diagnostics)
        return program

    def display(self, path: Path) -> str:
        """How a file of the app is named in diagnostics: as the app file is, plus its path."""
        rel = path.relative_to(self.root).as_posix()
        if self.app.parent.resolve() != self.root:  # the app file is a link: name the real place
            return str(path)
        return str(self.app.parent / rel) if str(self.app.parent) != "." else rel

    # ------------------------------------------------------------------ includes
    def includes(self, program: A.Program) -> list[tuple[A.Program, A.IncludeDecl]]:
        """Every file included from the app, depth first in include order."""
        found: list[tuple[A.Program, A.IncludeDecl]] = []
        seen: dict[Path, str] = {}
        visiting: list[str] = []

        def visit(prog: A.Program, depth: int) -> None:
            for inc in prog.of_type(A.IncludeDecl):
                if not include_path_ok(inc.path):
                    continue  # the parser reported it
                path = self.target(inc.path, inc.span, prog.path)
                if path is None:
                    continue
                rel = path.relative_to(self.root).as_posix()
                if rel in visiting or path == self.app.resolve():
                    # the app file included again includes, in turn, the file being read
                    # (namel3ss's chain: a.ai -> app.ai -> a.ai)
                    chain = [*visiting[visiting.index(rel):], rel] if rel in visiting else [
                        *visiting, rel, (visiting or [rel])[0]]
                    self.error(MODULE_CYCLE, f"Compile error: include cycle detected: {' -> '.join(chain)}",
                               inc.span, prog.path)
                    continue
                if path in seen:
                    self.error(DUPLICATE_INCLUDE, f'Warning: Duplicate include ignored: "{rel}"',
                               inc.span, prog.path)
                    continue
                if depth >= MAX_DEPTH:
                    self.error(MODULE_LIMIT, f"Includes are nested too deeply (more than {MAX_DEPTH} "
                                             "levels).", inc.span, prog.path)
                    continue
                child = self.read(path, inc.span, prog.path)
                seen[path] = rel
                if child is None:
                    continue
                found.append((child, inc))
                visiting.append(rel)
                visit(child, depth + 1)
                visiting.pop()

        visit(program, 0)
        return found

    # ------------------------------------------------------------------ use
    def module_file(self, use: A.UseDecl, file: str) -> A.Program | None:
        """`use module "path.ai" as alias`: the file, checked as namel3ss's runtime/modules."""
        path = self.target(use.module, use.span, file, module=True)
        if path is None:
            return None
        module = self.read(path, use.span, file)
        if module is None:
            return None
        for decl in module.declarations:
            kind = decl.kind if isinstance(decl, A.SurfaceDecl) else type(decl).__name__
            what = _NOT_IN_MODULE_FILES.get(kind)
            if what is not None:
                self.error(MODULE_CONFLICT, what, decl.span, module.path)
        return module

    def capsule(self, use: A.UseDecl, file: str) -> tuple[list[A.Program], dict[str, set[str]], A.Program] | None:
        """`use "name" as alias`: the module folder's files and its exports by kind."""
        name = use.module
        if not name or "/" in name or "\\" in name or name in (".", "..") or ":" in name:
            self.error(MODULE_PATH, "Module path escapes the project root.", use.span, file,
                       why="A module is named by its folder under modules/ or packages/.")
            return None
        folder = None
        for base in ("modules", "packages"):
            candidate = self.root / base / name
            if (candidate / "capsule.ai").is_file():
                folder = candidate.resolve()
                break
        if folder is None:
            self.error(MODULE_NOT_FOUND, f"Module '{name}' was not found.", use.span, file,
                       why=f"No capsule.ai exists at modules/{name}/capsule.ai or "
                           f"packages/{name}/capsule.ai.",
                       fix=f"Create modules/{name}/capsule.ai or install the package.")
            return None
        if not folder.is_relative_to(self.root) or \
                not (folder / "capsule.ai").resolve().is_relative_to(self.root):
            self.error(MODULE_PATH, "Module path escapes the project root.", use.span, file)
            return None
        capsule = self.read(folder / "capsule.ai", use.span, file)
        if capsule is None:
            return None
        exports = _exports(capsule)
        programs = []
        for path in sorted(folder.rglob("*.ai"), key=lambda p: p.relative_to(folder).as_posix()):
            parts = {p.lower() for p in path.relative_to(folder).parts}
            if path.name in ("capsule.ai", "app.ai") or path.name.endswith("_test.ai") or \
                    parts & {"tests", "examples", "example"}:
                continue
            if not path.resolve().is_relative_to(self.root):
                self.error(MODULE_PATH, "Module path escapes the project root.", use.span, file)
                continue
            program = self.read(path, use.span, file)
            if program is not None:
                programs.append(program)
        return programs, exports, capsule


def _exports(capsule: A.Program) -> dict[str, set[str]]:
    """The exports of a capsule.ai (an app-surface declaration here): kind -> names."""
    exports: dict[str, set[str]] = {}
    for decl in capsule.of_type(A.SurfaceDecl):
        if decl.kind != "capsule":
            continue
        for m in re.finditer(r'^\s+(record|flow|function|ai|tool|page|job|agent)\s+"([^"]*)"',
                             decl.text, re.M):
            exports.setdefault(m.group(1), set()).add(m.group(2))
    return exports


# ---------------------------------------------------------------------------- names
@dataclass
class _Names:
    """Resolving names in one file: its module (None for the app), its own declarations by
    kind, its aliases (alias -> module) and every module's exports."""

    module: str | None
    local: dict[str, set[str]]
    aliases: dict[str, str]
    exports: dict[str, dict[str, set[str]]]
    file: str
    problems: list[tuple[str, A.Span, str, str | None]] = field(default_factory=list)

    def qualify(self, name: str) -> str:
        return f"{self.module}.{name}" if self.module else name

    def resolve(self, raw: str, kind: str, span: A.Span) -> str:
        if raw in self.local.get(kind, ()):
            return self.qualify(raw)
        prefix, _, rest = raw.partition(".")
        if rest and prefix in self.aliases:
            target = self.aliases[prefix]
            if rest not in self.exports.get(target, {}).get(kind, ()):
                self.problems.append((f"Module '{target}' does not export {_LABELS.get(kind, kind)} "
                                      f"'{rest}'.", span, self.file, None))
            return f"{target}.{rest}"
        owners = sorted(m for m, kinds in self.exports.items() if raw in kinds.get(kind, ()))
        if owners:  # namel3ss's words: a module's name is reached through its alias
            alias = next((a for a, m in self.aliases.items() if m == owners[0]), None)
            fix = (f"Use `{alias}.{raw}` with the existing alias." if alias else
                   f'Add `use "{owners[0]}" as {owners[0][:3]}` and qualify the reference.')
            self.problems.append((f"Unqualified reference to {_LABELS.get(kind, kind)} '{raw}'.",
                                  span, self.file, fix))
            return f"{owners[0]}.{raw}"
        return raw


def _definitions(programs: list[A.Program]) -> dict[str, set[str]]:
    local: dict[str, set[str]] = {}
    for program in programs:
        decl: Any
        for decl in program.declarations:
            kind = _NAMED.get(type(decl))
            if kind is not None:
                local.setdefault(kind, set()).add(decl.name)
    return local


def _rename(names: _Names) -> Callable[[Any], Any]:
    """The rebuild function that writes a file's names as the joined program knows them."""
    results = {results_name(r): results_name(names.qualify(r)) for r in names.local.get("record", ())}

    def fn(node: Any) -> Any:
        kind = type(node)
        if kind in _NAMED:
            return replace(node, name=names.qualify(node.name)) if names.module else node
        if kind is A.ContractDecl and names.module:
            return replace(node, name=names.resolve(node.name, "flow", node.span))
        if kind in (A.Create, A.Find, A.Update, A.Delete, A.Save, A.StepCreate, A.StepUpdate,
                    A.StepDelete):
            return replace(node, record=names.resolve(node.record, "record", node.span))
        if kind is A.CallFunction:
            return replace(node, name=names.resolve(node.name, "function", node.span))
        if kind is A.CallFlow:
            return replace(node, name=names.resolve(node.name, "flow", node.span))
        if kind is A.AskAI:
            return replace(node, ai=names.resolve(node.ai, "ai", node.span))
        if kind is A.TypeRef and not node.args:
            return replace(node, name=names.resolve(node.name, "record", node.span))
        if kind is A.SurfaceRef:
            return replace(node, name=names.resolve(node.name, node.kind, node.span))
        if kind is A.Name and names.module and node.name in results:
            return replace(node, name=results[node.name])
        return node

    return fn


# ---------------------------------------------------------------------------- entry point
def load_project(path: str | Path, text: str | None = None) -> Project:
    """Read the app file and every file it includes or uses; never raises. ``text``, when
    given, is the app file's content as an editor holds it (unsaved), read instead of the disk."""
    try:
        return _load_project(path, text)
    except (OSError, ValueError, RuntimeError) as exc:  # a file system that fails under us
        program, diagnostics, source = _parse_app(path, text)
        problem = make(MODULE_PATH, f"Cannot read the app's files: {exc}", A.UNKNOWN, str(path))
        return Project(program, [*diagnostics, problem], {str(path): source})


def _parse_app(path: str | Path, text: str | None) -> tuple[A.Program | None, list[Diagnostic], str]:
    if text is None:
        return parse_file(str(path))
    program, diagnostics = parse_source(text, str(path))
    return program, diagnostics, text


def _load_project(path: str | Path, text: str | None = None) -> Project:
    app = Path(path)
    program, diagnostics, source = _parse_app(path, text)
    project = Project(program, list(diagnostics), {str(path): source})
    if program is None or not any(isinstance(d, (A.UseDecl, A.IncludeDecl)) for d in program.declarations):
        return project
    loader = _Loader(app)
    decls: list[Any] = list(program.declarations)
    origins = [program.path] * len(decls)
    includes = program.of_type(A.IncludeDecl)
    if includes and INCLUDES_CAPABILITY not in program.capabilities:
        first = includes[0]
        loader.error(MODULE_CAPABILITY,
                     "Capability missing: composition.includes is required to use 'include' "
                     "directives. Add 'capability is composition.includes' to the manifest.",
                     first.span, program.path)
    else:
        _join_includes(loader, program, decls, origins)
    _join_uses(loader, program, decls, origins)
    project.program = replace(program, declarations=tuple(decls), origins=tuple(origins))
    project.diagnostics.extend(loader.diagnostics)
    project.sources.update(loader.sources)
    return project


def _join_includes(loader: _Loader, program: A.Program, decls: list, origins: list) -> None:
    seen: dict[tuple[str, str], str] = {}
    decl: Any
    for decl in program.declarations:
        kind = _kind_of(decl)
        if kind is not None:
            seen[(kind, decl.name)] = loader.app.name
    for child, inc in loader.includes(program):
        rel = Path(child.path).resolve().relative_to(loader.root).as_posix()
        for decl in child.declarations:
            if isinstance(decl, A.SurfaceDecl) and decl.kind in _ROOT_ONLY_SURFACE:
                loader.error(MODULE_CONFLICT, "Compile error: only the root file may define 'ui' "
                             f'and \'pages\'. Found in "{rel}"', decl.span, child.path)
                continue
            if isinstance(decl, _DROPPED_FROM_INCLUDES):
                continue
            kind = _kind_of(decl)
            if kind is not None:
                previous = seen.get((kind, decl.name))
                if previous is not None:
                    loader.error(MODULE_CONFLICT, f"Compile error: duplicate declaration '{decl.name}' "
                                 f'found in "{rel}" (already defined in "{previous}")',
                                 _name_span(decl), child.path)
                    continue
                seen[(kind, decl.name)] = rel
            decls.append(decl)
            origins.append(child.path)


def _merge_module_file(loader: _Loader, use: A.UseDecl, module: A.Program, decls: list,
                       origins: list) -> None:
    """A module file's functions, records, tools and pages (those ``only:`` selects) join the
    app; a name
    the app has already is an error unless ``allow override:`` names its category, then the
    module's declaration replaces it (namel3ss's runtime/modules/merge.py)."""
    wanted = set(use.only or ("functions", "records", "tools", "pages"))
    part: Any
    for part in module.declarations:
        word = "page" if isinstance(part, A.SurfaceDecl) and part.kind == "page" else _kind_of(part)
        if word not in ("record", "function", "tool", "page") or word + "s" not in wanted:
            continue
        existing = next((i for i, d in enumerate(decls) if type(d) is type(part)
                         and getattr(d, "kind", None) == getattr(part, "kind", None)
                         and d.name == part.name), None)
        if existing is not None:
            if word + "s" not in use.allow_override:
                loader.error(MODULE_CONFLICT, f"{word} name {part.name} already exists.", part.span,
                             module.path, why="Module imports cannot overwrite existing names.",
                             fix=f"Allow override for {word} or rename the {word}.",
                             example=f'use module "{use.module}" as {use.alias}\nallow override:\n  {word}s')
                continue
            del decls[existing], origins[existing]
        decls.append(part)
        origins.append(module.path)


def _load_capsule(loader: _Loader, use: A.UseDecl, file: str, exports: dict, capsules: list,
                  stack: list[str]) -> None:
    """A capsule and, depth first, the capsules its files use (a cycle is an error at the
    `use` that closes it, in namel3ss's words)."""
    if use.module in stack:
        chain = " -> ".join([*stack[stack.index(use.module):], use.module])
        loader.error(MODULE_CYCLE, "Circular module import detected.", use.span, file,
                     why=f"Modules form a cycle: {chain}.",
                     fix="Remove the cycle by extracting shared code into a separate module.")
        return
    if use.module in exports:
        return
    loaded = loader.capsule(use, file)
    if loaded is None:
        return
    programs, exported, capsule = loaded
    exports[use.module] = exported
    for prog in programs:
        for inner in prog.of_type(A.UseDecl):
            if inner.file:
                loader.error(MODULE_CONFLICT, "Use module is not allowed inside capsule modules.",
                             inner.span, prog.path, fix="Move use module statements to app.ai.")
                continue
            _load_capsule(loader, inner, prog.path, exports, capsules, [*stack, use.module])
    capsules.append((use.module, programs, capsule))


def _join_uses(loader: _Loader, program: A.Program, decls: list, origins: list) -> None:
    uses = [d for d in decls if isinstance(d, A.UseDecl)]
    use_files = {id(d): f for d, f in zip(decls, origins) if isinstance(d, A.UseDecl)}
    aliases: dict[str, str] = {}
    exports: dict[str, dict[str, set[str]]] = {}
    capsules: list[tuple[str, list[A.Program], A.Program]] = []
    modules: dict[tuple[bool, str], str] = {}  # (file?, module) -> alias
    file_aliases: dict[str, str] = {}
    for use in uses:
        file = use_files[id(use)]
        # namel3ss's words: static._normalize_uses for capsules, runtime/modules for files
        table = file_aliases if use.file else aliases
        if use.alias in table and table[use.alias] != use.module:
            loader.error(MODULE_CONFLICT, f"Alias {use.alias} is already used." if use.file else
                         f"Alias '{use.alias}' is already used in App.", use.span, file,
                         fix="Pick a different alias for the second module.")
            continue
        if modules.get((use.file, use.module), use.alias) != use.alias:
            loader.error(MODULE_CONFLICT, f"Module {use.module} is imported more than once." if use.file
                         else f"Module '{use.module}' is imported more than once.", use.span, file,
                         fix="Remove the duplicate use statement.")
            continue
        modules[(use.file, use.module)] = use.alias
        table[use.alias] = use.module
        if use.file:
            module_file = loader.module_file(use, file)
            if module_file is None:
                continue
            _merge_module_file(loader, use, module_file, decls, origins)
            continue
        _load_capsule(loader, use, file, exports, capsules, [])
    if not capsules:
        return
    # the app's own references to alias.Name, then each capsule's names
    joined = replace(program, declarations=tuple(decls))
    app_names = _Names(None, _definitions([joined]), {a: m for a, m in aliases.items()
                                                      if m in exports}, exports, program.path)
    fn = _rename(app_names)
    for i, (decl, origin) in enumerate(zip(decls, origins)):
        if origin == program.path or not isinstance(decl, A.UseDecl):
            decls[i] = rebuild(decl, fn)
    for module, programs, capsule in capsules:
        local = _definitions(programs)
        broken = {p.path for p in programs} & {d.file for d in loader.diagnostics if d.is_error}
        header = next((d.span for d in capsule.of_type(A.SurfaceDecl) if d.kind == "capsule"),
                      A.UNKNOWN)
        for kind, names in exports[module].items():
            for name in sorted(names - local.get(kind, set())) if not broken else ():
                # (a file with a syntax error may have lost the declaration: not reported then)
                loader.error(MODULE_EXPORT, f"Exported {kind} '{name}' not found in module '{module}'.",
                             header, capsule.path)
        for prog in programs:
            own = {u.alias: u.module for u in prog.of_type(A.UseDecl) if u.module in exports}
            resolver = _Names(module, local, own, exports, prog.path)
            fn = _rename(resolver)
            for part in prog.declarations:
                # (namel3ss keeps the contracts of the app file only: a module's are dropped)
                if isinstance(part, (A.SpecDecl, A.CapabilitiesDecl, A.UseDecl, A.IncludeDecl,
                                     A.ContractDecl)):
                    continue
                refused = _APP_ONLY.get(part.kind if isinstance(part, A.SurfaceDecl) else
                                        type(part).__name__)
                if refused is not None:
                    loader.error(MODULE_CONFLICT, refused, part.span, prog.path,
                                 fix="Move the declaration to app.ai.")
                    continue
                if isinstance(part, A.SurfaceDecl) and part.kind == "page" and \
                        part.name not in exports[module].get("page", ()):
                    continue  # namel3ss keeps a module's exported pages only
                decls.append(rebuild(part, fn))
                origins.append(prog.path)
            for message, span, file, fix in resolver.problems:
                loader.error(MODULE_EXPORT, message, span, file, fix=fix)
    for message, span, file, fix in app_names.problems:
        loader.error(MODULE_EXPORT, message, span, file, fix=fix)

