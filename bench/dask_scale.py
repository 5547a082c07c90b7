#!/usr/bin/env python3
"""Sharded training at scale (issue 16): memory, throughput and accuracy.

    python bench/dask_scale.py accuracy --data /tmp/benchdata/debian --shards 1,4
    python bench/dask_scale.py scale --data /tmp/benchdata/debian --factor 20 --epochs 2

``accuracy``: `n3 train`'s defaults (features, epochs and logit scale chosen on the
validation rows, refit on every row) on train.jsonl with each shard count, in this machine's
process (the executor does not change the bytes), scored on test.jsonl.

``scale``: builds a set ``--factor`` times the size of train.jsonl (each copy after the first
drops one word per row, at a place fixed by the copy and the row: deterministic, and no two
copies identical), then trains each set with the same rows per shard (K = 4 for the original,
4 x factor for the big one) on a real cluster: `dask scheduler` and `dask worker --nworkers N
--nthreads 1` processes, the driver a separate `n3`-equivalent process (trainer.prepare +
build with `executor: dask`). It reports the peak RSS of the driver (its own rusage) and of
each worker (its rusage, asked through client.run at the end), and the rows trained per
second, with 1 and 2 workers. Results are printed as markdown (bench/RESULTS.md, "Sharded
training on Dask", records a run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from common import fmt_bytes, machine_summary, markdown_table  # noqa: E402

ROWS_PER_SHARD_K = 4  # the original set's shard count; the big set keeps its rows per shard


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def make_big(src: Path, dst: Path, factor: int) -> Path:
    """train.jsonl repeated ``factor`` times; copy r > 0 drops word (r * 7919 + i) % len of row i."""
    out = dst / "train.jsonl"
    stamp = dst / f".made-{factor}"
    if stamp.exists():
        return out
    dst.mkdir(parents=True, exist_ok=True)
    lines = src.read_text(encoding="utf-8").splitlines()
    with open(out, "w", encoding="utf-8") as fh:
        for r in range(factor):
            for i, line in enumerate(lines):
                row = json.loads(line)
                words = row["input"].split(" ")
                if r and len(words) > 3:
                    del words[(r * 7919 + i) % len(words)]
                fh.write(json.dumps({"input": " ".join(words), "target": row["target"]}) + "\n")
    stamp.write_text("")
    return out


def _project(tmp: Path, dataset: Path) -> Path:
    proj = tmp / "p"
    (proj / "data").mkdir(parents=True)
    os.symlink(dataset, proj / "data" / "train.jsonl")
    return proj


def worker_train(args) -> None:
    """One training run in this process; prints a JSON line."""
    import numpy as np

    from n3lang.training import config, trainer

    with tempfile.TemporaryDirectory() as tmp:
        proj = _project(Path(tmp), Path(args.dataset))
        values = {"model_base": "text-base", "dataset": "data/train.jsonl", "seed": 13, "output_name": "bench.m",
                  "shards": args.k}
        if args.epochs:
            values["epochs"] = args.epochs
        if args.scheduler:
            values.update(executor="dask", scheduler=args.scheduler)
        cfg, problems = config.coerce(values, {})
        assert not problems, problems
        t0 = time.perf_counter()
        plan = trainer.prepare(proj, cfg, check_registry=False)
        t1 = time.perf_counter()
        built = trainer.build(plan, Path(tmp) / "stage")
        t2 = time.perf_counter()
        meta = built.metadata
        out = {"k": args.k, "rows": meta["dataset"]["rows"], "train_rows": meta["split"]["train_rows"],
               "read_s": t1 - t0, "build_s": t2 - t1, "val_accuracy": meta["metrics"]["accuracy"],
               "epochs": meta["trainer"]["config"]["epochs"], "refit": meta["training"]["refit"],
               "driver_peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
               "model_sha256": meta["artifact"]["sha256"]}
        if args.test_file:
            texts, targets = [], []
            for line in open(args.test_file, encoding="utf-8"):
                row = json.loads(line)
                texts.append(row["input"])
                targets.append(str(row["target"]))
            from n3lang.training.modes import get_handler

            tensors = _read_tensors(built.stage / "model" / "model.bin")  # the stored model, as `n3 run` loads it
            model = get_handler("text").load_trainer(meta["trainer"]["kind"], tensors, meta["trainer"]["config"])
            X = plan.handler.featurize(texts, proj, model.feature_settings())
            pred = np.asarray(model.predict_proba(X)).argmax(axis=1)
            labels = meta["labels"]
            out["test_accuracy"] = float(np.mean([labels[int(p)] == t for p, t in zip(pred, targets)]))
        shutil.rmtree(built.stage, ignore_errors=True)
    print(json.dumps(out))


def _read_tensors(path: Path) -> dict:
    from safetensors.numpy import load_file

    return load_file(str(path))


def run_driver(dataset: Path, k: int, epochs: int | None, scheduler: str | None, test_file: Path | None) -> dict:
    cmd = [sys.executable, __file__, "worker-train", "--dataset", str(dataset), "--k", str(k)]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    if test_file:
        cmd += ["--test-file", str(test_file)]
    p = subprocess.run(cmd, env=env(), capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"driver failed:\n{p.stderr[-4000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


class Cluster:
    """`dask scheduler` + `dask worker --nworkers N --nthreads 1`, as separate processes."""

    def __init__(self, workers: int, tmp: Path):
        self.file = tmp / f"scheduler-{workers}.json"
        dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
        self.scheduler = subprocess.Popen(dask + ["--scheduler-file", str(self.file), "--port", "0",
                                                  "--dashboard-address", ":0"], env=env(),
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not self.file.exists():
            time.sleep(0.1)
        time.sleep(0.5)
        self.address = json.loads(self.file.read_text())["address"]
        self.workers = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", self.address,
                                         "--nworkers", str(workers), "--nthreads", "1", "--memory-limit", "0",
                                         "--dashboard-address", ":0"], env=env(),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from distributed import Client

        self.client = Client(self.address)
        self.client.wait_for_workers(workers, timeout=120)

    def worker_peaks(self) -> list[int]:
        def peak() -> int:
            import resource as r

            return r.getrusage(r.RUSAGE_SELF).ru_maxrss * 1024

        return sorted(self.client.run(peak).values())

    def close(self) -> None:
        self.client.close()
        for p in (self.workers, self.scheduler):
            p.terminate()
            p.wait(timeout=60)


def cmd_accuracy(args) -> None:
    data = Path(args.data)
    rows = []
    for k in [int(x) for x in args.shards.split(",")]:
        t0 = time.perf_counter()
        r = run_driver(data / "train.jsonl", k, args.epochs, None, data / "test.jsonl")
        r["wall_s"] = time.perf_counter() - t0
        print(json.dumps(r), flush=True)
        rows.append(r)
    table = markdown_table(["shards K", "test accuracy", "validation accuracy", "epochs (chosen)", "build s",
                            "model sha256"],
                           [[r["k"], f"{100 * r['test_accuracy']:.2f}%", f"{100 * r['val_accuracy']:.2f}%",
                             r["epochs"], f"{r['build_s']:.1f}", r["model_sha256"][:12]] for r in rows])
    print(f"{machine_summary()}\n\n{table}")


def cmd_scale(args) -> None:
    data = Path(args.data)
    small = data / "train.jsonl"
    big = make_big(small, Path(args.big_dir), args.factor)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, dataset, k in (("original", small, ROWS_PER_SHARD_K),
                                 (f"{args.factor}x", big, ROWS_PER_SHARD_K * args.factor)):
            for workers in [int(w) for w in args.workers.split(",")]:
                if name == "original" and workers != max(int(w) for w in args.workers.split(",")):
                    continue  # the memory baseline: one run
                cluster = Cluster(workers, Path(tmp))
                try:
                    t0 = time.perf_counter()
                    r = run_driver(dataset, k, args.epochs, cluster.address, None)
                    r["wall_s"] = time.perf_counter() - t0
                    r["worker_peaks"] = cluster.worker_peaks()
                finally:
                    cluster.close()
                r.update(set=name, workers=workers, rows_per_s=r["train_rows"] * r["epochs"] / r["build_s"])
                print(json.dumps(r), flush=True)
                results.append(r)
    table = markdown_table(
        ["set", "rows", "shards K", "workers", "read s", "train+evaluate s", "rows/s (train rows x epochs / s)",
         "driver peak RSS", "worker peak RSS"],
        [[r["set"], r["rows"], r["k"], r["workers"], f"{r['read_s']:.1f}", f"{r['build_s']:.1f}",
          f"{r['rows_per_s']:,.0f}", fmt_bytes(r["driver_peak_rss"]),
          ", ".join(fmt_bytes(p) for p in r["worker_peaks"])] for r in results])
    print(f"{machine_summary()}\n\n{table}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("accuracy")
    a.add_argument("--data", default="/tmp/benchdata/debian")
    a.add_argument("--shards", default="1,4")
    a.add_argument("--epochs", type=int, default=None)
    s = sub.add_parser("scale")
    s.add_argument("--data", default="/tmp/benchdata/debian")
    s.add_argument("--big-dir", default="/tmp/benchdata/debian-x20")
    s.add_argument("--factor", type=int, default=20)
    s.add_argument("--epochs", type=int, default=2)
    s.add_argument("--workers", default="1,2")
    w = sub.add_parser("worker-train")
    w.add_argument("--dataset", required=True)
    w.add_argument("--k", type=int, required=True)
    w.add_argument("--epochs", type=int, default=None)
    w.add_argument("--scheduler", default=None)
    w.add_argument("--test-file", default=None)
    args = ap.parse_args()
    {"accuracy": cmd_accuracy, "scale": cmd_scale, "worker-train": worker_train}[args.cmd](args)


if __name__ == "__main__":
    main()
