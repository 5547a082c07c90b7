"""Small numpy networks for image and audio classification: a CNN and an MLP.

Both are a stack of layers (3x3 convolution, ReLU, 2x2 max-pool, flatten, dense) trained
with softmax cross-entropy and Adam on mini-batches. Layout is NHWC (batch, height, width,
channels); convolution is vectorised with im2col (``sliding_window_view`` + one matmul per
layer), its backward pass folds the columns back with nine shifted adds in a fixed order.

Determinism: every random draw (initial weights, shuffling, augmentation shifts) comes from
``np.random.default_rng(seed)``; arrays are float32; the BLAS thread pool is pinned to one
thread while fitting and predicting (threadpoolctl), so results do not depend on the core
count. Same data + same hyperparameters + same seed give byte-identical tensors.

The class follows scikit-learn's shape: hyperparameters in ``__init__``, ``fit`` returns self,
learned state ends in ``_``. ``tensors()`` / ``from_tensors()`` round-trip the learned state
through plain ``{name: float32 array}`` maps (what model.bin stores) plus a JSON-able
architecture dict (what metadata.json stores).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator, cast

import numpy as np

__all__ = ["NetClassifier", "softmax", "pinned_threads"]

F32 = np.float32


@contextlib.contextmanager
def pinned_threads(n: int = 1) -> Iterator[None]:
    """Limit BLAS/OpenMP pools to ``n`` threads for the duration (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with threadpool_limits(limits=n):
        yield


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32, stable against overflow."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z, dtype=F32)
    return e / e.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- layers
class _Layer:
    params: tuple[str, ...] = ()
    _cache: Any = None  # what forward keeps for backward (None outside a training step)
    _mask: Any = None
    _x: Any = None

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def backward(self, d: np.ndarray, need_dx: bool = True) -> np.ndarray | None:  # pragma: no cover
        raise NotImplementedError


class Conv3x3(_Layer):
    """3x3 convolution, stride 1, zero padding 1 ('same'); weight shape (9*C_in, C_out)."""

    params = ("w", "b")

    def __init__(self, c_in: int, c_out: int):
        self.c_in, self.c_out = c_in, c_out
        self.w = np.zeros((9 * c_in, c_out), F32)
        self.b = np.zeros((c_out,), F32)

    def init(self, rng: np.random.Generator) -> None:
        fan_in = 9 * self.c_in
        self.w = (rng.standard_normal(self.w.shape) * math.sqrt(2.0 / fan_in)).astype(F32)
        self.b = np.zeros_like(self.b)

    @staticmethod
    def _cols(x: np.ndarray) -> np.ndarray:
        """im2col: rows (n*h*w), columns ordered (ky, kx, c)."""
        n, h, w, c = x.shape
        xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        if c >= 4:  # measured: one strided copy wins for many channels, nine copies for few
            win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))
            return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(n * h * w, 9 * c)
        cols = np.empty((n, h, w, 9 * c), F32)
        for ky in range(3):
            for kx in range(3):
                k = 3 * ky + kx
                cols[:, :, :, k * c:(k + 1) * c] = xp[:, ky:ky + h, kx:kx + w, :]
        return cols.reshape(n * h * w, 9 * c)

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        n, h, w, _ = x.shape
        cols = self._cols(x)
        out = cols @ self.w
        out += self.b
        if train:
            self._cache = (cols, x.shape)
        return out.reshape(n, h, w, self.c_out)

    def backward(self, d: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        cols, shape = self._cache
        n, h, w, c = shape
        d2 = d.reshape(-1, self.c_out)
        self.dw = cols.T @ d2
        self.db = d2.sum(axis=0)
        self._cache = None
        if not need_dx:
            return None
        # col2im: one (rows, c) block per kernel offset, added into the padded input in a
        # fixed order (ky, kx), so the result does not depend on scheduling.
        wk = self.w.reshape(3, 3, c, self.c_out)
        dxp = np.zeros((n, h + 2, w + 2, c), F32)
        for ky in range(3):
            for kx in range(3):
                dxp[:, ky:ky + h, kx:kx + w, :] += (d2 @ wk[ky, kx].T).reshape(n, h, w, c)
        return dxp[:, 1:h + 1, 1:w + 1, :]


class ReLU(_Layer):
    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        out = np.maximum(x, 0)
        if train:
            self._mask = out > 0
        return out

    def backward(self, d: np.ndarray, need_dx: bool = True) -> np.ndarray:
        out = d * self._mask
        self._mask = None
        return out


class MaxPool2(_Layer):
    """2x2 max-pool, stride 2 (an odd last row/column is dropped).

    Backward routes the gradient to every position equal to its window's maximum. After a
    ReLU, ties are windows of zeros, whose gradient the ReLU then drops; exact ties between
    positive float activations do not occur in practice.
    """

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        n, h, w, c = x.shape
        h2, w2 = h // 2, w // 2
        q = [x[:, dy:2 * h2:2, dx:2 * w2:2, :] for dy in (0, 1) for dx in (0, 1)]
        out = np.maximum(np.maximum(q[0], q[1]), np.maximum(q[2], q[3]))
        if train:
            self._cache = (x, out)
        return out

    def backward(self, d: np.ndarray, need_dx: bool = True) -> np.ndarray:
        x, out = self._cache
        n, h, w, c = x.shape
        h2, w2 = h // 2, w // 2
        dx = np.zeros(x.shape, F32)
        for dy in (0, 1):
            for dxo in (0, 1):
                sl = (slice(None), slice(dy, 2 * h2, 2), slice(dxo, 2 * w2, 2), slice(None))
                dx[sl] = d * (x[sl] == out)
        self._cache = None
        return dx


class Flatten(_Layer):
    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, d: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return d.reshape(self._shape)


class Dense(_Layer):
    params = ("w", "b")

    def __init__(self, n_in: int, n_out: int, gain: float = 2.0):
        self.n_in, self.n_out, self.gain = n_in, n_out, gain
        self.w = np.zeros((n_in, n_out), F32)
        self.b = np.zeros((n_out,), F32)

    def init(self, rng: np.random.Generator) -> None:
        self.w = (rng.standard_normal(self.w.shape) * math.sqrt(self.gain / self.n_in)).astype(F32)
        self.b = np.zeros_like(self.b)

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        if train:
            self._x = x
        out = x @ self.w
        out += self.b
        return out

    def backward(self, d: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        self.dw = self._x.T @ d
        self.db = d.sum(axis=0)
        self._x = None
        return (d @ self.w.T) if need_dx else None


# ----------------------------------------------------------------------------- network
def build_layers(arch: dict) -> list[_Layer]:
    """Layers for an architecture dict (see ``NetClassifier.architecture_``)."""
    h, w, c = arch["input_shape"]
    layers: list[_Layer] = []
    if arch["kind"] == "cnn":
        for f in arch["conv"]:
            layers += [Conv3x3(c, f), ReLU(), MaxPool2()]
            c, h, w = f, h // 2, w // 2
        layers.append(Flatten())
        n = h * w * c
    elif arch["kind"] == "mlp":
        layers.append(Flatten())
        n = h * w * c
    else:
        raise ValueError(f"unknown network kind {arch['kind']!r}")
    for units in arch["hidden"]:
        layers += [Dense(n, units), ReLU()]
        n = units
    layers.append(Dense(n, arch["n_classes"], gain=1.0))
    return layers


def _param_names(layers: list[_Layer]) -> list[tuple[str, _Layer, str]]:
    out = []
    for i, layer in enumerate(layers):
        for p in layer.params:
            out.append((f"layer{i}.{type(layer).__name__.lower()}.{p}", layer, p))
    return out


def _shift_batch(x: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Translate each image by a random offset in [-max_shift, max_shift]^2, zero fill."""
    n, h, w, _ = x.shape
    pad = max_shift
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    offs = rng.integers(0, 2 * pad + 1, size=(n, 2))
    rows = offs[:, 0:1] + np.arange(h)[None, :]  # (n, h)
    cols = offs[:, 1:2] + np.arange(w)[None, :]  # (n, w)
    return xp[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


class NetClassifier:
    """A small softmax network (``kind`` "cnn" or "mlp") trained with Adam.

    ``fit(X, y)`` takes X of shape (n, h, w, c) float32 (already normalised) and integer
    labels in ``range(n_classes)``. ``history_`` holds per-epoch ``loss`` and, when
    validation data is given, ``val_accuracy``.
    """

    architecture_: dict[str, Any]

    def __init__(
        self,
        kind: str = "cnn",
        conv: tuple[int, ...] = (16, 32),
        hidden: tuple[int, ...] = (128,),
        epochs: int = 15,
        learning_rate: float = 2e-3,
        batch_size: int = 32,
        weight_decay: float = 1e-4,
        augment_shift: int = 0,
        seed: int = 0,
    ):
        self.kind = kind
        self.conv = tuple(conv)
        self.hidden = tuple(hidden)
        self.epochs = int(epochs)
        self.learning_rate = float(learning_rate)
        self.batch_size = int(batch_size)
        self.weight_decay = float(weight_decay)
        self.augment_shift = int(augment_shift)
        self.seed = int(seed)

    # -- public API -----------------------------------------------------------------
    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        n_classes: int | None = None,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        progress: Callable[[dict], None] | None = None,
    ) -> "NetClassifier":
        X = np.ascontiguousarray(X, dtype=F32)
        if X.ndim == 3:
            X = X[..., None]
        y = np.asarray(y, dtype=np.int64)
        n_classes = int(n_classes if n_classes is not None else y.max() + 1)
        rng = np.random.default_rng(self.seed)
        self.architecture_ = {
            "kind": self.kind,
            "input_shape": [int(s) for s in X.shape[1:]],
            "conv": list(self.conv) if self.kind == "cnn" else [],
            "hidden": list(self.hidden),
            "n_classes": n_classes,
        }
        self.layers_ = build_layers(self.architecture_)
        for layer in self.layers_:
            if hasattr(layer, "init"):
                layer.init(rng)
        named = _param_names(self.layers_)
        m = {k: np.zeros_like(getattr(l, p)) for k, l, p in named}
        v = {k: np.zeros_like(getattr(l, p)) for k, l, p in named}
        b1, b2, eps = 0.9, 0.999, 1e-8
        n = X.shape[0]
        bs = max(1, min(self.batch_size, n))
        steps_per_epoch = (n + bs - 1) // bs
        total = max(1, steps_per_epoch * self.epochs)
        warm = min(steps_per_epoch, total // 10 + 1)
        t = 0
        self.history_ = []
        with pinned_threads(1):
            for epoch in range(self.epochs):
                perm = rng.permutation(n)
                loss_sum = 0.0
                for s in range(steps_per_epoch):
                    idx = perm[s * bs:(s + 1) * bs]
                    xb = X[idx]
                    if self.augment_shift > 0:
                        xb = _shift_batch(xb, rng, self.augment_shift)
                    yb = y[idx]
                    loss, dlogits = self._loss_grad(xb, yb)
                    loss_sum += loss * len(idx)
                    d = dlogits
                    for i in range(len(self.layers_) - 1, -1, -1):  # the first layer returns None: the end
                        d = cast(np.ndarray, self.layers_[i].backward(d, need_dx=i > 0))
                    t += 1
                    # linear warm-up, then cosine decay to zero
                    if t <= warm:
                        lr = self.learning_rate * t / warm
                    else:
                        frac = (t - warm) / max(1, total - warm)
                        lr = self.learning_rate * 0.5 * (1.0 + math.cos(math.pi * frac))
                    c1 = 1.0 - b1 ** t
                    c2 = 1.0 - b2 ** t
                    for k, layer, p in named:
                        g = getattr(layer, "d" + p)
                        w = getattr(layer, p)
                        if p == "w" and self.weight_decay:
                            g = g + F32(self.weight_decay) * w
                        mk, vk = m[k], v[k]
                        mk *= F32(b1)
                        mk += F32(1 - b1) * g
                        g *= g  # g is a fresh gradient array (or the decayed copy): reuse it
                        vk *= F32(b2)
                        vk += F32(1 - b2) * g
                        denom = np.sqrt(vk * F32(1.0 / c2))
                        denom += F32(eps)
                        step = mk * F32(lr / c1)
                        step /= denom
                        w -= step  # in place: no layer keeps a reference to its old weights
                record = {"epoch": epoch + 1, "loss": round(float(loss_sum / n), 6)}
                if X_val is not None and y_val is not None and len(y_val):
                    pred = self._predict_proba(np.asarray(X_val, F32)).argmax(axis=1)
                    record["val_accuracy"] = round(float((pred == np.asarray(y_val)).mean()), 6)
                self.history_.append(record)
                if progress is not None:
                    progress(dict(record, epochs=self.epochs, rows=n))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        with pinned_threads(1):
            return self._predict_proba(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)

    def input_gradients(self, X: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """d(logit of ``classes[i]``)/d(input i): the saliency map of each row, shape of X."""
        X = np.asarray(X, F32)
        if X.ndim == 3:
            X = X[..., None]
        with pinned_threads(1):
            out = np.empty_like(X)
            for s in range(0, X.shape[0], 256):
                xb = X[s:s + 256]
                logits = self._forward(xb, train=True)
                d = np.zeros_like(logits)
                d[np.arange(len(xb)), np.asarray(classes[s:s + 256])] = 1.0
                for layer in reversed(self.layers_):
                    d = cast(np.ndarray, layer.backward(d, need_dx=True))
                out[s:s + 256] = d
        return out

    def tensors(self) -> dict[str, np.ndarray]:
        """Learned weights by stable name (float32, C order)."""
        return {k: np.ascontiguousarray(getattr(l, p), dtype=F32)
                for k, l, p in _param_names(self.layers_)}

    @classmethod
    def from_tensors(cls, architecture: dict, tensors: dict[str, np.ndarray]) -> "NetClassifier":
        """Rebuild a fitted network from ``architecture_`` and ``tensors()``."""
        net = cls(kind=architecture["kind"], conv=tuple(architecture.get("conv", ())),
                  hidden=tuple(architecture["hidden"]))
        net.architecture_ = dict(architecture)
        net.layers_ = build_layers(net.architecture_)
        for k, layer, p in _param_names(net.layers_):
            arr = np.asarray(tensors[k], dtype=F32)
            if arr.shape != getattr(layer, p).shape:
                raise ValueError(f"tensor {k} has shape {arr.shape}, expected {getattr(layer, p).shape}")
            setattr(layer, p, arr)
        net.history_ = []
        return net

    # -- internals --------------------------------------------------------------------
    def _forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        for layer in self.layers_:
            x = layer.forward(x, train)
        return x

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, F32)
        if X.ndim == 3:
            X = X[..., None]
        outs = [softmax(self._forward(X[s:s + 512], train=False)) for s in range(0, len(X), 512)]
        if not outs:
            return np.zeros((0, self.architecture_["n_classes"]), F32)
        return np.concatenate(outs, axis=0)

    def _loss_grad(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, np.ndarray]:
        logits = self._forward(xb, train=True)
        p = softmax(logits)
        rows = np.arange(len(yb))
        loss = float(-np.log(np.maximum(p[rows, yb], F32(1e-12))).mean())
        d = p.copy()
        d[rows, yb] -= 1.0
        d /= F32(len(yb))
        return loss, d.astype(F32)
