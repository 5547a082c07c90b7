#!/usr/bin/env python3
"""fastText baseline for the text sets (issue 15): `fasttext-wheel`, supervised, epoch 25, lr 0.5,
wordNgrams 2 (the issue's "tuned" settings), fit on train.jsonl, scored on test.jsonl.

    python bench/fasttext_train.py --data /tmp/benchdata/synopsis

Prints one JSON line: accuracy, features + fit wall and CPU seconds, peak RSS of this process
(fastText threads included in the CPU time). Run it in the same session as bench/text_train.py.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import fasttext

    data = Path(args.data)

    def rows(name: str):
        for line in open(data / name, encoding="utf-8"):
            r = json.loads(line)
            yield " ".join(r["input"].split()), str(r["target"]).replace(" ", "_")

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        for text, label in rows("train.jsonl"):
            fh.write(f"__label__{label} {text}\n")
    t0, c0 = time.perf_counter(), time.process_time()
    model = fasttext.train_supervised(fh.name, epoch=25, lr=0.5, wordNgrams=2, thread=args.threads,
                                      seed=13, verbose=0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    test = list(rows("test.jsonl"))
    labels, _ = model.predict([t for t, _ in test])
    acc = sum(lab[0] == "__label__" + y for lab, (_, y) in zip(labels, test)) / len(test)
    print(json.dumps({"side": "fasttext", "data": str(data), "accuracy": round(acc, 6),
                      "features_fit_wall_s": round(wall, 1), "features_fit_cpu_s": round(cpu, 1),
                      "threads": args.threads,
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
