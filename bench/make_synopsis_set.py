"""The short-text benchmark set: Debian package synopses by section.

The input of each row is the first line (the one-line synopsis) of a row of the Debian
sections set that /work/shared/bench/text_debian_sections.py builds; rows whose synopsis is
the same but whose section differs are dropped, and the split is the shared generators' own
(benchdata_common.write_splits), so no test synopsis is ever seen in training.

    python3 /work/shared/bench/text_debian_sections.py /tmp/benchdata/debian
    python bench/make_synopsis_set.py /tmp/benchdata/debian/all.jsonl /tmp/benchdata/synopsis
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SHARED = Path("/work/shared/bench")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="all.jsonl of the Debian sections set")
    parser.add_argument("out", help="folder for train.jsonl / test.jsonl of the synopsis set")
    parser.add_argument("--shared", default=str(SHARED), help="folder of benchdata_common.py (default %(default)s)")
    args = parser.parse_args(argv)
    sys.path.insert(0, args.shared)
    from benchdata_common import dedupe, write_splits

    rows = []
    with open(args.source, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            rows.append({"input": row["input"].split("\n", 1)[0].strip(), "target": row["target"]})
    rows, conflicts = dedupe(rows)
    write_splits(args.out, rows, lambda r: r["input"], {
        "name": "debian-synopses", "task": "text", "source": "first line of debian-sections inputs",
        "dropped_conflicting_inputs": conflicts})


if __name__ == "__main__":
    main()
