#!/usr/bin/env python3
"""Image benchmark: n3's image mode vs scikit-learn, in one run on the same machine.

Sets (each with train.jsonl / test.jsonl of {"image": png path, "target": label}):
  digits   scikit-learn's bundled 8x8 digits as PNGs (/work/shared/bench/image_digits.py,
           or bench/../ copy; 1,797 rows, ~80/20 split by file stem)
  font28   an MNIST-like set generated here: digits 0-9 rendered with Pillow from every DejaVu
           font on the machine, random size / rotation / offset / stroke weight / blur /
           elastic distortion / noise, 28x28 greyscale (numpy.random.default_rng(seed));
           split by file stem with the same rule.

Contenders (each in its own subprocess, so peak memory is its own ru_maxrss):
  n3-cnn   n3lang image handler + vision-classifier defaults (the code `n3 train` runs):
           validate rows, decode, featurize, fit, predict test
  n3-mlp   the same with network: mlp
  sk-logreg  Pillow decode -> pixels/255 -> LogisticRegression(max_iter=2000)
  sk-mlp     Pillow decode -> pixels/255 -> MLPClassifier(hidden=(128,), max_iter=300, seed 0)
Wall time = decode + features + fit + predict (the dataset is read from disk each time).

Usage: python3 bench/image_train.py [--sets digits,font28] [--workdir /tmp/benchdata]
       [--font28-rows 10000] [--json out.json]
"""
from __future__ import annotations

import argparse
import hashlib
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


# ----------------------------------------------------------------------------- data
def is_test(key: str) -> bool:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 5 == 0


def ensure_digits(workdir: Path) -> Path:
    out = workdir / "digits"
    if not (out / "test.jsonl").is_file():
        gen = Path("/work/shared/bench/image_digits.py")
        subprocess.run([sys.executable, str(gen), str(out)], check=True, cwd=str(gen.parent))
    return out


def _elastic(a: np.ndarray, rng: np.random.Generator, alpha: float, sigma: float) -> np.ndarray:
    """Elastic distortion (Simard et al. 2003) with numpy only: smoothed random displacement."""
    h, w = a.shape

    def smooth(f):
        k = np.exp(-0.5 * (np.arange(-3 * int(sigma), 3 * int(sigma) + 1) / sigma) ** 2)
        k /= k.sum()
        f = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 0, f)
        return np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, f)

    dx = smooth(rng.uniform(-1, 1, (h, w))) * alpha
    dy = smooth(rng.uniform(-1, 1, (h, w))) * alpha
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    y = np.clip(yy + dy, 0, h - 1)
    x = np.clip(xx + dx, 0, w - 1)
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = y - y0, x - x0
    return (a[y0, x0] * (1 - fy) * (1 - fx) + a[y1, x0] * fy * (1 - fx)
            + a[y0, x1] * (1 - fy) * fx + a[y1, x1] * fy * fx)


def make_font28(out: Path, rows: int, seed: int = 0) -> Path:
    """Generate the MNIST-like font-digit set (deterministic for a given font set and Pillow)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    if (out / "test.jsonl").is_file():
        return out
    fonts = sorted(p for p in Path("/usr/share/fonts/truetype").rglob("*.ttf")
                   if "DejaVu" in p.name and "Math" not in p.name)
    if not fonts:
        raise SystemExit("no DejaVu fonts found (apt-get install fonts-dejavu-core fonts-dejavu-extra)")
    rng = np.random.default_rng(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    lines = {"train": [], "test": []}
    for i in range(rows):
        digit = str(i % 10)
        font_path = fonts[int(rng.integers(0, len(fonts)))]
        big = 84
        font = ImageFont.truetype(str(font_path), int(rng.integers(44, 70)))
        im = Image.new("L", (big, big), 0)
        d = ImageDraw.Draw(im)
        box = d.textbbox((0, 0), digit, font=font)
        x = (big - (box[2] - box[0])) / 2 - box[0] + rng.uniform(-6, 6)
        y = (big - (box[3] - box[1])) / 2 - box[1] + rng.uniform(-6, 6)
        stroke = int(rng.integers(0, 3))
        d.text((x, y), digit, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
        im = im.rotate(float(rng.uniform(-18, 18)), resample=Image.BILINEAR)
        if rng.random() < 0.3:
            im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 1.5))))
        a = np.asarray(im, dtype=np.float64)
        a = _elastic(a, rng, alpha=float(rng.uniform(0, 8)), sigma=4.0)
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), mode="L").resize((28, 28), Image.LANCZOS)
        a = np.asarray(im, dtype=np.float64) + rng.normal(0, float(rng.uniform(0, 20)), (28, 28))
        stem = "%06d" % i
        Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8), mode="L").save(out / "images" / f"{stem}.png")
        row = json.dumps({"image": f"images/{stem}.png", "target": digit}, sort_keys=True) + "\n"
        lines["test" if is_test(stem) else "train"].append(row)
    for side, ls in lines.items():
        (out / f"{side}.jsonl").write_text("".join(ls))
    (out / "meta.json").write_text(json.dumps({
        "name": "font-digits-28x28", "rows": {k: len(v) for k, v in lines.items()}, "seed": seed,
        "fonts": [p.name for p in fonts]}, indent=1))
    return out


# ----------------------------------------------------------------------------- contenders
def _read_rows(path: Path):
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows


def run_n3(setdir: Path, network: str) -> dict:
    from n3lang.training import bases
    from n3lang.training.image import HANDLER

    t0 = time.perf_counter()
    data, labels, y_tr, y_te = read_validated_split(setdir, HANDLER)
    base = bases.resolve("vision-classifier", "image")
    params = dict(base.defaults)
    params["network"] = network
    if network == "mlp":
        params["hidden"] = [256]
        params["epochs"] = max(int(params.get("epochs", 10)), 30)
        params["learning_rate"] = 0.003
    trainer = HANDLER.make_trainer(base, params, labels, y_tr)
    settings = trainer.feature_settings()
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        X_tr = HANDLER.featurize(data["train"][0], setdir, settings)
        X_te = HANDLER.featurize(data["test"][0], setdir, settings)
        t1 = time.perf_counter()
        trainer.fit(X_tr, y_tr)
        t2 = time.perf_counter()
        pred = trainer.predict_proba(X_te).argmax(axis=1)
    t3 = time.perf_counter()
    return {"accuracy": float((pred == y_te).mean()), "wall_s": t3 - t0, "fit_s": t2 - t1,
            "epochs": trainer.epochs, "layout": settings, "n_train": len(y_tr), "n_test": len(y_te)}


def run_sklearn(setdir: Path, model: str) -> dict:
    from PIL import Image
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    t0 = time.perf_counter()
    Xs, ys = {}, {}
    for side in ("train", "test"):
        rows = _read_rows(setdir / f"{side}.jsonl")
        Xs[side] = np.stack([np.asarray(Image.open(setdir / r["image"]).convert("L"), dtype=np.float32).ravel() / 255.0
                             for r in rows])
        ys[side] = np.array([r["target"] for r in rows])
    t1 = time.perf_counter()
    if model == "logreg":
        clf = LogisticRegression(max_iter=2000)
    else:
        clf = MLPClassifier(hidden_layer_sizes=(128,), max_iter=300, random_state=0)
    clf.fit(Xs["train"], ys["train"])
    t2 = time.perf_counter()
    acc = float((clf.predict(Xs["test"]) == ys["test"]).mean())
    return {"accuracy": acc, "wall_s": time.perf_counter() - t0, "fit_s": t2 - t1,
            "n_train": len(ys["train"]), "n_test": len(ys["test"])}


CONTENDERS = {
    "n3-cnn": lambda d: run_n3(d, "cnn"),
    "n3-mlp": lambda d: run_n3(d, "mlp"),
    "sk-logreg": lambda d: run_sklearn(d, "logreg"),
    "sk-mlp": lambda d: run_sklearn(d, "mlp"),
}


def child(name: str, setdir: str) -> None:
    out = CONTENDERS[name](Path(setdir))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="n3 image mode vs scikit-learn")
    ap.add_argument("--sets", default="digits,font28")
    ap.add_argument("--contenders", default=",".join(CONTENDERS))
    ap.add_argument("--workdir", default="/tmp/benchdata")
    ap.add_argument("--font28-rows", type=int, default=10000)
    ap.add_argument("--json")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(*a.child)
        return 0
    workdir = Path(a.workdir)
    results = {}
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for s in a.sets.split(","):
        setdir = ensure_digits(workdir) if s == "digits" else make_font28(workdir / "font28", a.font28_rows)
        for c in a.contenders.split(","):
            t = time.perf_counter()
            p = subprocess.run([sys.executable, __file__, "--child", c, str(setdir)], capture_output=True,
                               text=True, env=env)
            if p.returncode != 0:
                print(p.stderr, file=sys.stderr)
                raise SystemExit(f"{c} on {s} failed")
            r = json.loads(p.stdout.strip().splitlines()[-1])
            r["process_s"] = time.perf_counter() - t
            results.setdefault(s, {})[c] = r
            print(f"{s:8s} {c:10s} acc={r['accuracy']:.4f} wall={r['wall_s']:.1f}s fit={r['fit_s']:.1f}s "
                  f"peak={r['peak_rss_mb']:.0f}MB", flush=True)
    print()
    print("| set | contender | accuracy | wall s (read+features+fit+predict) | fit s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for s, rs in results.items():
        for c, r in rs.items():
            print(f"| {s} (train {r['n_train']}, test {r['n_test']}) | {c} | {r['accuracy']:.4f} | "
                  f"{r['wall_s']:.1f} | {r['fit_s']:.1f} | {r['peak_rss_mb']:.0f} |")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
