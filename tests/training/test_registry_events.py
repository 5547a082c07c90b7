"""Status events in models_registry.yaml: appended, chained, folded (latest status wins)."""

from __future__ import annotations

import pytest

from n3lang.diagnostics import DiagnosticError
from n3lang.training import registry


def model(name: str, version: str = "1.0.0") -> dict:
    return {"name": name, "version": version, "base_model": "text-base", "domain": "text", "status": "active",
            "artifact_uri": f"models/{name}/{version}/model.bin", "artifact_sha256": "a" * 64,
            "dataset_snapshot": "b" * 64, "training_seed": 13, "created_at": "1970-01-01T00:00:00Z",
            "metrics": {"accuracy": 0.5}}


@pytest.fixture
def project(tmp_path):
    registry.append(tmp_path, model("faq_v1"))
    registry.append(tmp_path, model("faq_v2", "2.0.0"))
    return tmp_path


def status(project, name, version, value, reason=None):
    return registry.set_status(project, name, version, value, reason=reason, created_at="1970-01-01T00:00:00Z")


def test_latest_status_wins_and_bytes_are_only_appended(project):
    path = registry.registry_path(project)
    before = path.read_bytes()
    _, event = status(project, "faq_v1", "1.0.0", "deprecated", "old")
    assert event["event"] == "status" and path.read_bytes().startswith(before)
    entries = registry.read_entries(project)
    assert [(e["name"], e["status"], e.get("status_reason")) for e in entries] == [
        ("faq_v1", "deprecated", "old"), ("faq_v2", "active", None)]
    middle = path.read_bytes()
    _, event = status(project, "faq_v1", "1.0.0", "active")
    assert path.read_bytes().startswith(middle)
    assert [(e["status"], e.get("status_reason")) for e in registry.read_entries(project)] == [
        ("active", None), ("active", None)]
    chain = registry.read_chain(project)
    assert [("event" in e) for e in chain] == [False, False, True, True]
    assert chain[3]["previous_sha256"] == registry.entry_sha256(chain[2])


def test_same_status_appends_nothing(project):
    before = registry.registry_path(project).read_bytes()
    entry, event = status(project, "faq_v2", None, "active")
    assert event is None and entry["name"] == "faq_v2"
    assert registry.registry_path(project).read_bytes() == before


def test_without_version_the_latest_version_is_used(project):
    registry.append(project, model("faq", "1.0.0"))
    entry, _ = status(project, "faq", None, "deprecated")
    assert entry["version"] == "1.0.0"


def test_unknown_model(project):
    with pytest.raises(DiagnosticError) as exc:
        status(project, "nope", "1.0.0", "deprecated")
    assert exc.value.diagnostics[0].code == "model-not-found"


def test_training_after_an_event_keeps_the_chain(project):
    status(project, "faq_v1", "1.0.0", "deprecated")
    registry.append(project, model("faq_v3", "3.0.0"))
    assert [e["name"] for e in registry.read_entries(project)] == ["faq_v1", "faq_v2", "faq_v3"]
    with pytest.raises(DiagnosticError) as exc:  # a deprecated name is still taken
        registry.append(project, model("faq_v1"))
    assert exc.value.diagnostics[0].code == "output-name-exists"


def _corrupt_message(project, text: str) -> str:
    registry.registry_path(project).write_text(text, encoding="utf-8")
    with pytest.raises(DiagnosticError) as exc:
        registry.read_entries(project)
    d = exc.value.diagnostics[0]
    assert d.code == "registry-corrupted"
    return d.message


def _event(name, version, status_value, previous, kind="status"):
    return registry.entry_text({"event": kind, "name": name, "version": version, "status": status_value,
                                "created_at": "1970-01-01T00:00:00Z", "previous_sha256": previous})


def test_event_for_a_model_not_in_the_chain_is_corruption(project):
    text = registry.registry_path(project).read_text()
    last = registry.entry_sha256(registry.read_chain(project)[-1])
    msg = _corrupt_message(project, text + _event("ghost", "1.0.0", "deprecated", last))
    assert "names ghost@1.0.0, which no earlier entry registers" in msg


def test_unknown_event_or_status_is_corruption(project):
    text = registry.registry_path(project).read_text()
    last = registry.entry_sha256(registry.read_chain(project)[-1])
    assert "unknown event 'rename'" in _corrupt_message(project, text + _event("faq_v1", "1.0.0", "deprecated",
                                                                                last, "rename"))
    assert "status must be one of active, deprecated" in _corrupt_message(
        project, text + _event("faq_v1", "1.0.0", "retired", last))
