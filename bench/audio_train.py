#!/usr/bin/env python3
"""Audio benchmark: n3's audio mode (speech-to-text) vs numpy features + scikit-learn.

Data: the spoken ten-word set of bench/make_audio_set.py (espeak-ng voices x variants, sox
noise, 16 kHz mono WAV), generated into WORKDIR/words if missing. The test split holds out
whole voices (no test voice is heard in training).

Contenders (each in its own subprocess; peak memory = its own ru_maxrss):
  n3-cnn       n3lang audio handler + speech-to-text defaults (what `n3 train` runs): validate
               WAVs, log-mel (silence-trimmed, 40 bands x 32 steps), CNN, predict test
  n3-mlp       the same features, network: mlp
  sk-logreg-map     the same fixed-size log-mel map, flattened + standardised -> LogisticRegression
  sk-logreg-pooled  the practitioner's quick baseline: per-band mean and std of the log-mel
                    spectrogram over time (80 numbers) -> StandardScaler -> LogisticRegression
Wall time = read WAVs + features + fit + predict.

Usage: python3 bench/audio_train.py [--workdir /tmp/benchdata] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import read_validated_split  # noqa: E402  (bench/common.py, beside this file)


def _rows(setdir: Path, side: str):
    return [json.loads(line) for line in (setdir / f"{side}.jsonl").read_text().splitlines() if line.strip()]


def run_n3(setdir: Path, network: str) -> dict:
    from threadpoolctl import threadpool_limits

    from n3lang.training import bases
    from n3lang.training.audio import HANDLER

    t0 = time.perf_counter()
    data, labels, y_tr, y_te = read_validated_split(setdir, HANDLER)
    base = bases.resolve("speech-to-text", "audio")
    params = dict(base.defaults)
    params["network"] = network
    if network == "mlp":
        params.update(hidden=[256], epochs=30, learning_rate=0.003)
    trainer = HANDLER.make_trainer(base, params, labels, y_tr)
    settings = trainer.feature_settings()
    with threadpool_limits(limits=1):
        X_tr = HANDLER.featurize(data["train"][0], setdir, settings)
        X_te = HANDLER.featurize(data["test"][0], setdir, settings)
        t1 = time.perf_counter()
        trainer.fit(X_tr, y_tr)
        t2 = time.perf_counter()
        pred = trainer.predict_proba(X_te).argmax(axis=1)
    from n3lang.training.metrics import speech_metrics
    sm = speech_metrics([labels[i] for i in y_te], [labels[i] for i in pred])
    return {"accuracy": float((pred == y_te).mean()), "wer": sm["wer"], "wall_s": time.perf_counter() - t0,
            "fit_s": t2 - t1, "features_s": t1 - t0, "epochs": trainer.epochs,
            "n_train": len(y_tr), "n_test": len(y_te)}


def run_sklearn(setdir: Path, feats: str) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from n3lang.training.audio import load_audio, log_mel, utterance_features

    t0 = time.perf_counter()
    X, y = {}, {}
    for side in ("train", "test"):
        rows = _rows(setdir, side)
        out = []
        for r in rows:
            x = load_audio(setdir / r["audio"])
            if feats == "map":
                out.append(utterance_features(x).ravel())
            else:
                lm = log_mel(x)
                out.append(np.concatenate([lm.mean(axis=0), lm.std(axis=0)]))
        X[side] = np.stack(out)
        y[side] = np.array([r["target"] for r in rows])
    t1 = time.perf_counter()
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    clf.fit(X["train"], y["train"])
    t2 = time.perf_counter()
    acc = float((clf.predict(X["test"]) == y["test"]).mean())
    return {"accuracy": acc, "wall_s": time.perf_counter() - t0, "fit_s": t2 - t1, "features_s": t1 - t0,
            "n_train": len(y["train"]), "n_test": len(y["test"])}


CONTENDERS = {
    "n3-cnn": lambda d: run_n3(d, "cnn"),
    "n3-mlp": lambda d: run_n3(d, "mlp"),
    "sk-logreg-map": lambda d: run_sklearn(d, "map"),
    "sk-logreg-pooled": lambda d: run_sklearn(d, "pooled"),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="n3 audio mode vs numpy features + scikit-learn")
    ap.add_argument("--workdir", default="/tmp/benchdata")
    ap.add_argument("--contenders", default=",".join(CONTENDERS))
    ap.add_argument("--json")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        out = CONTENDERS[a.child[0]](Path(a.child[1]))
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print(json.dumps(out))
        return 0
    setdir = Path(a.workdir) / "words"
    if not (setdir / "test.jsonl").is_file():
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_audio_set.py"), str(setdir)], check=True)
    meta = json.loads((setdir / "meta.json").read_text())
    print(f"set: {meta['name']}: {meta['rows']} rows, {meta['voices']} voices, "
          f"{len(meta['test_voices'])} held out", flush=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    results = {}
    for c in a.contenders.split(","):
        p = subprocess.run([sys.executable, __file__, "--child", c, str(setdir)], capture_output=True, text=True,
                           env=env)
        if p.returncode != 0:
            print(p.stderr, file=sys.stderr)
            raise SystemExit(f"{c} failed")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        results[c] = r
        print(f"{c:17s} acc={r['accuracy']:.4f} wall={r['wall_s']:.1f}s features={r['features_s']:.1f}s "
              f"fit={r['fit_s']:.1f}s peak={r['peak_rss_mb']:.0f}MB", flush=True)
    print()
    print("| contender | accuracy (held-out voices) | wall s | features s | fit s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for c, r in results.items():
        print(f"| {c} | {r['accuracy']:.4f} | {r['wall_s']:.1f} | {r['features_s']:.1f} | {r['fit_s']:.1f} | "
              f"{r['peak_rss_mb']:.0f} |")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
