"""An app of several files (LANGUAGE.md §9): include, use module, use (capsules).

Messages and positions are namel3ss 0.1.0a24's (its module_loader, parser/program_loader.py
and runtime/modules), run with the oracle, except where namel3ss gives no position: there the
problem is placed at the statement that causes it (LANGUAGE.md: "a missing file is an error
at the statement"). Paths stay inside the app's folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.frontend import analyze
from n3lang.syntax.loader import MAX_DEPTH, load_project

INCLUDES = 'spec is "1.0"\n\ncapabilities:\n  composition.includes\n\n'


def app(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return tmp_path / "app.ai"


def problems(path: Path) -> list[tuple[str, int, int, str, str]]:
    """(file relative to the app's folder, line, column, severity, message) of `n3 check`."""
    diagnostics = list(analyze(path).diagnostics)
    return [(os.path.relpath(d.file, path.parent), d.span.line, d.span.column, d.severity,
             d.message) for d in diagnostics if d.severity != "note"]


def run(path: Path, flow: str, given: str = "{}") -> dict:
    result = CliRunner().invoke(cli, ["run", str(path), "--flow", flow, "--input", given, "--json"],
                                catch_exceptions=False)
    return json.loads(result.output)


# ------------------------------------------------------------------ include
FLOWS = ('record "Note":\n  name is text\n\nflow "add" requires true\n  create "Note"\n'
         '    name is "x"\n')


def test_a_flow_of_an_included_file_runs(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "modules/flows.ai"\n\nflow "main":\n  return 1\n',
                          "modules/flows.ai": FLOWS})
    assert problems(path) == []
    payload = run(path, "add")
    assert payload["ok"] and payload["result"] == {"_id": 1, "name": "x"}


def test_check_reports_problems_at_the_included_files_position(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "modules/flows.ai"\n',
                          "modules/flows.ai": 'flow "f":\n  create "Nope" with map:\n    a is 1\n  as x\n'
                                              'flow "g":\n  let x is\n'})
    assert problems(path) == [
        ("modules/flows.ai", 2, 3, "warning", "Flow 'f' creates records but declares no 'requires'"),
        ("modules/flows.ai", 6, 11, "error", "Unexpected expression"),
    ]
    Path(tmp_path / "modules/flows.ai").write_text('flow "f":\n  let y is 1\n  return zz\n', encoding="utf-8")
    assert [p[:3] + p[4:] for p in problems(path) if p[3] == "warning"] == [
        ("modules/flows.ai", 3, 10, "Unknown variable 'zz'")]


def test_the_capability_is_required(tmp_path):
    path = app(tmp_path, {"app.ai": 'spec is "1.0"\n\ninclude "a.ai"\ninclude "b.ai"\n',
                          "a.ai": FLOWS})
    assert problems(path) == [("app.ai", 3, 1, "error",
                               "Capability missing: composition.includes is required to use 'include' "
                               "directives. Add 'capability is composition.includes' to the manifest.")]


def test_a_missing_file_is_an_error_at_the_include(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + '\ninclude "modules/missing.ai"\n'})
    assert problems(path) == [("app.ai", 7, 1, "error",
                               'Compile error: included file not found: "modules/missing.ai"')]


@pytest.mark.parametrize("written", ['"../outside.ai"', '"/etc/passwd.ai"', '"modules/../x.ai"',
                                     '"notes.txt"'])
def test_paths_that_leave_the_folder_are_refused_by_the_parser(tmp_path, written):
    (tmp_path / "sub").mkdir()
    path = app(tmp_path / "sub", {"app.ai": INCLUDES + f"include {written}\n"})
    (tmp_path / "outside.ai").write_text(FLOWS, encoding="utf-8")
    assert problems(path) == [("app.ai", 6, 9, "error",
                               "include paths must be relative .ai files without '..'.")]


def test_a_symbolic_link_leading_out_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.ai").write_text(FLOWS, encoding="utf-8")
    path = app(tmp_path / "app", {"app.ai": INCLUDES + 'include "link.ai"\ninclude "dir/evil.ai"\n'})
    (tmp_path / "app" / "link.ai").symlink_to(outside / "evil.ai")
    (tmp_path / "app" / "dir").symlink_to(outside)
    assert problems(path) == [
        ("app.ai", 6, 1, "error", "Compile error: include path escapes the project root."),
        ("app.ai", 7, 1, "error", "Compile error: include path escapes the project root."),
    ]
    assert "add" not in [getattr(d, "name", None) for d in load_project(path).program.declarations]


def test_a_cycle_is_reported_at_the_include_that_closes_it(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "a.ai"\n',
                          "a.ai": 'include "b.ai"\n', "b.ai": 'include "a.ai"\n'})
    assert problems(path) == [("b.ai", 1, 1, "error", "Compile error: include cycle detected: a.ai -> b.ai -> a.ai")]


def test_including_the_app_file_is_a_cycle(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "a.ai"\n', "a.ai": 'include "app.ai"\n'})
    assert problems(path) == [("a.ai", 1, 1, "error", "Compile error: include cycle detected: a.ai -> app.ai -> a.ai")]


def test_the_app_including_itself_is_a_cycle(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "app.ai"\n'})
    assert problems(path) == [("app.ai", 6, 1, "error", "Compile error: include cycle detected: app.ai -> app.ai")]


def test_a_repeated_include_is_ignored_with_a_warning(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "a.ai"\ninclude "a.ai"\n', "a.ai": FLOWS})
    assert problems(path) == [("app.ai", 7, 1, "warning", 'Warning: Duplicate include ignored: "a.ai"')]


def test_a_name_declared_in_two_files(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "a.ai"\n\nflow "add":\n  return 1\n', "a.ai": FLOWS})
    assert problems(path) == [("a.ai", 4, 6, "error", "Compile error: duplicate declaration 'add' "
                               'found in "a.ai" (already defined in "app.ai")')]


def test_pages_belong_to_the_app_file(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "a.ai"\n', "a.ai": 'page "home":\n  title is "x"\n'})
    assert problems(path) == [("a.ai", 1, 1, "error", "Compile error: only the root file may define "
                               "'ui' and 'pages'. Found in \"a.ai\"")]


def test_a_capsule_belongs_in_a_modules_capsule_file(tmp_path):
    # namel3ss's words, for the app file and an included file alike; a module's capsule.ai is fine
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "a.ai"\n', "a.ai": 'capsule "x":\n  exports:\n'
                          '    flow "f"\n'})
    assert problems(path) == [("a.ai", 1, 1, "error", "Capsule declaration found in a non-module file.")]
    assert problems(capsule_app(tmp_path / "module")) == []


def test_the_include_depth_is_bounded(tmp_path):
    files = {"app.ai": INCLUDES + 'include "f0.ai"\n'}
    for i in range(MAX_DEPTH + 2):
        files[f"f{i}.ai"] = f'include "f{i + 1}.ai"\n'
    files[f"f{MAX_DEPTH + 2}.ai"] = FLOWS
    path = app(tmp_path, files)
    assert problems(path) == [(f"f{MAX_DEPTH - 1}.ai", 1, 1, "error",
                               f"Includes are nested too deeply (more than {MAX_DEPTH} levels).")]


# ------------------------------------------------------------------ use module "file.ai"
COMMON = ('record "Item":\n  n is number\n\ndefine function "double":\n  input:\n    x is number\n'
          '  return x * 2\n')
USE_COMMON = ('spec is "1.0"\n\nuse module "modules/common.ai" as common\n\nflow "main": requires true\n'
              '  let d is call function "double":\n    x is 4\n  create "Item" with map:\n    n is d\n  as item\n'
              '  return item\n')


def test_a_module_files_functions_and_records_join_the_app(tmp_path):
    path = app(tmp_path, {"app.ai": USE_COMMON, "modules/common.ai": COMMON})
    assert problems(path) == []
    assert run(path, "main")["result"] == {"_id": 1, "n": 8}


@pytest.mark.parametrize("module, message", [
    ("modules/nope.ai", "Module file not found at {dir}/modules/nope.ai."),
    ("../common.ai", "Module path escapes the project root."),
    ("/common.ai", "Module path must be relative."),
    ("modules/common.txt", "Module path must end with .ai."),
])
def test_module_file_paths(tmp_path, module, message):
    path = app(tmp_path, {"app.ai": USE_COMMON.replace("modules/common.ai", module),
                          "modules/common.ai": COMMON, "modules/common.txt": COMMON})
    found = [p for p in problems(path) if p[0] == "app.ai" and p[1] == 3]
    assert found == [("app.ai", 3, 1, "error", message.format(dir=tmp_path))]


def test_a_module_file_holds_no_flows(tmp_path):
    path = app(tmp_path, {"app.ai": USE_COMMON, "modules/common.ai": COMMON + 'flow "x":\n  return 1\n'})
    assert ("modules/common.ai", 8, 1, "error", "Flows are not allowed in modules.") in problems(path)


# ------------------------------------------------------------------ use "name" as alias
CAPSULE = 'spec is "1.0"\n\ncapsule "inv":\n  exports:\n    record "Item"\n    flow "add"\n'
LOGIC = ('spec is "1.0"\n\nrecord "Item":\n  name is text\n\nrecord "Secret":\n  name is text\n\n'
         'flow "add": requires true\n  create "Item" with map:\n    name is "a"\n  as item\n'
         '  find "Item" where name is "a"\n  return list length of item_results\n')
USE_INV = 'spec is "1.0"\n\nuse "inv" as stock\n\nflow "main" requires true\n  create "stock.Item"\n    name is "b"\n'


def capsule_app(tmp_path, main: str = USE_INV) -> Path:
    return app(tmp_path, {"app.ai": main, "modules/inv/capsule.ai": CAPSULE,
                          "modules/inv/logic.ai": LOGIC})


def test_a_capsules_names_are_reached_through_the_alias(tmp_path):
    path = capsule_app(tmp_path)
    assert problems(path) == []
    payload = run(path, "main")
    assert payload["result"] == {"_id": 1, "name": "b"}
    assert payload["traces"][0]["record"] == "inv.Item"  # namel3ss stores it as "inv.Item"
    # the module's own flow, by its qualified name; its find binds inv_item_results
    assert run(path, "inv.add")["result"] == 1


def test_a_name_the_capsule_does_not_export(tmp_path):
    path = capsule_app(tmp_path, USE_INV.replace("stock.Item", "stock.Secret"))
    assert problems(path) == [("app.ai", 6, 3, "error", "Module 'inv' does not export record 'Secret'.")]


def test_an_unqualified_reference(tmp_path):
    path = capsule_app(tmp_path, USE_INV.replace("stock.Item", "Item"))
    assert problems(path) == [("app.ai", 6, 3, "error", "Unqualified reference to record 'Item'.")]


def test_a_missing_module_is_an_error_at_the_use(tmp_path):
    path = capsule_app(tmp_path, USE_INV.replace('"inv"', '"nope"'))
    found = problems(path)
    assert found[0] == ("app.ai", 3, 1, "error", "Module 'nope' was not found.")


@pytest.mark.parametrize("name", ["../inv", "/inv", "a/b"])
def test_a_module_name_is_one_folder(tmp_path, name):
    path = capsule_app(tmp_path, USE_INV.replace('"inv"', f'"{name}"'))
    assert problems(path)[0] == ("app.ai", 3, 1, "error", "Module path escapes the project root.")


def test_a_run_time_error_in_a_module_function_names_the_module_file(tmp_path):
    common = COMMON.replace("  return x * 2\n", "  return x / 0\n")
    path = app(tmp_path, {"app.ai": USE_COMMON, "modules/common.ai": common})
    error = run(path, "main")["error"]
    assert (os.path.relpath(error["file"], tmp_path), error["line"], error["column"], error["message"]) == (
        "modules/common.ai", 7, 12, "Division by zero.")


def test_a_run_time_error_in_an_included_flow_names_the_included_file(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "a.ai"\n',
                          "a.ai": 'flow "boom":\n  return 1 / 0\n'})
    error = run(path, "boom")["error"]
    assert (os.path.relpath(error["file"], tmp_path), error["line"], error["message"]) == (
        "a.ai", 2, "Division by zero.")


def test_the_number_of_files_is_bounded(tmp_path, monkeypatch):
    import n3lang.syntax.loader as loader

    monkeypatch.setattr(loader, "MAX_FILES", 2)
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "a.ai"\ninclude "b.ai"\ninclude "c.ai"\ninclude "d.ai"\n',
                          "a.ai": "", "b.ai": "", "c.ai": "", "d.ai": ""})
    assert problems(path) == [("app.ai", 8, 1, "error", "The app brings in too many files or too much "
                               "text (at most 2 files, 16 MiB).")]


def test_use_preset_and_use_plugin_are_app_surface_not_modules(tmp_path):
    path = app(tmp_path, {"app.ai": 'spec is "1.0"\n\nuse preset "rag_chat":\n  title is "Assistant"\n\n'
                                    'use plugin "charts"\n\nflow "x":\n  return 1\n'})
    assert problems(path) == []
    kinds = [d.kind for d in load_project(path).program.declarations if hasattr(d, "kind")]
    assert kinds == ["use preset", "use plugin"]


OVERRIDE_APP = ('spec is "1.0"\n\nuse module "modules/common.ai" as common\nonly:\n  functions\n'
                'allow override:\n  functions\n\ndefine function "double":\n  input:\n    x is number\n'
                '  return x * 3\n\nflow "main": requires true\n  let d is call function "double":\n'
                '    x is 4\n  return d\n')


def test_allow_override_lets_the_module_replace_a_name(tmp_path):
    path = app(tmp_path, {"app.ai": OVERRIDE_APP, "modules/common.ai": COMMON})
    assert problems(path) == []
    assert run(path, "main")["result"] == 8  # the module's double (namel3ss: 8 too)


def test_without_allow_override_a_name_clash_is_an_error(tmp_path):
    path = app(tmp_path, {"app.ai": OVERRIDE_APP.replace("allow override:\n  functions\n", ""),
                          "modules/common.ai": COMMON})
    assert problems(path) == [("modules/common.ai", 4, 1, "error", "function name double already exists.")]


def test_only_selects_categories(tmp_path):
    source = USE_COMMON.replace("as common\n", "as common\nonly: [records]\n")
    path = app(tmp_path, {"app.ai": source, "modules/common.ai": COMMON})
    assert [p[4] for p in problems(path) if p[3] == "error"] == ["Unknown function 'double'."]


@pytest.mark.parametrize("block, where, message", [
    ("only:\n  stuff\n", (5, 3), "Use module block has an unknown category."),
    ("only: [functions, function]\n", (4, 19), "Duplicate category in only."),
    ("only: []\n", (4, 1), "only block is empty."),
    ("only:\n  records\nonly:\n  functions\n", (6, 1), "Use module has more than one only block."),
])
def test_use_module_blocks(block, where, message):
    from n3lang.syntax.parser import parse_source

    _, diagnostics = parse_source('spec is "1.0"\n\nuse module "m.ai" as m\n' + block)
    assert [(d.span.line, d.span.column, d.message) for d in diagnostics] == [(*where, message)]


def two_capsules(tmp_path, b_logic: str) -> Path:
    return app(tmp_path, {
        "app.ai": 'spec is "1.0"\n\nuse "a" as a\n\nflow "main":\n  return 1\n',
        "modules/a/capsule.ai": 'spec is "1.0"\n\ncapsule "a":\n  exports:\n    flow "fa"\n',
        "modules/a/logic.ai": 'spec is "1.0"\n\nuse "b" as bb\n\nflow "fa":\n  return 1\n',
        "modules/b/capsule.ai": 'spec is "1.0"\n\ncapsule "b":\n  exports:\n    flow "fb"\n',
        "modules/b/logic.ai": b_logic})


def test_capsules_that_use_each_other(tmp_path):
    path = two_capsules(tmp_path, 'spec is "1.0"\n\nuse "a" as aa\n\nflow "fb":\n  return 2\n')
    found = problems(path)
    assert found == [("modules/b/logic.ai", 3, 1, "error", "Circular module import detected.")]
    diagnostics = list(analyze(path).diagnostics)
    assert diagnostics[0].why == "Modules form a cycle: a -> b -> a."


def test_a_capsule_declares_no_identity(tmp_path):
    path = two_capsules(tmp_path, 'spec is "1.0"\n\nidentity "u":\n  role is text\n\nflow "fb":\n  return 2\n')
    assert problems(path) == [("modules/b/logic.ai", 3, 1, "error",
                               "Identity declarations are only allowed in app.ai.")]


def test_a_capsules_contracts_are_dropped_as_namel3ss_does(tmp_path):
    path = two_capsules(tmp_path, 'spec is "1.0"\n\nflow "fb":\n  return 2\n')
    (tmp_path / "app.ai").write_text(
        'spec is "1.0"\n\nuse "a" as a\n\nflow "main":\n  let r is call flow "a.fa":\n    input:\n'
        '      q is 1\n    output:\n      v\n  return r\n', encoding="utf-8")
    (tmp_path / "modules/a/logic.ai").write_text(
        'spec is "1.0"\n\ncontract flow "fa":\n  input:\n    q is number\n  output:\n    v is number\n\n'
        'flow "fa":\n  return map:\n    v is input.q + 1\n', encoding="utf-8")
    assert problems(path) == [("app.ai", 6, 12, "error", 'Flow "a.fa" is missing a contract.')]


def test_a_loop_of_symbolic_links_is_an_error_not_a_traceback(tmp_path):
    path = app(tmp_path, {"app.ai": INCLUDES + 'include "loop1.ai"\n'})
    (tmp_path / "loop1.ai").symlink_to("loop2.ai")
    (tmp_path / "loop2.ai").symlink_to("loop1.ai")
    assert problems(path) == [("app.ai", 6, 1, "error", "Cannot use the path 'loop1.ai'.")]


def test_a_module_files_pages_join_the_app(tmp_path):
    path = app(tmp_path, {"app.ai": USE_COMMON, "modules/common.ai": COMMON + 'page "stock":\n  title is "x"\n'})
    assert problems(path) == []
    pages = [d.name for d in load_project(path).program.declarations if getattr(d, "kind", None) == "page"]
    assert pages == ["stock"]


def test_n3_check_shows_the_included_files_line(tmp_path, monkeypatch):
    app(tmp_path, {"app.ai": INCLUDES + 'include "modules/flows.ai"\n',
                   "modules/flows.ai": 'flow "broken":\n  let x is\n'})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "app.ai"], catch_exceptions=False)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:3] == ["modules/flows.ai:2:11: error: Unexpected expression [syntax-error]",
                         "   2 |   let x is", "     |           ^"]
    assert lines[-1] == "app.ai: failed (1 error)"


def test_aliases_and_modules_are_used_once(tmp_path):
    path = app(tmp_path, {
        "app.ai": 'spec is "1.0"\n\nuse module "modules/common.ai" as c\nuse module "modules/common.ai" as d\n'
                  'use module "modules/other.ai" as c\n\nflow "main":\n  return 1\n',
        "modules/common.ai": 'record "I":\n  n is number\n', "modules/other.ai": 'record "J":\n  n is number\n'})
    assert problems(path) == [
        ("app.ai", 4, 1, "error", "Module modules/common.ai is imported more than once."),
        ("app.ai", 5, 1, "error", "Alias c is already used."),
    ]


def test_n3_train_sees_a_model_block_of_an_included_file(tmp_path, monkeypatch):
    import shutil

    example = Path(__file__).resolve().parents[2] / "examples" / "supportbot"
    shutil.copytree(example / "data", tmp_path / "data")
    text = (example / "app.ai").read_text(encoding="utf-8")
    start, end = text.index('model "supportbot'), text.index('ai "support"')
    app(tmp_path, {"app.ai": text[:start].replace("  training\n", "  training\n  composition.includes\n")
                   + 'include "models.ai"\n\n' + text[end:],
                   "models.ai": text[start:end]})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", "app.ai", "--dry-run", "--json"], catch_exceptions=False)
    payload = json.loads(result.output)
    assert payload["ok"] and [p["name"] for p in payload["plans"]] == ["supportbot.faq_model_v2"]


def test_a_capsule_folder_or_file_leading_out_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "capsule.ai").write_text(CAPSULE, encoding="utf-8")
    (outside / "logic.ai").write_text(LOGIC, encoding="utf-8")
    path = app(tmp_path / "app", {"app.ai": USE_INV, "modules/x/logic.ai": LOGIC})
    (tmp_path / "app/modules/inv").symlink_to(outside)
    (tmp_path / "app/modules/x/capsule.ai").symlink_to(outside / "capsule.ai")
    assert problems(path)[0] == ("app.ai", 3, 1, "error", "Module path escapes the project root.")
    path.write_text(USE_INV.replace('"inv"', '"x"'), encoding="utf-8")
    assert problems(path)[0] == ("app.ai", 3, 1, "error", "Module path escapes the project root.")


def test_an_app_file_that_is_a_link_includes_from_its_real_folder(tmp_path):
    real = tmp_path / "real"
    app(real, {"app.ai": INCLUDES + 'include "a.ai"\n', "a.ai": FLOWS})
    (tmp_path / "link").mkdir()
    (tmp_path / "link" / "app.ai").symlink_to(real / "app.ai")
    project = load_project(tmp_path / "link" / "app.ai")
    assert [d for d in project.diagnostics if d.is_error] == []
    assert "add" in [getattr(d, "name", None) for d in project.program.declarations]
