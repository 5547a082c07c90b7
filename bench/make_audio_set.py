#!/usr/bin/env python3
"""A spoken ten-word set generated with espeak-ng and sox (16 kHz mono 16-bit WAV).

Words: yes no up down left right on off stop go (the Speech Commands core words).
Voices: espeak-ng's English accents (gmw/en*) x voice variants (m1..m7, f1..f5, klatt...):
every (accent, variant) pair is one "voice". Each voice says each word REPS times with a
speed (words/min) and pitch drawn from numpy.random.default_rng(seed); sox pads a random
lead-in, mixes white/pink/brown noise at a random level (sox -R: repeatable) and converts to
16 kHz mono 16-bit.

Split: whole voices are held out. A row is test iff sha1(voice)[:8] % 5 == 0 (the
benchdata_common rule with the voice as the key), so no test voice is ever heard in training.

Writes OUTDIR/{all,train,test}.jsonl ({"audio": "wav/....wav", "target": word, "voice": v})
and meta.json. Deterministic: same seed and tools -> same bytes.

Usage: python3 bench/make_audio_set.py OUTDIR [--reps 3] [--seed 0] [--accents N] [--variants N]
Needs: apt-get install -y espeak-ng sox
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt4"]
NOISES = ["whitenoise", "pinknoise", "brownnoise"]


def is_test(key: str) -> bool:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 5 == 0


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wav_seconds(path: str) -> float:
    with open(path, "rb") as f:
        data = f.read()
    # espeak-ng writes a plain 44-byte header: 16-bit mono
    import struct
    rate = struct.unpack_from("<I", data, 24)[0]
    return (len(data) - 44) / 2 / rate


def make_one(job: dict, tmp: str, outdir: str) -> None:
    raw = os.path.join(tmp, job["stem"] + ".raw.wav")
    voice = job["accent"] + ("+" + job["variant"] if job["variant"] else "")
    run(["espeak-ng", "-v", voice, "-s", str(job["speed"]), "-p", str(job["pitch"]),
         "-w", raw, job["word"]])
    dur = wav_seconds(raw)
    total = job["lead"] + dur + job["tail"]
    noise = os.path.join(tmp, job["noise"] + ".wav")
    out = os.path.join(outdir, "wav", job["stem"] + ".wav")
    run(["sox", "-R", "-m", "-v", "1", "|sox -R %s -p pad %.3f" % (raw, job["lead"]),
         "-v", "%.4f" % job["level"], noise, "-r", "16000", "-c", "1", "-b", "16", out,
         "trim", "0", "%.3f" % total])
    os.unlink(raw)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--accents", type=int, default=len(ACCENTS))
    ap.add_argument("--variants", type=int, default=len(VARIANTS))
    ap.add_argument("--words", default=",".join(WORDS))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args(argv)
    words = a.words.split(",")
    rng = np.random.default_rng(a.seed)
    os.makedirs(os.path.join(a.outdir, "wav"), exist_ok=True)
    jobs = []
    for accent in ACCENTS[: a.accents]:
        for variant in VARIANTS[: a.variants]:
            vname = accent + ("+" + variant if variant else "")
            for word in words:
                for r in range(a.reps):
                    stem = "%s_%s_%s_%d" % (word, accent, variant or "base", r)
                    jobs.append({
                        "stem": stem, "word": word, "accent": accent, "variant": variant,
                        "voice": vname,
                        "speed": int(rng.integers(120, 231)), "pitch": int(rng.integers(20, 81)),
                        "lead": float(rng.uniform(0.05, 0.35)), "tail": float(rng.uniform(0.05, 0.3)),
                        "noise": NOISES[int(rng.integers(0, 3))],
                        "level": float(rng.uniform(0.003, 0.04)),
                    })
    with tempfile.TemporaryDirectory() as tmp:
        for n in NOISES:
            run(["sox", "-R", "-n", "-r", "22050", "-c", "1", "-b", "16",
                 os.path.join(tmp, n + ".wav"), "synth", "4", n])
        with ThreadPoolExecutor(max_workers=a.jobs) as ex:
            list(ex.map(lambda j: make_one(j, tmp, a.outdir), jobs))
    rows = [{"audio": "wav/%s.wav" % j["stem"], "target": j["word"], "voice": j["voice"]}
            for j in jobs]
    rows.sort(key=lambda r: hashlib.sha1(json.dumps(r, sort_keys=True).encode()).hexdigest())
    counts = {"all": 0, "train": 0, "test": 0}
    files = {n: open(os.path.join(a.outdir, n + ".jsonl"), "w") for n in counts}
    for r in rows:
        line = json.dumps(r, sort_keys=True) + "\n"
        side = "test" if is_test(r["voice"]) else "train"
        for n in ("all", side):
            files[n].write(line)
            counts[n] += 1
    for f in files.values():
        f.close()
    voices = sorted({j["voice"] for j in jobs})
    meta = {"name": "espeak-ten-words", "task": "audio", "words": words, "rows": counts,
            "voices": len(voices), "test_voices": [v for v in voices if is_test(v)],
            "seed": a.seed, "reps": a.reps,
            "tools": {"espeak-ng": subprocess.run(["espeak-ng", "--version"], capture_output=True,
                                                  text=True).stdout.strip(),
                      "sox": subprocess.run(["sox", "--version"], capture_output=True,
                                            text=True).stdout.strip()}}
    with open(os.path.join(a.outdir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    print(json.dumps({"rows": counts, "voices": len(voices), "test_voices": len(meta["test_voices"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
