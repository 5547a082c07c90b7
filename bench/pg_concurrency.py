"""Records on PostgreSQL under concurrency (issue 16): 8 processes x 200 runs of a flow that
creates and updates records against one database, then a check of what the database holds.

The workload and the check are tests/runtime/pg_workload.py's (the unit test runs 8 x 20 of
the same): each run counts itself in state, creates a Ticket (unique key), updates the worker's
previous Ticket, races the other workers for a unique Slot, and every 10th run creates a Doomed
record and then fails. Each run is what one `n3 run --state postgresql://…` does: its own
connection and its own transaction. The worker processes are forked from this one (Python's
start-up and imports are not part of the figures).

First the same 1,600 runs from one process, one after another, as the baseline: the records
pile up the same way (every run's `unique` check and update scan all Tickets so far), so the
two differ only in the concurrency.

Without --url, a throwaway server is started (initdb + pg_ctl, as the tests do) with the
default durability settings (fsync on), so the figures include real commits.

Usage: python bench/pg_concurrency.py [--processes 8] [--runs 200] [--url postgresql://…]
Exit 1 when a record was lost, duplicated or left behind, or a unique constraint broke.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "runtime"))

import pg_server  # noqa: E402
import pg_workload  # noqa: E402

MUST_BE_ZERO = ("duplicates", "lost", "left_by_failed_runs", "ids_not_1_to_n", "lost_updates", "slot_violations",
                "unexpected_errors")


def measure(url: str, processes: int, runs: int) -> dict:
    pg_workload.init(url)
    outcomes, wall = pg_workload.run_workers(url, processes, runs)
    figures = pg_workload.check(url, outcomes, runs)
    busy = max(o["seconds"] for o in outcomes)  # the phase with all workers running, without start-up
    figures.update(processes=processes, runs_each=runs, wall_s=round(wall, 2), runs_phase_s=round(busy, 2),
                   runs_per_s=round(processes * runs / busy, 1))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--url", help="an existing database (its n3 tables are dropped first)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    server = None
    if args.url is None:
        reason = pg_server.missing_reason()
        if reason:
            print(reason, file=sys.stderr)
            return 2
        server = pg_server.Server(durable=True)
    try:
        results = []
        # first the same number of runs from one process, one after another (the same records
        # pile up, so each run scans as many rows): what the concurrency is measured against
        for processes, runs in ((1, args.processes * args.runs), (args.processes, args.runs)):
            if server is not None:
                url = server.url(server.new_database("bench"))
            else:
                url = args.url
                pg_workload.reset(url)
            start = time.perf_counter()
            results.append(measure(url, processes, runs))
            results[-1]["total_s"] = round(time.perf_counter() - start, 2)
    finally:
        if server is not None:
            server.stop()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['processes']} process(es) x {r['runs_each']} runs: {r['runs_per_s']} runs/s "
                  f"({r['runs']} runs in {r['runs_phase_s']} s; {r['wall_s']} s from the first fork to the last exit)")
            print(f"  records {r['records']} (tickets {r['tickets']}, slots {r['slots']}), succeeded "
                  f"{r['succeeded']}, failed on purpose {r['failed_on_purpose']}")
            print("  " + ", ".join(f"{k.replace('_', ' ')} {r[k]}" for k in MUST_BE_ZERO))
    return 1 if any(r[k] for r in results for k in MUST_BE_ZERO) else 0


if __name__ == "__main__":
    sys.exit(main())
