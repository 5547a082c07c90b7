"""Sharded training of the text softmax: the same bytes whatever runs the tasks (issue 16).

* **The shard plan** (:func:`plan`): the rows a fit trains on, in dataset order, cut into K
  contiguous logical shards of as-equal-as-possible row counts (the first ``n % K`` one row
  longer). Each shard is a line range of the dataset file, with its byte range, row count and
  the sha256 of those bytes: it depends on the data and K alone.
* **The tasks** (:func:`run_shard`): one per shard and round, pure; an epoch is ROUNDS
  rounds. A task reads its byte range from disk (checking its sha256), featurizes its rows
  (cached per process), starts from the global weights of the rows its shard touches and runs
  sgd.sgd_pass over its part of the shard's epoch order: the order is seeded by (seed, epoch,
  shard index), never anything about the worker, and round r runs its r-th of ROUNDS
  consecutive parts. It returns the weights of the rows it touched, its bias and its summed loss.
* **The combination** (:func:`combine`), after every round: in shard order, by a fixed
  pairwise tree in float64. Each weight row a task changed becomes the global row plus the
  mean of the shards' changes to it (over the shards that changed it: a rare feature seen by
  one shard keeps its whole update); the bias, the mean over all shards. The round's step is
  that mean change plus MOMENTUM times the previous round's step (block momentum), then the
  model goes back to float32.

With K = 1 the single task runs exactly the sequence HashedSoftmax.fit runs (its row orders
come from the same sequential generator, its passes are cut into the same slices), so the
model is the same bytes as an unsharded fit. The executor (executors.py) only runs tasks.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from n3lang.training import sgd
from n3lang.training.dataset import loads_row
from n3lang.training.features import Csr
from n3lang.training.modes import RowContext, get_handler
from n3lang.training.text_model import epoch_entry

TEST_KILL_ENV = "N3_TEST_KILL_ONCE"  # tests only: a marker path; the first task to see it missing exits
_CACHE_ENTRIES = 4  # featurized shards kept per process (a worker usually sees the same shards again)
_COMBINE_ROWS = 16384  # weight rows combined at a time (bounds the float64 temporaries)
# tasks sent out at once: enough to keep a few workers busy, few enough that the driver's
# memory (each task's weight rows out, its result back) does not grow with the shard count
TASKS_PER_ROUND = 8
# synchronisations per epoch (K > 1): each shard's epoch order is cut into ROUNDS consecutive
# parts, one task per shard and part, combined after each part; and the block momentum of the
# combined steps (BlockMomentum; Chen & Huo's mu = 1 - 1/K for K = 4). Averaging K shards moves
# the shared weights 1/K as far as a sequential pass; momentum 0.75 builds the steps back up
# to about their sum, and short parts keep that near-linear. Debian sections, 4 shards, 5
# epochs, test accuracy (one shard 81.20%): 1 round: 78.84% plain mean, 79.78% momentum 0.5;
# 2 rounds, 0.75: 78.35%; 4 rounds: 80.42% (0.75), 80.71% (0.5); 8 rounds: 79.46% (no
# momentum), 80.96% (0.5), 81.55% (0.75); 16 rounds, 0.75: 81.77%; the changes summed instead
# of averaged (no momentum): 63.17% with 4 rounds, 76.61% with 16. 8 rounds cost 1.4x the build
# time of 1 in process (each round ships a shard's weight rows out and back); 16 rounds 1.8x.
ROUNDS = 8
MOMENTUM = 0.75


@dataclass(frozen=True)
class Shard:
    """One logical shard: lines [first_line, last_line] = bytes [byte_start, byte_end) of the file."""

    index: int
    first_line: int
    last_line: int
    byte_start: int
    byte_end: int
    rows: int
    sha256: str

    def to_json(self) -> dict:
        return {"index": self.index, "lines": [self.first_line, self.last_line],
                "bytes": [self.byte_start, self.byte_end], "rows": self.rows, "sha256": self.sha256}


@dataclass(frozen=True)
class Source:
    """Where the rows are read from, and how (the mode's handler checks each row's input)."""

    path: str
    display: str
    mode: str
    dataset_dir: str
    allow_absolute: bool


def plan(path: Path, row_lines: np.ndarray, k: int) -> list[Shard]:
    """The shard plan of the rows at line numbers ``row_lines`` (ascending) of the file at
    ``path``: one streaming pass over the file (line offsets and each range's sha256)."""
    row_lines = np.asarray(row_lines, dtype=np.int64)
    parts = [p for p in np.array_split(row_lines, k) if len(p)]  # K above the row count: fewer shards
    bounds = [(int(p[0]), int(p[-1]), len(p)) for p in parts]
    shards: list[Shard] = []
    with open(path, "rb") as fh:
        lineno, offset, at = 0, 0, 0
        hasher = None
        start = 0
        for line in iter(fh.readline, b""):
            lineno += 1
            if at < len(bounds) and lineno == bounds[at][0]:
                hasher, start = hashlib.sha256(), offset
            offset += len(line)
            if hasher is not None:
                hasher.update(line)
                first, last, n = bounds[at]
                if lineno == last:
                    shards.append(Shard(at, first, last, start, offset, n, hasher.hexdigest()))
                    hasher, at = None, at + 1
    if len(shards) != len(bounds):
        raise DatasetChanged(f"{path} changed while it was read: it has fewer lines than its rows")
    return shards


def plan_json(shards: list[Shard], k: int, snapshot: str) -> dict:
    """The plan as metadata records it."""
    return {"shards": k, "rule": "the rows in dataset order cut into K contiguous runs of as-equal-as-possible "
            "length (the first rows % K one longer)", "file_sha256": snapshot,
            "plan": [s.to_json() for s in shards]}


@dataclass
class Job:
    """One task: one shard, one round of an epoch. Everything it computes follows from these fields."""

    source: Source
    shard: Shard
    lines: np.ndarray          # line numbers of the shard's rows (ascending)
    y: np.ndarray              # their label ids
    settings: dict             # feature settings
    n_labels: int
    touched: np.ndarray | None  # the feature rows the shard touches (from its first task), or None
    w_rows: np.ndarray | None  # the global weights of those rows (float32), or None: all zero
    b: np.ndarray              # the global bias (float32)
    order: np.ndarray | None   # K = 1: the row order; else None and order_seed gives it
    order_seed: tuple | None   # (seed, epoch, shard index)
    span: tuple                # (start, stop): the positions of the epoch's order this task runs
    lr0: float
    step0: int
    total_steps: int
    margin: float
    slice_rows: int


@dataclass
class Result:
    touched: np.ndarray  # feature rows the shard touches (ascending, int64)
    w_rows: np.ndarray   # their weights after the pass (float32)
    b: np.ndarray
    loss: float


_cache: OrderedDict = OrderedDict()


class DatasetChanged(RuntimeError):
    """The dataset file is not what the driver read and planned (reported as training-failed)."""


def _read_inputs(source: Source, shard: Shard, lines: np.ndarray) -> list:
    """The checked inputs of the rows at ``lines``, read from the shard's byte range."""
    with open(source.path, "rb") as fh:
        fh.seek(shard.byte_start)
        raw = fh.read(shard.byte_end - shard.byte_start)
    if hashlib.sha256(raw).hexdigest() != shard.sha256:
        raise DatasetChanged(f"dataset {source.display} changed since training started (lines "
                           f"{shard.first_line}-{shard.last_line} differ)")
    handler = get_handler(source.mode)
    wanted = set(lines.tolist())
    inputs = []
    for i, line in enumerate(raw.split(b"\n")):
        lineno = shard.first_line + i
        if lineno not in wanted:
            continue
        if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if line.endswith(b"\r"):
            line = line[:-1]
        text = line.decode("utf-8")
        ctx = RowContext(source.display, lineno, text, Path(source.dataset_dir), source.allow_absolute)
        value, problems = handler.check_input(loads_row(text), ctx)
        if problems:  # the driver validated this row: the file changed under us
            raise DatasetChanged(f"dataset {source.display} line {lineno} changed since training started")
        inputs.append(value)
    if len(inputs) != len(lines):
        raise DatasetChanged(f"dataset {source.display} changed since training started")
    return inputs


def shard_features(source: Source, shard: Shard, lines: np.ndarray, settings: dict) -> tuple[Csr, np.ndarray]:
    """(the shard's features with columns renumbered 0.. over the feature rows it touches,
    those feature rows). Cached per process for a few shards."""
    key = (source.path, shard.sha256, shard.byte_start, hashlib.sha256(lines.tobytes()).hexdigest(),
           json.dumps(settings, sort_keys=True))
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    inputs = _read_inputs(source, shard, lines)
    X = get_handler(source.mode).featurize(inputs, Path(source.dataset_dir), settings)
    del inputs
    touched = np.unique(X.indices).astype(np.int64)
    compact = Csr(X.indptr, np.searchsorted(touched, X.indices).astype(np.int32), X.data, len(touched))
    _cache[key] = (compact, touched)
    while len(_cache) > _CACHE_ENTRIES:
        _cache.popitem(last=False)
    return compact, touched


def _test_hook() -> None:
    """Tests only: the first task to run after N3_TEST_KILL_ONCE names a missing file creates
    it and kills its own process (a worker lost mid-run; the task must be retried)."""
    marker = os.environ.get(TEST_KILL_ENV)
    if marker and not os.path.exists(marker):
        with open(marker, "w") as fh:
            fh.write(str(os.getpid()))
        os._exit(1)


def run_shard(job: Job) -> Result:
    """One shard's part of an epoch (pure: the same job gives the same bits anywhere)."""
    _test_hook()
    X, touched = shard_features(job.source, job.shard, job.lines, job.settings)
    if job.touched is not None and not np.array_equal(job.touched, touched):
        raise RuntimeError("a shard's features differ from its first task's")
    if job.w_rows is None:
        W = np.zeros((len(touched), job.n_labels), dtype=np.float32)
    else:
        W = np.array(job.w_rows, dtype=np.float32, copy=True)
    b = np.array(job.b, dtype=np.float32, copy=True)
    n = len(job.lines)
    if job.order is not None:
        order = np.asarray(job.order, dtype=np.int64)
    else:
        assert job.order_seed is not None
        order = np.random.default_rng(list(job.order_seed)).permutation(n)
    order = order[job.span[0]:job.span[1]]
    loss, step = 0.0, job.step0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, len(order), job.slice_rows):  # the slices HashedSoftmax.fit cuts (its loss sums)
            part = order[start:start + job.slice_rows]
            loss += sgd.sgd_pass(W, b, X, job.y, part, lr0=job.lr0, step0=step, total_steps=job.total_steps,
                                 margin=job.margin)
            step += len(part)
    return Result(touched, W, b, loss)


def tree_sum(parts: list) -> Any:
    """The sum of ``parts`` (in order) by the fixed pairwise tree Combiner uses: neighbours
    first ((0+1), (2+3), ...), then pairs of those, and so on; a leftover joins at the end,
    right to left. Computed with a stack of O(log K) partial sums, so leaves can stream in."""
    stack: list = []  # (leaves in it, partial sum)
    for p in parts:
        stack.append((1, p))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            (n, right), (_, left) = stack.pop(), stack.pop()
            stack.append((2 * n, left + right))
    total = stack.pop()[1]
    while stack:
        total = stack.pop()[1] + total
    return total


class _Partial:
    """A partial sum of shards' changes: the weight rows changed (ascending), the sum of the
    changes to them and how many shards changed each (float64), and the bias changes' sum.
    Rows absent from a partial count as a change of exactly 0, so the sparse sum has the bits
    of the dense one."""

    def __init__(self, rows: np.ndarray, dw: np.ndarray, count: np.ndarray, db: np.ndarray):
        self.rows, self.dw, self.count, self.db = rows, dw, count, db

    def __add__(self, other: "_Partial") -> "_Partial":
        # the union of two ascending row sets by a mask over the row numbers (faster than a sort)
        top = max([int(r[-1]) + 1 for r in (self.rows, other.rows) if len(r)], default=0)
        mask = np.zeros(top, dtype=bool)
        mask[self.rows] = True
        mask[other.rows] = True
        rows = np.flatnonzero(mask)
        at = np.cumsum(mask) - 1  # row number -> its position in rows
        dw = np.zeros((len(rows), self.dw.shape[1]), dtype=np.float64)
        count = np.zeros(len(rows), dtype=np.float64)
        a, b = at[self.rows], at[other.rows]
        dw[a] = self.dw
        count[a] = self.count
        dw[b] += other.dw
        count[b] += other.count
        return _Partial(rows, dw, count, self.db + other.db)


class Combiner:
    """Parameter averaging of one round's results, fed in shard order (a stream: a result can
    be dropped once added). Each weight row a shard changed moves by the mean of the shards'
    changes to it (over the shards that changed it); the bias by the mean over all shards.
    Sums in float64 by tree_sum's fixed tree; the model goes back to float32."""

    def __init__(self, W: np.ndarray, b: np.ndarray, momentum: "BlockMomentum | None" = None):
        self.W, self.b = W, b
        self.momentum = momentum
        self.n = 0
        self._stack: list = []
        self._only: Result | None = None

    def add(self, r: Result) -> None:
        self.n += 1
        self._only = r if self.n == 1 else None
        # only the rows the task moved count (a round's part of the order touches a part of
        # the shard's rows): the mean is over the shards that changed a row
        changed = np.flatnonzero(np.any(r.w_rows != self.W[r.touched], axis=1))
        rows = r.touched[changed]
        dw = r.w_rows[changed].astype(np.float64) - self.W[rows].astype(np.float64)
        leaf = _Partial(rows, dw, np.ones(len(changed)),
                        r.b.astype(np.float64) - self.b.astype(np.float64))
        self._stack.append((1, leaf))
        while len(self._stack) > 1 and self._stack[-1][0] == self._stack[-2][0]:
            (n, right), (_, left) = self._stack.pop(), self._stack.pop()
            self._stack.append((2 * n, left + right))

    def finish(self) -> None:
        """Write the combined model into W and b (in place)."""
        if self._only is not None:  # one shard: its weights are the model (what an unsharded fit computes)
            self.W[self._only.touched] = self._only.w_rows
            self.b[...] = self._only.b
            return
        total = self._stack.pop()[1]
        while self._stack:
            total = self._stack.pop()[1] + total
        steps = total.dw
        steps /= total.count[:, None]  # the mean change of each row, in place (no second copy)
        db = total.db / self.n
        if self.momentum is None:
            self.b[...] = (self.b.astype(np.float64) + db).astype(np.float32)
            for lo in range(0, len(total.rows), _COMBINE_ROWS):  # bounded float64 temporaries
                rows = total.rows[lo:lo + _COMBINE_ROWS]
                self.W[rows] = (self.W[rows].astype(np.float64) + steps[lo:lo + _COMBINE_ROWS]).astype(np.float32)
            return
        self.momentum.apply(self.W, self.b, total.rows, steps, db)


class BlockMomentum:
    """Block momentum (Chen & Huo 2016, "blockwise model-update filtering"): the round's step
    is the mean change plus ``mu`` times the previous step, all in float64. Averaging K shards
    moves the shared weights about as far as one shard's part (1/K of the sequential pace);
    momentum lets the steps build up towards the sequential pace (see MOMENTUM)."""

    def __init__(self, n_features: int, n_labels: int, mu: float):
        self.mu = float(mu)
        self.G = np.zeros((n_features, n_labels), dtype=np.float64)
        self.Gb = np.zeros(n_labels, dtype=np.float64)

    def apply(self, W: np.ndarray, b: np.ndarray, rows: np.ndarray, steps: np.ndarray, db: np.ndarray) -> None:
        self.Gb = self.mu * self.Gb + db
        b[...] = (b.astype(np.float64) + self.Gb).astype(np.float32)
        self.G *= self.mu
        self.G[rows] += steps
        for lo in range(0, len(W), _COMBINE_ROWS):  # every row: an untouched one still moves by mu * G
            W[lo:lo + _COMBINE_ROWS] = (W[lo:lo + _COMBINE_ROWS].astype(np.float64)
                                        + self.G[lo:lo + _COMBINE_ROWS]).astype(np.float32)


def combine(W: np.ndarray, b: np.ndarray, results: list[Result]) -> None:
    """Fold the shards' results (in shard order) into the global ``W`` and ``b`` in place."""
    c = Combiner(W, b)
    for r in results:
        c.add(r)
    c.finish()


def fit(trainer, source: Source, shards: list[Shard], row_lines: np.ndarray, y_rows: np.ndarray, executor,
        X_val: Csr | None = None, y_val: np.ndarray | None = None, val_rows: np.ndarray | None = None,
        progress=None):
    """Train the HashedSoftmax ``trainer`` on the rows at ``row_lines`` (targets ``y_rows``),
    cut into ``shards``, with ``executor`` running the tasks; sets what HashedSoftmax.fit sets
    (W_, b_, history_). Validation accuracy per epoch is measured here on ``X_val[val_rows]``."""
    L, n_epochs = trainer.n_labels, trainer.epochs
    settings = trainer.feature_settings()
    row_lines = np.asarray(row_lines, dtype=np.int64)
    y_rows = np.asarray(y_rows, dtype=np.int64)
    n = len(row_lines)
    W = np.zeros((trainer.n_features, L), dtype=np.float32)
    b = np.zeros(L, dtype=np.float32)
    rng = np.random.default_rng(trainer.seed)  # K = 1: HashedSoftmax.fit's sequence of orders
    single = len(shards) == 1
    cuts = np.cumsum([0] + [s.rows for s in shards])
    parts = [(row_lines[cuts[i]:cuts[i + 1]], y_rows[cuts[i]:cuts[i + 1]]) for i in range(len(shards))]
    touched: list = [None] * len(shards)
    momentum = None if single or MOMENTUM == 0 else BlockMomentum(trainer.n_features, L, MOMENTUM)
    measured = X_val is not None and y_val is not None and val_rows is not None and len(val_rows) > 0
    history: list[dict] = []
    rounds = 1 if single else ROUNDS
    for epoch in range(1, n_epochs + 1):
        loss_sum = 0.0
        orders = [rng.permutation(s.rows) if single else None for s in shards]
        for rnd in range(rounds):
            # the tasks go out TASKS_PER_ROUND at a time, so the driver holds a round's weights and
            # results, never K of them; every task of the round starts from the same W and b
            combiner = Combiner(W, b, momentum)
            for lo in range(0, len(shards), TASKS_PER_ROUND):
                jobs = []
                for s in shards[lo:lo + TASKS_PER_ROUND]:
                    lines, y = parts[s.index]
                    n_k = len(lines)
                    span = (n_k * rnd // rounds, n_k * (rnd + 1) // rounds)
                    jobs.append(Job(source, s, lines, y, settings, L, touched[s.index],
                                    None if touched[s.index] is None else W[touched[s.index]], b.copy(),
                                    orders[s.index], None if single else (trainer.seed, epoch, s.index), span,
                                    trainer.learning_rate, (epoch - 1) * n_k + span[0], max(1, n_epochs * n_k),
                                    trainer.margin, max(1, n_k // 50)))
                results = executor.map_ordered(run_shard, jobs)
                del jobs
                for s, r in zip(shards[lo:lo + TASKS_PER_ROUND], results):
                    touched[s.index] = r.touched.astype(np.int32)
                    loss_sum += r.loss
                    combiner.add(r)
                del results
            combiner.finish()
        if progress is not None:
            progress(epoch, n_epochs, n, loss_sum / max(n, 1))
        history.append(epoch_entry(epoch, loss_sum / max(n, 1), W, b, X_val if measured else None, y_val, val_rows))
    trainer.keep(W, b, history)
    return trainer


class Runner:
    """A run's sharded fits: the executor, the shard plans and what every task needs."""

    def __init__(self, plan, y_all: np.ndarray, executor):
        self.k = int(plan.cfg.shards or 1)
        self.data = plan.data
        self.y_all = y_all
        self.executor = executor
        self.source = Source(str(plan.dataset_path), plan.data.display, plan.cfg.mode, str(plan.dataset_path.parent),
                             Path(plan.cfg.dataset).is_absolute())
        self.recorded = plan.cfg.shards is not None  # the plan is in the metadata only when shards was given
        self._plans: dict = {}
        self.last: list[Shard] = []

    @classmethod
    def start(cls, plan, trainer, y_all: np.ndarray) -> "Runner | None":
        """A Runner when the run trains sharded (``shards`` given or ``executor: dask``, and a
        text softmax to train), else None (the unsharded fit)."""
        from n3lang.training import executors

        if getattr(trainer, "kind", None) != "hashed-softmax":
            return None
        if plan.cfg.shards is None and plan.cfg.executor != "dask":
            return None
        return cls(plan, y_all, executors.make(plan.cfg.executor, plan.cfg.scheduler, plan.cfg.where("executor")))

    def close(self) -> None:
        self.executor.close()

    def shards_of(self, rows: np.ndarray) -> list[Shard]:
        key = hashlib.sha256(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()
        if key not in self._plans:
            self._plans[key] = plan(Path(self.source.path), self.data.lines[rows], self.k)
        return self._plans[key]

    def plan_json(self) -> dict:
        return plan_json(self.last, self.k, self.data.snapshot)

    def validation_features(self, val_rows: np.ndarray, settings: dict) -> Csr:
        """Features of every row where only ``val_rows`` have any (the rows the driver measures;
        the tasks featurize the rest)."""
        handler = get_handler(self.source.mode)
        X = handler.featurize([self.data.inputs[i] for i in val_rows], Path(self.source.dataset_dir), settings)
        lengths = np.zeros(len(self.data), dtype=np.int64)
        lengths[val_rows] = np.diff(X.indptr)
        indptr = np.zeros(len(self.data) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        return Csr(indptr, X.indices, X.data, X.n_features)

    def fit(self, trainer, rows: np.ndarray, X_val, y_val, val_rows, progress=None):
        """Train ``trainer`` on the dataset rows ``rows`` (ascending), measuring X_val[val_rows]."""
        from n3lang.training import errors

        rows = np.asarray(rows, dtype=np.int64)
        try:
            self.last = self.shards_of(rows)
            return fit(trainer, self.source, self.last, self.data.lines[rows], self.y_all[rows], self.executor,
                       X_val, y_val, val_rows, progress)
        except DatasetChanged as exc:
            raise errors.fail(errors.TRAINING_FAILED, f"{exc}; nothing was written", self.source.display,
                              fix="Leave the dataset file alone while a model trains on it, then train again.") from None
