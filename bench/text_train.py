#!/usr/bin/env python3
"""Text training benchmark: n3's text trainer against the practitioner's scikit-learn pipeline.

Data: the Debian package-section set (60,867 rows, 53 classes), regenerated with
/work/shared/bench/text_debian_sections.py (or the copy named by --generator) into --data.

In one run, on the same machine, each side in its own subprocess (so its peak memory is
its own, read from the child's rusage):

  sklearn   HashingVectorizer(word 1-2-grams, 2^18) + HashingVectorizer(char_wb 3-5-grams,
            2^18), hstacked, + SGDClassifier(loss="log_loss", alpha=1e-5); fit on train.jsonl,
            scored on test.jsonl.
  n3        n3's text trainer through its Python API (the text mode handler: featurize +
            make_trainer + fit, as `n3 train` runs them), same train/test files.
  n3-cli    the whole `n3 train` command in a temporary project (validation, features, fit,
            evaluation, model.bin, reports, registry), then prediction latency: model load
            time and single-prediction time (median over 1000) through
            n3lang.training.inference.load_predictor.

Prints a markdown table with ratios and writes it to bench/RESULTS.md under "Text training".

    python bench/text_train.py                       # everything
    python bench/text_train.py --only sklearn,n3     # a subset
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from common import (Measured, Stopwatch, fmt_bytes, load_average, machine_summary,  # noqa: E402
                    markdown_table, run_measured, time_calls, update_results)

DEFAULT_DATA = Path("/tmp/benchdata/debian")
DEFAULT_GENERATOR = Path("/work/shared/bench/text_debian_sections.py")
MODEL_NAME = "bench.debian_sections"


def read_jsonl(path: Path) -> tuple[list[str], list[str]]:
    texts, targets = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            texts.append(row["input"])
            targets.append(str(row["target"]))
    return texts, targets


def scores(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict:
    from n3lang.training.metrics import classification_metrics

    m = classification_metrics(y_true, y_pred, labels)
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


def test_ece(y_true: list[str], proba, classes: list[str]) -> float:
    """Expected calibration error on the test rows (15 bins, as n3's metrics report it) from a
    rows x classes probability matrix whose columns are ``classes``."""
    import numpy as np

    from n3lang.training.metrics import calibration

    proba = np.asarray(proba, dtype=np.float64)
    top = proba.argmax(axis=1)
    right = [classes[int(k)] == t for k, t in zip(top, y_true)]
    return calibration(proba[np.arange(len(top)), top].tolist(), right)["ece"]


# ----------------------------------------------------------------------------- workers


def worker_sklearn(data: Path, args) -> dict:
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import SGDClassifier

    train_x, train_y = read_jsonl(data / "train.jsonl")
    test_x, test_y = read_jsonl(data / "test.jsonl")
    word = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=2**18)
    char = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=2**18)

    def vectorize(texts):
        return sp.hstack([word.transform(texts), char.transform(texts)], format="csr")

    with Stopwatch() as t_feat:
        X = vectorize(train_x)
    clf = SGDClassifier(loss="log_loss", alpha=1e-5, random_state=0)
    with Stopwatch() as t_fit:
        clf.fit(X, train_y)
    with Stopwatch() as t_pred:
        Xt = vectorize(test_x)
        pred = clf.predict(Xt).tolist()
    out = {"side": "sklearn", "features_s": t_feat.s, "fit_s": t_fit.s, "predict_test_s": t_pred.s,
           "features_fit_cpu_s": t_feat.cpu + t_fit.cpu,
           "n_train": len(train_x), "n_test": len(test_x), "epochs_run": int(clf.n_iter_),
           "test_ece": test_ece(test_y, clf.predict_proba(Xt), [str(c) for c in clf.classes_]),
           **scores(test_y, pred, sorted(set(train_y)))}
    if args.latency:
        out["latency"] = time_calls(lambda i: clf.predict_proba(vectorize([test_x[i % len(test_x)]])),
                                    args.latency_n)
    del np
    return out


def _n3_params(base, args) -> dict:
    params = dict(base.defaults)
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.learning_rate is not None:
        params["learning_rate"] = args.learning_rate
    params["seed"] = args.seed
    params["learning_rate"] = float(params["learning_rate"]) * float(base.lr_scale)
    return params


def worker_n3(data: Path, args) -> dict:
    import numpy as np

    from n3lang.training import bases
    from n3lang.training.modes import get_handler

    train_x, train_y = read_jsonl(data / "train.jsonl")
    test_x, test_y = read_jsonl(data / "test.jsonl")
    labels = sorted(set(train_y))
    index = {lb: i for i, lb in enumerate(labels)}
    y = np.array([index[t] for t in train_y], dtype=np.int64)
    handler = get_handler("text")
    base = bases.find(args.base)
    params = _n3_params(base, args)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_limits = None
    if args.epochs is None:  # the defaults: epochs chosen on validation rows, refit on all (as `n3 train`)
        return worker_n3_defaults(data, args, test_x, test_y, params)
    trainer = handler.make_trainer(base, params, labels, y)
    with Stopwatch() as t_feat:
        X = handler.featurize(train_x, data, trainer.feature_settings())
    with Stopwatch() as t_fit:
        if threadpool_limits is not None:
            with threadpool_limits(limits=1):
                trainer.fit(X, y, None, None)
        else:
            trainer.fit(X, y, None, None)
    with Stopwatch() as t_pred:
        Xt = handler.featurize(test_x, data, trainer.feature_settings())
        proba = trainer.predict_proba(Xt)
        pred_ids = np.argmax(proba, axis=1)
    pred = [labels[int(i)] for i in pred_ids]
    return {"side": "n3", "features_s": t_feat.s, "fit_s": t_fit.s, "predict_test_s": t_pred.s,
            "test_ece": test_ece(test_y, proba, labels),
            "features_fit_cpu_s": t_feat.cpu + t_fit.cpu,
            "n_train": len(train_x), "n_test": len(test_x), "trainer": trainer.kind,
            "epochs_run": params.get("epochs"), "effective_learning_rate": params["learning_rate"],
            **scores(test_y, pred, labels)}


def worker_n3_defaults(data: Path, args, test_x: list[str], test_y: list[str], params: dict) -> dict:
    """n3's default training as `n3 train` runs it (trainer.prepare + build: validation split,
    epochs chosen on the validation rows, refit on every row, reports), timed as one
    features + fit step; the stored model is then scored on test.jsonl."""
    import numpy as np

    from n3lang.training import config
    from n3lang.training import trainer as trainer_mod

    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp) / "p", data, args)
        flags = {"model_base": args.base, "dataset": "data/train.jsonl", "seed": args.seed,
                 "output_name": MODEL_NAME, "mode": "text"}
        if args.learning_rate is not None:
            flags["learning_rate"] = args.learning_rate
        if args.validation_split is not None:
            flags["validation_split"] = args.validation_split
        cwd = os.getcwd()
        os.chdir(project)
        try:
            plan = trainer_mod.prepare(Path("."), config.load(flags, None))
            with Stopwatch() as t_fit:
                built = trainer_mod.build(plan, Path(tmp) / "stage")
        finally:
            os.chdir(cwd)
    model = built.trainer
    labels = list(built.metadata["labels"])
    with Stopwatch() as t_pred:
        Xt = plan.handler.featurize(test_x, data, model.feature_settings())
        proba = model.predict_proba(Xt)
        pred_ids = np.argmax(proba, axis=1)
    pred = [labels[int(i)] for i in pred_ids]
    training = built.metadata["training"]
    return {"side": "n3", "features_s": 0.0, "fit_s": t_fit.s, "predict_test_s": t_pred.s,
            "test_ece": test_ece(test_y, proba, labels), "features_fit_cpu_s": t_fit.cpu,
            "n_train": len(plan.data), "n_test": len(test_x), "trainer": model.kind,
            "epochs_run": f"chosen {(training.get('chosen') or {}).get('epochs')} of 1-10 on validation, refit {training['refit']}",
            "validation_accuracy": built.metadata["metrics"]["accuracy"],
            "effective_learning_rate": params["learning_rate"], **scores(test_y, pred, labels)}


def worker_n3_latency(project: Path, args) -> dict:
    """Load the model trained by `n3 train` and time predictions (fresh process, warm imports)."""
    import numpy  # noqa: F401  (imports are not part of model load time)

    from n3lang.training import inference

    test_x, test_y = read_jsonl(Path(args.data) / "test.jsonl")
    loads = []
    predictor = None
    for _ in range(5):
        t0 = time.perf_counter()
        predictor = inference.load_predictor(project, MODEL_NAME)
        loads.append((time.perf_counter() - t0) * 1000)
    latency = time_calls(lambda i: predictor.predict(test_x[i % len(test_x)]), args.latency_n)
    n_eval = min(len(test_x), 2000)
    correct = sum(predictor.predict(test_x[i])["label"] == test_y[i] for i in range(n_eval))
    return {"side": "n3-latency", "load_first_ms": loads[0], "load_median_ms": statistics.median(loads),
            "latency": latency, "single_predict_accuracy_first_2000": correct / n_eval}


def worker_n3_pipeline(project: Path, args) -> dict:
    """What `n3 train` does, through the library (used when the CLI command is not available)."""
    from n3lang.training import config, trainer

    flags = {"model_base": args.base, "dataset": "data/train.jsonl", "seed": args.seed,
             "output_name": MODEL_NAME, "mode": "text"}
    if args.epochs is not None:
        flags["epochs"] = args.epochs
    if args.learning_rate is not None:
        flags["learning_rate"] = args.learning_rate
    if args.validation_split is not None:
        flags["validation_split"] = args.validation_split
    os.chdir(project)
    cfg = config.load(flags, None)
    plan = trainer.prepare(Path("."), cfg)
    return trainer.train(plan)


def worker(args) -> None:
    data = Path(args.data)
    if args.worker == "sklearn":
        out = worker_sklearn(data, args)
    elif args.worker == "n3":
        out = worker_n3(data, args)
    elif args.worker == "n3-pipeline":
        out = worker_n3_pipeline(Path(args.project), args)
    elif args.worker == "n3-latency":
        out = worker_n3_latency(Path(args.project), args)
    else:
        raise SystemExit(f"unknown worker {args.worker}")
    print(json.dumps(out))


# ----------------------------------------------------------------------------- n3 train CLI


def make_project(root: Path, data: Path, args) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "app.ai").write_text('spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n')
    shutil.copyfile(data / "train.jsonl", root / "data" / "train.jsonl")
    return root


def n3_cli_train(project: Path, args) -> tuple[Measured, list[str]]:
    cmd = [sys.executable, "-m", "n3lang.cli.main", "train", "--model-base", args.base,
           "--dataset", "data/train.jsonl", "--seed", str(args.seed), "--output-name", MODEL_NAME,
           "--mode", "text", "--json"]
    if args.epochs is not None:
        cmd += ["--epochs", str(args.epochs)]
    if args.learning_rate is not None:
        cmd += ["--learning-rate", str(args.learning_rate)]
    if args.validation_split is not None:
        cmd += ["--validation-split", str(args.validation_split)]
    return run_measured(cmd, cwd=project, env=_env(args)), cmd


def _env(args) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    return env


def run_worker(kind: str, args, extra: list[str] | None = None) -> tuple[Measured, dict | None, str | None]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--data", str(args.data),
           "--seed", str(args.seed), "--base", args.base, "--latency-n", str(args.latency_n)]
    if args.epochs is not None:
        cmd += ["--epochs", str(args.epochs)]
    if args.learning_rate is not None:
        cmd += ["--learning-rate", str(args.learning_rate)]
    if args.latency:
        cmd += ["--latency"]
    cmd += extra or []
    m = run_measured(cmd, env=_env(args))
    try:
        return m, m.json(), None
    except Exception as exc:  # the side failed: keep going, report it
        return m, None, str(exc)


# ----------------------------------------------------------------------------- report


def ensure_data(args) -> None:
    data = Path(args.data)
    if (data / "train.jsonl").exists() and (data / "test.jsonl").exists():
        return
    print(f"generating {data} with {args.generator}", file=sys.stderr)
    subprocess.run([sys.executable, str(args.generator), str(data)], check=True, cwd=Path(args.generator).parent)


def ratio(a, b) -> str:
    if a is None or b is None or not b:
        return "–"
    return f"{a / b:.2f}x"


def render(results: dict, args, meta: dict) -> str:
    sk, n3, cli, lat = (results.get(k) for k in ("sklearn", "n3", "n3-cli", "n3-latency"))
    rows = []

    def pct(x):
        return f"{100 * x:.2f}%" if x is not None else "–"

    def sec(x):
        return f"{x:.1f} s" if x is not None else "–"

    def get(d, *keys):
        for k in keys:
            if d is None:
                return None
            d = d.get(k)
        return d

    sk_time = (sk["features_s"] + sk["fit_s"]) if sk else None
    n3_time = (n3["features_s"] + n3["fit_s"]) if n3 else None
    rows.append(["test accuracy", pct(get(sk, "accuracy")), pct(get(n3, "accuracy")),
                 f"{100 * (n3['accuracy'] - sk['accuracy']):+.2f} pt" if sk and n3 else "–"])
    rows.append(["test macro-F1", f"{get(sk, 'macro_f1') or 0:.4f}" if sk else "–",
                 f"{get(n3, 'macro_f1') or 0:.4f}" if n3 else "–",
                 f"{n3['macro_f1'] - sk['macro_f1']:+.4f}" if sk and n3 else "–"])
    rows.append(["test calibration error (ECE, 15 bins)",
                 f"{get(sk, 'test_ece'):.4f}" if get(sk, "test_ece") is not None else "–",
                 f"{get(n3, 'test_ece'):.4f}" if get(n3, "test_ece") is not None else "–", "–"])
    rows.append(["features time", sec(get(sk, "features_s")), sec(get(n3, "features_s")),
                 ratio(get(n3, "features_s"), get(sk, "features_s"))])
    rows.append(["fit time", sec(get(sk, "fit_s")), sec(get(n3, "fit_s")), ratio(get(n3, "fit_s"), get(sk, "fit_s"))])
    rows.append(["**features + fit**", sec(sk_time), sec(n3_time), ratio(n3_time, sk_time)])
    rows.append(["features + fit, CPU time", sec(get(sk, "features_fit_cpu_s")), sec(get(n3, "features_fit_cpu_s")),
                 ratio(get(n3, "features_fit_cpu_s"), get(sk, "features_fit_cpu_s"))])
    rows.append(["process wall time (load data, features, fit, predict test)", sec(get(sk, "_wall_s")),
                 sec(get(n3, "_wall_s")), ratio(get(n3, "_wall_s"), get(sk, "_wall_s"))])
    rows.append(["**peak memory (RSS)**", fmt_bytes(sk["_peak_rss"]) if sk else "–",
                 fmt_bytes(n3["_peak_rss"]) if n3 else "–", ratio(get(n3, "_peak_rss"), get(sk, "_peak_rss"))])
    rows.append(["single prediction, median", f"{get(sk, 'latency', 'median_ms'):.3f} ms" if get(sk, "latency") else "–",
                 f"{get(lat, 'latency', 'median_ms'):.3f} ms" if lat else "–",
                 ratio(get(lat, "latency", "median_ms"), get(sk, "latency", "median_ms"))])
    table = markdown_table(["", "scikit-learn", "n3", "n3 / sklearn"], rows)

    lines = [
        f"Data: {meta.get('name', 'debian-sections')}, {meta.get('rows', {}).get('train', '?')} train / "
        f"{meta.get('rows', {}).get('test', '?')} test rows, {meta.get('n_classes', '?')} classes "
        f"(source: {meta.get('source', '?')}). Machine: {machine_summary()}. "
        f"Run: `python bench/text_train.py` on {time.strftime('%Y-%m-%d', time.gmtime())}; "
        f"load average at the end {load_average()} (other jobs shared the machine: compare ratios and CPU "
        "times, not absolute wall times).",
        "",
        "- scikit-learn: HashingVectorizer word 1-2-grams (2^18) + char_wb 3-5-grams (2^18), hstacked, "
        f"SGDClassifier(loss=\"log_loss\", alpha=1e-5) ({get(sk, 'epochs_run') or '?'} epochs until tol).",
        f"- n3: base `{args.base}`, trainer `{get(n3, 'trainer') or '?'}`, epochs {get(n3, 'epochs_run') or '?'}, "
        f"effective learning rate {get(n3, 'effective_learning_rate') or '?'}, seed {args.seed}, "
        "through the text mode handler (featurize + fit, BLAS pinned to 1 thread).",
        "- Each side runs in its own process; peak memory is that process's ru_maxrss (interpreter and "
        "imports included).",
        "",
        table,
    ]
    stamps = [f"{k} {results[k]['_at']}" for k in ("sklearn", "n3", "n3-cli") if (results.get(k) or {}).get("_at")]
    if stamps:
        lines += ["", "Measured: " + "; ".join(stamps) + "."]
    if cli or lat or results.get("_errors"):
        lines += ["", "Whole `n3 train` command and serving:", ""]
        crow = []
        if cli:
            how = cli.get("how", "`n3 train`")
            crow.append([f"{how} wall time (validate, features, fit, evaluate, write artifacts/reports/registry)",
                         sec(cli["_wall_s"])])
            crow.append([f"{how} peak memory", fmt_bytes(cli["_peak_rss"])])
            if cli.get("accuracy") is not None:
                crow.append([f"{how} validation accuracy (its own 80/20 split of train.jsonl)",
                             pct(cli.get("accuracy"))])
            if cli.get("validation_ece") is not None:
                crow.append([f"{how} validation calibration error (ECE, 15 bins, from its metrics)",
                             f"{cli['validation_ece']:.4f}"])
        if lat:
            crow.append(["model load (first / median of 5), target < 50 ms",
                         f"{lat['load_first_ms']:.1f} ms / {lat['load_median_ms']:.1f} ms"])
            crow.append([f"single prediction median / p99 over {lat['latency']['n']}, target < 1 ms",
                         f"{lat['latency']['median_ms']:.3f} ms / {lat['latency']['p99_ms']:.3f} ms"])
        for err in results.get("_errors", []):
            crow.append([err[0], "not measured: " + err[1].strip().splitlines()[-1][:160] if err[1].strip() else "failed"])
        lines.append(markdown_table(["measure", "value"], crow))
    return "\n".join(lines) + "\n"


def _measured_keys(wanted: list[str]) -> set[str]:
    keys = set(wanted)
    if "n3-cli" in wanted:
        keys.add("n3-latency")
    return keys


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--generator", default=str(DEFAULT_GENERATOR))
    ap.add_argument("--only", default="sklearn,n3,n3-cli", help="comma list of sklearn, n3, n3-cli")
    ap.add_argument("--base", default="text-base")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--learning-rate", type=float, default=None)
    ap.add_argument("--validation-split", type=float, default=None)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=0, help="pin BLAS threads in the children (0: leave as is)")
    ap.add_argument("--latency", action="store_true", help="(worker) also time single predictions")
    ap.add_argument("--latency-n", type=int, default=1000)
    ap.add_argument("--sklearn-latency", action="store_true",
                    help="also time scikit-learn single predictions (slow: each call multiplies by the "
                         "dense 53 x 2^19 coefficient matrix; off by default so it does not skew the "
                         "sklearn process's peak memory and wall time)")
    ap.add_argument("--merge", action="store_true",
                    help="keep the previous run's figures for the sides not in --only (from the temp dir)")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--project", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    ensure_data(args)
    meta = json.loads((Path(args.data) / "meta.json").read_text()) if (Path(args.data) / "meta.json").exists() else {}
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    results: dict = {"_errors": []}
    last = Path(tempfile.gettempdir(), "n3bench_text_last.json")
    if args.merge and last.exists():  # keep the sides not re-measured in this run
        previous = json.loads(last.read_text())
        results.update({k: v for k, v in previous.items() if k != "_errors" and k not in _measured_keys(wanted)})
    for kind in ("sklearn", "n3"):
        if kind not in wanted:
            continue
        print(f"running {kind} ...", file=sys.stderr)
        args.latency = kind == "sklearn" and args.sklearn_latency
        m, out, err = run_worker(kind, args)
        if out is None:
            results["_errors"].append((kind, m.stderr[-2000:] or err or ""))
            print(f"{kind} failed:\n{m.stderr[-2000:]}", file=sys.stderr)
            continue
        out["_wall_s"], out["_peak_rss"], out["_cpu_s"] = m.wall_s, m.peak_rss_bytes, m.cpu_s
        out["_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        results[kind] = out
        print(json.dumps(out, indent=1), file=sys.stderr)
    if "n3-cli" in wanted:
        with tempfile.TemporaryDirectory(prefix="n3bench-") as tmp:
            project = make_project(Path(tmp) / "proj", Path(args.data), args)
            print("running n3 train (CLI) ...", file=sys.stderr)
            m, _ = n3_cli_train(project, args)
            how = "`n3 train`"
            if m.returncode != 0 and "No such command" in m.stderr:
                print("`n3 train` is not available; running the training pipeline API instead", file=sys.stderr)
                how = "training pipeline (`trainer.train`)"
                m, _, _ = run_worker("n3-pipeline", args, ["--project", str(project)])
            if m.returncode != 0:
                results["_errors"].append(("n3 train", m.stderr[-2000:] or m.stdout[-2000:]))
                print(f"n3 train failed:\n{m.stderr[-3000:]}\n{m.stdout[-2000:]}", file=sys.stderr)
            else:
                info = {}
                try:
                    info = json.loads(m.stdout)
                except ValueError:
                    pass
                trained = info.get("trained") if isinstance(info, dict) else None
                if isinstance(trained, list) and trained:
                    info = trained[0]
                acc = (info.get("metrics") or {}).get("accuracy") if isinstance(info, dict) else None
                ece = (info.get("metrics") or {}).get("ece") if isinstance(info, dict) else None
                results["n3-cli"] = {"_wall_s": m.wall_s, "_peak_rss": m.peak_rss_bytes, "accuracy": acc, "how": how,
                                     "validation_ece": ece,
                                     "_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
                print("timing predictions ...", file=sys.stderr)
                args.latency = False
                lm, lout, lerr = run_worker("n3-latency", args, ["--project", str(project)])
                if lout is None:
                    results["_errors"].append(("n3 latency", lm.stderr[-2000:] or lerr or ""))
                    print(f"latency failed:\n{lm.stderr[-2000:]}", file=sys.stderr)
                else:
                    results["n3-latency"] = lout
    text = render(results, args, meta)
    print(text)
    last.write_text(json.dumps(results, indent=1, default=str) + "\n")
    if not args.no_write:
        update_results("Text training", text)


if __name__ == "__main__":
    main()
