#!/usr/bin/env python3
"""Fuzz the training side of n3: datasets (JSONL rows), training.yaml files and registry files.

Every case runs the real `n3` command in a subprocess (so exit codes, signals and the entry
point are the real ones) and must end with exit 0 or 1, no traceback, no "internal error",
within a time limit. The strategies are shared with the bounded CI suite
(tests/training/test_fuzz_training.py, which runs them in-process with few examples).

    python scripts/fuzz_training.py                    # 300 cases per target
    python scripts/fuzz_training.py --cases 2000 --target registry --seed 7

Prints, per target, the cases tried and the failures (each with its input saved under
--out, default ./fuzz-failures/); exit 1 when any case failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
APP = 'spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n'
GOOD_ROWS = [{"input": f"word{i} {('alpha', 'beta', 'gamma')[i % 3]} thing", "target": ("a", "b", "c")[i % 3]}
             for i in range(24)]

# ----------------------------------------------------------------------------- datasets
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                     st.text(max_size=20))
_json = st.recursive(_scalars, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), kids, max_size=4)),
                     max_leaves=12)
_keys = st.sampled_from(["input", "target", "label", "output", "transcript", "image", "pixels", "audio", "x", ""])
_row = st.one_of(
    st.sampled_from(GOOD_ROWS),
    st.dictionaries(_keys, _json, max_size=4),
    st.fixed_dictionaries({"input": st.text(max_size=40), "target": st.text(max_size=10)}),
    _json,
)


def _row_line(draw_row) -> str:
    return json.dumps(draw_row, ensure_ascii=False)


_raw_line = st.one_of(
    _row.map(_row_line),
    st.sampled_from(['{"input": "a", "input": "b", "target": "x"}', '{"input": "a", "target": NaN}',
                     '{"input": 1e400, "target": "x"}', '{"input": "' + "9" * 5000 + '", "target": "x"}',
                     '{"input": ' + "9" * 5000 + ', "target": "x"}', "[" * 3000, "\ufeff{}", '{"input": "\\ud800"}',
                     '{"image": "../../etc/passwd", "target": "x"}', '{"audio": "/dev/zero", "target": "y"}',
                     '{"pixels": [[1,2],[3]], "target": "x"}', "", "   ", "\r", "not json"]),
    st.text(max_size=60),
)
dataset_texts = st.lists(_raw_line, min_size=0, max_size=30).map(lambda lines: "\n".join(lines) + "\n")
dataset_bytes = st.one_of(dataset_texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
                          st.binary(max_size=200),
                          st.tuples(dataset_texts, st.binary(max_size=8)).map(
                              lambda tb: tb[0].encode("utf-8", "surrogatepass") + tb[1]))

# ----------------------------------------------------------------------------- training.yaml
_yaml_values = st.one_of(
    st.sampled_from(["text-base", "gpt-3.5-turbo", "vision-classifier", "speech-to-text", "data/rows.jsonl",
                     "/dev/zero", "../outside", "m_v1", "text", "image", "audio", "0.2", "2e-5", "1e300", "-1",
                     "null", "~", "[]", "{}", "*a", "&a x", "!!python/object:os.system", "0x10", "1_000", "yes",
                     ".inf", "'quoted'", '"dq"', "9" * 5000, "models", "../../x", "/tmp/n3-fuzz-out"]),
    st.integers(-10**9, 10**9).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20).map(json.dumps),
)
_yaml_keys = st.sampled_from(["model_base", "dataset", "epochs", "learning_rate", "seed", "output_name", "mode",
                              "validation_split", "output_dir", "report_dir", "epoch", "lr", "", "- x", "? y"])
yaml_texts = st.one_of(
    st.lists(st.tuples(_yaml_keys, _yaml_values), max_size=10).map(
        lambda kv: "".join(f"{k}: {v}\n" for k, v in kv)),
    st.text(max_size=200),
    st.sampled_from(['a: &x [1, 2]\nb: [*x, *x]\n', "- 1\n- 2\n", "{", "model_base: [" * 50,
                     "model_base: text-base\nmodel_base: text-base\n"]),
)


def full_config(pairs) -> str:
    """A mostly valid training.yaml with some values replaced."""
    base = {"model_base": "text-base", "dataset": "data/rows.jsonl", "epochs": "1", "output_name": "fz_v1"}
    for k, v in pairs:
        base[k] = v
    return "".join(f"{k}: {v}\n" for k, v in base.items())


config_texts = st.one_of(yaml_texts, st.lists(st.tuples(_yaml_keys, _yaml_values), max_size=3).map(full_config))


# ----------------------------------------------------------------------------- registry
def mutate(text: str, ops: list) -> str:
    """Apply (kind, position, payload) edits to a registry text."""
    for kind, pos, payload in ops:
        lines = text.splitlines(keepends=True)
        if not lines:
            return payload
        i = pos % len(lines)
        if kind == "delete-line":
            del lines[i]
        elif kind == "duplicate-line":
            lines.insert(i, lines[i])
        elif kind == "swap-lines":
            j = (pos // 7) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "insert-line":
            lines.insert(i, payload + "\n")
        elif kind == "replace-in-line":
            cut = (pos // 3) % (len(lines[i]) + 1)
            lines[i] = lines[i][:cut] + payload + lines[i][cut + len(payload):]
        elif kind == "truncate":
            return "".join(lines)[: pos % (len(text) + 1)]
        text = "".join(lines)
    return text


_payloads = st.one_of(st.text(max_size=12), st.sampled_from([
    "&a", "*a", "- *a", '"\\x1b[2J"', "status: \"deprecated\"", "  artifact_uri: \"/etc/passwd\"",
    "  artifact_uri: \"../../x/model.bin\"", "  dataset: null", "  version: 1.0", "- event: \"status\"",
    "  metrics: {\"accuracy\": 1e999}", "9" * 5000, "  training_seed: -1", "{", "]", "\t", "!!binary AAAA",
    "  config: {\"epochs\": \"x\", \"mode\": \"sound\"}", "  name: \"x\\u0000y\"", "  previous_sha256: \"0\"",
]))
registry_ops = st.lists(st.tuples(st.sampled_from(["delete-line", "duplicate-line", "swap-lines", "insert-line",
                                                   "replace-in-line", "truncate"]),
                                  st.integers(0, 10**6), _payloads), min_size=1, max_size=4)

REGISTRY_COMMANDS = (["models", "list"], ["models", "show", "m_v1"], ["models", "verify", "m_v1"],
                     ["predict", "m_v1", "hello"], ["train", "--verify", "m_v1"],
                     ["train", "--model-base", "text-base", "--dataset", "data/rows.jsonl", "--epochs", "1",
                      "--output-name", "n_v1", "--dry-run"],
                     ["models", "deprecate", "m_v1", "--reason", "fuzz"])


# ----------------------------------------------------------------------------- projects
def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.ai").write_text(APP)
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in GOOD_ROWS))
    return root


def problem(code: int, out: str, err: str) -> str | None:
    """Why a finished case failed, or None."""
    if code not in (0, 1):
        return f"exit {code}"
    if "Traceback" in err or "internal error" in err:
        return "traceback"
    return None


# ----------------------------------------------------------------------------- the long run
def _run(cwd: Path, args: list[str], limit: float) -> tuple[int, str, str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-m", "n3lang.cli.main", *args], cwd=cwd, env=env, capture_output=True,
                           text=True, timeout=limit, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - start
    except subprocess.TimeoutExpired:
        return -1, "", f"timed out after {limit} s", limit


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=300, help="cases per target")
    ap.add_argument("--target", choices=["dataset", "config", "registry", "all"], default="all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds one n3 command may take")
    ap.add_argument("--out", default="fuzz-failures")
    args = ap.parse_args(argv)
    import random

    rng = random.Random(args.seed)
    targets = ["dataset", "config", "registry"] if args.target == "all" else [args.target]
    failures_total = 0
    with tempfile.TemporaryDirectory(prefix="n3-fuzz-") as tmp:
        base = make_project(Path(tmp) / "base")
        code, _, err, _ = _run(base, ["train", "--model-base", "text-base", "--dataset", "data/rows.jsonl",
                                      "--epochs", "1", "--output-name", "m_v1"], args.time_limit)
        if code != 0:
            print(f"could not train the base model: {err}", file=sys.stderr)
            return 1
        registry_text = (base / "models_registry.yaml").read_text()
        strategies = {"dataset": dataset_bytes, "config": config_texts, "registry": registry_ops}
        for target in targets:
            tried = failed = 0
            slowest = 0.0
            for case, value in enumerate(samples(strategies[target], args.cases, args.seed)):
                proj = Path(tmp) / f"{target}-{case}"
                shutil.copytree(base, proj)
                if target == "dataset":
                    data = value
                    (proj / "data" / "rows.jsonl").write_bytes(data)
                    cmd = ["train", "--model-base", rng.choice(["text-base", "vision-classifier", "speech-to-text"]),
                           "--dataset", "data/rows.jsonl", "--epochs", "1", "--output-name", "fz_v1"]
                    cmd += rng.choice([[], ["--dry-run"], ["--json"]])
                    if "vision" in cmd[2]:
                        cmd += ["--mode", "image"]
                    elif "speech" in cmd[2]:
                        cmd += ["--mode", "audio"]
                    saved = data
                elif target == "config":
                    text = value
                    (proj / "training.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
                    cmd = ["train", "--config", "training.yaml"] + rng.choice([[], ["--dry-run"], ["--json"]])
                    saved = text.encode("utf-8", "surrogatepass")
                else:
                    text = mutate(registry_text, value)
                    (proj / "models_registry.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
                    if rng.random() < 0.5:
                        (proj / "models_registry.head").unlink(missing_ok=True)
                    cmd = list(rng.choice(REGISTRY_COMMANDS))
                    saved = text.encode("utf-8", "surrogatepass")
                code, out, err, took = _run(proj, cmd, args.time_limit)
                slowest = max(slowest, took)
                tried += 1
                why = "timeout" if code == -1 else problem(code, out, err)
                if why:
                    failed += 1
                    keep = Path(args.out) / f"{target}-{case}"
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / "input").write_bytes(saved)
                    (keep / "report.txt").write_text(f"{why}\ncommand: n3 {' '.join(cmd)}\n\n{out}\n{err}")
                    print(f"FAIL {target} case {case}: {why} (n3 {' '.join(cmd)}) -> {keep}", file=sys.stderr)
                shutil.rmtree(proj, ignore_errors=True)
            failures_total += failed
            print(f"{target}: {tried} cases tried, {failed} failures (slowest command {slowest:.1f} s)")
    return 1 if failures_total else 0


def samples(strategy, n: int, seed: int) -> list:
    """``n`` values of a hypothesis strategy (fewer when it has fewer), drawn outside a test."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    box: list = []

    @hseed(seed)
    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck),
              phases=[__import__("hypothesis").Phase.generate])
    @given(strategy)
    def pick(value):
        box.append(value)

    pick()
    return box


if __name__ == "__main__":
    sys.exit(main())
