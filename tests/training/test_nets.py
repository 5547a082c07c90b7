"""The numpy networks: gradients are right, fitting learns, fitting is deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from n3lang.training.nets import NetClassifier, pinned_threads


def _blobs(n=120, h=8, w=8, seed=0):
    """Three classes: a bright bar at the top, a bright bar at the left, a bright centre."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.3, size=(n, h, w, 1)).astype(np.float32)
    y = np.arange(n) % 3
    X[y == 0, :2, :, 0] += 2.0
    X[y == 1, :, :2, 0] += 2.0
    X[y == 2, 3:5, 3:5, 0] += 2.0
    return X, y


@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_gradient_matches_finite_differences(kind):
    X, y = _blobs(6)
    net = NetClassifier(kind=kind, conv=(3, 4), hidden=(5,), epochs=1, seed=3).fit(X, y, 3)
    X64 = X[:4].astype(np.float64)
    # analytic input gradient of the class-0 logit vs central differences (float32 net: loose tol)
    g = net.input_gradients(X[:4], np.zeros(4, dtype=int))
    eps = 1e-2
    for (i, r, c) in [(0, 1, 1), (1, 4, 2), (2, 7, 7), (3, 0, 5)]:
        xp, xm = X64.copy(), X64.copy()
        xp[i, r, c, 0] += eps
        xm[i, r, c, 0] -= eps
        lp = net._forward(xp.astype(np.float32), train=False)[i, 0]
        lm = net._forward(xm.astype(np.float32), train=False)[i, 0]
        assert abs((lp - lm) / (2 * eps) - g[i, r, c, 0]) < 2e-2


@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_learns_above_baseline(kind):
    X, y = _blobs(150)
    Xv, yv = _blobs(60, seed=1)
    net = NetClassifier(kind=kind, conv=(4, 8), hidden=(16,), epochs=8, learning_rate=0.01,
                        seed=0).fit(X, y, 3, Xv, yv)
    acc = float((net.predict(Xv) == yv).mean())
    assert acc >= 0.9  # majority baseline is 1/3
    assert len(net.history_) == 8 and net.history_[-1]["loss"] < net.history_[0]["loss"]
    assert net.predict_proba(Xv).shape == (60, 3)
    np.testing.assert_allclose(net.predict_proba(Xv).sum(axis=1), 1.0, rtol=1e-5)


def test_fit_is_deterministic_and_idempotent():
    X, y = _blobs(60)
    a = NetClassifier(conv=(4, 4), hidden=(8,), epochs=3, augment_shift=1, seed=7).fit(X, y, 3)
    b = NetClassifier(conv=(4, 4), hidden=(8,), epochs=3, augment_shift=1, seed=7).fit(X, y, 3)
    ta, tb = a.tensors(), b.tensors()
    assert list(ta) == list(tb)
    assert all(ta[k].tobytes() == tb[k].tobytes() for k in ta)
    again = a.fit(X, y, 3).tensors()  # refitting the same object starts over
    assert all(ta[k].tobytes() == again[k].tobytes() for k in ta)
    c = NetClassifier(conv=(4, 4), hidden=(8,), epochs=3, augment_shift=1, seed=8).fit(X, y, 3)
    assert any(ta[k].tobytes() != c.tensors()[k].tobytes() for k in ta)


def test_thread_count_does_not_change_weights():
    X, y = _blobs(60)
    with pinned_threads(2):
        a = NetClassifier(conv=(4, 8), hidden=(16,), epochs=2, seed=1).fit(X, y, 3).tensors()
    b = NetClassifier(conv=(4, 8), hidden=(16,), epochs=2, seed=1).fit(X, y, 3).tensors()
    assert all(a[k].tobytes() == b[k].tobytes() for k in a)


def test_tensors_round_trip():
    X, y = _blobs(30)
    net = NetClassifier(conv=(2, 3), hidden=(4,), epochs=1, seed=0).fit(X, y, 3)
    tensors = net.tensors()
    assert all(t.dtype == np.float32 for t in tensors.values())
    back = NetClassifier.from_tensors(net.architecture_, tensors)
    assert back.predict_proba(X).tobytes() == net.predict_proba(X).tobytes()
    with pytest.raises(ValueError, match="shape"):
        bad = dict(tensors)
        k = next(iter(bad))
        bad[k] = np.zeros((1, 1), np.float32)
        NetClassifier.from_tensors(net.architecture_, bad)


def test_odd_sizes_and_rgb():
    rng = np.random.default_rng(0)
    X = rng.random((10, 7, 5, 3)).astype(np.float32)
    y = np.arange(10) % 2
    net = NetClassifier(conv=(2, 2), hidden=(), epochs=1, seed=0).fit(X, y, 2)
    assert net.predict_proba(X).shape == (10, 2)
    assert net.input_gradients(X, y).shape == X.shape
