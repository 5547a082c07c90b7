"""Determinism across processes/threads/dirs, --verify, crash safety and concurrent runs."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).resolve().parent.parent / "data" / "training"
APP = 'spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n'
RUNNER = "import sys\nfrom n3lang.cli.main import main\nmain(sys.argv[1:])\n"
ROOT = Path(__file__).resolve().parents[2]


def flags(name="supportbot.faq_model_v2", dataset="data/support_tickets.jsonl", epochs="3"):
    return ["--model-base", "gpt-3.5-turbo", "--dataset", dataset, "--epochs", epochs, "--learning-rate", "2e-5",
            "--seed", "13", "--output-name", name]


def make_project(root: Path, dataset: Path = DATA / "tickets.jsonl") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.ai").write_text(APP)
    (root / "data").mkdir(exist_ok=True)
    shutil.copy(dataset, root / "data" / "support_tickets.jsonl")
    return root


def spawn(project: Path, *args, env=None) -> subprocess.Popen:
    e = dict(os.environ)
    e.pop("N3_TRAIN_CREATED_AT", None)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    return subprocess.Popen([sys.executable, "-c", RUNNER, *args], cwd=project, env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(project: Path, *args, env=None) -> subprocess.CompletedProcess:
    p = spawn(project, *args, env=env)
    out, err = p.communicate(timeout=120)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def artifacts(project: Path) -> dict[str, bytes]:
    return {p.relative_to(project).as_posix(): p.read_bytes() for p in sorted(project.rglob("*"))
            if p.is_file() and not p.name.endswith(".html") and p.parts[-2] != "data" and p.name != "app.ai"}


def test_byte_identical_across_processes_hashseeds_blas_threads_and_dirs(tmp_path):
    a = make_project(tmp_path / "one")
    b = make_project(tmp_path / "elsewhere" / "two")
    pa = spawn(a, "train", *flags(), env={"PYTHONHASHSEED": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    pb = spawn(b, "train", *flags(), env={"PYTHONHASHSEED": "2", "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"})
    for p in (pa, pb):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    fa, fb = artifacts(a), artifacts(b)
    assert len(fa) == 6 and fa == fb
    assert all(str(tmp_path).encode() not in v for v in fa.values())


def test_in_process_runs_identical(tmp_path, monkeypatch):
    from n3lang.training import config, trainer

    outs = []
    for d in ("x", "y"):
        proj = make_project(tmp_path / d)
        cfg = config.load({"model_base": "text-base", "dataset": "data/support_tickets.jsonl", "epochs": 2,
                           "seed": 4, "output_name": "m"})
        trainer.train(trainer.prepare(proj, cfg))
        outs.append(artifacts(proj))
    assert outs[0] == outs[1]


def test_verify_retrains_and_compares(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from n3lang.cli.main import cli

    proj = make_project(tmp_path / "p")
    monkeypatch.chdir(proj)
    assert CliRunner().invoke(cli, ["train", *flags()]).exit_code == 0
    r = CliRunner().invoke(cli, ["train", "--verify", "supportbot.faq_model_v2@2.0.0", "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["ok"] and {c["file"] for c in res["checks"]} >= {"model.bin", "metadata.json", "dataset_snapshot"}
    with open(proj / "data" / "support_tickets.jsonl", "a") as fh:
        fh.write('{"input": "a brand new row about my password", "target": "account"}\n')
    r = CliRunner().invoke(cli, ["train", "--verify", "supportbot.faq_model_v2"])
    assert r.exit_code == 1 and "MISMATCH" in r.stdout


def big_dataset(path: Path, n: int = 4000) -> Path:
    rng = random.Random(0)
    words = {c: [f"{c[:3]}{i}" for i in range(30)] for c in ("alpha", "beta", "gamma", "delta")}
    common = [f"w{i}" for i in range(300)]
    with open(path, "w") as fh:
        for _ in range(n):
            c = rng.choice(sorted(words))
            toks = [rng.choice(words[c]) if rng.random() < 0.3 else rng.choice(common) for _ in range(25)]
            fh.write(json.dumps({"input": " ".join(toks), "target": c}) + "\n")
    return path


def check_consistent(proj: Path, name: str) -> bool:
    """Registry valid; the model dir exists iff registered and then matches. Returns registered?"""
    from n3lang.training import artifacts as art
    from n3lang.training import registry

    entries = registry.read_entries(proj)  # raises if corrupted
    entry = registry.find(entries, name)
    if entry is None:
        orphan = proj / "models" / name / "2.0.0"
        if orphan.exists():  # only possible whole (atomic rename), in the window before the append
            assert sorted(p.name for p in orphan.iterdir()) == [".n3-uncommitted", "metadata.json", "model.bin"]
        return False
    model_dir = (proj / entry["artifact_uri"]).parent
    assert (model_dir / "model.bin").is_file() and (model_dir / "metadata.json").is_file()
    assert art.sha256_file(model_dir / "model.bin") == entry["artifact_sha256"]
    return True


def test_sigkill_at_random_points_leaves_no_partial_model(tmp_path):
    proj = make_project(tmp_path / "p", big_dataset(tmp_path / "big.jsonl", 1500))
    name = "supportbot.faq_model_v2"
    rng = random.Random(1)
    for delay in sorted(rng.uniform(0.4, 1.8) for _ in range(2)):
        p = spawn(proj, "train", *flags(epochs="3"))
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.communicate()
        if check_consistent(proj, name):
            break  # the run finished before the kill: nothing more to test
    # a re-run always works and leaves exactly one valid entry
    if not check_consistent(proj, name):
        r = run(proj, "train", *flags(epochs="3"))
        assert r.returncode == 0, r.stderr
    assert check_consistent(proj, name)
    leftovers = [p.name for p in (proj / "models").iterdir() if p.name.startswith(".staging-")]
    assert leftovers == []


def test_crash_between_rename_and_registry_append_does_not_block_rerun(tmp_path, monkeypatch):
    from n3lang.training import config, registry, trainer

    proj = make_project(tmp_path / "p")
    cfg = config.load({"model_base": "text-base", "dataset": "data/support_tickets.jsonl", "epochs": 2,
                       "output_name": "m_v2"})

    class SimulatedCrash(BaseException):
        """Escapes every `except Exception`, like a crash would (but is not a KeyboardInterrupt)."""

    def boom(*a, **k):
        raise SimulatedCrash("simulated crash")

    monkeypatch.setattr(registry, "append", boom)
    with pytest.raises(SimulatedCrash):
        trainer.train(trainer.prepare(proj, cfg))
    monkeypatch.undo()
    assert (proj / "models" / "m_v2" / "2.0.0").is_dir()  # the orphan a crash could leave
    assert registry.read_entries(proj) == []
    trainer.train(trainer.prepare(proj, cfg))
    assert [e["name"] for e in registry.read_entries(proj)] == ["m_v2"]


def test_four_concurrent_names_all_land(tmp_path):
    proj = make_project(tmp_path / "p")
    names = [f"model_{i}_v1" for i in range(4)]
    procs = [spawn(proj, "train", *flags(name=n, epochs="2")) for n in names]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    from n3lang.training import registry

    entries = registry.read_entries(proj)  # chain verified on read
    assert sorted(e["name"] for e in entries) == names
    for n in names:
        assert check_consistent(proj, n)


def test_two_concurrent_same_name_exactly_one_lands(tmp_path):
    proj = make_project(tmp_path / "p")
    procs = [spawn(proj, "train", *flags(epochs="2"), "--json") for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        results.append((p.returncode, out))
    codes = sorted(r[0] for r in results)
    assert codes == [0, 1], results
    loser = next(out for rc, out in results if rc == 1)
    assert json.loads(loser)["diagnostics"][0]["code"] == "output-name-exists"
    entries = yaml.safe_load((proj / "models_registry.yaml").read_text())
    assert len(entries) == 1
    assert check_consistent(proj, "supportbot.faq_model_v2")
    assert [p.name for p in (proj / "models").iterdir() if p.name.startswith(".staging-")] == []


def test_an_interruption_during_commit_is_held_until_the_model_is_registered():
    # in a fresh process (signals are blocked per thread, and a test runner may not run tests
    # in its main thread): inside the block SIGINT and SIGTERM are held, after it they are not
    script = """
import signal
from n3lang.training.trainer import _interruptions_deferred
def held():
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return signal.SIGINT in mask and signal.SIGTERM in mask
before = held()
with _interruptions_deferred():
    inside = held()
print(before, inside, held())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "True", "False"], out.stderr


def test_a_kill_while_a_leftover_is_removed_leaves_no_unmarked_model_dir(tmp_path, monkeypatch):
    """A leftover model dir (marker, no registry entry) is moved into a staging dir before it
    is deleted: a kill during the delete (here after the marker went first) leaves only a
    staging dir, which the next run clears, never a model dir without its marker."""
    from n3lang.training import trainer

    output_dir = tmp_path / "models"
    leftover = output_dir / "faq" / "1.0.0"
    leftover.mkdir(parents=True)
    (leftover / trainer.UNCOMMITTED).write_text("faq@1.0.0\n")
    (leftover / "model.bin").write_bytes(b"x" * 10)

    def killed_midway(path, *args, **kwargs):
        for marker in Path(path).rglob(trainer.UNCOMMITTED):
            marker.unlink()
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer.shutil, "rmtree", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        trainer.settle_leftovers(output_dir, [], tmp_path)
    assert not leftover.exists()
    [stage] = [p for p in output_dir.iterdir() if p.name.startswith(trainer.STAGING_PREFIX)]
    assert (stage / "removed" / "model.bin").is_file()
