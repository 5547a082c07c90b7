"""The text softmax's arithmetic: one SGD pass over chosen rows, and the logits of chosen rows.

Two implementations give the same bits: the optional C module ``_sgd`` (built from _sgd.c by
setup.py; ~50x faster, since Python's per-row overhead is most of the cost) and the numpy path
below, which repeats its operations one for one (see _sgd.c for the exact sequence). Both work
on a whole :class:`~n3lang.training.features.Csr` and a list of row numbers, so a training or
validation subset never needs a copy of the features. ``N3_NUMPY_KERNEL=1`` forces the numpy
path (tests compare the two).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from n3lang.training.features import Csr

_sgd: Any  # the C module, or None when it was not built
try:
    from n3lang.training import _sgd
except ImportError:  # not built (no C compiler at install): the numpy path runs
    _sgd = None

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125
_LN2_LO = 1.4286068203094173e-06
_EXP_FLOOR = -1000.0
# e^r's Taylor coefficients, highest first: 1/13! ... 1/2!, 1, 1 (the same divisions as _sgd.c)
_TAYLOR = [1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
           1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0]


def native() -> bool:
    """Whether the C kernel runs (built, and not turned off by N3_NUMPY_KERNEL)."""
    return _sgd is not None and not os.environ.get("N3_NUMPY_KERNEL")


def det_exp(x: np.ndarray) -> np.ndarray:
    """e^x for x <= 0 by fixed IEEE operations (what _sgd.c's det_exp does, element-wise)."""
    x = np.maximum(x, _EXP_FLOOR)
    k = np.floor(x * _LOG2E + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = np.full_like(r, _TAYLOR[0])
    for c in _TAYLOR[1:]:
        p = p * r + c
    return np.ldexp(p, k.astype(np.int32))


def _row(X: Csr, i: int) -> tuple[np.ndarray, np.ndarray]:
    a, e = int(X.indptr[i]), int(X.indptr[i + 1])
    return X.indices[a:e], X.data[a:e]


def _row_logits(W: np.ndarray, b: np.ndarray, idx: np.ndarray, dat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(logits in float64, the gathered weight rows): float32 products summed in entry order."""
    g = W[idx]
    if len(idx):
        z32 = np.cumsum(dat[:, None] * g, axis=0, dtype=np.float32)[-1]
    else:
        z32 = np.zeros(W.shape[1], dtype=np.float32)
    return z32.astype(np.float64) + b, g


def _softmax(z: np.ndarray) -> np.ndarray:
    e = det_exp(z - z.max())
    return e / np.cumsum(e)[-1]  # summed in order, as the C loop does


def _arrays(X: Csr) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.ascontiguousarray(X.indptr, dtype=np.int64), np.ascontiguousarray(X.indices, dtype=np.int32),
            np.ascontiguousarray(X.data, dtype=np.float32))


def sgd_pass(W: np.ndarray, b: np.ndarray, X: Csr, y: np.ndarray, order: np.ndarray, *, lr0: float,
             step0: int, total_steps: int, margin: float) -> float:
    """Per-row SGD over the rows ``order`` (in that order), updating float32 ``W`` and ``b`` in
    place; returns the summed log loss of those rows before their updates. The step size of the
    r-th row is ``lr0 * (1 - (step0 + r) / total_steps)``."""
    order = np.ascontiguousarray(order, dtype=np.int64)
    y = np.ascontiguousarray(y, dtype=np.int64)
    if native():
        indptr, indices, data = _arrays(X)
        return float(_sgd.sgd_pass(W, b, W.shape[1], indptr, indices, data, y, order, float(lr0),
                                   int(step0), int(total_steps), float(margin)))
    loss = 0.0
    for r, i in enumerate(order.tolist()):
        lr = lr0 * (1.0 - (step0 + r) / total_steps)
        idx, dat = _row(X, i)
        z, g = _row_logits(W, b, idx, dat)
        p = _softmax(z)
        t = int(y[i])
        pt = float(p[t])
        loss -= math.log(max(pt, 1e-12))
        if 1.0 - pt >= margin:
            p[t] -= 1.0
            step = (p * lr).astype(np.float32)
            W[idx] = g - dat[:, None] * step[None, :]
            b -= step
    return loss


def logits(W: np.ndarray, b: np.ndarray, X: Csr, rows: np.ndarray) -> np.ndarray:
    """float64 logits [len(rows), n_labels] of the rows ``rows`` (softmax them for probabilities)."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    out = np.zeros((len(rows), W.shape[1]), dtype=np.float64)
    if native():
        indptr, indices, data = _arrays(X)
        _sgd.logits(W, b, W.shape[1], indptr, indices, data, rows, out)
        return out
    for r, i in enumerate(rows.tolist()):
        out[r] = _row_logits(W, b, *_row(X, i))[0]
    return out


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of float64 logits with det_exp (the probabilities the kernel trains on)."""
    e = det_exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
