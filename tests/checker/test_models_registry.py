"""Model references resolved against models_registry.yaml (hand-built ASTs, a real registry)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from n3lang import ast as A
from n3lang.checker import check_program
from n3lang.training import registry


def S(line: int, col: int = 1) -> A.Span:
    return A.Span(line, col, line, col + 1)


def write_registry(folder: Path, entries: list[tuple[str, str, str]]) -> None:
    text = registry.HEADER
    previous = registry.GENESIS
    for name, version, status in entries:
        entry = {
            "name": name, "version": version, "base_model": "text-base", "domain": "text",
            "status": status, "artifact_uri": f"models/{name}/{version}/model.bin",
            "artifact_sha256": "0" * 64, "dataset_snapshot": "0" * 64, "training_seed": 13,
            "created_at": "2026-01-01T00:00:00Z", "metrics": {"accuracy": 0.9},
            "previous_sha256": previous,
        }
        previous = registry.entry_sha256(entry)
        text += registry.entry_text(entry)
    (folder / registry.REGISTRY_FILE).write_text(text, encoding="utf-8")


def app(*stmts, caps=("training",), decls=()) -> A.Program:
    head = [A.SpecDecl("1.0", S(1))]
    if caps:
        head.append(A.CapabilitiesDecl(tuple(A.Capability(c, S(3, 3)) for c in caps), S(2)))
    flow = A.FlowDecl("f", tuple(stmts), span=S(10), name_span=S(10, 6))
    return A.Program((*head, *decls, flow), "app.ai")


def predict(ref: str, line: int = 11) -> A.Return:
    node = A.Predict(ref, A.Literal("hi", S(line, 30)), S(line, 10), S(line, 18))
    return A.Return(node, S(line))


def found(program, project_dir):
    return [(d.code, d.severity, d.message) for d in check_program(program, project_dir=project_dir)]


def test_registered_model_resolves(tmp_path):
    write_registry(tmp_path, [("faq", "1.0.0", "active")])
    assert found(app(predict("faq")), tmp_path) == []
    assert found(app(predict("faq@1.0.0")), tmp_path) == []


def test_unknown_version_lists_registered_ones(tmp_path):
    write_registry(tmp_path, [("faq", "1.0.0", "active"), ("faq_v2", "2.0.0", "active")])
    got = found(app(predict("faq@9.0.0")), tmp_path)
    assert got == [("unknown-model", "error", "Model 'faq' has no version '9.0.0' (registered: 1.0.0)")]


def test_unknown_model_names_known_ones(tmp_path):
    write_registry(tmp_path, [("faq", "1.0.0", "active")])
    diags = check_program(app(predict("fqa")), project_dir=tmp_path)
    assert [d.message for d in diags] == ["Unknown model 'fqa'; did you mean 'faq'?"]
    assert "faq" in diags[0].fix


def test_deprecated_model_is_a_warning(tmp_path):
    write_registry(tmp_path, [("faq", "1.0.0", "deprecated")])
    assert found(app(predict("faq")), tmp_path) == [
        ("deprecated-model", "warning", "Model 'faq@1.0.0' is deprecated")
    ]


def test_registered_model_behind_ai_needs_training(tmp_path):
    write_registry(tmp_path, [("faq", "1.0.0", "active")])
    ai = A.AIDecl("support", (A.Setting("model", A.Literal("faq", S(6, 12)), S(6, 3)),), S(5), S(5, 4))
    ask = A.AskAI("support", A.Name("input", S(11, 30)), "reply", S(11, 3))
    got = found(app(ask, caps=(), decls=(ai,)), tmp_path)
    assert got == [
        ("training-required", "error",
         "ask ai \"support\" uses trained model 'faq', which requires the 'training' capability")
    ]


def test_corrupted_registry_is_reported_not_raised(tmp_path):
    (tmp_path / registry.REGISTRY_FILE).write_text("- name: [unclosed\n", encoding="utf-8")
    codes = [d.code for d in check_program(app(predict("faq")), project_dir=tmp_path)]
    assert "registry-corrupted" in codes


def test_without_project_dir_undeclared_models_are_not_judged():
    assert found(app(predict("anything")), None) == []


def test_declared_model_resolves_without_registry(tmp_path):
    model = A.ModelDecl(
        "faq",
        (A.Setting("model_base", A.Literal("text-base", S(6)), S(6)),
         A.Setting("dataset", A.Literal("d.jsonl", S(7)), S(7)),
         A.Setting("epochs", A.Literal(Decimal(3), S(8)), S(8))),
        S(5), S(5, 7),
    )
    assert found(app(predict("faq"), decls=(model,)), tmp_path) == []
