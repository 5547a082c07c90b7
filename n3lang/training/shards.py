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
  consecutive parts (a shard not cached in the process is featurized a part at a time). It
  returns the weights of the rows its part changed, its bias and its summed loss.
* **The combination** (:func:`combine`), after every round: in shard order, in float64 and a
  fixed order (a pairwise tree within each block of 4 shards, the blocks added left to
  right). Each weight row a task changed becomes the global row plus the mean of the shards'
  changes to it (over the shards that changed it: a rare feature seen by one shard keeps its
  whole update); the bias, the mean over all shards. The round's step is that mean change
  plus MOMENTUM times the previous round's step (block momentum), then the model goes back to
  float32.
* **The validation rows** (:class:`ShardedRows`): cut into shards of their own (about the
  training shards' size) and measured by tasks too (:func:`measure_shard`): each returns its
  rows' predicted labels, or logits, or the stored model's predictions, computed by the same
  functions on the same values as in one process, so the bits are the same. The driver never
  holds the inputs or the features of the dataset: its memory grows with the model, the rows'
  targets and line numbers, and one number (or one row of logits) per validation row.

The executor hands results back in order as they come (executors.py), and the driver folds
each one into the round's Combiner at once: it holds a window of tasks, never K of them.

With K = 1 the single task runs exactly the sequence HashedSoftmax.fit runs (its row orders
come from the same sequential generator, its passes are cut into the same slices), so the
model is the same bytes as an unsharded fit. The executor (executors.py) only runs tasks.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from n3lang.training import dataset, sgd
from n3lang.training.features import Csr
from n3lang.training.text_model import HashedSoftmax, epoch_entry

TEST_KILL_ENV = "N3_TEST_KILL_ONCE"  # tests only: a marker path; the first task to see it missing exits
_CACHE_ENTRIES = 4  # featurized shards kept per process: its memory is a few shards, whatever the data
_COMBINE_ROWS = 16384  # weight rows combined at a time (bounds the float64 temporaries)
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

    source: dataset.Source
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
    w_rows: np.ndarray   # the weights after the pass of touched[changed] (float32)
    b: np.ndarray
    loss: float
    # positions in ``touched`` of the rows the pass changed (a round's part of the shard moves
    # some of them: only those travel back), or None: w_rows holds every touched row
    changed: np.ndarray | None = None


_cache: dict = {}  # featurized shards of this process (_remember)


class DatasetChanged(RuntimeError):
    """The dataset file is not what the driver read and planned (reported as training-failed)."""


def _read_inputs(source: dataset.Source, shard: Shard, lines: np.ndarray) -> list:
    """The checked inputs of the rows at ``lines``, read from the shard's byte range."""
    with open(source.path, "rb") as fh:
        fh.seek(shard.byte_start)
        raw = fh.read(shard.byte_end - shard.byte_start)
    if hashlib.sha256(raw).hexdigest() != shard.sha256:
        raise DatasetChanged(f"dataset {source.display} changed since training started (lines "
                             f"{shard.first_line}-{shard.last_line} differ)")
    wanted = set(lines.tolist())
    inputs = []
    for i, line in enumerate(raw.split(b"\n")):
        lineno = shard.first_line + i
        if lineno not in wanted:
            continue
        try:
            row = dataset.reparse(line, lineno, source)
        except (UnicodeDecodeError, ValueError):
            row = None
        if row is None:  # the driver validated this row: the file changed under us
            raise DatasetChanged(f"dataset {source.display} line {lineno} changed since training started")
        inputs.append(row[0])
    if len(inputs) != len(lines):
        raise DatasetChanged(f"dataset {source.display} changed since training started")
    return inputs


def _key(source: dataset.Source, shard: Shard, lines: np.ndarray, settings: dict) -> tuple:
    return (str(source.path), shard.sha256, shard.byte_start, hashlib.sha256(lines.tobytes()).hexdigest(),
            json.dumps(settings, sort_keys=True))


def shard_features(source: dataset.Source, shard: Shard, lines: np.ndarray, settings: dict) -> tuple[Csr, np.ndarray]:
    """(the shard's features with columns renumbered 0.. over the feature rows it touches,
    those feature rows). Cached per process for a few shards."""
    key = _key(source, shard, lines, settings)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    inputs = _read_inputs(source, shard, lines)
    X = source.handler.featurize(inputs, source.path.parent, settings)
    del inputs
    touched = np.unique(X.indices).astype(np.int64)
    compact = Csr(X.indptr, np.searchsorted(touched, X.indices).astype(np.int32), X.data, len(touched))
    _remember(key, (compact, touched))
    return compact, touched


def part_features(job: "Job", rows: np.ndarray) -> Csr:
    """The features of the shard's rows ``rows`` (ascending positions in the shard) alone,
    with the columns its whole-shard features have (renumbered over ``job.touched``): what a
    round needs when its shard is not cached here, at 1/ROUNDS of featurizing the shard."""
    assert job.touched is not None
    inputs = _read_inputs(job.source, job.shard, job.lines[rows])
    X = job.source.handler.featurize(inputs, job.source.path.parent, job.settings)
    touched = np.asarray(job.touched, dtype=np.int64)
    columns = np.searchsorted(touched, X.indices)
    if len(columns) and (columns.max() >= len(touched) or not np.array_equal(touched[columns], X.indices)):
        raise RuntimeError("a shard's features differ from its first task's")
    return Csr(X.indptr, columns.astype(np.int32), X.data, len(touched))


def _room_for(key: tuple) -> bool:
    """Whether _remember would keep an entry under ``key``."""
    family = (key[0], key[-1])
    return len(_cache) < _CACHE_ENTRIES or any((k[0], k[-1]) != family for k in _cache)


def _remember(key: tuple, value: tuple) -> None:
    """Keep a featurized shard if there is room. A process sees its shards in a cycle (each
    epoch, in shard order), where evicting the least recently used misses every time once it
    has more shards than _CACHE_ENTRIES; so entries stay until they are stale (another file or
    other feature settings: a finished search phase) and a shard that finds no room is not
    kept: with S shards per process, min(S, _CACHE_ENTRIES) of them are featurized once (the
    others, a round's part at a time: part_features)."""
    if not _room_for(key):
        return
    if len(_cache) >= _CACHE_ENTRIES:
        family = (key[0], key[-1])
        del _cache[next(k for k in _cache if (k[0], k[-1]) != family)]
    _cache[key] = value


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
    n = len(job.lines)
    if job.order is not None:
        order = np.asarray(job.order, dtype=np.int64)
    else:
        assert job.order_seed is not None
        order = np.random.default_rng(list(job.order_seed)).permutation(n)
    order = order[job.span[0]:job.span[1]]
    y = job.y
    key = _key(job.source, job.shard, job.lines, job.settings)
    if key not in _cache and job.touched is not None and not _room_for(key):
        # not cached and no room: featurize this round's rows only (the same features and
        # columns as the whole shard's, so the same bits)
        rows = np.sort(order)
        X, touched = part_features(job, rows), np.asarray(job.touched, dtype=np.int64)
        order, y = np.searchsorted(rows, order), np.asarray(job.y)[rows]
    else:
        X, touched = shard_features(job.source, job.shard, job.lines, job.settings)
        if job.touched is not None and not np.array_equal(job.touched, touched):
            raise RuntimeError("a shard's features differ from its first task's")
    if job.w_rows is None:
        given = np.zeros((len(touched), job.n_labels), dtype=np.float32)
    else:
        given = np.asarray(job.w_rows, dtype=np.float32)
    W = given.copy()
    b = np.array(job.b, dtype=np.float32, copy=True)
    loss, step = 0.0, job.step0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, len(order), job.slice_rows):  # the slices HashedSoftmax.fit cuts (its loss sums)
            part = order[start:start + job.slice_rows]
            loss += sgd.sgd_pass(W, b, X, y, part, lr0=job.lr0, step0=step, total_steps=job.total_steps,
                                 margin=job.margin)
            step += len(part)
    changed = np.flatnonzero(np.any(W != given, axis=1))
    return Result(touched, W[changed], b, loss, changed)


class RowSet:
    """A set of weight rows kept as a bitmap: the driver remembers every shard's touched rows,
    and a bit per row keeps that to n_features / 8 bytes a shard (an int array was up to 4
    bytes a row: 600 KB a Debian shard), whatever K."""

    def __init__(self, rows: np.ndarray):
        rows = np.asarray(rows, dtype=np.int64)
        mask = np.zeros(int(rows[-1]) + 1 if len(rows) else 0, dtype=bool)
        mask[rows] = True
        self._bits = np.packbits(mask)

    def rows(self) -> np.ndarray:
        """The rows, ascending (int64)."""
        return np.flatnonzero(np.unpackbits(self._bits))


def tree_sum(parts: list) -> Any:
    """The sum of ``parts`` (in order) by the fixed pairwise tree Combiner uses within a block:
    neighbours first ((0+1), (2+3), ...), then pairs of those, and so on; a leftover joins at
    the end, right to left. Computed with a stack of partial sums, so leaves can stream in."""
    stack: list = []  # (leaves in it, partial sum)
    for p in parts:
        _push(stack, p)
    return _close(stack)


def _push(stack: list, leaf: Any) -> None:
    stack.append((1, leaf))
    while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
        (n, right), (_, left) = stack.pop(), stack.pop()
        stack.append((2 * n, left + right))


def _close(stack: list) -> Any:
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

    def means(self):
        """(weight rows, their mean change) in blocks of _COMBINE_ROWS rows (bounded temporaries)."""
        for lo in range(0, len(self.rows), _COMBINE_ROWS):
            yield self.rows[lo:lo + _COMBINE_ROWS], self.dw[lo:lo + _COMBINE_ROWS] / self.count[lo:lo + _COMBINE_ROWS, None]


class _Sum:
    """The running sum of an epoch's blocks, dense over the weight rows (float64; made once a
    fit has more than one block): its memory is the model's, however many shards there are."""

    def __init__(self, n_features: int, n_labels: int):
        self.dw = np.zeros((n_features, n_labels), dtype=np.float64)
        self.count = np.zeros(n_features, dtype=np.float64)
        self.db = np.zeros(n_labels, dtype=np.float64)

    def add(self, p: _Partial) -> None:
        self.dw[p.rows] += p.dw
        self.count[p.rows] += p.count
        self.db += p.db

    def means(self):
        rows = np.flatnonzero(self.count)
        for lo in range(0, len(rows), _COMBINE_ROWS):
            part = rows[lo:lo + _COMBINE_ROWS]
            yield part, self.dw[part] / self.count[part, None]

    def clear(self) -> None:
        self.dw.fill(0.0)
        self.count.fill(0.0)
        self.db.fill(0.0)


class Combiner:
    """Parameter averaging of one round's results, fed in shard order (a stream: a result can
    be dropped once added). Each weight row a shard changed moves by the mean of the shards'
    changes to it (over the shards that changed it); the bias by the mean over all shards.
    Sums in float64 in a fixed order: each block of BLOCK consecutive shards by tree_sum's
    pairwise tree, the blocks then added in order into one dense sum (_Sum). A pairwise tree
    over all K shards would keep log2 K partial sums alive, each up to the size of the model,
    so the driver's memory would grow with the data; this keeps one block and one sum. The
    model goes back to float32. One Combiner serves every round of a fit (finish() resets it)."""

    BLOCK = 4

    def __init__(self, W: np.ndarray, b: np.ndarray, momentum: "BlockMomentum | None" = None):
        self.W, self.b = W, b
        self.momentum = momentum
        self._sum: _Sum | None = None
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self._stack: list = []
        self._blocks = 0
        self._first: _Partial | None = None
        self._only: Result | None = None
        if self._sum is not None:
            self._sum.clear()

    def add(self, r: Result) -> None:
        self.n += 1
        self._only = r if self.n == 1 else None
        # only the rows the task moved count (a round's part of the order touches a part of
        # the shard's rows): the mean is over the shards that changed a row
        if r.changed is None:
            changed = np.flatnonzero(np.any(r.w_rows != self.W[r.touched], axis=1))
            moved = r.w_rows[changed]
        else:
            changed, moved = r.changed, r.w_rows
        rows = r.touched[changed]
        dw = moved.astype(np.float64) - self.W[rows].astype(np.float64)
        leaf = _Partial(rows, dw, np.ones(len(changed)), r.b.astype(np.float64) - self.b.astype(np.float64))
        _push(self._stack, leaf)
        if self.n % self.BLOCK == 0:
            self._end_block()

    def _end_block(self) -> None:
        block = _close(self._stack)
        self._blocks += 1
        if self._blocks == 1:  # kept sparse until a second block comes (K <= BLOCK: never dense)
            self._first = block
            return
        if self._sum is None:
            self._sum = _Sum(*self.W.shape)
        if self._first is not None:  # the second block: the first joins the sum
            self._sum.add(self._first)
            self._first = None
        self._sum.add(block)

    def finish(self) -> None:
        """Write the averaged model into W and b (in place), and start the next epoch."""
        if self._only is not None:  # one shard: its weights are the model (what an unsharded fit computes)
            only = self._only
            self.W[only.touched if only.changed is None else only.touched[only.changed]] = only.w_rows
            self.b[...] = self._only.b
            self._reset()
            return
        if self._stack:
            self._end_block()
        total = self._first if self._blocks == 1 else self._sum
        self._first = None
        assert total is not None
        if self.momentum is None:
            self.b[...] = (self.b.astype(np.float64) + total.db / self.n).astype(np.float32)
            for rows, mean in total.means():
                self.W[rows] = (self.W[rows].astype(np.float64) + mean).astype(np.float32)
        else:
            self.momentum.apply(self.W, self.b, total, self.n)
        self._reset()


class BlockMomentum:
    """Block momentum (Chen & Huo 2016, "blockwise model-update filtering"): the round's step
    is the mean change plus ``mu`` times the previous step, all in float64. Averaging K shards
    moves the shared weights about as far as one shard's part (1/K of the sequential pace);
    momentum lets the steps build up towards the sequential pace (see MOMENTUM)."""

    def __init__(self, n_features: int, n_labels: int, mu: float):
        self.mu = float(mu)
        self.G = np.zeros((n_features, n_labels), dtype=np.float64)
        self.Gb = np.zeros(n_labels, dtype=np.float64)

    def apply(self, W: np.ndarray, b: np.ndarray, total: "_Partial | _Sum", n: int) -> None:
        self.Gb = self.mu * self.Gb + total.db / n
        b[...] = (b.astype(np.float64) + self.Gb).astype(np.float32)
        self.G *= self.mu
        for rows, mean in total.means():
            self.G[rows] += mean
        for lo in range(0, len(W), _COMBINE_ROWS):  # every row: an untouched one still moves by mu * G
            W[lo:lo + _COMBINE_ROWS] = (W[lo:lo + _COMBINE_ROWS].astype(np.float64)
                                        + self.G[lo:lo + _COMBINE_ROWS]).astype(np.float32)


def combine(W: np.ndarray, b: np.ndarray, results: list[Result]) -> None:
    """Fold the shards' results (in shard order) into the global ``W`` and ``b`` in place."""
    c = Combiner(W, b)
    for r in results:
        c.add(r)
    c.finish()


def fit(trainer, source: dataset.Source, shards: list[Shard], row_lines: np.ndarray, y_rows: np.ndarray, executor,
        measure: "ShardedRows | None" = None, y_val: np.ndarray | None = None, progress=None):
    """Train the HashedSoftmax ``trainer`` on the rows at ``row_lines`` (targets ``y_rows``),
    cut into ``shards``, with ``executor`` running the tasks; sets what HashedSoftmax.fit sets
    (W_, b_, history_). Validation accuracy per epoch is that of ``measure``'s rows (targets
    ``y_val``)."""
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
    rounds = 1 if single else ROUNDS
    history: list[dict] = []

    def job(s: Shard, epoch: int, rnd: int, order) -> Job:
        lines, y = parts[s.index]
        n_k = len(lines)
        rows = None if touched[s.index] is None else touched[s.index].rows()
        span = (n_k * rnd // rounds, n_k * (rnd + 1) // rounds)
        return Job(source, s, lines, y, settings, L, rows, None if rows is None else W[rows], b.copy(),
                   order, None if single else (trainer.seed, epoch, s.index), span,
                   trainer.learning_rate, (epoch - 1) * n_k + span[0], max(1, n_epochs * n_k), trainer.margin,
                   max(1, n_k // 50))

    combiner = Combiner(W, b, momentum)
    for epoch in range(1, n_epochs + 1):
        loss_sum = 0.0
        orders = [rng.permutation(s.rows) if single else None for s in shards]
        for rnd in range(rounds):
            # jobs are made as the executor asks for them and each result is folded as it comes
            # back, in shard order: the driver holds a window of tasks, never K of them; every
            # task of the round starts from the same W and b (W changes only in finish())
            results = executor.map_ordered(run_shard, (job(s, epoch, rnd, orders[s.index]) for s in shards))
            for s, r in zip(shards, results):
                if touched[s.index] is None:  # a shard's rows are its first task's (run_shard checks)
                    touched[s.index] = RowSet(r.touched)
                loss_sum += r.loss
                combiner.add(r)
                del r
            combiner.finish()
        if progress is not None:
            progress(epoch, n_epochs, n, loss_sum / max(n, 1))
        history.append(epoch_entry(epoch, loss_sum / max(n, 1), W, b, measure, y_val))
    trainer.keep(W, b, history)
    return trainer


@dataclass
class MeasureJob:
    """One validation shard measured with given weights (``w_rows`` None: only featurize it)."""

    source: dataset.Source
    shard: Shard
    lines: np.ndarray
    settings: dict
    want: str                  # "predicted" | "logits" | "stored" (the stored model's (ids, confidence))
    touched: np.ndarray | None
    w_rows: np.ndarray | None  # float32 (predicted, logits) or the stored float16 rows
    b: np.ndarray | None
    config: dict | None        # the stored model's trainer config ("stored")


def measure_shard(job: MeasureJob) -> tuple:
    """(the feature rows the shard touches, what ``job.want`` asks for): the same functions
    on the same values as HeldRows and the driver's evaluation, so the same bits."""
    _test_hook()
    X, touched = shard_features(job.source, job.shard, job.lines, job.settings)
    if job.w_rows is None:
        return touched, None
    if job.touched is not None and not np.array_equal(job.touched, touched):
        raise RuntimeError("a shard's features differ from its first task's")
    rows = np.arange(len(X), dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if job.want == "stored":
            assert job.config is not None
            model = HashedSoftmax.from_tensors({"rows": np.arange(len(touched)), "weights": job.w_rows,
                                                "bias": job.b}, {**job.config, "n_features": len(touched)})
            proba = model.predict_proba(X)
            ids = proba.argmax(axis=1)
            return touched, (ids, proba[np.arange(len(ids)), ids])
        assert job.b is not None
        z = sgd.logits(job.w_rows, job.b, X, rows)
        return touched, (z.argmax(axis=1) if job.want == "predicted" else z)


class ShardedRows:
    """Validation rows measured by tasks (the sharded counterpart of text_model.HeldRows): cut
    into shards of about ``rows_per_shard`` rows, featurized once by a first round of tasks
    (which tells the driver the feature rows each touches), then measured on demand."""

    def __init__(self, runner: "Runner", rows: np.ndarray, settings: dict, rows_per_shard: int):
        self.runner, self.settings = runner, settings
        rows = np.asarray(rows, dtype=np.int64)
        k = max(1, -(-len(rows) // max(1, rows_per_shard)))
        self.shards = runner.shards_of(rows, k)
        lines = runner.data.lines[rows]
        cuts = np.cumsum([0] + [s.rows for s in self.shards])
        self.lines = [lines[cuts[i]:cuts[i + 1]] for i in range(len(self.shards))]
        self.touched = [RowSet(t) for t, _ in self._map("predicted", None, None)]

    def _map(self, want: str, weights, b, config: dict | None = None):
        def job(s: Shard) -> MeasureJob:
            rows = None if weights is None else self.touched[s.index].rows()
            return MeasureJob(self.runner.source, s, self.lines[s.index], self.settings, want, rows,
                              None if rows is None else weights[rows], b, config)

        jobs = (job(s) for s in self.shards)
        return self.runner.run(measure_shard, jobs)

    def predicted(self, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([r for _, r in self._map("predicted", W, b)])

    def logits(self, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        parts = [r for _, r in self._map("logits", W, b)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def stored(self, model: HashedSoftmax) -> tuple[np.ndarray, np.ndarray]:
        """(label ids, probability of each) of the stored model (float16 weights, logit scale),
        what trainer._predict_validation computes in one process."""
        parts = [r for _, r in self._map("stored", model.W_, model.b_, model.config())]
        return (np.concatenate([ids for ids, _ in parts]).astype(np.int64),
                np.concatenate([conf for _, conf in parts]).astype(np.float64))


class Runner:
    """A run's sharded fits: the executor, the shard plans and what every task needs."""

    def __init__(self, plan, y_all: np.ndarray, executor):
        self.k = int(plan.cfg.shards or 1)
        self.data = plan.data
        self.y_all = y_all
        self.executor = executor
        self.source = plan.data.source
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

    def shards_of(self, rows: np.ndarray, k: int) -> list[Shard]:
        key = (hashlib.sha256(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest(), k)
        if key not in self._plans:
            self._plans[key] = self._guard(plan, self.source.path, self.data.lines[rows], k)
        return self._plans[key]

    def plan_json(self) -> dict:
        return plan_json(self.last, self.k, self.data.snapshot)

    def validation(self, rows: np.ndarray, train_rows: int, settings: dict) -> ShardedRows:
        """The validation ``rows`` measured by tasks, in shards as long as the training shards
        of ``train_rows`` rows."""
        return self._guard(ShardedRows, self, rows, settings, -(-train_rows // self.k))

    def run(self, fn, jobs) -> list:
        """``fn`` over ``jobs`` on the executor; the results in order."""
        return self._guard(lambda: list(self.executor.map_ordered(fn, jobs)))

    def fit(self, trainer, rows: np.ndarray, measure: ShardedRows | None, y_val, progress=None):
        """Train ``trainer`` on the dataset rows ``rows`` (ascending), measuring ``measure``'s rows."""
        rows = np.asarray(rows, dtype=np.int64)
        self.last = self.shards_of(rows, self.k)
        return self._guard(fit, trainer, self.source, self.last, self.data.lines[rows], self.y_all[rows],
                           self.executor, measure, y_val, progress)

    def _guard(self, fn, *args):
        """``fn(*args)``, a dataset that changed under the tasks reported as training-failed."""
        try:
            return fn(*args)
        except DatasetChanged as exc:
            raise self.source.changed(str(exc)) from None
