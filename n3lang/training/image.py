"""Image mode: decoding, validation of image rows, featurisation and the image handler.

Rows carry ``image`` (a PNG or JPEG path relative to the dataset file; a nested list is also
accepted there, as inline pixels) or ``pixels`` (a nested list: HxW greyscale or HxWxC with C
in 1, 3, 4; values 0..255) plus the target.

Layout: the first featurize call of a training run (the training inputs) picks the layout from
the data and records it in the trainer's feature settings: the most common size (ties: the
larger), scaled down so neither side exceeds 32 pixels; greyscale unless the images really
are coloured (mean channel difference over 2/255). Every image is converted with Pillow
(``L`` or ``RGB``, alpha dropped) and resized (bilinear, antialiased) to that layout, as
float32 in [0, 1]. The network standardises with the training mean/std (stored in model.bin).

Model: :class:`n3lang.training.nets.NetClassifier`, a small CNN (two 3x3 conv + 2x2 max-pool
stages, one dense hidden layer), or an MLP when ``network: mlp`` is set.

The helpers shared with audio mode (media paths, file checks, the wrapper trainer) live in
:mod:`n3lang.training.media`.
"""

from __future__ import annotations

import base64
import io
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from n3lang.diagnostics import Diagnostic
from n3lang.training import errors
from n3lang.training.dataset import json_type_name
from n3lang.training.media import (  # noqa: F401 - MediaError etc. are also image mode's API
    MediaError,
    MediaNetTrainer,
    check_file,
    resolve_media_path,
    short_path,
    trainer_from_params,
)
from n3lang.training.nets import F32

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_SIDE = 4096
MIN_LAYOUT_SIDE = 4  # tiny images are scaled up to this
MAX_LAYOUT_SIDE = 32
MAX_PIXELS_SIDE = 1024
DECODE_SIDE = 256  # larger images are reduced to about this while decoding (8x the largest layout)
FORMATS = ("PNG", "JPEG")
COLOUR_THRESHOLD = 2.0  # mean |R-G| + |G-B| (0..255 scale) above which colour is kept


# ----------------------------------------------------------------------------- decoding
def decode_image_bytes(data: bytes, shown: str = "image") -> np.ndarray:
    """PNG/JPEG bytes → uint8 array HxWxC (C = 1 greyscale or 3 RGB; alpha dropped)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = im.format
            if fmt not in FORMATS:
                raise MediaError(f"file {shown!r} is {fmt or 'an unknown format'}; only PNG and JPEG are supported")
            w, h = im.size
            if w > MAX_IMAGE_SIDE or h > MAX_IMAGE_SIDE:
                raise MediaError(f"file {shown!r} is {w}x{h} pixels, over the "
                                 f"{MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE} limit")
            if fmt == "JPEG" and max(w, h) > DECODE_SIDE:  # decode at 1/2, 1/4 or 1/8 scale (DCT)
                im.draft(im.mode, (DECODE_SIDE, DECODE_SIDE))
            im.load()
            im = _reduce(im)  # one large image at a time, never kept at full size
            if fmt == "JPEG":
                from PIL import ImageOps

                im = ImageOps.exif_transpose(im)  # phone photos: apply the stored orientation
            if im.mode.startswith("I") or im.mode == "F":
                # 16-bit / 32-bit / float greyscale: Pillow's convert("L") clips, so scale here
                a = np.asarray(im, dtype=np.float64)
                top = 255.0 if a.max(initial=0) <= 255 else (65535.0 if a.max() <= 65535 else float(a.max()))
                if im.mode == "F" and a.max(initial=0) <= 1.0:
                    top = 1.0
                arr = np.clip(np.round(a * (255.0 / top)), 0, 255).astype(np.uint8)[:, :, None]
            elif im.mode in ("L", "1", "LA"):
                arr = np.asarray(im.convert("L"), dtype=np.uint8)[:, :, None]
            else:
                arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except MediaError:
        raise
    except UnidentifiedImageError:  # its message names an in-memory object: not worth showing
        raise MediaError(f"file {shown!r} cannot be read as a PNG or JPEG image "
                         "(it is not one, or it is damaged or cut short)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MediaError(f"file {shown!r} cannot be decoded as a PNG or JPEG image "
                         f"({reason if len(reason) <= 120 else reason[:117] + '...'})") from None
    return np.ascontiguousarray(arr)


def _reduce(im):
    """``im`` box-reduced by a whole factor so its longer side is at most about DECODE_SIDE
    (every layout is at most MAX_LAYOUT_SIDE; the bilinear resize to it needs no more); small
    images are returned as they are."""
    factor = max(im.size) // DECODE_SIDE
    if factor < 2:
        return im
    try:
        return im.reduce(factor)
    except (ValueError, NotImplementedError):  # a mode reduce() does not take (16-bit greyscale...)
        w, h = im.size
        return im.resize((max(1, w // factor), max(1, h // factor)), 0)  # nearest


def decode_image_file(path: Path, shown: str | None = None) -> np.ndarray:
    """Decode a PNG/JPEG file (size limits checked) into uint8 HxWxC."""
    shown = shown or str(path)
    check_file(Path(path), shown, MAX_IMAGE_BYTES)
    with open(path, "rb") as f:
        data = f.read()
    return decode_image_bytes(data, shown)


class _DecodedCache:
    """Images decoded while validating, kept (up to a byte budget) for featurize to take.

    Keyed by (resolved path, size, mtime), so a file changed in between is decoded again.
    ``take`` removes the entry: the cache only bridges validation and featurisation.
    """

    def __init__(self, budget: int = 256 * 1024 * 1024):
        self.budget = budget
        self.used = 0
        self.items: dict = {}

    @staticmethod
    def key(path: Path):
        st = os.stat(path)
        return (str(path), st.st_size, st.st_mtime_ns)

    def put(self, path: Path, arr: np.ndarray) -> None:
        if self.used + arr.nbytes > self.budget:
            return
        k = self.key(path)
        if k not in self.items:
            self.items[k] = arr
            self.used += arr.nbytes

    def clear(self) -> None:
        self.items.clear()
        self.used = 0

    def take(self, path: Path) -> np.ndarray | None:
        try:
            k = self.key(path)
        except OSError:
            return None
        arr = self.items.pop(k, None)
        if arr is not None:
            self.used -= arr.nbytes
        return arr


_CACHE = _DecodedCache()


def pixels_to_array(value: Any) -> np.ndarray:
    """Nested-list pixels (HxW or HxWxC, 0..255) → uint8 HxWxC; raises MediaError."""
    if not isinstance(value, list) or not value:
        raise MediaError("must be a non-empty nested list of rows of pixel values")
    if not all(isinstance(r, list) and r for r in value):
        raise MediaError("must be a list of rows, each a non-empty list of pixels")
    h = len(value)
    w = len(value[0])
    if any(len(r) != w for r in value):
        bad = next(i for i, r in enumerate(value) if len(r) != w)
        raise MediaError(f"has rows of different lengths (row 0 has {w} pixels, row {bad} has {len(value[bad])})")
    if h > MAX_PIXELS_SIDE or w > MAX_PIXELS_SIDE:
        raise MediaError(f"is {w}x{h} pixels, over the {MAX_PIXELS_SIDE}x{MAX_PIXELS_SIDE} limit for inline pixels")
    first = value[0][0]
    if isinstance(first, list):
        c = len(first)
        if c not in (1, 3, 4):
            raise MediaError(f"has {c} channels per pixel; use 1 (grey), 3 (RGB) or 4 (RGBA)")
        flat = []
        for r in value:
            for px in r:
                if not isinstance(px, list) or len(px) != c:
                    raise MediaError(f"mixes pixel shapes; every pixel must be a list of {c} values")
                flat.extend(px)
        shape = (h, w, c)
    else:
        flat = [px for r in value for px in r]
        shape = (h, w, 1)
    for v in flat:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise MediaError(f"holds a non-number pixel value {v!r}; pixels are numbers 0..255")
        if not (0 <= v <= 255):
            raise MediaError(f"holds the pixel value {v!r}, outside 0..255")
    arr = np.asarray(flat, dtype=np.float64).reshape(shape)
    arr = np.round(arr).astype(np.uint8)
    if shape[2] == 4:
        arr = arr[:, :, :3]
    return np.ascontiguousarray(arr)


def choose_layout(images: list[np.ndarray]) -> dict:
    """The layout {height, width, channels} for a training set of uint8 HxWxC images."""
    sizes = Counter((int(a.shape[0]), int(a.shape[1])) for a in images)
    (h, w), _ = max(sizes.items(), key=lambda kv: (kv[1], kv[0][0] * kv[0][1], kv[0]))
    scale = min(1.0, MAX_LAYOUT_SIDE / max(h, w))
    # at least MIN_LAYOUT_SIDE: the CNN halves the image twice, and smaller ones vanish
    h2, w2 = (max(MIN_LAYOUT_SIDE, int(round(side * scale))) for side in (h, w))
    colour = 0.0
    n_rgb = 0
    for a in images:
        if a.shape[2] == 3:
            a16 = a.astype(np.int16)
            colour += float(np.abs(a16[..., 0] - a16[..., 1]).mean() + np.abs(a16[..., 1] - a16[..., 2]).mean())
            n_rgb += 1
    channels = 3 if n_rgb and colour / len(images) > COLOUR_THRESHOLD else 1
    return {"height": h2, "width": w2, "channels": channels}


def to_layout(arr: np.ndarray, layout: dict) -> np.ndarray:
    """uint8 HxWxC → float32 (height, width, channels) in [0, 1] (Pillow convert + resize)."""
    from PIL import Image

    h, w, c = layout["height"], layout["width"], layout["channels"]
    if arr.shape == (h, w, c):
        return arr.astype(np.float32) / F32(255.0)
    if arr.shape[2] == 1:
        im = Image.fromarray(arr[:, :, 0], mode="L")
    else:
        im = Image.fromarray(arr[:, :, :3], mode="RGB")
    im = im.convert("L" if c == 1 else "RGB")
    if im.size != (w, h):
        im = im.resize((w, h), Image.Resampling.BILINEAR)
    out = np.asarray(im, dtype=np.float32) / F32(255.0)
    return out.reshape(h, w, c)


def png_data_uri(x: np.ndarray, scale: int = 1) -> str:
    """A small base64 PNG (data URI) of a float [0,1] HxWxC image, for the HTML report."""
    from PIL import Image

    a = np.clip(np.round(np.asarray(x, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
    im = Image.fromarray(a[:, :, 0], mode="L") if a.shape[2] == 1 else Image.fromarray(a, mode="RGB")
    if scale > 1:
        im = im.resize((im.size[0] * scale, im.size[1] * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def grid_summary(sal: np.ndarray, max_cells: int = 8) -> list[list[float]]:
    """Block-mean a 2-D map down to at most max_cells x max_cells, scaled to max 1, 3 decimals."""
    h, w = sal.shape
    gh, gw = min(h, max_cells), min(w, max_cells)
    ys = np.linspace(0, h, gh + 1)
    xs = np.linspace(0, w, gw + 1)
    g = np.zeros((gh, gw))
    for i in range(gh):
        for j in range(gw):
            a, b = int(math.floor(ys[i])), max(int(math.floor(ys[i])) + 1, int(math.floor(ys[i + 1])))
            c, d = int(math.floor(xs[j])), max(int(math.floor(xs[j])) + 1, int(math.floor(xs[j + 1])))
            g[i, j] = sal[a:b, c:d].mean()
    top = g.max()
    if top > 0:
        g = g / top
    return [[round(float(v), 3) for v in row] for row in g]


# ----------------------------------------------------------------------------- handler
class ImageHandler:
    """The ``image`` mode handler (see n3lang.training.modes for the protocol)."""

    name = "image"
    input_fields = ("image", "pixels")
    max_examples = 12
    max_saliency_rows = 400

    _last_row: tuple = ("", 0)

    def check_input(self, row: dict, ctx) -> tuple[Any, list[Diagnostic]]:
        if (ctx.file, ctx.line) <= self._last_row or ctx.file != self._last_row[0]:
            _CACHE.clear()  # a new pass over a dataset: drop what an earlier pass left unused
        self._last_row = (ctx.file, ctx.line)
        key = "image" if "image" in row else ("pixels" if "pixels" in row else None)
        if key is None:
            return None, [ctx.problem(
                'missing field "image": an image row needs "image" (a PNG or JPEG path relative '
                'to the dataset file) or "pixels" (a nested list of 0..255 values)',
                fix='Add "image" or "pixels" to the row.',
                example='{"image": "images/cat_01.png", "target": "cat"}')]
        value = row[key]
        if isinstance(value, list):
            try:
                pixels_to_array(value)
            except MediaError as exc:
                return None, [ctx.problem(f'"{key}" {exc}', key=key,
                                          fix="Give the pixels as rows of numbers 0..255 (or [r, g, b] lists).",
                                          example='{"pixels": [[0, 255], [255, 0]], "target": "checker"}')]
            return value, []
        if key == "pixels":
            return None, [ctx.problem(f'"pixels" must be a nested list of pixel values, got {json_type_name(value)}',
                                      key=key, example='{"pixels": [[0, 255], [255, 0]], "target": "checker"}')]
        if not isinstance(value, str):
            return None, [ctx.problem(f'"image" must be a file path string, got {json_type_name(value)}', key=key,
                                      example='{"image": "images/cat_01.png", "target": "cat"}')]
        norm = value.strip().replace("\\", "/")  # as given: NFC could name another file
        try:
            path = resolve_media_path(norm, ctx.dataset_dir, ctx.allow_absolute)
            _CACHE.put(path, decode_image_file(path, norm))
        except MediaError as exc:
            return None, [ctx.problem(f'"image" {exc}', key=key,
                                      fix="Point \"image\" at a PNG or JPEG file inside the dataset's "
                                      "directory (paths are relative to the dataset file).",
                                      example='{"image": "images/cat_01.png", "target": "cat"}')]
        return norm, []

    def _decode(self, value: Any, dataset_dir: Path) -> np.ndarray:
        if isinstance(value, np.ndarray):
            return value if value.ndim == 3 else value[:, :, None]
        if isinstance(value, list):
            return pixels_to_array(value)
        try:
            path = (Path(dataset_dir) / value).resolve()
        except (OSError, RuntimeError):  # checked (and reported) by check_input; decode it as given
            path = Path(dataset_dir) / value
        cached = _CACHE.take(path)
        return cached if cached is not None else decode_image_file(path, str(value))

    def featurize(self, inputs: list, dataset_dir: Path, settings: dict) -> np.ndarray:
        arrays = [self._decode(v, dataset_dir) for v in inputs]
        if "height" not in settings:
            settings.update(choose_layout(arrays))
        layout = settings
        X = np.empty((len(arrays), layout["height"], layout["width"], layout["channels"]), F32)
        for i, a in enumerate(arrays):
            X[i] = to_layout(a, layout)
        return X

    def make_trainer(self, base, params: dict, labels: list[str], y) -> MediaNetTrainer:
        return trainer_from_params(params, len(labels), default_kind="cnn")

    def load_trainer(self, kind: str, tensors: dict, config: dict) -> MediaNetTrainer:
        t = MediaNetTrainer.load(tensors, config)
        return t

    def explain(self, trainer, X_val, y_val, val_inputs: list, labels: list[str],
                train_inputs: list | None = None) -> dict:
        X_val = np.asarray(X_val, F32)
        y_val = np.asarray(y_val, dtype=np.int64)
        out: dict = {
            "method": "Saliency: mean absolute gradient of each class's logit with respect to the "
                      "input pixels, over that class's validation images, averaged over channels and "
                      "block-averaged to a grid of at most 8x8 (1 = the most influential cell).",
            "notes": [
                f"Images are converted to {trainer.settings.get('height')}x{trainer.settings.get('width')} "
                f"{'RGB' if trainer.settings.get('channels') == 3 else 'greyscale'} before training.",
                f"Network: {trainer.kind} "
                + (f"(3x3 conv {list(trainer.conv)} with 2x2 max-pool, " if trainer.kind == "cnn" else "(")
                + f"dense {list(trainer.hidden)}).",
            ],
        }
        if len(X_val) == 0:
            return out
        n = min(len(X_val), self.max_saliency_rows)
        grads = np.abs(trainer.input_gradients(X_val[:n], y_val[:n])).mean(axis=3)
        saliency = {}
        for ci, label in enumerate(labels):
            rows = np.nonzero(y_val[:n] == ci)[0]
            if len(rows) == 0:
                continue
            m = grads[rows].mean(axis=0)
            grid = grid_summary(m)
            g = np.asarray(grid)
            peak = np.unravel_index(int(np.argmax(g)), g.shape)
            saliency[label] = {"grid": grid, "peak": [int(peak[0]), int(peak[1])],
                               "mean": round(float(g.mean()), 3), "images": int(len(rows))}
        out["saliency"] = saliency
        proba = trainer.predict_proba(X_val[: self.max_examples])
        examples = []
        for i in range(min(len(X_val), self.max_examples)):
            p = int(np.argmax(proba[i]))
            v = val_inputs[i] if i < len(val_inputs) else None
            shown = v if isinstance(v, str) else f"pixels {X_val.shape[1]}x{X_val.shape[2]}"
            examples.append({
                "input": shown, "target": labels[int(y_val[i])], "predicted": labels[p],
                "confidence": round(float(proba[i, p]), 4),
                "thumbnail": png_data_uri(X_val[i], scale=max(1, 32 // max(X_val.shape[1], X_val.shape[2]))),
            })
        out["examples"] = examples
        return out

    def load_input(self, value: str, base_dir: Path) -> np.ndarray:
        """A file path (relative to base_dir, or absolute), or inline pixels (a nested list)."""
        try:
            if isinstance(value, list):
                return pixels_to_array(value)
            if not isinstance(value, str):
                raise MediaError(f"must be a file path or a nested list of pixels, got {json_type_name(value)}")
            path = resolve_media_path(str(value), Path(base_dir), allow_absolute=True)
            return decode_image_file(path, str(value))
        except MediaError as exc:
            raise errors.fail(errors.PREDICT_INPUT, f"image input {exc}") from None


HANDLER = ImageHandler()
