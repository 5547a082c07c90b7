"""WAV files: RIFF/WAVE parsing and writing with ``struct`` and numpy only.

PCM 8-bit (unsigned), 16, 24 and 32-bit (signed) and IEEE float 32/64, plain or
WAVE_FORMAT_EXTENSIBLE (which sox writes for 24-bit and multichannel files, and which the
``wave`` module of Python 3.10/3.11 rejects); any number of channels, averaged to mono;
samples scaled to [-1, 1] float32. Files are read only when regular and within
MAX_WAV_BYTES (:mod:`n3lang.training.files`).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import numpy as np

from n3lang.training import files

SAMPLE_RATE = 16000
MAX_WAV_BYTES = 50 * 1024 * 1024
MAX_SECONDS = 60.0
SUPPORTED_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)

F32 = np.float32


def _read(path) -> bytes:
    """The file's bytes; WavError when it is too large, OSError when it cannot be read (a FIFO
    or a device included: never waited on)."""
    try:
        return files.read_limited(path, MAX_WAV_BYTES)
    except files.TooLarge as exc:
        raise WavError(f"is {exc.size} bytes, over the {MAX_WAV_BYTES // (1024 * 1024)} MiB limit") from None


class WavError(ValueError):
    """A WAV file that cannot be used; the message says what is wrong, without the path."""


@dataclass(frozen=True)
class WavInfo:
    sample_rate: int
    channels: int
    bits: int
    fmt: str  # "pcm" or "float"
    frames: int


# ----------------------------------------------------------------------------- reading
_PCM_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def parse_wav(data: bytes) -> tuple[WavInfo, bytes]:
    """Header info and raw sample bytes of a RIFF/WAVE file (raises WavError)."""
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        raise WavError("is not a WAV file (no RIFF/WAVE header)")
    if data[:4] == b"RIFX":
        raise WavError("is a big-endian RIFX file; only little-endian RIFF WAV is supported")
    pos = 12
    fmt = None
    samples = None
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            samples = body
            if fmt is not None:
                break
        pos += 8 + size + (size & 1)
    if fmt is None or len(fmt) < 16:
        raise WavError("has no valid 'fmt ' chunk")
    if samples is None:
        raise WavError("has no 'data' chunk")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt, 0)
    if tag == 0xFFFE and len(fmt) >= 40:
        sub = fmt[24:40]
        if sub[2:] != _PCM_GUID_TAIL:
            raise WavError("uses an unknown WAVE_FORMAT_EXTENSIBLE subformat")
        tag = struct.unpack_from("<H", sub, 0)[0]
    if tag == 1:
        kind = "pcm"
        if bits not in (8, 16, 24, 32):
            raise WavError(f"has {bits}-bit PCM samples; use 8, 16, 24 or 32-bit PCM")
    elif tag == 3:
        kind = "float"
        if bits not in (32, 64):
            raise WavError(f"has {bits}-bit float samples; use 32 or 64-bit float")
    else:
        names = {2: "ADPCM", 6: "A-law", 7: "mu-law", 0x11: "IMA ADPCM", 0x55: "MP3"}
        raise WavError(f"is compressed ({names.get(tag, f'format tag {tag}')}); "
                       "convert it to PCM WAV (e.g. `sox in.wav -e signed -b 16 out.wav`)")
    if channels < 1:
        raise WavError("declares 0 channels")
    if rate <= 0:
        raise WavError("declares a sample rate of 0")
    width = bits // 8
    if block_align != width * channels:
        block_align = width * channels
    frames = len(samples) // block_align
    return WavInfo(rate, channels, bits, kind, frames), samples[: frames * block_align]


def decode_samples(info: WavInfo, raw: bytes) -> np.ndarray:
    """Samples as float32 in [-1, 1], averaged over channels to mono."""
    b = info.bits
    if info.fmt == "float":
        x = np.frombuffer(raw, dtype="<f4" if b == 32 else "<f8").astype(np.float64)
    elif b == 8:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif b == 16:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    elif b == 24:
        u = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = u[:, 0] | (u[:, 1] << 8) | (u[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float64) / float(1 << 23)
    else:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)
    if info.channels > 1:
        x = x.reshape(-1, info.channels).mean(axis=1)
    return np.clip(x, -1.0, 1.0).astype(F32)


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """(mono float32 samples, sample rate) of a PCM/float WAV file (raises WavError/OSError)."""
    data = _read(path)
    info, raw = parse_wav(data)
    return decode_samples(info, raw), info.sample_rate


def check_wav(path: str | os.PathLike) -> WavInfo:
    """Validate a WAV file for training (format, rate, length); returns its header info."""
    data = _read(path)
    info, raw = parse_wav(data)
    if info.sample_rate not in SUPPORTED_RATES:
        raise WavError(f"has an unsupported sample rate of {info.sample_rate} Hz; use one of "
                       + ", ".join(str(r) for r in SUPPORTED_RATES))
    if info.frames == 0:
        raise WavError("holds no audio samples")
    seconds = info.frames / info.sample_rate
    if seconds > MAX_SECONDS:
        raise WavError(f"is {seconds:.1f} s long, over the {MAX_SECONDS:.0f} s limit for one utterance")
    if info.fmt == "float":  # one NaN or infinity would make every feature of the file NaN
        x = np.frombuffer(raw, dtype="<f4" if info.bits == 32 else "<f8")
        if not np.isfinite(x).all():
            raise WavError("holds float samples that are not numbers (NaN or infinite)")
    return info


def write_wav(path: str | os.PathLike, samples: np.ndarray, rate: int = SAMPLE_RATE,
              bits: int = 16, channels: int = 1) -> None:
    """Write PCM WAV (``samples`` in [-1, 1], shape (n,) or (n, channels)); for tests and tools."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = np.repeat(x[:, None], channels, axis=1)
    x = np.clip(x, -1.0, 1.0)
    if bits == 8:
        raw = np.round(x * 127.0 + 128.0).astype(np.uint8).tobytes()
    elif bits == 16:
        raw = np.round(x * 32767.0).astype("<i2").tobytes()
    elif bits == 24:
        v = np.round(x * 8388607.0).astype(np.int64).reshape(-1)
        v = np.where(v < 0, v + (1 << 24), v).astype(np.uint32)
        raw = np.stack([v & 255, (v >> 8) & 255, (v >> 16) & 255], axis=1).astype(np.uint8).tobytes()
    elif bits == 32:
        raw = np.round(x * 2147483647.0).astype("<i4").tobytes()
    else:
        raise ValueError("bits must be 8, 16, 24 or 32")
    ch = x.shape[1]
    fmt = struct.pack("<HHIIHH", 1, ch, rate, rate * ch * bits // 8, ch * bits // 8, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(raw)) + raw
    if len(raw) & 1:
        body += b"\x00"
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
