"""Sharded training in this process (issue 16): the shard plan, the combination, the settings,
and that K = 1 is the unsharded fit's bytes. tests/training/test_dask.py runs the same fits
on dask clusters."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from n3lang.diagnostics import DiagnosticError
from n3lang.training import config, executors, shards, trainer

WORDS = {
    "billing": "invoice charge refund card payment bill price paid twice receipt",
    "shipping": "parcel delivery courier package arrived late tracking address box shipped",
    "account": "password login reset email username locked signin profile twofactor access",
    "product": "broken screen battery button noise manual warranty color size model",
}


def rows(n: int, seed: int = 7) -> list[str]:
    """``n`` JSONL lines of four topics, some words shared (deterministic)."""
    rng = np.random.default_rng(seed)
    labels = sorted(WORDS)
    common = "please help thanks hello order today again still".split()
    out = []
    for i in range(n):
        label = labels[int(rng.integers(len(labels)))]
        own = WORDS[label].split()
        words = [own[int(j)] for j in rng.integers(len(own), size=3)] + \
                [common[int(j)] for j in rng.integers(len(common), size=3)]
        if i % 7 == 0:  # some rows carry another topic's word
            other = WORDS[labels[(labels.index(label) + 1) % 4]].split()
            words.append(other[int(rng.integers(len(other)))])
        rng.shuffle(words)
        out.append(json.dumps({"input": " ".join(words), "target": label}))
    return out


def project(root: Path, n: int = 300) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "rows.jsonl").write_text("\n".join(rows(n)) + "\n")
    return root


def train(proj: Path, **settings) -> tuple[bytes, bytes, dict]:
    """(model.bin, metadata.json, metadata) of a build with these settings (nothing committed)."""
    model, meta, _ = train_with_reports(proj, **settings)
    return model, meta, json.loads(meta)


def train_with_reports(proj: Path, **settings) -> tuple[bytes, bytes, dict]:
    """(model.bin, metadata.json, {report name: bytes} of the JSON reports) of a build."""
    values = {"model_base": "text-base", "dataset": "data/rows.jsonl", "seed": 13, "output_name": "m", **settings}
    cfg, problems = config.coerce(values, {})
    assert not problems, problems
    plan = trainer.prepare(proj, cfg, check_registry=False)
    built = trainer.build(plan, proj / "stage")
    model, meta = (built.stage / "model" / "model.bin").read_bytes(), (built.stage / "model" / "metadata.json").read_bytes()
    reports = {p.name.split("_")[1]: p.read_bytes() for p in (built.stage / "reports").iterdir() if p.suffix == ".json"}
    shutil.rmtree(built.stage)
    return model, meta, reports


def test_local_executor_maps_in_order():
    assert list(executors.LocalExecutor().map_ordered(lambda x: x * x, [3, 1, 2])) == [9, 1, 4]
    assert isinstance(executors.make(None, None), executors.LocalExecutor)
    assert isinstance(executors.make("local", "tcp://ignored:1"), executors.LocalExecutor)


def test_dask_without_a_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.delenv(executors.SCHEDULER_ENV, raising=False)
    with pytest.raises(DiagnosticError) as e:
        executors.check(None)
    d = e.value.diagnostics[0]
    assert d.code == "config-invalid-value"
    assert d.message == ("`executor: dask` needs a scheduler: set `scheduler: tcp://HOST:PORT` (or the "
                         "N3_DASK_SCHEDULER environment variable)")
    monkeypatch.setenv(executors.SCHEDULER_ENV, "tcp://10.0.0.5:8786")
    assert executors.scheduler_address(None) == "tcp://10.0.0.5:8786"
    assert executors.scheduler_address("tcp://h:1") == "tcp://h:1"  # the setting wins


def test_dask_not_installed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    with pytest.raises(DiagnosticError) as e:
        executors.check("tcp://127.0.0.1:8786")
    d = e.value.diagnostics[0]
    assert d.message == "`executor: dask` needs the dask.distributed package, which is not installed"
    assert "pip install 'n3lang[dask]'" in d.fix


def test_dask_without_a_scheduler_stops_before_reading_data(tmp_path, monkeypatch):
    monkeypatch.delenv(executors.SCHEDULER_ENV, raising=False)
    proj = project(tmp_path)
    (proj / "data" / "rows.jsonl").write_text("not json\n")  # never read
    cfg, _ = config.coerce({"model_base": "text-base", "dataset": "data/rows.jsonl", "output_name": "m",
                            "executor": "dask"}, {})
    with pytest.raises(DiagnosticError) as e:
        trainer.prepare(proj, cfg, check_registry=False)
    assert e.value.diagnostics[0].message.startswith("`executor: dask` needs a scheduler")


def test_shard_plan_is_contiguous_runs_of_the_rows_with_their_bytes(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = [json.dumps({"input": f"row {i}", "target": "a"}) for i in range(10)]
    lines.insert(4, "")  # a blank line: line numbers, not row numbers
    path.write_text("\n".join(lines) + "\n")
    raw = path.read_bytes()
    row_lines = np.array([1, 2, 3, 4, 6, 7, 9, 10, 11])  # line 8 is held out, say
    plan = shards.plan(path, row_lines, 4)
    assert [(s.first_line, s.last_line, s.rows) for s in plan] == [(1, 3, 3), (4, 6, 2), (7, 9, 2), (10, 11, 2)]
    for s in plan:
        chunk = raw[s.byte_start:s.byte_end]
        assert hashlib.sha256(chunk).hexdigest() == s.sha256
        assert chunk.decode().splitlines()[0] == (lines[s.first_line - 1])
        assert chunk.count(b"\n") == s.last_line - s.first_line + 1
    assert shards.plan(path, row_lines, 4) == plan  # the data and K alone
    assert len(shards.plan(path, row_lines, 20)) == 9  # more shards than rows: one row each
    assert [s.rows for s in shards.plan(path, row_lines, 1)] == [9]


def test_tree_sum_is_a_fixed_pairwise_tree():
    a, b, c = np.float64(1e16), np.float64(1.0), np.float64(-1e16)
    assert shards.tree_sum([a, b, c]) == (a + b) + c
    assert shards.tree_sum([a, b, c, b]) == (a + b) + (c + b)
    assert shards.tree_sum([a, b, c, b, b]) == ((a + b) + (c + b)) + b != (a + b) + ((c + b) + b)


class Backwards:
    """An executor that takes ``window`` tasks at a time and runs them last first (as a cluster
    may finish them), handing the results back in order."""

    def __init__(self, window: int):
        self.window = window

    def map_ordered(self, fn, items):
        batch: list = []
        for item in items:
            batch.append(item)
            if len(batch) == self.window:
                yield from reversed([fn(x) for x in reversed(batch)])
                batch = []
        yield from reversed([fn(x) for x in reversed(batch)])

    def close(self) -> None:
        pass


@pytest.mark.parametrize("window", [1, 2, 3])
def test_the_executor_window_and_task_order_do_not_change_the_bytes(monkeypatch, tmp_path, window):
    proj = project(tmp_path)
    whole = train(proj, shards=5, epochs=2)[:2]
    monkeypatch.setattr(executors, "make", lambda *a: Backwards(window))
    assert train(proj, shards=5, epochs=2)[:2] == whole


def test_a_process_featurizes_at_most_its_cache_of_shards_once(tmp_path, monkeypatch):
    """Shards come round in a cycle each epoch: the cache keeps the first ones it has room for
    (least-recently-used eviction would miss every time), and drops entries of old settings."""
    from n3lang.training import dataset as dataset_mod

    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"input": f"row {i}", "target": "ab"[i % 2]}) + "\n" for i in range(12)))
    source = dataset_mod.Source(path, "d.jsonl", "text", False)
    lines = np.arange(1, 13)
    plan = shards.plan(path, lines, 6)
    reads: list = []
    real = shards._read_inputs
    monkeypatch.setattr(shards, "_read_inputs", lambda *a: reads.append(a[1].index) or real(*a))
    monkeypatch.setattr(shards, "_cache", {})
    settings = {"char_ngrams": [0, 0]}
    for _ in range(3):  # three epochs over 6 shards with room for 4
        for s in plan:
            shards.shard_features(source, s, lines[s.first_line - 1:s.last_line], settings)
    assert reads == [0, 1, 2, 3, 4, 5] + [4, 5] + [4, 5]
    reads.clear()
    shards.shard_features(source, plan[0], lines[0:2], {"char_ngrams": [4, 4]})  # a new feature set
    shards.shard_features(source, plan[0], lines[0:2], {"char_ngrams": [4, 4]})
    assert reads == [0] and len(shards._cache) == shards._CACHE_ENTRIES


def test_a_shard_not_cached_is_featurized_a_round_at_a_time_with_the_same_bytes(tmp_path, monkeypatch):
    """With no room in the cache a round featurizes only its part of the shard's rows (not
    the whole shard ROUNDS times an epoch): the same model and reports."""
    proj = project(tmp_path)
    cached = train_with_reports(proj, shards=3, epochs=2)
    parts: list = []
    real = shards.part_features
    monkeypatch.setattr(shards, "part_features", lambda job, rows: parts.append(len(rows)) or real(job, rows))
    monkeypatch.setattr(shards, "_CACHE_ENTRIES", 0)
    monkeypatch.setattr(shards, "_cache", {})
    assert train_with_reports(proj, shards=3, epochs=2) == cached
    # every task after each shard's first: 2 epochs x ROUNDS rounds x 3 shards, less the 3 first
    assert len(parts) == 2 * shards.ROUNDS * 3 - 3
    assert max(parts) <= -(-240 // 3 // shards.ROUNDS) + 1  # a round's share of a shard's rows


def test_tasks_send_back_only_the_rows_they_changed(tmp_path, monkeypatch):
    """A round moves part of a shard's rows: only those travel back, and the model is the one
    combined from every touched row."""
    proj = project(tmp_path)
    model = train(proj, shards=3, epochs=2)[:2]
    sizes: list = []
    real = shards.run_shard

    def every_row(job):
        r = real(job)
        sizes.append((len(r.changed), len(r.touched)))
        W = np.zeros((len(r.touched), job.n_labels), np.float32) if job.w_rows is None else job.w_rows.copy()
        W[r.changed] = r.w_rows
        return shards.Result(r.touched, W, r.b, r.loss)

    monkeypatch.setattr(shards, "run_shard", every_row)
    assert train(proj, shards=3, epochs=2)[:2] == model
    assert all(c <= t for c, t in sizes) and any(c < t for c, t in sizes)


def test_shards_with_mostly_unique_targets_train_the_retrieval_model(tmp_path):
    """Retrieval does not train in shards: its inputs, not kept by the sharded reader, are read again."""
    (tmp_path / "data").mkdir()
    rows = [json.dumps({"input": f"question number {i} about topic {i % 7}", "target": f"answer {i}"})
            for i in range(40)]
    (tmp_path / "data" / "rows.jsonl").write_text("\n".join(rows) + "\n")
    model, _, meta = train(tmp_path, shards=2)
    plain_model, _, plain = train(tmp_path)
    assert meta["trainer"]["kind"] == "retrieval" and model == plain_model
    assert meta["split"] == plain["split"] and meta["metrics"] == plain["metrics"]


def test_local_executor_is_lazy():
    """Tasks are made as the executor asks for them: a driver holds a window, not all."""
    made: list = []
    items = (made.append(i) or i for i in range(5))
    results = executors.LocalExecutor().map_ordered(lambda x: x * 10, items)
    assert next(results) == 0 and made == [0]


def test_combine_averages_each_row_over_the_shards_that_changed_it():
    W = np.zeros((6, 2), dtype=np.float32)
    W[4] = 7.0
    W[5] = 1.0
    b = np.zeros(2, dtype=np.float32)
    one = shards.Result(np.array([0, 1, 5]), np.array([[1, 1], [2, 2], [3, 5]], np.float32),
                        np.array([1, 0], np.float32), 0.0)
    # two touches row 5 without changing it (its part of the order did not reach the row)
    two = shards.Result(np.array([1, 3, 5]), np.array([[4, 4], [6, 6], [1, 1]], np.float32),
                        np.array([3, 2], np.float32), 0.0)
    shards.combine(W, b, [one, two])
    # rows 0 and 5: one shard's change kept whole
    assert W.tolist() == [[1, 1], [3, 3], [0, 0], [6, 6], [7, 7], [3, 5]]
    assert b.tolist() == [2, 1]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 8, 9, 13])
def test_combiner_sums_blocks_pairwise_then_the_blocks_in_order(k):
    """The fixed order of the float64 sums: tree_sum within each block of Combiner.BLOCK
    shards, the blocks added left to right; the same bits however the results are held."""
    rng = np.random.default_rng(k)
    W0 = rng.normal(size=(40, 3)).astype(np.float32)
    b0 = rng.normal(size=3).astype(np.float32)
    results = []
    for _ in range(k):
        rows = np.sort(rng.choice(40, size=int(rng.integers(1, 30)), replace=False))
        results.append(shards.Result(rows, (W0[rows] + rng.normal(scale=1e3, size=(len(rows), 3))).astype(np.float32),
                                     (b0 + rng.normal(size=3)).astype(np.float32), 0.0))
    W, b = W0.copy(), b0.copy()
    shards.combine(W, b, results)
    if k == 1:
        assert np.array_equal(W[results[0].touched], results[0].w_rows)
        return
    dw, count, db = [], [], []
    for r in results:  # each shard's change, dense
        d = np.zeros((40, 3))
        d[r.touched] = r.w_rows.astype(np.float64) - W0[r.touched].astype(np.float64)
        c = np.zeros(40)
        c[r.touched] = 1.0
        dw.append(d), count.append(c), db.append(r.b.astype(np.float64) - b0.astype(np.float64))
    B = shards.Combiner.BLOCK
    blocks = [(shards.tree_sum(dw[i:i + B]), shards.tree_sum(count[i:i + B]), shards.tree_sum(db[i:i + B]))
              for i in range(0, k, B)]
    total_dw, total_count, total_db = blocks[0]
    for bdw, bc, bdb in blocks[1:]:
        total_dw, total_count, total_db = total_dw + bdw, total_count + bc, total_db + bdb
    touched = total_count > 0
    expected = W0.copy()
    expected[touched] = (W0[touched].astype(np.float64) + total_dw[touched] / total_count[touched, None]).astype(np.float32)
    assert np.array_equal(W, expected)
    assert np.array_equal(b, (b0.astype(np.float64) + total_db / k).astype(np.float32))


def test_block_momentum_adds_half_the_previous_step():
    W, b = np.zeros((3, 1), dtype=np.float32), np.zeros(1, dtype=np.float32)
    m = shards.BlockMomentum(3, 1, 0.5)

    def epoch(values):
        c = shards.Combiner(W, b, m)
        for v in values:  # every shard touches row 0 only
            c.add(shards.Result(np.array([0]), np.array([[W[0, 0] + v]], np.float32), b + v, 0.0))
        c.finish()

    epoch([2.0, 4.0])  # mean step 3
    assert W[:, 0].tolist() == [3.0, 0.0, 0.0] and b.tolist() == [3.0]
    epoch([1.0, 1.0])  # mean step 1, plus half of the previous 3
    assert W[:, 0].tolist() == [5.5, 0.0, 0.0] and b.tolist() == [5.5]


def test_one_shard_is_the_unsharded_fit(tmp_path):
    """shards: 1 trains exactly what a run without it trains (the metadata adds the plan)."""
    proj = project(tmp_path)
    for extra in ({"epochs": 3}, {}):  # given epochs, and the validation search + refit
        plain_model, plain_meta, plain_reports = train_with_reports(proj, **extra)
        model, meta_bytes, reports = train_with_reports(proj, shards=1, **extra)
        plain, meta = json.loads(plain_meta), json.loads(meta_bytes)
        assert model == plain_model
        assert meta["metrics"] == plain["metrics"] and meta["training"] == plain["training"]
        assert meta["split"] == plain["split"]
        # measured by tasks (the driver kept no inputs), explained from rows read again: the same reports
        assert sorted(reports) == sorted(plain_reports) and len(reports) == 2
        assert reports["explain"] == plain_reports["explain"]
        metrics, plain_metrics = json.loads(reports["metrics"]), json.loads(plain_reports["metrics"])
        assert {k: v for k, v in metrics.items() if k != "model"} == {k: v for k, v in plain_metrics.items() if k != "model"}
        assert meta["config"]["effective"]["shards"] == meta["config"]["requested"]["shards"] == 1
        assert "shards" not in plain["config"]["effective"] and "shards" not in plain["dataset"]


def test_sharded_fit_is_deterministic_and_records_its_plan(tmp_path):
    proj = project(tmp_path)
    model, meta_bytes, meta = train(proj, shards=3, epochs=4)
    again = train(proj, shards=3, epochs=4)
    assert (model, meta_bytes) == again[:2]
    assert model != train(proj, shards=1, epochs=4)[0]
    recorded = meta["dataset"]["shards"]
    assert recorded["shards"] == 3 and recorded["file_sha256"] == meta["dataset"]["snapshot"]
    assert [s["index"] for s in recorded["plan"]] == [0, 1, 2]
    assert sum(s["rows"] for s in recorded["plan"]) == meta["split"]["train_rows"]  # epochs given: no refit
    assert meta["metrics"]["accuracy"] >= 0.9
    from n3lang.resources import load_schema

    jsonschema.validate(meta, load_schema("metadata"))


def test_sharded_search_and_refit_record_the_refit_plan(tmp_path):
    proj = project(tmp_path)
    _, _, meta = train(proj, shards=2)
    assert meta["training"]["refit"] is True
    assert sum(s["rows"] for s in meta["dataset"]["shards"]["plan"]) == meta["dataset"]["rows"]
    assert meta["metrics"]["accuracy"] >= 0.9


def test_a_dataset_changed_under_the_tasks_stops_with_a_diagnostic(tmp_path, monkeypatch):
    proj = project(tmp_path)
    original = shards.fit

    def edit_then_fit(*args, **kw):  # the file changes after it was read and planned
        path = proj / "data" / "rows.jsonl"
        path.write_text(path.read_text().replace("invoice", "invoize"))
        return original(*args, **kw)

    monkeypatch.setattr(shards, "fit", edit_then_fit)
    with pytest.raises(DiagnosticError) as e:
        train(proj, shards=2, epochs=2)
    d = e.value.diagnostics[0]
    assert d.code == "training-failed"
    assert d.message.startswith("dataset data/rows.jsonl changed since training started (lines 1-")


def test_verify_retrains_a_sharded_model(tmp_path):
    from click.testing import CliRunner

    from n3lang.cli.main import cli

    proj = project(tmp_path)
    (proj / "app.ai").write_text('spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n')
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(proj)
    try:
        r = runner.invoke(cli, ["train", "--model-base", "text-base", "--dataset", "data/rows.jsonl", "--seed", "13",
                                "--output-name", "m", "--epochs", "2", "--shards", "2"])
        assert r.exit_code == 0, r.output
        r = runner.invoke(cli, ["train", "--verify", "m", "--json"])
    finally:
        os.chdir(old)
    assert r.exit_code == 0, r.output
    report = json.loads(r.output[r.output.index("{"):])  # after the status line (stderr, mixed in here)
    assert report["ok"] is True and {c["file"] for c in report["checks"]} >= {"model.bin", "metadata.json"}


def slow_rows(n: int, seed: int = 3) -> list[str]:
    """``n`` JSONL lines of 8 labels: one of the label's 10 words among 6 of 60 shared ones
    (15% of rows carry another label's word too). With a small learning rate a model needs
    every row's step to learn it in a few epochs."""
    rng = np.random.default_rng(seed)
    own = {label: [f"w{label}x{j}" for j in range(10)] for label in range(8)}
    shared = [f"c{j}" for j in range(60)]
    out = []
    for _ in range(n):
        label = int(rng.integers(8))
        words = [own[label][int(rng.integers(10))]] + [shared[int(j)] for j in rng.integers(60, size=6)]
        if rng.random() < 0.15:
            words.append(own[int(rng.integers(8))][int(rng.integers(10))])
        rng.shuffle(words)
        out.append(json.dumps({"input": " ".join(words), "target": f"t{label}"}))
    return out


def test_four_shards_learn_about_as_far_as_one(tmp_path, monkeypatch):
    """Several combinations per epoch with block momentum keep 4 shards' model about as good
    as one shard's; one plain average per epoch moves the weights a quarter as far."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.jsonl").write_text("\n".join(slow_rows(1200)) + "\n")
    settings = {"epochs": 3, "learning_rate": 0.05}
    one = train(tmp_path, shards=1, **settings)[2]["metrics"]["accuracy"]
    four = train(tmp_path, shards=4, **settings)[2]["metrics"]["accuracy"]
    assert one >= 0.85
    assert four >= one - 0.03
    monkeypatch.setattr(shards, "ROUNDS", 1)
    monkeypatch.setattr(shards, "MOMENTUM", 0.0)
    assert train(tmp_path, shards=4, **settings)[2]["metrics"]["accuracy"] <= one - 0.15


def test_rounds_run_consecutive_parts_of_each_shards_epoch_order(tmp_path, monkeypatch):
    """Each epoch every shard's order is cut into ROUNDS consecutive parts (one task each), the
    step counter running on across them, every task starting from the last round's model."""
    proj = project(tmp_path)
    monkeypatch.setattr(shards, "ROUNDS", 3)
    seen = []
    real = executors.LocalExecutor.map_ordered

    def record(self, fn, jobs):
        if fn is shards.run_shard:  # not the validation rows' tasks
            jobs = list(jobs)
            seen.extend((j.order_seed, j.span, j.step0, j.total_steps, j.shard.rows) for j in jobs)
        return real(self, fn, jobs)

    monkeypatch.setattr(executors.LocalExecutor, "map_ordered", record)
    meta = train(proj, shards=2, epochs=2)[2]
    assert len(seen) == 2 * 3 * 2  # epochs x rounds x shards
    for epoch in (1, 2):
        for shard in (0, 1):
            tasks = [t for t in seen if t[0] == (13, epoch, shard)]
            n_k = tasks[0][4]
            assert [t[1] for t in tasks] == [(0, n_k // 3), (n_k // 3, 2 * n_k // 3), (2 * n_k // 3, n_k)]
            assert [t[2] for t in tasks] == [(epoch - 1) * n_k + t[1][0] for t in tasks]
            assert {t[3] for t in tasks} == {2 * n_k}
    assert meta["metrics"]["accuracy"] >= 0.9
