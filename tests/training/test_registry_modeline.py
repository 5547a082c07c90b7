"""models_registry.yaml starts with the yaml-language-server modeline, and appends (new models,
status events) never move or rewrite line 1."""

from __future__ import annotations

from n3lang.training import registry


def entry(name: str) -> dict:
    return {"name": name, "version": "1.0.0", "base_model": "text-base", "domain": "text", "status": "active",
            "artifact_uri": f"models/{name}/1.0.0/model.bin", "artifact_sha256": "0" * 64,
            "dataset_snapshot": "0" * 64, "training_seed": 13, "created_at": "2026-01-01T00:00:00Z",
            "metrics": {"accuracy": 0.9}}


def test_line_1_is_the_modeline_and_appends_keep_it(tmp_path):
    path = tmp_path / registry.REGISTRY_FILE
    with registry.locked(tmp_path):
        registry.append(tmp_path, entry("a"))
    first = path.read_bytes()
    assert first.split(b"\n")[0] == b"# yaml-language-server: $schema=.n3/schemas/registry.schema.json"
    with registry.locked(tmp_path):
        registry.append(tmp_path, entry("b"))
    registry.set_status(tmp_path, "a", "1.0.0", "deprecated", reason="old", created_at="2026-01-02T00:00:00Z")
    text = path.read_bytes()
    assert text.startswith(first)
    assert text.split(b"\n")[0] == first.split(b"\n")[0]
    assert [e["name"] for e in registry.verify_chain(tmp_path)] == ["a", "b"]  # the chain still verifies
    chain = registry.read_chain(tmp_path)
    assert [e["name"] for e in chain] == ["a", "b", "a"] and registry.is_event(chain[2])
    assert chain[1]["previous_sha256"] == registry.entry_sha256(chain[0])
    assert chain[2]["previous_sha256"] == registry.entry_sha256(chain[1])
