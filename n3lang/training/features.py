"""Hashed text features: word 1-2-grams and char n-grams into a fixed 2^k space, as sparse rows.

Design (measured): every text is lowercased and cut into word tokens (``\\w+``); the tokens,
joined by single spaces and padded with a space at both ends, form the text's "clean" string.
Features are (a) each word, (b) each pair of adjacent words, (c) each char n-gram of the clean
string (n in ``char_ngrams``, 4..5 by default: measured on the Debian set, 3-grams cost
28% more time for no accuracy; the padding spaces mark word starts and ends).

Hashing is vectorised numpy over a whole chunk of rows at once: a polynomial prefix hash of
the code points modulo 2^64 (odd multiplier, so it is invertible and a segment's hash does not
depend on its position), then the splitmix64 finaliser, salted per feature kind. It is fixed
arithmetic on uint64, so the same text gives the same indices in every process and on every
platform (never Python's salted ``hash()``). Per row, duplicate indices are merged
(``np.unique``), term frequencies are damped (1 + log tf) and the row is L2-normalised.

The result is a :class:`Csr` matrix: ``indptr`` (int64, n+1), ``indices`` (int32, sorted per
row) and ``data`` (float32).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

WORD_RE = re.compile(r"\w+")
_P = np.uint64(0x100000001B3)  # FNV-64 prime: odd, so invertible modulo 2^64
_P_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_WORD_SALT = 0x5157
_BIGRAM_SALT = 0xB16A
_CHAR_SALT = 0xC4A0

DEFAULT_SETTINGS = {
    "n_features_log2": 18,
    "word_ngrams": [1, 2],
    "char_ngrams": [4, 5],
    "lowercase": True,
    "sublinear_tf": True,
    "hash": "poly64-splitmix64",
}


@dataclass
class Csr:
    """Compressed sparse rows: indptr (int64, n+1), indices (int32), data (float32), n_features."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_features: int

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def take(self, rows: np.ndarray) -> "Csr":
        """The rows ``rows`` (in that order) as a new Csr."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        total = int(indptr[-1])
        # positions: for each output slot, its source position
        offsets = np.repeat(starts - indptr[:-1], lengths) + np.arange(total, dtype=np.int64)
        return Csr(indptr, self.indices[offsets], self.data[offsets], self.n_features)

    def row_ids(self) -> np.ndarray:
        """Row number of every stored entry."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.indptr))


def _mix(h: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 finaliser of h ^ salt (uint64 in, uint64 out)."""
    with np.errstate(over="ignore"):
        z = h ^ (np.uint64(salt) * _GOLD)
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


@lru_cache(maxsize=8)
def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P^i and P^-i mod 2^64 for i < n (cached, grown in powers of two)."""
    size = 1 << max(10, (n - 1).bit_length())
    with np.errstate(over="ignore"):
        p = np.full(size, _P, dtype=np.uint64)
        p[0] = 1
        pinv = np.full(size, _P_INV, dtype=np.uint64)
        pinv[0] = 1
        return np.cumprod(p, dtype=np.uint64), np.cumprod(pinv, dtype=np.uint64)


def _powers_for(n: int) -> tuple[np.ndarray, np.ndarray]:
    size = 1 << max(10, (n - 1).bit_length())
    return _powers(size)


def clean_text(text: str, lowercase: bool = True) -> str:
    """The clean string features are cut from: `` tok1 tok2 ... ``."""
    if lowercase:
        text = text.lower()
    return " " + " ".join(WORD_RE.findall(text)) + " "


def _chunk_features(texts: list[str], settings: dict, spans: list | None = None):
    """(row_local, index) pairs for one chunk, unsorted, with duplicates. When ``spans`` is a
    list, (kind, starts, ends, hash64, index) per feature kind and finally the chunk's clean
    stream are appended to it (for naming features)."""
    lowercase = settings.get("lowercase", True)
    mask = np.uint64((1 << int(settings["n_features_log2"])) - 1)
    wlo, whi = settings["word_ngrams"]
    clo, chi = settings["char_ngrams"]
    cleaned = [clean_text(t, lowercase) for t in texts]
    stream = "\x00".join(cleaned) + "\x00"
    cp = np.frombuffer(stream.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(cp)
    pw, pinv = _powers_for(n + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(cp * pw[:n], out=prefix[1:])
    sep = cp == 0
    row_of = np.cumsum(sep) - sep  # row number at each position (separator belongs to its row)
    row_parts: list[np.ndarray] = []
    idx_parts: list[np.ndarray] = []

    def seg_hash(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return (prefix[ends] - prefix[starts]) * pinv[starts]

    # char n-grams (within a row: no separator inside the window)
    if chi >= clo > 0:
        sep_count = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sep, out=sep_count[1:])
        for k in range(clo, chi + 1):
            if n < k:
                continue
            starts = np.arange(n - k + 1, dtype=np.int64)
            ok = sep_count[starts + k] == sep_count[starts]
            starts = starts[ok]
            h = _mix(seg_hash(starts, starts + k), _CHAR_SALT + k)
            row_parts.append(row_of[starts])
            idx_parts.append((h & mask).astype(np.int64))
            if spans is not None:
                spans.append(("char", starts, starts + k, h, idx_parts[-1]))
    # words: maximal runs of characters other than space and separator
    if whi >= 1:
        is_char = (cp != 32) & ~sep
        prev = np.concatenate(([False], is_char[:-1]))
        nxt = np.concatenate((is_char[1:], [False]))
        wstart = np.flatnonzero(is_char & ~prev)
        wend = np.flatnonzero(is_char & ~nxt) + 1
        wh = seg_hash(wstart, wend)
        wrow = row_of[wstart]
        if wlo <= 1:
            h = _mix(wh, _WORD_SALT)
            row_parts.append(wrow)
            idx_parts.append((h & mask).astype(np.int64))
            if spans is not None:
                spans.append(("word", wstart, wend, h, idx_parts[-1]))
        if whi >= 2 and len(wh) > 1:
            same = wrow[1:] == wrow[:-1]
            with np.errstate(over="ignore"):
                bh = _mix(wh[:-1], _BIGRAM_SALT) * _P + wh[1:]
            h = _mix(bh[same], _BIGRAM_SALT + 1)
            row_parts.append(wrow[1:][same])
            idx_parts.append((h & mask).astype(np.int64))
            if spans is not None:
                spans.append(("word", wstart[:-1][same], wend[1:][same], h, idx_parts[-1]))
    if spans is not None:
        spans.append(stream)
    if row_parts:
        return np.concatenate(row_parts), np.concatenate(idx_parts), np.asarray(len(texts))
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.asarray(len(texts))


def featurize(texts: list[str], settings: dict | None = None, chunk_rows: int = 2048) -> Csr:
    """Hashed, sublinear-tf, L2-normalised features of ``texts`` (see module docstring)."""
    settings = {**DEFAULT_SETTINGS, **(settings or {})}
    n_features = 1 << int(settings["n_features_log2"])
    indptr_parts = [np.zeros(1, dtype=np.int64)]
    ind_parts: list[np.ndarray] = []
    dat_parts: list[np.ndarray] = []
    total = 0
    for lo in range(0, len(texts), chunk_rows):
        block = texts[lo: lo + chunk_rows]
        rows, idx, _ = _chunk_features(block, settings)
        shift = int(settings["n_features_log2"])
        keys = np.sort((rows << shift) | idx)
        if len(keys):
            first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            counts = np.diff(np.append(first, len(keys)))
            keys = keys[first]
        else:
            counts = np.zeros(0, dtype=np.int64)
        r = keys >> shift
        col = (keys & (n_features - 1)).astype(np.int32)
        if settings.get("sublinear_tf", True):
            val = 1.0 + np.log(counts.astype(np.float64))
        else:
            val = counts.astype(np.float64)
        norms = np.sqrt(np.bincount(r, weights=val * val, minlength=len(block)))
        norms[norms == 0] = 1.0
        val = (val / norms[r]).astype(np.float32)
        lengths = np.bincount(r, minlength=len(block))
        indptr_parts.append(total + np.cumsum(lengths))
        total += int(lengths.sum())
        ind_parts.append(col)
        dat_parts.append(val)
    indptr = np.concatenate(indptr_parts).astype(np.int64)
    indices = np.concatenate(ind_parts) if ind_parts else np.zeros(0, np.int32)
    data = np.concatenate(dat_parts) if dat_parts else np.zeros(0, np.float32)
    return Csr(indptr, indices, data, n_features)


_PLANS: dict[tuple, tuple] = {}


def _single_plan(settings: dict) -> tuple:
    """Per settings (cached): mask, char n-gram sizes, word flags, sublinear flag, the
    salt * golden ratio of each kind, and a cache of salt vectors by (text length, words)."""
    key = (int(settings["n_features_log2"]), tuple(settings["word_ngrams"]), tuple(settings["char_ngrams"]),
           bool(settings.get("lowercase", True)), bool(settings.get("sublinear_tf", True)))
    plan = _PLANS.get(key)
    if plan is None:
        log2, (wlo, whi), (clo, chi), lowercase, sublinear = key
        with np.errstate(over="ignore"):
            def salted(s: int) -> np.uint64:
                return np.uint64(s) * _GOLD
            chars = tuple(k for k in range(clo, chi + 1) if k > 0) if chi >= clo > 0 else ()
            salts = np.array([salted(_CHAR_SALT + k) for k in chars] + [salted(_WORD_SALT), salted(_BIGRAM_SALT + 1)],
                             dtype=np.uint64)
            plan = (np.array((1 << log2) - 1, dtype=np.uint64), chars, whi >= 1 and wlo <= 1, whi >= 2, lowercase,
                    sublinear, salts, np.array(salted(_BIGRAM_SALT), dtype=np.uint64), {})
        _PLANS[key] = plan
    return plan


# 0-d arrays, not numpy scalars: a ufunc takes a 0-d array operand about twice as fast as a
# scalar for the ~100-element arrays of one text (same dtype, so the same uint64 arithmetic)
_S30, _S27, _S31 = (np.array(s, dtype=np.uint64) for s in (30, 27, 31))
_M1_0, _M2_0, _P_0 = (np.array(c, dtype=np.uint64) for c in (_M1, _M2, _P))
_ONE_0 = np.array(1.0)
_accumulate = np.add.accumulate
_xor, _shr, _mul = np.bitwise_xor, np.right_shift, np.multiply


def _mix_salted(h: np.ndarray, salted) -> np.ndarray:
    """splitmix64 finaliser of h ^ salted, in place (``salted`` = salt * golden ratio, a 0-d
    or per-element uint64 array); uint64 array arithmetic wraps silently, so no errstate is
    needed."""
    z = _xor(h, salted, out=h)
    return _mix_rest(z)


def _mix_rest(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser after its first xor, in place."""
    _xor(z, _shr(z, _S30), out=z)
    _mul(z, _M1_0, out=z)
    _xor(z, _shr(z, _S27), out=z)
    _mul(z, _M2_0, out=z)
    _xor(z, _shr(z, _S31), out=z)
    return z


def featurize_one(text: str, settings: dict) -> tuple[np.ndarray, np.ndarray]:
    """(indices int32 sorted, values float32) of one text: the single-prediction path.

    Exactly the row ``featurize([text], settings)`` gives (same hashes, same counts, the same
    sequential sum for the norm, so bit-identical values; tests/training/test_featurize_one.py
    compares them), in about forty numpy calls instead of a few hundred: one text needs no row
    bookkeeping, char n-gram windows are slices of the prefix hash, word spans come from the
    spaces of the clean string, every feature kind is written straight into one uint64 buffer
    (no concatenate) that goes through one mix with a per-element salt vector (cached by text
    length and word count, never by text), and duplicates are merged by one sort. A text whose
    features are all distinct (about half of short texts) skips the merge: every value is then
    1 / sqrt(count), exactly what the general path computes."""
    if "n_features_log2" not in settings:
        settings = {**DEFAULT_SETTINGS, **settings}
    mask, chars, unigrams, bigrams, lowercase, sublinear, salts, bigram_salt, layouts = _single_plan(settings)
    if lowercase:
        text = text.lower()
    tokens = WORD_RE.findall(text)
    clean = " " + " ".join(tokens) + " "
    n = len(clean)
    m = len(tokens) if (unigrams or bigrams) else 0
    layout = layouts.get((n, m))
    if layout is None:
        counts = [max(n - k + 1, 0) for k in chars] + [m if unigrams else 0, max(m - 1, 0) if bigrams else 0]
        if len(layouts) >= 4096:
            layouts.clear()
        layout = layouts[(n, m)] = (np.repeat(salts, counts), sum(counts), counts)
    salt_vec, total, counts = layout
    if not total:
        return np.zeros(0, np.int32), np.zeros(0, np.float32)
    pw, pinv = _powers_for(n + 2)
    raw = np.frombuffer(clean.encode("utf-32-le"), dtype=np.uint32)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    _accumulate(_mul(raw, pw[:n]), out=prefix[1:])  # uint32 * uint64 -> uint64, as astype first
    buf = np.empty(total, dtype=np.uint64)
    at = 0
    for k, cnt in zip(chars, counts):
        if cnt:
            seg = buf[at: at + cnt]
            _sub(prefix[k:], prefix[:cnt], out=seg)
            _mul(seg, pinv[:cnt], out=seg)
            at += cnt
    if m:
        # " tok1 tok2 ": the spaces bound the tokens (tokens are \w+, so they hold no space)
        spaces = (raw == 32).nonzero()[0]
        starts = spaces[:-1] + 1
        wh = buf[at: at + m] if unigrams else np.empty(m, dtype=np.uint64)
        _sub(prefix.take(spaces[1:]), prefix.take(starts), out=wh)
        _mul(wh, pinv.take(starts), out=wh)
        if unigrams:
            at += m
        if bigrams and m > 1:
            pair = buf[at: at + m - 1]
            _xor(wh[:-1], bigram_salt, out=pair)
            _mix_rest(pair)  # the xor with the salt is done above
            _mul(pair, _P_0, out=pair)
            pair += wh[1:]
    keys = _mix_salted(buf, salt_vec)
    _and(keys, mask, out=keys)
    keys.sort()  # below the mask, uint64 order is the order of featurize's signed keys
    differ = _ne(keys[1:], keys[:-1])
    if _count_nonzero(differ) == total - 1:
        # all distinct: every tf is 1, so every value is 1.0 (1 + log 1, or 1) before the
        # norm, and the sequential sum of the squares is exactly float(total)
        val = np.empty(total, dtype=np.float32)
        val.fill(1.0 / math.sqrt(total))
        return keys.astype(np.int32), val
    edge = np.empty(total + 1, dtype=bool)
    edge[::total] = True  # the first and the past-the-end positions
    edge[1:total] = differ
    at = edge.nonzero()[0]
    first = at[:-1]
    tf = _sub(at[1:], first, dtype=np.float64)  # small counts: exact as float64
    if sublinear:
        val = np.log(tf)
        _add(val, _ONE_0, out=val)
    else:
        val = tf
    # the same sequential sum as featurize's per-row bincount, so the same norm to the last bit
    zeros = _ZEROS[: len(val)] if len(val) <= len(_ZEROS) else np.zeros(len(val), dtype=np.intp)
    val /= math.sqrt(np.bincount(zeros, weights=val * val, minlength=1)[0]) or 1.0
    return keys[first].astype(np.int32), val.astype(np.float32)


_sub, _add, _and, _ne, _count_nonzero = np.subtract, np.add, np.bitwise_and, np.not_equal, np.count_nonzero


_ZEROS = np.zeros(1 << 14, dtype=np.intp)


def gram_table(texts: list[str], settings: dict | None = None, wanted=None,
               chunk_rows: int = 2048) -> dict[int, list[str]]:
    """Feature index -> the distinct readable n-grams of ``texts`` that hash to it (for
    explanations; more than one = a hash collision). Char n-grams are shown quoted with their
    padding spaces, e.g. ``' pas'``. ``wanted``: only these indices (vectorised filter)."""
    settings = {**DEFAULT_SETTINGS, **(settings or {})}
    wanted_arr = None if wanted is None else np.unique(np.asarray(list(wanted), dtype=np.int64))
    found: dict[int, set[str]] = {}
    for lo in range(0, len(texts), chunk_rows):
        parts: list = []
        _chunk_features(texts[lo: lo + chunk_rows], settings, parts)
        stream = parts.pop()
        for kind, starts, ends, h64, idx in parts:
            if wanted_arr is not None:
                keep = np.isin(idx, wanted_arr)
                starts, ends, h64, idx = starts[keep], ends[keep], h64[keep], idx[keep]
            _, first = np.unique(h64, return_index=True)
            for j in first.tolist():
                text = stream[int(starts[j]): int(ends[j])]
                found.setdefault(int(idx[j]), set()).add("'" + text + "'" if kind == "char" else text)
    return {k: sorted(v) for k, v in found.items()}


def ngram_strings(text: str, settings: dict | None = None) -> dict[int, list[str]]:
    """Feature index -> the readable n-grams of one text."""
    return gram_table([text], settings)
