"""Where training tasks run: an executor maps a pure function over items, in item order.

The seam is one method, ``map_ordered(fn, items) -> iterator``: the results come back in
the order of ``items``, one at a time, and ``items`` is consumed lazily, so a caller that
folds each result as it comes holds a few tasks' inputs and results, never all of them. An executor never seeds, shuffles or reduces anything; n3lang does all
three (shards.py), so the bytes of a model do not depend on the executor or on which worker
ran which task. ``LocalExecutor`` runs in this process; ``DaskExecutor`` runs on a
dask.distributed cluster (``pip install 'n3lang[dask]'``). A Ray adapter would be one more
class with the same method.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Protocol

from n3lang.training import errors

SCHEDULER_ENV = "N3_DASK_SCHEDULER"
LOCAL_CLUSTER = "local"  # `scheduler: local`: start a dask LocalCluster in this process (asked for explicitly)
INSTALL_HINT = "pip install 'n3lang[dask]'"
CONNECT_TIMEOUT = "10s"  # how long to try to reach a scheduler before the run stops


class Executor(Protocol):
    def map_ordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Runs each task in this process, one after another, in order."""

    name = "local"

    def map_ordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator:
        return map(fn, items)

    def close(self) -> None:
        pass


class DaskExecutor:
    """Runs tasks on a dask.distributed cluster, a window at a time: at most WINDOW_PER_THREAD
    tasks per worker thread are submitted and not yet handed back, and results are handed back
    in item order (the oldest awaited first). So a worker holds a task or two, and the driver a
    window of inputs and results, however many tasks there are. Tasks are submitted with
    ``pure=False`` (a unique key each), so a task whose worker died is computed again, never
    served from a stale key."""

    name = "dask"
    WINDOW_PER_THREAD = 2  # one running, one queued behind it: no worker waits for the driver

    def __init__(self, client: Any, owned: tuple = ()):
        self.client = client
        self._owned = owned  # what this executor started (a LocalCluster), closed with it

    def window(self) -> int:
        threads = sum(self.client.nthreads().values())
        return max(2, self.WINDOW_PER_THREAD * threads)

    def map_ordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator:
        import dask

        window = self.window()
        pending: deque = deque()
        try:
            for item in items:
                # a task carries its shard's weight rows (tens of MB): dask's "large graph"
                # warning would print for every one; scattering them instead would lose them
                # with a dying worker, and its task could not be retried
                with dask.config.set({"distributed.admin.large-graph-warning-threshold": "2GiB"}):
                    pending.append(self.client.submit(fn, item, pure=False))
                if len(pending) >= window:
                    yield self._take(pending)
            while pending:
                yield self._take(pending)
        finally:  # a caller that stopped early (an error) leaves nothing running
            for f in pending:
                f.cancel()

    @staticmethod
    def _take(pending: deque) -> Any:
        future = pending.popleft()
        try:
            return future.result()
        finally:
            future.release()

    def close(self) -> None:
        for thing in (self.client, *self._owned):
            thing.close()


def _import_distributed(where: tuple):
    try:
        import distributed
    except ImportError:
        raise errors.fail(errors.CONFIG_INVALID, "`executor: dask` needs the dask.distributed package, which is "
                          "not installed", *where,
                          fix=f"Install it with `{INSTALL_HINT}`, or use `executor: local`.",
                          example=INSTALL_HINT) from None
    return distributed


def scheduler_address(scheduler: str | None) -> str | None:
    """The scheduler to use: the setting, else N3_DASK_SCHEDULER, else None."""
    return scheduler or os.environ.get(SCHEDULER_ENV) or None


def check(scheduler: str | None, where: tuple = ("<command line>",)) -> str:
    """The scheduler address `executor: dask` will use; DiagnosticError when there is none or
    dask.distributed is not installed (checked before any data is read)."""
    address = scheduler_address(scheduler)
    if address is None:
        raise errors.fail(errors.CONFIG_INVALID, "`executor: dask` needs a scheduler: set `scheduler: "
                          f"tcp://HOST:PORT` (or the {SCHEDULER_ENV} environment variable)", *where,
                          why="n3 does not start a cluster behind your back; `scheduler: local` starts one "
                              "in this process when that is what you want.",
                          fix="Start one with `dask scheduler` and `dask worker tcp://HOST:8786`, then set "
                              "`scheduler: tcp://HOST:8786`.",
                          example="scheduler: tcp://127.0.0.1:8786")
    _import_distributed(where)
    return address


def connect(scheduler: str | None, where: tuple = ("<command line>",)) -> DaskExecutor:
    """A DaskExecutor on the scheduler at ``scheduler`` (tcp://host:port), or on a new
    LocalCluster when it is ``local``. Raises DiagnosticError when there is no scheduler to
    use or it cannot be reached."""
    address = check(scheduler, where)
    distributed = _import_distributed(where)
    if address == LOCAL_CLUSTER:
        cluster = distributed.LocalCluster(processes=True, threads_per_worker=1, dashboard_address=":0")
        return DaskExecutor(distributed.Client(cluster), owned=(cluster,))
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise errors.fail(errors.TRAINING_FAILED, f"cannot reach the dask scheduler at {address}: {exc}", *where,
                          fix="Check that `dask scheduler` runs there and that the address (tcp://HOST:PORT) is "
                              "right.", example="dask scheduler --port 8786") from None
    return DaskExecutor(client)


def make(executor: str | None, scheduler: str | None, where: tuple = ("<command line>",)) -> Executor:
    """The executor a run's settings ask for (default: local)."""
    if executor in (None, "local"):
        return LocalExecutor()
    return connect(scheduler, where)
