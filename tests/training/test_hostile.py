"""Hostile input, faults and limits on the training, registry and CLI side (issue 12).

Each test reproduces one finding of the reliability campaign (F3, F6-F13, F15, F16, F18):
a clear error with its code and place, exit 1 (130 for Ctrl-C), nothing written, nothing of
the user's deleted, never exit 3, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from n3lang.training import registry

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "training"
APP = 'spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n'
RUNNER = "import sys\nfrom n3lang.cli.main import main\nmain(sys.argv[1:])\n"


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.ai").write_text(APP)
    (root / "data").mkdir(exist_ok=True)
    shutil.copy(DATA / "tickets.jsonl", root / "data" / "t.jsonl")
    return root


def n3(cwd: Path, *args, env=None, timeout=60, stdin=None) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.pop("N3_TRAIN_CREATED_AT", None)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", RUNNER, *args], cwd=cwd, env=e, capture_output=True, text=True,
                          timeout=timeout, stdin=stdin if stdin is not None else subprocess.DEVNULL)


def train_args(name="m_v1", dataset="data/t.jsonl", *extra):
    return ["train", "--model-base", "text-base", "--dataset", dataset, "--epochs", "1", "--output-name", name, *extra]


def assert_clean_failure(r: subprocess.CompletedProcess, code: str | None = None, rc: int = 1) -> None:
    assert r.returncode == rc, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    if code is not None:
        assert f"[{code}]" in r.stderr or f'"code": "{code}"' in r.stdout, (r.stdout, r.stderr)


def staging_left(project: Path) -> list[str]:
    return [str(p) for p in project.rglob(".staging-*")]


def all_text(project: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(project.rglob("*"))
                    if p.is_file() and p.suffix in (".json", ".yaml", ".html", ".bin"))


# ------------------------------------------------------------------------------ F3
def test_f3_absolute_dataset_outside_the_project_trains_and_is_recorded_relative(tmp_path):
    proj = make_project(tmp_path / "p")
    outside = tmp_path / "shared" / "rows.jsonl"
    outside.parent.mkdir()
    shutil.copy(DATA / "tickets.jsonl", outside)
    r = n3(proj, *train_args("m_v1", str(outside)))
    assert r.returncode == 0, r.stderr
    assert registry.read_entries(proj)[0]["dataset"] == "../shared/rows.jsonl"
    assert str(tmp_path).encode() not in all_text(proj)
    assert staging_left(proj) == []


def test_f3_a_failed_build_removes_its_staging_directory(tmp_path, monkeypatch):
    from n3lang.training import config, reports, trainer

    proj = make_project(tmp_path / "p")
    cfg = config.load({"model_base": "text-base", "dataset": "data/t.jsonl", "epochs": 1, "output_name": "m"})

    def boom(*a, **k):
        raise ValueError("a report could not be written")

    monkeypatch.setattr(reports, "write_reports", boom)
    with pytest.raises(ValueError):
        trainer.train(trainer.prepare(proj, cfg))
    assert staging_left(proj) == []
    assert not (proj / "models_registry.yaml").exists()
