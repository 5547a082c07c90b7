"""Features of one text for prediction: the row ``featurize([text])`` gives, bit for bit.

A prediction featurizes one short text, so numpy's per-call overhead (about a microsecond) is
the whole cost, not the arithmetic. Where the optional C hasher (``_hashing.c``, built by
setup.py when a compiler is there) is available, it does the hashing, merging and weighting
in one call (about 5x faster). Otherwise the numpy path keeps the call count down: everything
that depends only on the settings (constants, powers of the hash multiplier, tf weights) is
prepared once per :class:`SingleTextFeaturizer`; char n-gram windows are slices of the prefix
hash; word spans come from the spaces of the clean string; every feature kind is written
straight into one uint64 buffer that goes through one splitmix64 pass with a per-element salt
vector (cached by text length and word count, never by text); duplicates are merged by one
sort, and a text whose features are all distinct (about half of short texts) skips the merge.

tests/training/test_single_text.py compares both paths with :func:`features.featurize` on
fixed and generated texts, bit for bit, under several settings.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from typing import Any

import numpy as np

from n3lang.training.features import (
    _BIGRAM_SALT,
    _CHAR_SALT,
    _GOLD,
    _M1,
    _M2,
    _P,
    _WORD_SALT,
    DEFAULT_SETTINGS,
    WORD_RE,
    _powers,
)

_hashing: Any  # the C module, or None when it was not built
try:
    from n3lang.training import _hashing
except ImportError:  # not built (no C compiler at install): the numpy path runs
    _hashing = None

# 0-d arrays, not numpy scalars: a ufunc takes a 0-d array operand about twice as fast as a
# scalar (same dtype, so the same wrapping uint64 arithmetic; no errstate is needed for arrays)
_S30, _S27, _S31, _M1_0, _M2_0, _P_0 = (np.array(c, dtype=np.uint64) for c in (30, 27, 31, _M1, _M2, _P))
_U32, _U64, _F32 = np.uint32, np.uint64, np.float32
_xor, _shr, _sub, _ne = np.bitwise_xor, np.right_shift, np.subtract, np.not_equal
_accumulate = np.add.accumulate
try:  # the C function np.count_nonzero wraps (5x cheaper for one short array)
    from numpy._core.multiarray import count_nonzero as _count_nonzero
except ImportError:  # pragma: no cover - other numpy layouts
    _count_nonzero = np.count_nonzero


def _mix_rest(z: np.ndarray) -> None:
    """The splitmix64 finaliser after its first xor (with the salt), in place."""
    z ^= _shr(z, _S30)
    z *= _M1_0
    z ^= _shr(z, _S27)
    z *= _M2_0
    z ^= _shr(z, _S31)


def _salted(salt: int) -> np.uint64:
    with np.errstate(over="ignore"):
        return np.uint64(salt) * _GOLD


class SingleTextFeaturizer:
    """``featurizer(text)`` -> (indices: int64, sorted; values: float32), for fixed settings.
    ``native``: use the C hasher (default: when it is built, unless N3_NUMPY_FEATURES is set)."""

    def __init__(self, settings: dict, native: bool | None = None):
        s = {**DEFAULT_SETTINGS, **settings}
        (wlo, whi), (clo, chi) = s["word_ngrams"], s["char_ngrams"]
        if native is None:
            native = _hashing is not None and not os.environ.get("N3_NUMPY_FEATURES")
        self.native = native
        if self.native and _hashing is None:
            raise RuntimeError("the C feature hasher is not built in this installation")
        self.lowercase = bool(s.get("lowercase", True))
        self.log2 = int(s["n_features_log2"])
        self.mask = np.array((1 << self.log2) - 1, dtype=np.uint64)
        self.chars = tuple(range(clo, chi + 1)) if chi >= clo > 0 else ()
        self.unigrams = whi >= 1 and wlo <= 1
        self.bigrams = whi >= 2
        self.words = whi >= 1
        self.salts = np.array([_salted(_CHAR_SALT + k) for k in self.chars]
                              + [_salted(_WORD_SALT), _salted(_BIGRAM_SALT + 1)], dtype=np.uint64)
        self.bigram_salt = np.array(_salted(_BIGRAM_SALT), dtype=np.uint64)
        self.sublinear = bool(s.get("sublinear_tf", True))
        self._layouts: dict[tuple[int, int], tuple] = {}
        self._grow(1 << 10)

    def _grow(self, size: int) -> None:
        """Powers of the multiplier (for texts up to ``size`` - 2 chars) and the tf weight
        tables (for terms seen fewer than ``size`` times).

        ``tf_weight[t]`` is what featurize computes for a term seen t times (1 + log t, or t),
        by the same float64 ufuncs, and ``tf_square`` its square; looking them up replaces
        the log, add and square of every call."""
        size = 1 << max(10, (size - 1).bit_length())
        pw, pinv = _powers(size)
        counts = np.arange(size, dtype=np.float64)
        if self.sublinear:
            with np.errstate(divide="ignore"):
                tf_weight = 1.0 + np.log(counts)
        else:
            tf_weight = counts
        # one tuple, replaced whole: a call in another thread sees the old tables or the new
        self._tables = (pw, pinv, tf_weight, tf_weight * tf_weight)

    def _layout(self, n: int, m: int) -> tuple:
        """Where each feature kind sits in the buffer for a clean string of n chars and m
        words, and the matching per-element salt vector."""
        char_counts = [max(n - k + 1, 0) for k in self.chars]
        counts = char_counts + [m if self.unigrams else 0, max(m - 1, 0) if self.bigrams else 0]
        char_slices, at = [], 0
        for k, cnt in zip(self.chars, char_counts):
            if cnt:
                char_slices.append((k, at, at + cnt, cnt))
                at += cnt
        if len(self._layouts) >= 4096:
            self._layouts.clear()
        layout = self._layouts[(n, m)] = (np.repeat(self.salts, counts), sum(counts), tuple(char_slices), at)
        return layout

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if self.lowercase:
            text = text.lower()
        tokens = WORD_RE.findall(text)
        clean = f" {' '.join(tokens)} "
        n = len(clean)
        m = len(tokens) if self.words else 0
        layout = self._layouts.get((n, m)) or self._layout(n, m)
        salt_vec, total, char_slices, word_at = layout
        if not total:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        # a term is seen at most once per feature, so total bounds every count
        if max(n + 2, total + 1) > len(self._tables[0]):
            self._grow(max(n + 2, total + 1))
        pw, pinv, tf_weight, tf_square = self._tables
        if self.native:
            keys, values = np.empty(total, np.int64), np.empty(total, _F32)
            count = _hashing.featurize(clean.encode("utf-32-le"), m, self.chars[0] if self.chars else 0,
                                       self.chars[-1] if self.chars else -1, self.unigrams, self.bigrams,
                                       self.log2, tf_weight, tf_square, keys, values)
            return keys[:count], values[:count]
        raw = np.frombuffer(clean.encode("utf-32-le"), _U32)
        prefix = np.zeros(n + 1, dtype=_U64)
        _accumulate(raw * pw[:n], out=prefix[1:])  # uint32 * uint64 -> uint64, as astype first
        buf = np.empty(total, dtype=_U64)
        for k, lo, hi, cnt in char_slices:
            seg = buf[lo:hi]
            _sub(prefix[k:], prefix[:cnt], seg)
            seg *= pinv[:cnt]
        if m:
            # " tok1 tok2 ": the spaces bound the tokens (tokens are \w+, so they hold no space)
            spaces = (raw == 32).nonzero()[0]
            starts = spaces[:-1] + 1
            wh = buf[word_at: word_at + m] if self.unigrams else np.empty(m, dtype=_U64)
            _sub(prefix[spaces[1:]], prefix[starts], wh)
            wh *= pinv[starts]
            if self.bigrams and m > 1:
                pair = buf[total - m + 1:]
                _xor(wh[:-1], self.bigram_salt, pair)
                _mix_rest(pair)
                pair *= _P_0
                pair += wh[1:]
        buf ^= salt_vec
        _mix_rest(buf)
        buf &= self.mask
        buf.sort()  # below the mask, uint64 order is the order of featurize's signed keys
        keys = buf.view(np.int64)  # the masked keys are far below 2^63: the same as int64
        differ = _ne(buf[1:], buf[:-1])
        if _count_nonzero(differ) == total - 1:
            # all distinct: every weight is 1.0 before the norm, and the sequential sum of the
            # squares is exactly float(total)
            val = np.empty(total, dtype=_F32)
            val.fill(1.0 / math.sqrt(total))
            return keys, val
        edge = np.empty(total + 1, dtype=bool)
        edge[::total] = True  # the first and the past-the-end positions
        edge[1:total] = differ
        at = edge.nonzero()[0]
        first = at[:-1]
        tf = at[1:] - first
        val = tf_weight[tf]
        # the sequential sum featurize's per-row bincount does, so the same norm to the last bit
        val /= math.sqrt(_accumulate(tf_square[tf])[-1]) or 1.0
        return keys[first], val.astype(_F32)


@lru_cache(maxsize=16)
def _featurizer(key: tuple) -> SingleTextFeaturizer:
    return SingleTextFeaturizer(dict(key))


def featurizer_for(settings: dict) -> SingleTextFeaturizer:
    """The (shared) featurizer of these settings."""
    return _featurizer(tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in settings.items())))


def featurize_one(text: str, settings: dict) -> tuple[np.ndarray, np.ndarray]:
    """(indices int64 sorted, values float32) of one text: ``featurize([text], settings)``'s row."""
    return featurizer_for(settings)(text)
