"""Image mode: decoding PNG/JPEG/pixels rows, layout, validation errors, learning, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from n3lang.diagnostics import DiagnosticError
from n3lang.training import dataset as ds
from n3lang.training.image import (
    HANDLER,
    MediaError,
    choose_layout,
    decode_image_file,
    pixels_to_array,
    png_data_uri,
    resolve_media_path,
    to_layout,
)
from n3lang.training.modes import RowContext


def _save(path: Path, arr: np.ndarray, fmt: str = "PNG", **kw) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.asarray(arr, dtype=np.uint8)
    Image.fromarray(a if a.ndim == 3 else a, mode="RGB" if a.ndim == 3 else "L").save(path, format=fmt, **kw)


def _ctx(tmp_path, line_text="{}", line=1):
    return RowContext("data/x.jsonl", line, line_text, tmp_path)


def test_decode_png_grey_and_rgb_and_jpeg(tmp_path):
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    _save(tmp_path / "g.png", grey)
    a = decode_image_file(tmp_path / "g.png")
    assert a.shape == (6, 8, 1) and a.dtype == np.uint8
    assert np.array_equal(a[:, :, 0], grey)
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 200
    _save(tmp_path / "c.png", rgb)
    assert decode_image_file(tmp_path / "c.png").shape == (4, 4, 3)
    _save(tmp_path / "j.jpg", np.full((16, 16), 128, np.uint8), fmt="JPEG", quality=95)
    j = decode_image_file(tmp_path / "j.jpg")
    assert j.shape == (16, 16, 1) and abs(int(j.mean()) - 128) <= 2
    deep = np.array([[0, 65535], [32768, 257]], dtype=np.uint16)
    Image.fromarray(deep).save(tmp_path / "d16.png")  # 16-bit greyscale PNG
    assert decode_image_file(tmp_path / "d16.png")[:, :, 0].tolist() == [[0, 255], [128, 1]]
    rgba = Image.new("RGBA", (3, 3), (10, 20, 30, 128))
    rgba.save(tmp_path / "a.png")
    assert decode_image_file(tmp_path / "a.png").shape == (3, 3, 3)


def test_pixels_rows():
    assert pixels_to_array([[0, 255], [128, 1]]).shape == (2, 2, 1)
    rgb = pixels_to_array([[[1, 2, 3], [4, 5, 6]]])
    assert rgb.shape == (1, 2, 3) and rgb[0, 1, 2] == 6
    assert pixels_to_array([[[1, 2, 3, 4]]]).shape == (1, 1, 3)  # alpha dropped
    assert pixels_to_array([[0.4, 254.6]]).tolist() == [[[0], [255]]]
    for bad, msg in [
        ([], "must be a non-empty nested list"),
        ([1, 2], "must be a list of rows"),
        ([[1, 2], [3]], "rows of different lengths (row 0 has 2 pixels, row 1 has 1)"),
        ([[1, "x"]], "non-number pixel value 'x'"),
        ([[1, 300]], "pixel value 300, outside 0..255"),
        ([[[1, 2]]], "has 2 channels per pixel"),
        ([[True]], "non-number pixel value True"),
    ]:
        with pytest.raises(MediaError) as e:
            pixels_to_array(bad)
        assert msg in str(e.value)


def test_layout_from_data():
    imgs = [np.zeros((8, 8, 1), np.uint8)] * 3 + [np.zeros((10, 12, 1), np.uint8)]
    assert choose_layout(imgs) == {"height": 8, "width": 8, "channels": 1}
    big = [np.zeros((64, 128, 3), np.uint8)]
    assert choose_layout(big) == {"height": 16, "width": 32, "channels": 1}  # grey RGB stays grey
    col = np.zeros((4, 4, 3), np.uint8)
    col[..., 0] = 255
    assert choose_layout([col])["channels"] == 3
    x = to_layout(np.full((20, 20, 1), 255, np.uint8), {"height": 5, "width": 5, "channels": 3})
    assert x.shape == (5, 5, 3) and x.dtype == np.float32 and np.allclose(x, 1.0)
    assert png_data_uri(x).startswith("data:image/png;base64,")


def test_paths_stay_inside_the_dataset_directory(tmp_path):
    (tmp_path / "sub").mkdir()
    assert resolve_media_path("sub/a.png", tmp_path) == (tmp_path / "sub" / "a.png").resolve()
    with pytest.raises(MediaError, match="escapes the dataset's directory"):
        resolve_media_path("../a.png", tmp_path)
    with pytest.raises(MediaError, match="escapes the dataset's directory"):
        resolve_media_path("sub/../../a.png", tmp_path)
    with pytest.raises(MediaError, match="is absolute"):
        resolve_media_path("/etc/passwd", tmp_path)
    assert resolve_media_path("/x/a.png", tmp_path, allow_absolute=True) == Path("/x/a.png")
    outside = tmp_path.parent / (tmp_path.name + "_outside.png")
    outside.write_bytes(b"x")
    (tmp_path / "link.png").symlink_to(outside)
    with pytest.raises(MediaError, match="escapes"):
        resolve_media_path("link.png", tmp_path)


def test_every_bad_file_is_reported_at_once_with_line_and_column(tmp_path):
    data = tmp_path / "data"
    _save(data / "ok.png", np.zeros((4, 4), np.uint8))
    _save(data / "ok2.png", np.full((4, 4), 255, np.uint8))
    Image.new("L", (4, 4)).save(data / "anim.gif")
    (data / "fake.png").write_bytes(b"not an image at all")
    good = (data / "ok.png").read_bytes()
    (data / "cut.png").write_bytes(good[: len(good) // 2])
    (data / "empty.png").write_bytes(b"")
    (data / "dir.png").mkdir()
    Image.new("L", (5000, 2)).save(data / "huge.png")
    rows = [
        {"image": "ok.png", "target": "a"},                # 1
        {"image": "missing.png", "target": "a"},           # 2
        {"image": "anim.gif", "target": "a"},              # 3
        {"image": "fake.png", "target": "a"},              # 4
        {"image": "cut.png", "target": "a"},               # 5
        {"image": "../x.png", "target": "a"},              # 6
        {"image": 7, "target": "a"},                       # 7
        {"target": "a"},                                   # 8
        {"pixels": [[1, 2], [3]], "target": "a"},          # 9
        {"image": "empty.png", "target": "a"},             # 10
        {"image": "dir.png", "target": "a"},               # 11
        {"image": "huge.png", "target": "a"},              # 12
        {"pixels": "abc", "target": "a"},                  # 13
        {"image": "ok2.png", "target": "b"},               # 14
    ]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (data / "x.jsonl").write_text(text)
    with pytest.raises(DiagnosticError) as e:
        ds.read(data / "x.jsonl", "data/x.jsonl", HANDLER)
    got = [f"{d.file}:{d.span.line}:{d.span.column}: {d.message}" for d in e.value.diagnostics]
    assert [g.split(": ", 1)[0] for g in got] == [
        f"data/x.jsonl:{n}:{1 if n == 8 else 2}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)]
    assert got[0] == "data/x.jsonl:2:2: \"image\" file 'missing.png' does not exist"
    assert got[1] == "data/x.jsonl:3:2: \"image\" file 'anim.gif' is GIF; only PNG and JPEG are supported"
    assert got[2] == "data/x.jsonl:4:2: \"image\" file 'fake.png' cannot be read as a PNG or JPEG image (it is not one, or it is damaged or cut short)"
    assert got[3] == "data/x.jsonl:5:2: \"image\" file 'cut.png' cannot be read as a PNG or JPEG image (it is not one, or it is damaged or cut short)"
    assert got[4] == "data/x.jsonl:6:2: \"image\" path '../x.png' escapes the dataset's directory"
    assert got[5] == "data/x.jsonl:7:2: \"image\" must be a file path string, got a number"
    assert got[6] == ('data/x.jsonl:8:1: missing field "image": an image row needs "image" (a PNG or JPEG '
                      'path relative to the dataset file) or "pixels" (a nested list of 0..255 values)')
    assert got[7] == 'data/x.jsonl:9:2: "pixels" has rows of different lengths (row 0 has 2 pixels, row 1 has 1)'
    assert got[8] == "data/x.jsonl:10:2: \"image\" file 'empty.png' is empty"
    assert got[9] == "data/x.jsonl:11:2: \"image\" path 'dir.png' is not a file"
    assert got[10] == "data/x.jsonl:12:2: \"image\" file 'huge.png' is 5000x2 pixels, over the 4096x4096 limit"
    assert got[11] == 'data/x.jsonl:13:2: "pixels" must be a nested list of pixel values, got a string'
    assert all(d.code == "dataset-row-invalid" and d.fix for d in e.value.diagnostics)


def test_valid_rows_normalise(tmp_path):
    _save(tmp_path / "img" / "a.png", np.zeros((3, 3), np.uint8))
    v, errs = HANDLER.check_input({"image": " img\\a.png "}, _ctx(tmp_path))
    assert errs == [] and v == "img/a.png"
    v, errs = HANDLER.check_input({"image": [[1, 2], [3, 4]]}, _ctx(tmp_path))
    assert errs == [] and v == [[1, 2], [3, 4]]
    v, errs = HANDLER.check_input({"pixels": [[[1, 2, 3]]]}, _ctx(tmp_path))
    assert errs == [] and v == [[[1, 2, 3]]]


def _stripes(tmp_path: Path, n: int = 60):
    """Horizontal vs vertical stripes vs a dot, with noise, as PNG files and inline pixels."""
    rng = np.random.default_rng(0)
    inputs, labels = [], []
    for i in range(n):
        k = i % 3
        a = rng.integers(0, 60, size=(10, 10)).astype(np.float64)
        if k == 0:
            a[::3, :] += 180
        elif k == 1:
            a[:, ::3] += 180
        else:
            a[4:6, 4:6] += 190
        a = np.clip(a, 0, 255).astype(np.uint8)
        if i % 2:
            _save(tmp_path / f"s{i}.png", a)
            inputs.append(f"s{i}.png")
        else:
            inputs.append(a.tolist())
        labels.append(k)
    return inputs, np.array(labels)


def test_handler_learns_and_explains(tmp_path):
    inputs, y = _stripes(tmp_path, 90)
    labels = ["h", "v", "dot"]
    tr, va = slice(0, 60), slice(60, 90)
    t = HANDLER.make_trainer(None, {"epochs": 6, "learning_rate": 0.01, "seed": 0}, labels, y[tr])
    settings = t.feature_settings()
    X = HANDLER.featurize(inputs[tr], tmp_path, settings)
    Xv = HANDLER.featurize(inputs[va], tmp_path, settings)
    assert settings == {"height": 10, "width": 10, "channels": 1}
    t.fit(X, y[tr], Xv, y[va])
    acc = float((t.predict_proba(Xv).argmax(1) == y[va]).mean())
    assert acc >= 0.9
    ex = HANDLER.explain(t, Xv, y[va], inputs[va], labels, inputs[tr])
    assert set(ex["saliency"]) == set(labels)
    grid = ex["saliency"]["dot"]["grid"]
    assert len(grid) == 8 and max(max(r) for r in grid) == 1.0
    assert ex["examples"][0]["thumbnail"].startswith("data:image/png;base64,")
    json.dumps(ex)
    # round trip through tensors/config (what model.bin + metadata hold)
    back = HANDLER.load_trainer(t.kind, t.tensors(), json.loads(json.dumps(t.config())))
    assert back.feature_settings() == settings
    assert back.predict_proba(Xv).tobytes() == t.predict_proba(Xv).tobytes()
    # predict-time input: a file path, decoded and featurized alike
    one = HANDLER.load_input(str(tmp_path / "s1.png"), tmp_path)
    x1 = HANDLER.featurize([one], tmp_path, back.feature_settings())
    assert x1.tobytes() == HANDLER.featurize(["s1.png"], tmp_path, settings).tobytes()
    with pytest.raises(DiagnosticError, match="does not exist"):
        HANDLER.load_input("nope.png", tmp_path)
    assert HANDLER.load_input([[0, 255]], tmp_path).shape == (1, 2, 1)
    with pytest.raises(DiagnosticError, match="rows of different lengths"):
        HANDLER.load_input([[0, 255], [1]], tmp_path)


def test_fit_is_deterministic(tmp_path):
    inputs, y = _stripes(tmp_path, 30)
    out = []
    for _ in range(2):
        t = HANDLER.make_trainer(None, {"epochs": 2, "learning_rate": 0.01, "seed": 5}, ["a", "b", "c"], y)
        X = HANDLER.featurize(inputs, tmp_path, t.feature_settings())
        t.fit(X, y)
        out.append(t.tensors())
    assert list(out[0]) == list(out[1])
    assert all(out[0][k].tobytes() == out[1][k].tobytes() for k in out[0])


def test_paths_that_cannot_be_followed_are_media_errors(tmp_path):
    (tmp_path / "a.png").symlink_to("b.png")
    (tmp_path / "b.png").symlink_to("a.png")
    with pytest.raises(MediaError, match="cannot be followed"):
        decode_image_file(resolve_media_path("a.png", tmp_path), "a.png")
    with pytest.raises(MediaError, match=r"cannot be read: File name too long"):
        decode_image_file(tmp_path / ("x" * 300 + ".png"), "x" * 300 + ".png")


def test_tiny_images_are_scaled_up_to_a_layout_the_network_can_halve_twice():
    tiny = [np.zeros((1, 1, 1), np.uint8)] * 3 + [np.zeros((3, 2, 1), np.uint8)]
    assert choose_layout(tiny) == {"height": 4, "width": 4, "channels": 1}


def test_an_image_path_is_used_as_written_not_unicode_normalised(tmp_path):
    import unicodedata

    name = unicodedata.normalize("NFD", "café.png")  # how some file systems store it
    Image.new("L", (8, 8), 255).save(tmp_path / name)
    ctx = RowContext("d.jsonl", 1, json.dumps({"image": name}), tmp_path, False)
    value, problems = HANDLER.check_input({"image": name, "target": "x"}, ctx)
    assert problems == [] and value == name
