#!/usr/bin/env python3
"""Kill campaign for `n3 train` (not run in CI; the bounded version is test_hostile.py's F8 test).

    python scripts/kill_training.py [SEED] [KILLS]      # default 0 30

Each round starts a training, SIGKILLs it (every third round inside the commit window, which
N3_TEST_COMMIT_PAUSE widens to 0.3 s; the others at a random point), then runs another training
and checks: the registry reads, no unregistered model dir, no .n3-uncommitted marker, no
staging dir. Prints the figures; exit 1 when any round failed.
"""
import os, random, signal, subprocess, sys, tempfile, time, shutil
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
sys.path.insert(0, ROOT)
from n3lang.training import registry  # noqa: E402

proj = Path(tempfile.mkdtemp(prefix="n3-kill-")) / "p"
proj.mkdir(parents=True)
(proj / "app.ai").write_text('spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n')
(proj / "data").mkdir(); shutil.copy(f"{ROOT}/tests/data/training/tickets.jsonl", proj / "data/t.jsonl")
env = dict(os.environ, PYTHONPATH=ROOT, N3_TEST_COMMIT_PAUSE="0.3")
def args(n): return [sys.executable, "-m", "n3lang.cli.main", "train", "--model-base", "text-base", "--dataset", "data/t.jsonl", "--epochs", "1", "--output-name", n]
rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
N = int(sys.argv[2]) if len(sys.argv) > 2 else 30
bad = 0; window = 0; registered = 0
for i in range(N):
    p = subprocess.Popen(args(f"k{i}_v1"), cwd=proj, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    final = proj / "models" / f"k{i}_v1" / "1.0.0"
    if i % 3 == 0:  # inside the commit window
        t0 = time.monotonic()
        while not final.exists() and p.poll() is None and time.monotonic() - t0 < 30: time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.3))
    else:
        time.sleep(rng.uniform(0.1, 2.5))
    p.send_signal(signal.SIGKILL); p.wait()
    if final.exists() and (final / ".n3-uncommitted").exists(): window += 1
    # the next run
    r = subprocess.run(args(f"after{i}_v1"), cwd=proj, env=dict(env, N3_TEST_COMMIT_PAUSE=""), capture_output=True, text=True)
    try:
        entries = registry.read_entries(proj)
    except Exception as e:
        print("registry unreadable", e); bad += 1; continue
    reg = {(proj / e["artifact_uri"]).parent for e in entries}
    registered += any(e["name"] == f"k{i}_v1" for e in entries)
    orphans = [d for d in (proj / "models").glob("*/*") if not d.parent.name.startswith(".") and d not in reg]
    marks = list(proj.glob("models/*/*/.n3-uncommitted")); stag = list(proj.rglob(".staging-*"))
    if r.returncode != 0 or orphans or marks or stag:
        bad += 1; print("BAD", i, r.returncode, r.stderr[-300:], orphans, marks, stag)
shutil.rmtree(proj.parent, ignore_errors=True)
print(f"kills: {N}, landed in the commit window (marked dir present): {window}, killed run registered anyway: {registered}, failures: {bad}")
sys.exit(1 if bad else 0)
