#!/usr/bin/env python3
"""Write the sample media of the `n3 init` templates: templates/image (PNG shapes) and
templates/audio (WAV whistles).

Standard library only, and byte-for-byte reproducible: the PNGs are drawn with integers and
stored without compression (a stored deflate block, so no zlib version can change the bytes);
the WAV samples come from ``random.Random(SEED)`` and ``math``. tests/test_init.py runs this
script into a temporary folder and compares the bytes with the committed files.

    python scripts/gen_templates.py            # rewrite templates/{image,audio}/
    python scripts/gen_templates.py --out DIR  # write DIR/{image,audio}/ instead
"""

from __future__ import annotations

import argparse
import json
import math
import random
import struct
import zlib
from pathlib import Path
from typing import Callable

SEED = 20261205
SIDE = 16  # image side in pixels
SHAPES = ("circle", "square", "cross")
IMAGES_PER_SHAPE = 10
RATE = 8000  # WAV sample rate
SECONDS = 0.3
WHISTLES = ("rising", "falling", "steady")
CLIPS_PER_WHISTLE = 12


# ----------------------------------------------------------------------------- PNG
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(rows: list[list[int]]) -> bytes:
    """An 8-bit greyscale PNG of ``rows`` (values 0..255), its image data in one stored block."""
    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(r) for r in rows)  # filter type 0 on every scanline
    stored = b"\x01" + struct.pack("<HH", len(raw), len(raw) ^ 0xFFFF) + raw  # final stored block
    idat = b"\x78\x01" + stored + struct.pack(">I", zlib.adler32(raw) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def draw(shape: str, rng: random.Random) -> list[list[int]]:
    """One shape, white on a dark noisy background: its size, place and ink vary with ``rng``."""
    size = rng.randint(4, 6)  # half the shape's width
    cx = rng.randint(size + 1, SIDE - size - 2)
    cy = rng.randint(size + 1, SIDE - size - 2)
    ink = rng.randint(190, 255)
    img = [[rng.randint(0, 40) for _ in range(SIDE)] for _ in range(SIDE)]
    for y in range(SIDE):
        for x in range(SIDE):
            dx, dy = x - cx, y - cy
            if shape == "circle":
                on = (size - 1) ** 2 <= dx * dx + dy * dy <= size * size + 1
            elif shape == "square":
                on = max(abs(dx), abs(dy)) == size
            else:  # cross: the two diagonals
                on = abs(dx) <= size and (dx == dy or dx == -dy)
            if on:
                img[y][x] = ink
    return img


# ----------------------------------------------------------------------------- WAV
def wav_bytes(samples: list[float]) -> bytes:
    """16-bit mono PCM WAV at RATE of ``samples`` in [-1, 1]."""
    pcm = b"".join(struct.pack("<h", max(-32767, min(32767, round(s * 32767)))) for s in samples)
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


def whistle(kind: str, rng: random.Random) -> list[float]:
    """A whistle whose pitch rises, falls or stays, with a short silence either side and a
    little noise; its start pitch, span and loudness vary with ``rng``."""
    low = rng.uniform(700.0, 1100.0)
    span = rng.uniform(1.6, 2.2)  # rising/falling: the pitch changes by this factor
    gain = rng.uniform(0.35, 0.6)
    n = int(RATE * SECONDS)
    pad = int(RATE * 0.04)
    out, phase = [], 0.0
    for i in range(n):
        t = i / n
        if kind == "rising":
            f = low * span**t
        elif kind == "falling":
            f = low * span * span**-t
        else:
            f = low * math.sqrt(span)
        phase += 2.0 * math.pi * f / RATE
        env = min(1.0, t * 20.0, (1.0 - t) * 20.0)  # 15 ms fade in and out
        out.append(gain * env * math.sin(phase) + rng.uniform(-0.01, 0.01))
    silence = [rng.uniform(-0.01, 0.01) for _ in range(pad)]
    return silence + out + silence


def write_media_template(root: Path, folder: str, column: str, dataset: str, kinds: tuple[str, ...],
                         per_kind: int, suffix: str, make: Callable[[str, random.Random], bytes]) -> None:
    """data/<folder>/<kind>_NN<suffix> files, a dataset of rows {column: path, target: kind},
    then one more file of each kind in samples/ (made after the dataset, so the model has not
    seen it). One seeded generator draws everything, in this order, so the bytes never change."""
    rng = random.Random(SEED)
    files = root / "data" / folder
    files.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(per_kind):
        for kind in kinds:
            name = f"{kind}_{i:02d}{suffix}"
            (files / name).write_bytes(make(kind, rng))
            rows.append({column: f"{folder}/{name}", "target": kind})
    (root / "data" / dataset).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8", newline="\n")
    samples = root / "samples"
    samples.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        (samples / f"{kind}{suffix}").write_bytes(make(kind, rng))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "templates")
    args = parser.parse_args(argv)
    write_media_template(args.out / "image", "images", "image", "shapes.jsonl", SHAPES, IMAGES_PER_SHAPE, ".png",
                         lambda shape, rng: png_bytes(draw(shape, rng)))
    write_media_template(args.out / "audio", "wav", "audio", "whistles.jsonl", WHISTLES, CLIPS_PER_WHISTLE, ".wav",
                         lambda kind, rng: wav_bytes(whistle(kind, rng)))


if __name__ == "__main__":
    main()
