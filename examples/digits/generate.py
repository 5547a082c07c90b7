#!/usr/bin/env python3
"""Generate this example's data: digits 0-9 rendered from the DejaVu fonts, 16x16 greyscale PNG.

Each image is one digit drawn with Pillow in one of the DejaVu fonts at a random size,
rotation (+-12 degrees) and offset, downscaled to 16x16 with antialiasing, with a little
noise. Everything random comes from numpy.random.default_rng(SEED), so the same fonts and
Pillow give the same files. Writes data/images/*.png and data/digits.jsonl
({"image": "images/<font>_<digit>_<k>.png", "target": "<digit>"}).

Usage: python3 generate.py   (from this folder; needs Pillow and the fonts-dejavu-core package)
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SEED = 7
SIZE = 16
PER_FONT = 4
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ["DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSansMono",
         "DejaVuSansMono-Bold", "DejaVuSansCondensed", "DejaVuSerifCondensed-Italic"]


def render(digit: str, font_path: Path, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    big = 64
    font = ImageFont.truetype(str(font_path), int(rng.integers(38, 52)))
    im = Image.new("L", (big, big), 0)
    d = ImageDraw.Draw(im)
    box = d.textbbox((0, 0), digit, font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    x = (big - w) / 2 - box[0] + rng.uniform(-4, 4)
    y = (big - h) / 2 - box[1] + rng.uniform(-4, 4)
    d.text((x, y), digit, fill=255, font=font)
    im = im.rotate(float(rng.uniform(-12, 12)), resample=Image.BILINEAR)
    im = im.resize((size, size), Image.LANCZOS)
    a = np.asarray(im, dtype=np.float64) + rng.normal(0, 8, (size, size))
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


def main() -> None:
    here = Path(__file__).resolve().parent
    out = here / "data"
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    rows = []
    for font in FONTS:
        for digit in "0123456789":
            for k in range(PER_FONT):
                rel = f"images/{font}_{digit}_{k}.png"
                Image.fromarray(render(digit, FONT_DIR / f"{font}.ttf", rng), mode="L").save(out / rel, optimize=True)
                rows.append({"image": rel, "target": digit})
    with open(out / "digits.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    print(f"wrote {len(rows)} images to {os.path.relpath(out)}")


if __name__ == "__main__":
    main()
