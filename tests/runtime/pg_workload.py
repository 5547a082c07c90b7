"""The concurrency workload of issue 16: processes running a flow that creates and updates records
against one PostgreSQL database at once, and the check of what they left behind.

Each run of flow "work" (worker W, run S):
  - adds 1 to ``state.runs`` (a lost update shows as a count below the runs that succeeded);
  - creates Ticket "wW-S" (``key`` unique) and returns its id;
  - updates the worker's Ticket S-1 (touched + 1): touched ends 1 exactly when run S succeeded;
  - tries to claim Slot S % SLOTS (``slot`` unique) and says whether it won: the workers race
    for every slot, and exactly one claim of each may stand;
  - every 10th run (S % 10 == 9) then creates a Doomed record and fails (division by zero):
    nothing of it may be left (no Doomed row, no Ticket, no count, no slot).

``python pg_workload.py URL WORKER RUNS`` runs one worker and prints its outcome as JSON;
:func:`run_workers` forks several at once, :func:`check` reads the database afterwards.
Used by tests/runtime/test_records_postgres.py and bench/pg_concurrency.py.
"""

from __future__ import annotations

import json
import sys
import time

SLOTS = 20

APP = '''spec is "1.0"

record "Ticket":
  key is text must be unique
  worker is number
  seq is number
  touched is number

record "Slot":
  slot is number must be unique
  worker is number

record "Doomed":
  key is text

flow "init": requires true
  set state.runs is 0
  return "ready"

flow "work": requires true
  set state.runs is state.runs + 1
  let prev is input.seq - 1
  create "Ticket" with map:
    key is input.key
    worker is input.worker
    seq is input.seq
    touched is 0
  as ticket
  update "Ticket" where worker is input.worker and seq is prev set:
    touched is touched + 1
  let won is false
  try:
    create "Slot" with map:
      slot is input.slot
      worker is input.worker
    as claim
    set won is true
  with catch err:
    set won is false
  if input.fail:
    create "Doomed" with map:
      key is input.key
    as doomed
    let zero is 0
    return 1 / zero
  return map:
    id is ticket._id
    won is won
'''


def fails(seq: int) -> bool:
    return seq % 10 == 9


def _program():
    from n3lang.syntax.parser import parse_source

    program, diagnostics = parse_source(APP, "workload.ai")
    assert program is not None and not diagnostics, diagnostics
    return program


def reset(url: str) -> None:
    """Drop n3's tables from a database (for a run of the bench against an existing one)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS n3_state, n3_records")


def init(url: str) -> None:
    """Create the tables and set state.runs to 0 (before the workers start)."""
    from n3lang.runtime import run_flow

    outcome = run_flow(_program(), "init", {}, state_path=url)
    assert outcome.ok, outcome.error


def worker(url: str, worker_id: int, runs: int) -> dict:
    """Run flow "work" ``runs`` times, each as its own `n3 run` would (own connection and transaction)."""
    from n3lang.runtime import run_flow

    program = _program()
    done: dict = {"worker": worker_id, "ids": [], "won": 0, "failed": 0, "unexpected": []}
    start = time.perf_counter()
    for seq in range(runs):
        value = {"key": f"w{worker_id}-{seq}", "worker": worker_id, "seq": seq, "slot": seq % SLOTS,
                 "fail": fails(seq)}
        outcome = run_flow(program, "work", value, state_path=url)
        if outcome.ok and not fails(seq):
            done["ids"].append(int(outcome.result["id"]))
            done["won"] += outcome.result["won"] is True
        elif not outcome.ok and fails(seq) and outcome.error.message == "Division by zero.":
            done["failed"] += 1
        else:
            done["unexpected"].append([seq, outcome.error.message if outcome.error else "succeeded"])
    done["seconds"] = time.perf_counter() - start
    return done


def run_workers(url: str, workers: int, runs: int) -> tuple[list[dict], float]:
    """Start ``workers`` processes at once (forked: no start-up imports); their outcomes and the wall time."""
    import multiprocessing

    _program()  # parsed and imported once here, before the fork
    import psycopg  # noqa: F401

    from n3lang.runtime import records_pg  # noqa: F401
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start = time.perf_counter()
    procs = [context.Process(target=_child, args=(queue, url, w, runs)) for w in range(workers)]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    crashed = [o["crash"] for o in outcomes if "crash" in o]
    if crashed:
        raise RuntimeError(f"a worker failed: {crashed[0]}")
    return sorted(outcomes, key=lambda o: o["worker"]), time.perf_counter() - start


def _child(queue, url: str, worker_id: int, runs: int) -> None:
    try:
        queue.put(worker(url, worker_id, runs))
    except BaseException:  # the parent raises it
        import traceback

        queue.put({"worker": worker_id, "crash": traceback.format_exc()})


def check(url: str, outcomes: list[dict], runs: int) -> dict:
    """What the database holds against what the workers did: every figure but the counts must be 0."""
    import psycopg

    with psycopg.connect(url) as con:
        rows = con.execute("SELECT record, id, data FROM n3_records ORDER BY record, id").fetchall()
        state = json.loads(con.execute("SELECT value FROM n3_state WHERE key = 'state'").fetchone()[0])
    tickets = [(rid, json.loads(data)) for record, rid, data in rows if record == "Ticket"]
    slots = [json.loads(data) for record, _, data in rows if record == "Slot"]
    doomed = [data for record, _, data in rows if record == "Doomed"]
    expected = {f"w{o['worker']}-{s}" for o in outcomes for s in range(runs) if not fails(s)}
    keys = [t["key"] for _, t in tickets]
    returned = [i for o in outcomes for i in o["ids"]]
    ids = [rid for rid, _ in tickets]
    by_key = {t["key"]: t for _, t in tickets}
    wrong_touch = 0
    for o in outcomes:
        w = o["worker"]
        for s in range(runs):
            t = by_key.get(f"w{w}-{s}")
            if t is not None:  # touched once exactly when the worker's next run succeeded
                wrong_touch += t["touched"] != (1 if s + 1 < runs and not fails(s + 1) else 0)
    succeeded = sum(len(o["ids"]) for o in outcomes)
    return {
        "runs": len(outcomes) * runs,
        "succeeded": succeeded,
        "failed_on_purpose": sum(o["failed"] for o in outcomes),
        "records": len(rows),
        "tickets": len(tickets),
        "duplicates": (len(keys) - len(set(keys))) + (len(returned) - len(set(returned))),
        "lost": len(expected - set(keys)),
        "left_by_failed_runs": len(set(keys) - expected) + len(doomed),
        "ids_not_1_to_n": int(ids != list(range(1, len(ids) + 1)) or sorted(returned) != ids),
        "lost_updates": wrong_touch + abs(int(state.get("runs", 0)) - succeeded),
        "slots": len(slots),
        "slot_violations": (len(slots) - len({s["slot"] for s in slots})) + abs(sum(o["won"] for o in outcomes)
                                                                                - len(slots)),
        "unexpected_errors": sum(len(o["unexpected"]) for o in outcomes),
    }


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
