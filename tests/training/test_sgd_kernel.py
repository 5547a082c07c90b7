"""The text softmax's training kernel (n3lang/training/sgd.py): the C module and the numpy path
give the same weights, losses and logits bit for bit, on generated problems; the C module
refuses inputs that do not describe one model and one matrix instead of reading out of bounds."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from n3lang.training import sgd
from n3lang.training.features import Csr, featurize

needs_c = pytest.mark.skipif(sgd._sgd is None, reason="the C kernel is not built (no compiler at install)")


def numpy_path(fn):
    """fn() with the numpy path forced (hypothesis tests cannot take pytest's monkeypatch)."""
    old = os.environ.get("N3_NUMPY_KERNEL")
    os.environ["N3_NUMPY_KERNEL"] = "1"
    try:
        assert not sgd.native()
        return fn()
    finally:
        if old is None:
            del os.environ["N3_NUMPY_KERNEL"]
        else:
            os.environ["N3_NUMPY_KERNEL"] = old


def train(X: Csr, y, n_labels: int, *, epochs: int, lr: float, margin: float, rows, seed: int):
    W = np.zeros((X.n_features, n_labels), dtype=np.float32)
    b = np.zeros(n_labels, dtype=np.float32)
    rng = np.random.default_rng(seed)
    total = max(1, epochs * len(rows))
    losses = []
    for epoch in range(epochs):
        order = rows[rng.permutation(len(rows))]
        losses.append(sgd.sgd_pass(W, b, X, y, order, lr0=lr, step0=epoch * len(rows), total_steps=total,
                                   margin=margin))
    return W, b, losses, sgd.logits(W, b, X, np.arange(len(X)))


WORDS = ["cat", "dog", "night", "sky", "mat", "bark", "star", "é", "数", "a", "the", "x1"]


@needs_c
@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join), min_size=1, max_size=40),
       n_labels=st.integers(1, 7), epochs=st.integers(1, 3), lr=st.sampled_from([0.05, 0.5, 1.0, 4.0]),
       margin=st.sampled_from([0.0, 0.1, 0.5]), log2=st.integers(4, 10), seed=st.integers(0, 3))
def test_c_and_numpy_give_the_same_bits(texts, n_labels, epochs, lr, margin, log2, seed):
    X = featurize(texts, {"n_features_log2": log2})
    y = np.random.default_rng(seed).integers(0, n_labels, len(texts))
    rows = np.random.default_rng(seed + 1).permutation(len(texts))[: max(1, len(texts) * 3 // 4)]

    def go():
        return train(X, y, n_labels, epochs=epochs, lr=lr, margin=margin, rows=rows, seed=seed)

    c = go()
    n = numpy_path(go)
    assert c[0].tobytes() == n[0].tobytes()
    assert c[1].tobytes() == n[1].tobytes()
    assert c[2] == n[2]
    assert c[3].tobytes() == n[3].tobytes()


def test_training_learns_a_separable_problem():
    texts = ["red apple", "green apple", "red cherry", "blue sky", "grey sky", "blue sea"] * 10
    y = np.array([0, 0, 0, 1, 1, 1] * 10)
    X = featurize(texts)
    W, b, losses, z = train(X, y, 2, epochs=5, lr=1.0, margin=0.1, rows=np.arange(len(texts)), seed=0)
    assert losses[-1] < losses[0]
    assert (z.argmax(axis=1) == y).all()


def test_det_exp_is_within_two_ulps_of_exp():
    x = np.linspace(-700.0, 0.0, 200_001)
    assert np.max(np.abs(sgd.det_exp(x) / np.exp(x) - 1.0)) <= 4.5e-16
    assert sgd.det_exp(np.array([-1e300, -np.inf]))[0] == 0.0


def test_softmax_rows_sum_to_one():
    p = sgd.softmax_rows(np.array([[0.0, 1.0, 2.0], [1000.0, -1000.0, 0.0]]))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert p[1].argmax() == 0


@needs_c
def test_the_c_module_refuses_what_does_not_fit():
    X = featurize(["a b", "c"], {"n_features_log2": 4})
    W, b = np.zeros((16, 3), np.float32), np.zeros(3, np.float32)
    ip, ix, dt = X.indptr, X.indices, X.data
    y = np.array([0, 1], dtype=np.int64)
    ok = np.array([0, 1], dtype=np.int64)
    with pytest.raises(ValueError, match="outside the matrix"):
        sgd._sgd.sgd_pass(W, b, 3, ip, ix, dt, y, np.array([2], dtype=np.int64), 1.0, 0, 1, 0.1)
    with pytest.raises(ValueError, match="not a label number"):
        sgd._sgd.sgd_pass(W, b, 3, ip, ix, dt, np.array([0, 5], dtype=np.int64), ok, 1.0, 0, 2, 0.1)
    with pytest.raises(ValueError, match="outside W"):
        sgd._sgd.sgd_pass(np.zeros((2, 3), np.float32), b, 3, ip, ix, dt, y, ok, 1.0, 0, 2, 0.1)
    with pytest.raises(ValueError, match="n_labels columns"):
        sgd._sgd.sgd_pass(W, np.zeros(2, np.float32), 3, ip, ix, dt, y, ok, 1.0, 0, 2, 0.1)
    with pytest.raises(ValueError, match="one matrix"):
        sgd._sgd.logits(W, b, 3, ip, ix[:-1], dt, ok, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="float64"):
        sgd._sgd.logits(W, b, 3, ip, ix, dt, ok, np.zeros((1, 3)))
