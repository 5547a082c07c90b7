"""Audio mode: WAV decoding (every width, stereo), resampling, features, validation, learning."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from n3lang.diagnostics import DiagnosticError
from n3lang.training import dataset as ds
from n3lang.training.audio import (
    HANDLER,
    SAMPLE_RATE,
    WavError,
    fix_length,
    log_mel,
    parse_wav,
    read_wav,
    resample,
    utterance_features,
    write_wav,
)

MEDIA = Path(__file__).resolve().parents[1] / "data" / "media"


def _tone(freq=440.0, rate=16000, seconds=0.25, amp=0.5):
    t = np.arange(int(rate * seconds)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


@pytest.mark.parametrize("bits,tol", [(8, 1 / 100), (16, 1e-4), (24, 1e-6), (32, 1e-7)])
def test_every_pcm_width_round_trips(tmp_path, bits, tol):
    x = _tone()
    write_wav(tmp_path / "a.wav", x, 16000, bits=bits)
    y, rate = read_wav(tmp_path / "a.wav")
    assert rate == 16000 and y.dtype == np.float32 and y.shape == x.shape
    assert np.max(np.abs(y - x)) < tol


def test_stereo_is_averaged_to_mono(tmp_path):
    left, right = _tone(amp=0.6), np.zeros(4000)
    write_wav(tmp_path / "s.wav", np.stack([left, right], axis=1), 16000, bits=16)
    y, _ = read_wav(tmp_path / "s.wav")
    assert np.max(np.abs(y - left / 2)) < 1e-4


def test_files_written_by_sox():
    """sox writes WAVE_FORMAT_EXTENSIBLE for 24-bit stereo; the wave module of 3.11 rejects it."""
    for name, rate in [("tone_44k_stereo_24bit.wav", 44100), ("tone_22k_u8.wav", 22050),
                       ("tone_16k_s32.wav", 16000), ("tone_16k_f32.wav", 16000)]:
        y, r = read_wav(MEDIA / name)
        assert r == rate and abs(len(y) - rate * 0.05) <= 1
        assert 0.69 < float(np.abs(y).max()) < 0.72, name
    with pytest.raises(WavError, match=r"is compressed \(mu-law\)"):
        read_wav(MEDIA / "tone_8k_mulaw.wav")


def test_bad_headers():
    with pytest.raises(WavError, match="is not a WAV file"):
        parse_wav(b"OggS" + b"\x00" * 40)
    with pytest.raises(WavError, match="has no 'data' chunk"):
        fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
        parse_wav(b"RIFF" + struct.pack("<I", 28) + b"WAVEfmt " + struct.pack("<I", 16) + fmt)
    with pytest.raises(WavError, match="12-bit PCM"):
        fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 12)
        parse_wav(b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
                  + b"data" + struct.pack("<I", 0))


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_resampling_keeps_the_tone_and_length(rate):
    x = _tone(440.0, rate, 0.5)
    y = resample(x, rate, SAMPLE_RATE)
    assert len(y) == int(len(x) * SAMPLE_RATE / rate)
    ref = _tone(440.0, SAMPLE_RATE, 0.5)[: len(y)]
    mid = slice(200, len(y) - 200)  # away from the zero-padded edges
    assert np.max(np.abs(y[mid] - ref[mid])) < 0.01
    assert resample(x, rate, rate).dtype == np.float32


def test_resampling_filters_what_cannot_be_represented():
    x = _tone(11000.0, 44100, 0.5)  # above the 8 kHz Nyquist of 16 kHz
    y = resample(x, 44100, 16000)
    assert np.sqrt(np.mean(y[200:-200] ** 2)) < 0.01  # removed, not aliased to 5 kHz


def test_features_have_a_fixed_shape_and_find_the_tone():
    low = utterance_features(np.concatenate([np.zeros(3000), _tone(300.0), np.zeros(3000)]))
    high = utterance_features(_tone(3000.0, seconds=0.8))
    assert low.shape == high.shape == (40, 32) and low.dtype == np.float32
    lm = log_mel(_tone(300.0))
    assert lm.shape[1] == 40 and np.argmax(lm.mean(axis=0)) < 10
    assert np.argmax(log_mel(_tone(3000.0)).mean(axis=0)) > 20
    assert fix_length(np.ones((5, 3)), 32).shape == (32, 3)
    assert fix_length(np.ones((100, 3)), 32).shape == (32, 3)
    assert utterance_features(np.zeros(10)).shape == (40, 32)  # shorter than one frame


def test_every_bad_file_is_reported_at_once_with_line_and_column(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_wav(data / "ok.wav", _tone(), 16000)
    write_wav(data / "ok2.wav", _tone(880.0), 16000)
    write_wav(data / "odd.wav", _tone(rate=12345), 12345)
    write_wav(data / "long.wav", np.zeros(16000 * 61), 16000, bits=8)
    (data / "notwav.wav").write_bytes(b"ID3\x03" + b"\x00" * 100)
    (data / "mulaw.wav").write_bytes((MEDIA / "tone_8k_mulaw.wav").read_bytes())
    hdr = bytearray((data / "ok.wav").read_bytes()[:44])
    hdr[40:44] = struct.pack("<I", 0)
    (data / "nosamples.wav").write_bytes(bytes(hdr))
    rows = [
        {"audio": "ok.wav", "transcript": "yes"},          # 1
        {"audio": "gone.wav", "transcript": "yes"},        # 2
        {"audio": "notwav.wav", "transcript": "yes"},      # 3
        {"audio": "odd.wav", "transcript": "yes"},         # 4
        {"audio": "mulaw.wav", "transcript": "yes"},       # 5
        {"audio": "long.wav", "transcript": "yes"},        # 6
        {"audio": "../../etc/x.wav", "transcript": "yes"},  # 7
        {"audio": ["a.wav"], "transcript": "yes"},         # 8
        {"transcript": "yes"},                             # 9
        {"audio": "nosamples.wav", "transcript": "yes"},   # 10
        {"audio": "ok2.wav", "transcript": "no"},          # 11
    ]
    (data / "x.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DiagnosticError) as e:
        ds.read(data / "x.jsonl", "data/x.jsonl", HANDLER)
    got = [f"{d.file}:{d.span.line}:{d.span.column}: {d.message}" for d in e.value.diagnostics]
    assert got == [
        "data/x.jsonl:2:2: \"audio\" file 'gone.wav' does not exist",
        "data/x.jsonl:3:2: \"audio\" file 'notwav.wav' is not a WAV file (no RIFF/WAVE header)",
        "data/x.jsonl:4:2: \"audio\" file 'odd.wav' has an unsupported sample rate of 12345 Hz; use one of "
        "8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000",
        "data/x.jsonl:5:2: \"audio\" file 'mulaw.wav' is compressed (mu-law); convert it to PCM WAV "
        "(e.g. `sox in.wav -e signed -b 16 out.wav`)",
        "data/x.jsonl:6:2: \"audio\" file 'long.wav' is 61.0 s long, over the 60 s limit for one utterance",
        "data/x.jsonl:7:2: \"audio\" path '../../etc/x.wav' escapes the dataset's directory",
        "data/x.jsonl:8:2: \"audio\" must be a WAV file path string, got a list",
        'data/x.jsonl:9:1: missing field "audio": an audio row needs "audio" (a WAV path relative '
        "to the dataset file) and the transcript as target",
        "data/x.jsonl:10:2: \"audio\" file 'nosamples.wav' holds no audio samples",
    ]
    assert all(d.code == "dataset-row-invalid" for d in e.value.diagnostics)


def _words(tmp_path: Path, n_per=12):
    """Three 'words': a low hum, a high whistle and a rising chirp, at varied rates and lengths."""
    rng = np.random.default_rng(0)
    inputs, y = [], []
    for i in range(3 * n_per):
        k = i % 3
        rate = [16000, 22050][i % 4 % 2]
        secs = float(rng.uniform(0.25, 0.6))
        t = np.arange(int(rate * secs)) / rate
        f0 = float(rng.uniform(0.9, 1.1))
        if k == 0:
            x = np.sin(2 * np.pi * 250 * f0 * t)
        elif k == 1:
            x = np.sin(2 * np.pi * 3000 * f0 * t)
        else:
            x = np.sin(2 * np.pi * (300 + 4000 * t / secs) * f0 * t)
        x = 0.4 * x + rng.normal(0, 0.01, len(t))
        pad = np.zeros(int(rate * rng.uniform(0.05, 0.2)))
        write_wav(tmp_path / f"w{i}.wav", np.concatenate([pad, x, pad]), rate, bits=16)
        inputs.append(f"w{i}.wav")
        y.append(k)
    return inputs, np.array(y)


def test_handler_learns_explains_and_predicts_files(tmp_path):
    inputs, y = _words(tmp_path)
    labels = ["hum", "whistle", "chirp"]
    tr, va = slice(0, 24), slice(24, 36)
    t = HANDLER.make_trainer(None, {"epochs": 8, "learning_rate": 0.01, "seed": 0,
                                    "conv": [4, 8], "hidden": [16], "augment_shift": 0},
                               labels, y[tr])
    s = t.feature_settings()
    X = HANDLER.featurize(inputs[tr], tmp_path, s)
    Xv = HANDLER.featurize(inputs[va], tmp_path, s)
    assert X.shape == (24, 40, 32, 1) and s["sample_rate"] == 16000
    t.fit(X, y[tr], Xv, y[va])
    assert float((t.predict_proba(Xv).argmax(1) == y[va]).mean()) >= 0.9
    ex = HANDLER.explain(t, Xv, y[va], inputs[va], labels, inputs[tr])
    assert len(ex["time_importance"]) == 32 and len(ex["frequency_importance"]) == 40
    assert max(ex["frequency_importance"]) == 1.0
    assert set(ex["per_class"]) == set(labels)
    assert all(20 < c["peak_band_hz"] < 7600 and len(c["frequency_importance"]) == 40
               for c in ex["per_class"].values())
    json.dumps(ex)
    back = HANDLER.load_trainer(t.kind, t.tensors(), json.loads(json.dumps(t.config())))
    one = HANDLER.load_input(str(tmp_path / inputs[25]), tmp_path)
    x1 = HANDLER.featurize([one], tmp_path, back.feature_settings())
    assert x1.tobytes() == Xv[1:2].tobytes()
    assert back.predict_proba(x1).tobytes() == t.predict_proba(Xv[1:2]).tobytes()
    (tmp_path / "bad.wav").write_bytes(b"nope")
    with pytest.raises(DiagnosticError, match="is not a WAV file"):
        HANDLER.load_input("bad.wav", tmp_path)


def test_fit_is_deterministic(tmp_path):
    inputs, y = _words(tmp_path, 4)
    out = []
    for _ in range(2):
        t = HANDLER.make_trainer(None, {"epochs": 2, "seed": 3, "conv": [4, 4], "hidden": [8]}, ["a", "b", "c"], y)
        t.fit(HANDLER.featurize(inputs, tmp_path, t.feature_settings()), y)
        out.append(t.tensors())
    assert all(out[0][k].tobytes() == out[1][k].tobytes() for k in out[0])


def test_float_samples_that_are_not_numbers_are_refused(tmp_path):
    from n3lang.training.audio import check_wav

    samples = np.zeros(1600, "<f4")
    samples[100] = np.nan
    data = samples.tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    (tmp_path / "nan.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(WavError, match=r"float samples that are not numbers \(NaN or infinite\)"):
        check_wav(tmp_path / "nan.wav")
