"""`n3 train` / `n3 predict` end to end for image and audio mode: byte-identical reruns,
registry entry, reports with saliency / time-frequency data, predict from a file, kill -9 safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from n3lang.cli.main import cli
from n3lang.training.audio import write_wav

APP = 'spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n'
IMAGE_YAML = """model_base: vision-classifier
mode: image
dataset: data/shapes.jsonl
epochs: 3
seed: 4
output_name: shapes_v1
"""
AUDIO_YAML = """model_base: speech-to-text
mode: audio
dataset: data/words.jsonl
epochs: 4
seed: 2
output_name: words_v1
"""


def make_image_project(root: Path) -> Path:
    rng = np.random.default_rng(0)
    (root / "data" / "img").mkdir(parents=True)
    (root / "app.ai").write_text(APP)
    (root / "training.yaml").write_text(IMAGE_YAML)
    lines = []
    for i in range(36):
        k = i % 3
        a = rng.integers(0, 50, size=(10, 10)).astype(np.int64)
        if k == 0:
            a[::3, :] += 190
        elif k == 1:
            a[:, ::3] += 190
        else:
            a[3:7, 3:7] += 190
        a = np.clip(a, 0, 255).astype(np.uint8)
        label = ["rows", "cols", "box"][k]
        if i % 3 == 2:
            lines.append(json.dumps({"pixels": a.tolist(), "label": label}))
        else:
            Image.fromarray(a, mode="L").save(root / "data" / "img" / f"{i}.png")
            lines.append(json.dumps({"image": f"img/{i}.png", "target": label}))
    (root / "data" / "shapes.jsonl").write_text("\n".join(lines) + "\n")
    return root


def make_audio_project(root: Path) -> Path:
    rng = np.random.default_rng(1)
    (root / "data" / "wav").mkdir(parents=True)
    (root / "app.ai").write_text(APP)
    (root / "training.yaml").write_text(AUDIO_YAML)
    lines = []
    for i in range(24):
        k = i % 3
        rate = (16000, 22050)[i % 2]
        t = np.arange(int(rate * 0.3)) / rate
        f = [250.0, 2500.0, 900.0][k] * float(rng.uniform(0.9, 1.1))
        x = 0.4 * np.sin(2 * np.pi * f * t) + rng.normal(0, 0.01, len(t))
        write_wav(root / "data" / "wav" / f"{i}.wav", np.concatenate([np.zeros(800), x, np.zeros(800)]), rate)
        lines.append(json.dumps({"audio": f"wav/{i}.wav", "transcript": ["hum", "hiss", "tone"][k]}))
    (root / "data" / "words.jsonl").write_text("\n".join(lines) + "\n")
    return root


def n3(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def outputs(root: Path) -> dict[str, bytes]:
    keep = ("models/", "models_registry.yaml", "docs/")
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).as_posix().startswith(keep)}


@pytest.mark.parametrize("mode", ["image", "audio"])
def test_train_twice_is_byte_identical_and_predicts_files(tmp_path, monkeypatch, mode):
    monkeypatch.delenv("N3_TRAIN_CREATED_AT", raising=False)
    make = make_image_project if mode == "image" else make_audio_project
    runs = []
    for name in ("a", "b"):
        root = make(tmp_path / name)
        monkeypatch.chdir(root)
        r = n3("train", "--config", "training.yaml", "--json")
        assert r.exit_code == 0, r.output
        runs.append(outputs(root))
    assert runs[0].keys() == runs[1].keys()
    assert [k for k in runs[0] if runs[0][k] != runs[1][k]] == []
    name = "shapes_v1" if mode == "image" else "words_v1"
    meta = json.loads(runs[0][f"models/{name}/1.0.0/metadata.json"])
    assert meta["mode"] == mode and meta["trainer"]["kind"] == "cnn"
    import jsonschema
    import yaml

    from n3lang.resources import load_schema

    jsonschema.validate(meta, load_schema("metadata"))
    jsonschema.validate(yaml.safe_load(runs[0]["models_registry.yaml"]), load_schema("registry"))
    assert meta["metrics"]["accuracy"] > meta["metrics"]["majority_baseline"]
    explain = json.loads(runs[0][f"docs/reports/training_explain_{name}_1.0.0.json"])
    html = runs[0][f"docs/reports/training_report_{name}_1.0.0.html"].decode()
    if mode == "image":
        assert meta["features"] == {"channels": 1, "height": 10, "width": 10}
        assert "saliency" in explain and "<svg" in html
        sample = "data/img/0.png"
    else:
        assert meta["features"]["sample_rate"] == 16000
        metrics = json.loads(runs[0][f"docs/reports/training_metrics_{name}_1.0.0.json"])
        assert "wer" in json.dumps(metrics) and "transcript_accuracy" in json.dumps(metrics)
        assert len(explain.get("time_importance") or explain["extra"]["time_importance"]) == 32
        sample = "data/wav/1.wav"
    r = n3("predict", name, sample, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["label"] in meta["labels"] and 0 <= out["confidence"] <= 1
    r = n3("predict", name, "data/missing.file", "--json")
    assert r.exit_code == 1 and "predict-input-invalid" in r.stdout


def test_bad_media_fail_before_anything_is_written(tmp_path, monkeypatch):
    root = make_image_project(tmp_path / "p")
    (root / "data" / "img" / "0.png").write_bytes(b"garbage")
    (root / "data" / "img" / "3.png").unlink()
    monkeypatch.chdir(root)
    before = sorted(p.as_posix() for p in root.rglob("*"))
    r = n3("train", "--config", "training.yaml", "--json")
    assert r.exit_code == 1
    msgs = [f"{d['file']}:{d['line']}:{d['column']}: {d['message']}" for d in json.loads(r.stdout)["diagnostics"]]
    assert msgs[0] == "data/shapes.jsonl:1:2: \"image\" file 'img/0.png' cannot be read as a PNG or JPEG image (it is not one, or it is damaged or cut short)"
    assert msgs[1] == "data/shapes.jsonl:4:2: \"image\" file 'img/3.png' does not exist"
    assert sorted(p.as_posix() for p in root.rglob("*")) == before


def test_sigkill_then_rerun_elsewhere_gives_the_same_bytes(tmp_path, monkeypatch):
    """kill -9 as soon as a run starts writing (its staging directory appears): a model directory
    exists iff the registry lists it. The rerun, in another process with another hash seed and
    2 BLAS threads, in another directory, gives the same bytes as an in-process run."""
    monkeypatch.delenv("N3_TRAIN_CREATED_AT", raising=False)
    a = make_image_project(tmp_path / "a")
    monkeypatch.chdir(a)
    assert n3("train", "--config", "training.yaml").exit_code == 0
    root = make_image_project(tmp_path / "elsewhere" / "b")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]), PYTHONHASHSEED="4242",
               OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
    env.pop("N3_TRAIN_CREATED_AT", None)
    p = subprocess.Popen([sys.executable, "-c", KILL_DRIVER], cwd=root, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    models = root / "models"
    while time.monotonic() < deadline and p.poll() is None:
        if models.is_dir() and any(models.iterdir()):
            break
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.wait()
    reg = root / "models_registry.yaml"
    registered = reg.is_file() and "shapes_v1" in reg.read_text()
    assert (models / "shapes_v1" / "1.0.0").exists() == registered
    if not registered:
        r = subprocess.run([sys.executable, "-c", KILL_DRIVER], cwd=root, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    assert [q.name for q in models.iterdir() if q.name.startswith(".staging-")] == []
    oa, ob = outputs(a), outputs(root)
    assert oa.keys() == ob.keys() and [k for k in oa if oa[k] != ob[k]] == []


KILL_DRIVER = r"""
import sys
from n3lang.cli.main import main
sys.argv = ["n3", "train", "--config", "training.yaml"]
main()
"""
