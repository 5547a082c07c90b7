"""`predict` inside a flow: 10,000 predictions in one `repeat` loop (target: under 2 s after
the first load). Run on demand, not a unit test.

The model is examples/supportbot's `supportbot.faq_model_v2` (400 tickets, 8 intents, base
gpt-3.5-turbo -> local hashed-softmax text classifier), trained into a temporary copy of the
example. The flow cycles through the 400 distinct ticket texts (``questions[i % 400]``), so no
two consecutive predictions see the same text and nothing can be answered from a per-text cache.

Figures: the model load (the first `predict` of a run: registry read, sha256, safetensors
parse), the whole run, and the loop alone (= run - load), per prediction, as wall time and as
this thread's CPU time (wall time on a shared machine includes waiting for a CPU); plus the same loop
with the `predict` replaced by a `let` of the text (the interpreter's own share), and a bare
``Predictor.predict`` loop in Python (the model's share).

The feature hasher is the C one when it is built (``pip install -e .`` with a C compiler) and
the numpy one otherwise; the first line of the output says which. To measure the numpy path
where the C one is built: ``N3_NUMPY_FEATURES=1 python bench/predict_in_flow.py``.

Usage: python bench/predict_in_flow.py [--n 10000] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from n3lang.runtime import run_flow
from n3lang.syntax import parse_source
from n3lang.training import inference

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "supportbot"
MODEL = "supportbot.faq_model_v2"

FLOW_SRC = '''spec is "1.0"

capabilities:
  training

flow "bench":
  let questions is input.questions
  let n is list length of questions
  let i is 0
  let hits is 0
  repeat up to input.count times:
    let text is questions[i]
    let scored is {call}
    if scored.label is "billing":
      set hits is hits + 1
    set i is (i + 1) % n
  return map:
    hits is hits
    last is scored
'''


def program(call: str):
    src = FLOW_SRC.replace("{call}", call)
    prog, diags = parse_source(src, "bench.ai")
    assert prog is not None and not any(d.is_error for d in diags), diags
    return prog


def train(project: Path) -> float:
    from n3lang.syntax import parse_file
    from n3lang.training import app as app_mod
    from n3lang.training import config as config_mod
    from n3lang.training import trainer

    info = app_mod.resolve_app(str(project / "app.ai"), project, parse_file)
    start = time.perf_counter()
    for name, values, origins in trainer.configs_from_app(info):
        cfg, problems = config_mod.coerce(values, origins)
        assert not problems, problems
        trainer.train(trainer.prepare(project, cfg))
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="n3-bench-predict-"))
    try:
        project = tmp / "supportbot"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(
            "models", "docs", "models_registry.yaml", ".n3*"))
        train_s = train(project)
        questions = [json.loads(line)["input"] for line in
                     (project / "data" / "support_tickets.jsonl").read_text("utf-8").splitlines() if line.strip()]

        loads: list[float] = []

        def timed_loader(project_dir, ref):
            t = time.perf_counter()
            p = inference.load_predictor(project_dir, ref)
            loads.append(time.perf_counter() - t)
            return p

        cpu_times: list[float] = []

        def run(call: str, n: int, loader=timed_loader):
            prog = program(call)
            c = time.thread_time()
            t = time.perf_counter()
            res = run_flow(prog, "bench", {"questions": questions, "count": n,
                                                  "fixed": {"label": "billing"}}, project_dir=project,
                           predictor_loader=loader)
            wall = time.perf_counter() - t
            cpu_times.append(time.thread_time() - c)
            assert res.ok, res.error and res.error.message
            return wall, res.result

        predict_call = f'predict "{MODEL}" with text'
        run(predict_call, 1)  # warm imports
        runs, loops, cpu_loops = [], [], []
        result = None
        for _ in range(args.repeats):
            loads.clear()
            wall, result = run(predict_call, args.n)
            runs.append(wall)
            loops.append(wall - loads[0])
            cpu_loops.append(cpu_times[-1] - loads[0])  # the load is short: counted as CPU time
        first_load = loads[0]
        baseline = min(run("input.fixed", args.n)[0] for _ in range(args.repeats))

        predictor = inference.load_predictor(project, MODEL)
        direct = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            for k in range(args.n):
                predictor.predict(questions[k % len(questions)])
            direct.append(time.perf_counter() - t)

        loop = min(loops)
        out = {
            "model": MODEL, "kind": predictor.kind, "labels": len(predictor.labels),
            "featurizer": "C" if predictor._featurize.native else "numpy",
            "predictions": args.n, "distinct_texts": len(questions),
            "train_s": round(train_s, 3),
            "first_load_ms": round(first_load * 1e3, 2),
            "run_s_best": round(min(runs), 3), "run_s_median": round(statistics.median(runs), 3),
            "loop_s_best": round(loop, 3), "loop_s_median": round(statistics.median(loops), 3),
            "per_predict_us": round(loop / args.n * 1e6, 1),
            "loop_cpu_s_best": round(min(cpu_loops), 3),
            "interpreter_only_loop_s": round(baseline, 3),
            "predictor_only_s": round(min(direct), 3),
            "target_s": 2.0, "ok": loop < 2.0,
            "hits": int(result["hits"]), "last_label": result["last"]["label"],
            "python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count(),
            "load_avg": [round(x, 2) for x in os.getloadavg()],
            "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        if args.json:
            print(json.dumps(out))
            return
        print(f"predict in a flow: {args.n} predictions with {MODEL} ({out['kind']}, {out['labels']} labels, "
              f"{out['featurizer']} feature hasher), cycling {len(questions)} distinct ticket texts")
        print(f"  first load (registry, sha256, parse):   {out['first_load_ms']:.1f} ms")
        print(f"  whole run, best / median of {args.repeats}:        {out['run_s_best']:.3f} s / {out['run_s_median']:.3f} s")
        print(f"  loop after the load, best / median:     {out['loop_s_best']:.3f} s / {out['loop_s_median']:.3f} s"
              f"  (target < 2 s: {'ok' if out['ok'] else 'MISSED'})")
        print(f"  per prediction in the flow:             {out['per_predict_us']:.1f} us")
        print(f"  loop CPU time (this thread), best:      {out['loop_cpu_s_best']:.3f} s  "
              f"(less sensitive to other jobs on the machine)")
        print(f"  same loop without predict (interpreter): {out['interpreter_only_loop_s']:.3f} s")
        print(f"  Predictor.predict alone, {args.n}x:        {out['predictor_only_s']:.3f} s")
        print(f"  python {out['python']}, numpy {out['numpy']}, {out['cpus']} CPUs, load avg {out['load_avg']}, "
              f"{out['measured']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
