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
    return ["train", "--model-base", "text-base", "--dataset", dataset, "--epochs", "2", "--output-name", name, *extra]


def assert_clean_failure(r: subprocess.CompletedProcess, code: str | None = None, rc: int = 1) -> None:
    assert r.returncode == rc, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    if code is not None:
        assert f"[{code}]" in r.stderr + r.stdout or f'"code": "{code}"' in r.stdout, (r.stdout, r.stderr)


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
    cfg = config.load({"model_base": "text-base", "dataset": "data/t.jsonl", "epochs": 2, "output_name": "m"})

    def boom(*a, **k):
        raise ValueError("a report could not be written")

    monkeypatch.setattr(reports, "write_reports", boom)
    with pytest.raises(ValueError):
        trainer.train(trainer.prepare(proj, cfg))
    assert staging_left(proj) == []
    assert not (proj / "models_registry.yaml").exists()


# ------------------------------------------------------------------------------ F7
@pytest.mark.parametrize("flag,value", [("--output-dir", "ABS"), ("--output-dir", "../elsewhere"),
                                        ("--report-dir", "ABS"), ("--report-dir", "../elsewhere/reports")])
def test_f7_outputs_outside_the_project_are_refused_without_the_flag(tmp_path, flag, value):
    proj = make_project(tmp_path / "p")
    value = str(tmp_path / "elsewhere") if value == "ABS" else value
    r = n3(proj, *train_args("m_v1", "data/t.jsonl", flag, value))
    assert_clean_failure(r, "config-invalid-value")
    assert "outside the project" in r.stderr and "--allow-outside-project" in r.stderr
    assert not (tmp_path / "elsewhere").exists() and not (proj / "models_registry.yaml").exists()


def test_f7_outside_outputs_work_with_the_explicit_flag(tmp_path):
    proj = make_project(tmp_path / "p")
    r = n3(proj, *train_args("m_v1", "data/t.jsonl", "--output-dir", "../shared/models", "--allow-outside-project"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "shared" / "models" / "m_v1" / "1.0.0" / "model.bin").is_file()


def test_f7_an_existing_model_dir_n3_did_not_make_is_never_deleted(tmp_path):
    proj = make_project(tmp_path / "p")
    mine = proj / "models" / "m_v1" / "1.0.0"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my thesis")
    r = n3(proj, *train_args("m_v1"))
    assert_clean_failure(r, "output-name-exists")
    assert "never deletes" in r.stderr
    assert (mine / "notes.txt").read_text() == "my thesis"
    assert not (proj / "models_registry.yaml").exists() and staging_left(proj) == []


def test_f7_a_model_dir_appearing_during_training_is_not_deleted_at_commit(tmp_path, monkeypatch):
    from n3lang.diagnostics import DiagnosticError
    from n3lang.training import config, trainer

    proj = make_project(tmp_path / "p")
    cfg = config.load({"model_base": "text-base", "dataset": "data/t.jsonl", "epochs": 2, "output_name": "m_v1"})
    plan = trainer.prepare(proj, cfg)
    (plan.model_dir).mkdir(parents=True)
    (plan.model_dir / "keep.txt").write_text("x")
    with pytest.raises(DiagnosticError) as exc:
        trainer.train(plan)
    assert exc.value.diagnostics[0].code == "output-name-exists"
    assert (plan.model_dir / "keep.txt").read_text() == "x" and staging_left(proj) == []


def report_files(proj: Path, name: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((proj / "docs" / "reports").glob(f"*_{name}_1.0.0.*"))}


def ledgers_left(proj: Path) -> list[str]:
    return sorted(p.name for p in (proj / "docs" / "reports").glob("*.n3-uncommitted*"))


@pytest.mark.parametrize("kind", ["training_metrics_m_v1_1.0.0.json", "training_report_m_v1_1.0.0.html"])
def test_f7_a_users_file_at_a_report_path_is_never_overwritten(tmp_path, kind):
    proj = make_project(tmp_path / "p")
    mine = proj / "docs" / "reports" / kind
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own notes\n")
    r = n3(proj, *train_args("m_v1"))
    assert_clean_failure(r, "output-name-exists")
    assert f"docs/reports/{kind} already exists" in r.stderr and "n3 did not write it" in r.stderr
    assert "Move docs/reports/" in r.stderr and "another output_name" in r.stderr
    assert mine.read_bytes() == b"my own notes\n"
    assert sorted(p.name for p in mine.parent.iterdir()) == [kind]
    assert not (proj / "models").exists() and not (proj / "models_registry.yaml").exists()


def test_f7_a_report_file_appearing_during_training_is_not_overwritten_at_commit(tmp_path):
    from n3lang.diagnostics import DiagnosticError
    from n3lang.training import config, trainer

    proj = make_project(tmp_path / "p")
    cfg = config.load({"model_base": "text-base", "dataset": "data/t.jsonl", "epochs": 2, "output_name": "m_v1"})
    plan = trainer.prepare(proj, cfg)
    mine = plan.report_dir / "training_explain_m_v1_1.0.0.json"
    mine.parent.mkdir(parents=True)
    mine.write_text("{}")
    with pytest.raises(DiagnosticError) as exc:
        trainer.train(plan)
    assert exc.value.diagnostics[0].code == "output-name-exists"
    assert mine.read_text() == "{}" and sorted(p.name for p in mine.parent.iterdir()) == [mine.name]
    assert not plan.model_dir.exists() and staging_left(proj) == []


# ------------------------------------------------------------------------------ F8
def _spawn(cwd: Path, *args, env=None) -> subprocess.Popen:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    return subprocess.Popen([sys.executable, "-c", RUNNER, *args], cwd=cwd, env=e, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def unregistered_model_dirs(proj: Path) -> list[str]:
    entries = registry.read_entries(proj)  # raises when the registry is not readable
    registered = {(proj / e["artifact_uri"]).parent for e in entries}
    return sorted(str(d.relative_to(proj)) for d in (proj / "models").glob("*/*")
                  if not d.parent.name.startswith(".") and d not in registered)


def test_f8_sigkill_inside_the_commit_window_and_at_random_points(tmp_path):
    """Kills land inside the commit window (widened by N3_TEST_COMMIT_PAUSE, killed once the
    model dir is in place but before the registry append) and at random points; after the next
    run no unregistered model dir remains and the registry reads."""
    import random
    import signal
    import time

    proj = make_project(tmp_path / "p")
    pause = {"N3_TEST_COMMIT_PAUSE": "0.6"}
    kills = 0
    for i in range(2):  # inside the window: the model dir is there, the entry is not
        p = _spawn(proj, *train_args(f"w{i}_v1"), env=pause)
        final = proj / "models" / f"w{i}_v1" / "1.0.0"
        deadline = time.monotonic() + 30
        while not final.exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
        assert (final / ".n3-uncommitted").is_file()
        assert registry.find(registry.read_entries(proj), f"w{i}_v1") is None
    rng = random.Random(12)
    for i in range(3):  # anywhere: start-up, reading, training, staging, the window, after
        p = _spawn(proj, *train_args(f"r{i}_v1"), env=pause)
        time.sleep(rng.uniform(0.2, 2.5))
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
    r = n3(proj, *train_args("after_v1"))
    assert r.returncode == 0, r.stderr
    assert unregistered_model_dirs(proj) == [] and staging_left(proj) == []
    assert not list(proj.glob("models/*/*/.n3-uncommitted"))
    assert kills == 5


def test_f8_a_registered_model_still_marked_is_adopted_not_deleted(tmp_path):
    from n3lang.training import config, trainer

    proj = make_project(tmp_path / "p")
    load = lambda n: config.load({"model_base": "text-base", "dataset": "data/t.jsonl", "epochs": 2,  # noqa: E731
                                  "output_name": n})
    trainer.train(trainer.prepare(proj, load("a_v1")))
    model = proj / "models" / "a_v1" / "1.0.0"
    (model / ".n3-uncommitted").write_text("a_v1@1.0.0\n")  # a kill after the append, before the marker went
    trainer.train(trainer.prepare(proj, load("b_v1")))
    assert sorted(p.name for p in model.iterdir()) == ["metadata.json", "model.bin"]
    assert [e["name"] for e in registry.read_entries(proj)] == ["a_v1", "b_v1"]


def test_f8_sigkill_after_the_reports_are_in_place_blocks_nothing(tmp_path):
    """Killed once its reports are moved in but before the registry append (the commit window,
    widened by N3_TEST_COMMIT_PAUSE), a run leaves reports listed in a ledger: the next run of
    any name removes them, and training the same name again replaces them."""
    import signal
    import time

    proj = make_project(tmp_path / "p")
    for name in ("k_v1", "j_v1"):
        p = _spawn(proj, *train_args(name), env={"N3_TEST_COMMIT_PAUSE": "2"})
        last = proj / "docs" / "reports" / f"training_report_{name}_1.0.0.html"
        deadline = time.monotonic() + 30
        while not last.exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert len(report_files(proj, name)) == 3 and registry.find(registry.read_entries(proj), name) is None
        assert ledgers_left(proj) == [f".n3-uncommitted-{name}_1.0.0"]  # k_v1's went with j_v1's commit
    assert report_files(proj, "k_v1") == {}
    killed = report_files(proj, "j_v1")
    r = n3(proj, *train_args("j_v1"))
    assert r.returncode == 0, r.stderr
    assert len(report_files(proj, "j_v1")) == 3 and report_files(proj, "j_v1") == killed  # deterministic
    assert ledgers_left(proj) == [] and unregistered_model_dirs(proj) == [] and staging_left(proj) == []
    assert [e["name"] for e in registry.read_entries(proj)] == ["j_v1"]


def test_f8_leftover_reports_are_adopted_when_registered_and_changed_ones_are_kept(tmp_path):
    from n3lang.training import artifacts, config, trainer

    proj = make_project(tmp_path / "p")
    load = lambda n: config.load({"model_base": "text-base", "dataset": "data/t.jsonl", "epochs": 2,  # noqa: E731
                                  "output_name": n})
    trainer.train(trainer.prepare(proj, load("a_v1")))
    reports_dir = proj / "docs" / "reports"
    a_reports = report_files(proj, "a_v1")
    # a kill after the append, before the ledger went: adopted
    (reports_dir / ".n3-uncommitted-a_v1_1.0.0").write_bytes(artifacts.canonical_json(
        {"name": "a_v1", "version": "1.0.0", "files": {k: artifacts.sha256_bytes(v) for k, v in a_reports.items()}}))
    # an unregistered run's ledger: its file is removed, the one the user since edited is kept
    (reports_dir / "training_metrics_g_v1_1.0.0.json").write_text("n3's")
    (reports_dir / "training_explain_g_v1_1.0.0.json").write_text("edited by the user")
    (reports_dir / ".n3-uncommitted-g_v1_1.0.0").write_bytes(artifacts.canonical_json(
        {"name": "g_v1", "version": "1.0.0", "files": {"training_metrics_g_v1_1.0.0.json": artifacts.sha256_bytes(
            b"n3's"), "training_explain_g_v1_1.0.0.json": artifacts.sha256_bytes(b"n3's original")}}))
    trainer.train(trainer.prepare(proj, load("b_v1")))
    assert report_files(proj, "a_v1") == a_reports and ledgers_left(proj) == []
    assert report_files(proj, "g_v1") == {"training_explain_g_v1_1.0.0.json": b"edited by the user"}
    # ... and that edited file still blocks training g_v1
    with pytest.raises(Exception) as exc:
        trainer.prepare(proj, load("g_v1"))
    assert exc.value.diagnostics[0].code == "output-name-exists"  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ F9
BOMB = ('- &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f'- &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},'
                  f'*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n' for i in range(9)))


@pytest.mark.parametrize("command", [["models", "list"], ["predict", "m_v1", "hello"], train_args("x_v1")])
def test_f9_an_alias_bomb_in_the_registry_is_refused_at_its_line(tmp_path, command):
    proj = make_project(tmp_path / "p")
    (proj / "models_registry.yaml").write_text("# registry\n" + BOMB)
    r = n3(proj, *command, timeout=30)
    assert_clean_failure(r, "registry-corrupted")
    assert "models_registry.yaml:2:3" in r.stderr and "anchor" in r.stderr


def test_f9_an_ampersand_inside_a_string_is_not_an_anchor(tmp_path):
    from n3lang.training import config, trainer

    proj = make_project(tmp_path / "p")
    shutil.copy(proj / "data" / "t.jsonl", proj / "data" / "r&d *all*.jsonl")
    cfg = config.load({"model_base": "text-base", "dataset": "data/r&d *all*.jsonl", "epochs": 2,
                       "output_name": "m_v1"})
    trainer.train(trainer.prepare(proj, cfg))
    assert registry.read_entries(proj)[0]["dataset"] == "data/r&d *all*.jsonl"


# ------------------------------------------------------------------------------ F13
@pytest.fixture
def fifo_project(tmp_path):
    proj = make_project(tmp_path / "p")
    os.mkfifo(tmp_path / "fifo")
    return proj, tmp_path / "fifo"


@pytest.mark.parametrize("case", ["registry", "dataset", "predict-dataset", "run-input", "check", "run-app",
                                  "config", "model-file"])
def test_f13_a_fifo_or_device_is_refused_not_waited_on(fifo_project, case):
    proj, fifo = fifo_project
    if case == "registry":
        os.mkfifo(proj / "models_registry.yaml")
        args, code = ["models", "list"], "registry-corrupted"
    elif case == "dataset":
        args, code = train_args("m_v1", str(fifo)), "dataset-missing"
    elif case == "predict-dataset":
        assert n3(proj, *train_args("m_v1")).returncode == 0
        args, code = ["predict", "m_v1", "--dataset", "/dev/zero"], "dataset-missing"
    elif case == "run-input":
        args, code = ["run", "app.ai", "--input", f"@{fifo}"], None
    elif case == "check":
        args, code = ["check", str(fifo)], "unreadable-file"
    elif case == "run-app":
        args, code = ["run", "/dev/zero"], "unreadable-file"
    elif case == "config":
        args, code = ["train", "--config", str(fifo)], "config-file-invalid"
    else:
        assert n3(proj, *train_args("m_v1")).returncode == 0
        meta = proj / "models" / "m_v1" / "1.0.0" / "metadata.json"
        meta.unlink()
        os.mkfifo(meta)
        args, code = ["predict", "m_v1", "hello"], "model-corrupted"
    r = n3(proj, *args, timeout=30)
    assert_clean_failure(r, code)
    assert "regular file" in r.stderr + r.stdout or "not a file" in r.stderr, r.stderr
    if case == "predict-dataset":
        assert "does not exist" not in r.stderr


# ------------------------------------------------------------------------------ F6
def test_f6_a_line_over_the_limit_is_a_located_error_and_is_never_held_whole(tmp_path):
    from n3lang.diagnostics import DiagnosticError
    from n3lang.training import dataset
    from n3lang.training.modes import get_handler

    rows = tmp_path / "rows.jsonl"
    with open(rows, "w") as fh:
        fh.write('{"input": "a", "target": "x"}\n')
        fh.write('{"input": "' + "b" * (3 << 20) + '", "target": "y"}\n')  # 3 MiB line
        fh.write('{"input": "c", "target": "y"}\n')
    os.environ["N3_MAX_LINE_BYTES"] = str(1 << 20)
    try:
        with pytest.raises(DiagnosticError) as exc:
            dataset.read(rows, "rows.jsonl", get_handler("text"))
    finally:
        del os.environ["N3_MAX_LINE_BYTES"]
    (d,) = exc.value.diagnostics
    assert d.code == "dataset-too-large" and d.span.line == 2 and "1048576-byte limit" in d.message
    assert "N3_MAX_LINE_BYTES" in d.fix


def test_f6_a_dataset_over_the_file_limit_is_refused_before_reading(tmp_path):
    proj = make_project(tmp_path / "p")
    r = n3(proj, *train_args(), "--json", env={"N3_MAX_DATASET_BYTES": "1000"})
    assert_clean_failure(r, "dataset-too-large")
    d = json.loads(r.stdout)["diagnostics"][0]
    assert "1000-byte limit" in d["message"] and "N3_MAX_DATASET_BYTES" in d["why"] + d["fix"]
    assert not (proj / "models").exists()


def test_f6_snapshot_and_rows_are_unchanged_by_streaming(tmp_path):
    import hashlib

    from n3lang.training import dataset
    from n3lang.training.modes import get_handler

    raw = (DATA / "tickets.jsonl").read_bytes()
    data = dataset.read(DATA / "tickets.jsonl", "t.jsonl", get_handler("text"))
    assert data.snapshot == hashlib.sha256(raw).hexdigest() and data.n_bytes == len(raw)
    assert len(data) == sum(1 for line in raw.splitlines() if line.strip())


def test_f6_run_input_from_a_huge_file_is_refused_with_the_limit(tmp_path, monkeypatch):
    from n3lang.cli import run_cmd

    big = tmp_path / "big.json"
    big.write_text("[" + "1," * 600 + "1]")
    monkeypatch.setattr(run_cmd, "MAX_INPUT_BYTES", 1000)
    value, problem = run_cmd.read_input(f"@{big}")
    assert value is None and "1000-byte limit" in problem.message


def test_f6_large_images_are_decoded_reduced_one_at_a_time(tmp_path):
    from PIL import Image

    from n3lang.training import dataset, image
    from n3lang.training.modes import get_handler

    big = Image.new("RGB", (4096, 4096), (200, 30, 30))
    big.save(tmp_path / "a.png")
    big.save(tmp_path / "b.jpg", quality=50)
    Image.new("L", (4096, 2048), 90).save(tmp_path / "c.png")
    for name in ("a.png", "b.jpg", "c.png"):
        arr = image.decode_image_file(tmp_path / name)
        assert max(arr.shape[:2]) <= 2 * image.DECODE_SIDE, (name, arr.shape)
    with open(tmp_path / "rows.jsonl", "w") as fh:
        for i, name in enumerate(["a.png", "b.jpg", "c.png"] * 2):
            fh.write(json.dumps({"image": name, "target": "xy"[i % 2]}) + "\n")
    image._CACHE.clear()
    data = dataset.read(tmp_path / "rows.jsonl", "rows.jsonl", get_handler("image"))
    assert len(data) == 6 and image._CACHE.used <= 6 * (2 * image.DECODE_SIDE) ** 2 * 3
    image._CACHE.clear()


def test_f6_media_helpers_have_their_own_modules():
    from n3lang.training import audio, image, media, wav

    assert audio.MediaError is media.MediaError is image.MediaError
    assert audio.read_wav is wav.read_wav and audio.WavError is wav.WavError
    assert "_check_file" not in vars(audio) and "from n3lang.training.image" not in Path(audio.__file__).read_text()


# ------------------------------------------------------------------------------ F10
def _entry_without(proj: Path, field: str) -> None:
    """Rewrite the registry's only entry without ``field``, with a valid chain (as a hand-written
    or older entry would be)."""
    from n3lang.training import registry as reg

    (entry,) = reg.read_chain(proj)
    entry = {k: v for k, v in entry.items() if k != field and not k.startswith("_")}
    entry["previous_sha256"] = reg.GENESIS
    (proj / "models_registry.yaml").write_text(reg.HEADER + reg.entry_text(entry))
    (proj / "models_registry.head").unlink(missing_ok=True)


def test_f10_verify_of_an_entry_without_dataset_is_a_clear_error(tmp_path):
    proj = make_project(tmp_path / "p")
    assert n3(proj, *train_args("m_v1")).returncode == 0
    _entry_without(proj, "dataset")
    r = n3(proj, "train", "--verify", "m_v1")
    assert_clean_failure(r, "training-failed")
    assert "does not record the dataset" in r.stderr and "models_registry.yaml:4:1" in r.stderr


def test_f10_verify_reproduces_a_model_trained_without_a_seed(tmp_path):
    proj = make_project(tmp_path / "p")
    assert n3(proj, *train_args("m_v1")).returncode == 0  # no --seed: the base's default applies
    r = n3(proj, "train", "--verify", "m_v1")
    assert r.returncode == 0 and "reproduced" in r.stdout, (r.stdout, r.stderr)


# ------------------------------------------------------------------------------ F11
@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    from n3lang.training import config, trainer

    proj = make_project(tmp_path_factory.mktemp("f11") / "p")
    for n in ("a_v1", "b_v1"):
        cfg = config.load({"model_base": "text-base", "dataset": "data/t.jsonl", "epochs": 2, "output_name": n})
        trainer.train(trainer.prepare(proj, cfg))
    return proj


def _tampered(two_models, tmp_path, edit) -> Path:
    proj = tmp_path / "p"
    shutil.copytree(two_models, proj)
    reg = proj / "models_registry.yaml"
    reg.write_text(edit(reg.read_text()))
    return proj


def _drop_last_entry(text: str) -> str:
    return text[: text.rindex("\n- ") + 1]


@pytest.mark.parametrize("edit,says", [
    (lambda t: t.replace('"b_v1"', '"c_v1"'), "last entry (line"),
    (lambda t: t[: t.rindex("1970")] + "1999" + t[t.rindex("1970") + 4:], "last entry (line"),  # created_at
    (_drop_last_entry, "entries were removed"),
])
def test_f11_an_edited_last_entry_or_a_cut_off_end_is_reported(two_models, tmp_path, edit, says):
    proj = _tampered(two_models, tmp_path, edit)
    r = n3(proj, "models", "list")
    assert_clean_failure(r, "registry-corrupted")
    assert says in r.stderr


def test_f11_an_append_whose_head_update_was_cut_off_is_accepted(two_models, tmp_path):
    proj = tmp_path / "p"
    shutil.copytree(two_models, proj)
    head = json.loads((proj / "models_registry.head").read_text())
    assert head["entries"] == 2
    chain = registry.read_chain(proj)
    (proj / "models_registry.head").write_text(json.dumps({"entries": 1,
                                                           "head_sha256": registry.entry_sha256(chain[0])}))
    assert [e["name"] for e in registry.read_entries(proj)] == ["a_v1", "b_v1"]
    (proj / "models_registry.head").unlink()  # a registry from before head files: read as it is
    assert len(registry.read_entries(proj)) == 2


# ------------------------------------------------------------------------------ F12
EVIL = "\x1b]0;pwned\x07\x1b[2J\x9b31m"


def test_f12_labels_and_names_with_terminal_escapes_are_printed_escaped(tmp_path):
    proj = make_project(tmp_path / "p")
    rows = [{"input": f"word{i} alpha", "target": EVIL if i % 2 else "plain"} for i in range(12)]
    (proj / "data" / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    outs = [n3(proj, *train_args("m_v1", "data/t.jsonl", "--dry-run")), n3(proj, *train_args("m_v1"))]
    outs.append(n3(proj, "predict", "m_v1", "word1 alpha", "word3 alpha"))
    outs.append(n3(proj, "models", "show", "m_v1"))
    reg = proj / "models_registry.yaml"  # a hand-edited name in the registry
    reg.write_text(reg.read_text().replace('base_model: "text-base"', 'base_model: "text-base\\e[2J"'))
    (proj / "models_registry.head").unlink()
    outs.append(n3(proj, "models", "list"))
    for r in outs:
        assert "\x1b" not in r.stdout + r.stderr and "\x9b" not in r.stdout + r.stderr and "\x07" not in r.stdout
        assert "Traceback" not in r.stderr
    assert "\\x1b]0;pwned\\x07" in outs[2].stdout + outs[3].stdout
    assert "\\x1b[2J" in outs[4].stdout + outs[4].stderr
    j = n3(proj, "predict", "m_v1", "word1 alpha", "--json")
    if j.returncode == 0:
        assert "\x9b" not in j.stdout and json.loads(j.stdout)["label"] in (EVIL, "plain")


# ------------------------------------------------------------------------------ F15
def test_f15_a_key_given_twice_in_a_row_is_a_located_error(tmp_path):
    proj = make_project(tmp_path / "p")
    with open(proj / "data" / "t.jsonl", "a") as fh:
        fh.write('{"input": "refund please", "target": "billing", "target": "account"}\n')
    lineno = (proj / "data" / "t.jsonl").read_text().count("\n")
    r = n3(proj, *train_args(), "--json")
    assert_clean_failure(r, "dataset-row-invalid")
    (d,) = json.loads(r.stdout)["diagnostics"]
    assert d["file"] == "data/t.jsonl" and d["line"] == lineno and d["column"] == 49
    assert '"target" twice' in d["message"]
    assert not (proj / "models").exists()


def test_f15_predict_dataset_rows_with_a_repeated_key_are_reported(tmp_path):
    proj = make_project(tmp_path / "p")
    assert n3(proj, *train_args()).returncode == 0
    (proj / "rows.jsonl").write_text('{"input": "a", "input": "b"}\n')
    r = n3(proj, "predict", "m_v1", "--dataset", "rows.jsonl")
    assert_clean_failure(r, "dataset-row-invalid")
    assert "rows.jsonl:1:16" in r.stderr and '"input" twice' in r.stderr


# ------------------------------------------------------------------------------ F16
def test_f16_json_output_refuses_numbers_python_cannot_read_back(tmp_path, monkeypatch):
    from decimal import Decimal

    from click.testing import CliRunner

    import n3lang.runtime as runtime
    from n3lang.cli.main import cli
    from n3lang.cli.run_cmd import MAX_JSON_DIGITS, _longest_number
    from n3lang.runtime.values import dumps, to_json_value

    (tmp_path / "app.ai").write_text('spec is "1.0"\n\nflow "demo":\n  return "ok"\n')
    monkeypatch.chdir(tmp_path)
    real = runtime.run_flow

    def huge(*a, **k):
        out = real(*a, **k)
        out.result = [Decimal(10) ** 100_000, {"n": 1}]
        return out

    monkeypatch.setattr(runtime, "run_flow", huge)
    r = CliRunner().invoke(cli, ["run", "app.ai", "--json"])
    assert r.exit_code == 1, r.output
    (d,) = json.loads(r.stdout)["diagnostics"]
    assert d["code"] == "runtime-limit" and f"at most {MAX_JSON_DIGITS} digits" in d["message"]
    assert _longest_number(to_json_value([Decimal(10) ** 4299, Decimal("1.5")])) == 4300
    ok = dumps(Decimal(10) ** 4299)
    assert json.loads(ok) == 10 ** 4299  # the bound is what Python reads back


# ------------------------------------------------------------------------------ F18
def test_f18_a_state_file_held_by_another_run_says_so(tmp_path, monkeypatch):
    import sqlite3

    from click.testing import CliRunner

    from n3lang.cli.main import cli
    from n3lang.runtime import records

    (tmp_path / "app.ai").write_text('spec is "1.0"\n\nflow "demo":\n  return "ok"\n')
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(cli, ["run", "app.ai", "--state", "s.db"]).exit_code == 0
    assert records.BUSY_TIMEOUT >= 5  # a run waits several seconds for another before giving up
    monkeypatch.setattr(records, "BUSY_TIMEOUT", 0.2)
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        r = CliRunner().invoke(cli, ["run", "app.ai", "--state", "s.db", "--json"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.exit_code == 1, r.output
    msg = json.loads(r.stdout)["diagnostics"][0]["message"]
    assert "another n3 run is using it" in msg and "retry" in msg and "Cannot read" not in msg


def test_f18_a_diverging_learning_rate_points_at_its_line_in_training_yaml(tmp_path):
    proj = make_project(tmp_path / "p")
    (proj / "training.yaml").write_text("model_base: text-base\ndataset: data/t.jsonl\nepochs: 2\n"
                                        "learning_rate: 1e300\noutput_name: div_v1\n")
    r = n3(proj, "train", "--config", "training.yaml")
    assert_clean_failure(r, "training-failed")
    assert "training.yaml:4:16: error: training diverged" in r.stderr and "<input>" not in r.stderr
    assert "RuntimeWarning" not in r.stderr and not (proj / "models_registry.yaml").exists()
    assert staging_left(proj) == []


def test_f18_dataset_dev_zero_is_not_a_regular_file_and_check_dev_zero_gives_a_reason(tmp_path):
    proj = make_project(tmp_path / "p")
    r = n3(proj, *train_args("m_v1", "/dev/zero"))
    assert_clean_failure(r, "dataset-missing")
    assert "/dev/zero is a device, not a regular file" in r.stderr and "does not exist" not in r.stderr
    r = n3(proj, "check", "/dev/zero")
    assert_clean_failure(r, "unreadable-file")
    assert "Cannot read '/dev/zero': it is a FIFO, device or socket, not a regular file" in r.stdout + r.stderr


def test_f18_ctrl_c_in_train_exits_130_with_one_line_and_leaves_nothing(tmp_path):
    import signal
    import time

    proj = make_project(tmp_path / "p")
    with open(proj / "data" / "t.jsonl", "w") as fh:  # enough rows and epochs to be inside training
        for i in range(3000):
            fh.write(json.dumps({"input": f"w{i % 97} w{i % 13} text {i}", "target": f"c{i % 3}"}) + "\n")
    e = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.Popen([sys.executable, "-c", RUNNER, *train_args("m_v1", "data/t.jsonl"), "--epochs", "200"],
                         cwd=proj, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()  # "Training m_v1 ..." comes right before the fit starts
    assert line.startswith("Training"), line
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    try:  # a hang guard, not a timing bar: a loaded machine can take long to unwind
        out, err = p.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError(f"n3 train did not stop within 300 s of Ctrl-C: {err[-2000:]}")
    assert p.returncode == 130, (p.returncode, err)
    assert err.strip() == "n3: interrupted (Ctrl-C)" and "Aborted" not in err and "Traceback" not in err
    assert not (proj / "models_registry.yaml").exists() and staging_left(proj) == []
    assert not (proj / "models").exists() or not any((proj / "models").iterdir())


def test_f6_predict_dataset_lines_over_the_limit_are_reported(tmp_path):
    proj = make_project(tmp_path / "p")
    assert n3(proj, *train_args()).returncode == 0
    (proj / "rows.jsonl").write_text('{"input": "' + "x" * 5000 + '"}\n{"input": "refund"}\n')
    r = n3(proj, "predict", "m_v1", "--dataset", "rows.jsonl", env={"N3_MAX_LINE_BYTES": "1000"})
    assert_clean_failure(r, "dataset-too-large")
    assert "rows.jsonl:1:1" in r.stderr and "N3_MAX_LINE_BYTES" in r.stderr
