#!/usr/bin/env python3
"""Generate this example's data: ten spoken command words from espeak-ng voices, as WAV.

Words: yes no up down left right on off stop go. Voices: 4 English accents x 3 voice variants
of espeak-ng; each voice says each word once, at a speed and pitch drawn from
numpy.random.default_rng(SEED). sox converts to 11025 Hz mono 16-bit (n3 resamples to 16 kHz
itself) and trims the silence espeak adds at the end. Writes data/wav/*.wav and
data/commands.jsonl ({"audio": "wav/<word>_<voice>.wav", "transcript": "<word>"}).

Usage: python3 generate.py   (from this folder; needs: apt-get install -y espeak-ng sox)
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SEED = 11
WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-029"]
VARIANTS = ["m3", "f2", "klatt"]
RATE = 11025


def main() -> None:
    here = Path(__file__).resolve().parent
    out = here / "data"
    (out / "wav").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for accent in ACCENTS:
            for variant in VARIANTS:
                for word in WORDS:
                    speed, pitch = int(rng.integers(130, 211)), int(rng.integers(30, 71))
                    raw = Path(tmp) / "raw.wav"
                    subprocess.run(["espeak-ng", "-v", f"{accent}+{variant}", "-s", str(speed),
                                    "-p", str(pitch), "-w", str(raw), word], check=True)
                    rel = f"wav/{word}_{accent}_{variant}.wav"
                    subprocess.run(["sox", "-R", str(raw), "-r", str(RATE), "-c", "1", "-b", "16",
                                    str(out / rel), "reverse", "silence", "1", "0.02", "0.5%",
                                    "reverse", "pad", "0", "0.05"], check=True)
                    rows.append({"audio": rel, "transcript": word})
    with open(out / "commands.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    print(f"wrote {len(rows)} clips to data/")


if __name__ == "__main__":
    main()
