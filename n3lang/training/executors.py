"""Where training tasks run: an executor maps a pure function over items, in item order.

The seam is one method, ``map_ordered(fn, items) -> list``: the results come back in the
order of ``items``. An executor never seeds, shuffles or reduces anything; n3lang does all
three (shards.py), so the bytes of a model do not depend on the executor or on which worker
ran which task. ``LocalExecutor`` runs in this process; ``DaskExecutor`` runs on a
dask.distributed cluster (``pip install 'n3lang[dask]'``). A Ray adapter would be one more
class with the same method.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Protocol, Sequence

from n3lang.training import errors

SCHEDULER_ENV = "N3_DASK_SCHEDULER"
LOCAL_CLUSTER = "local"  # `scheduler: local`: start a dask LocalCluster in this process (asked for explicitly)
INSTALL_HINT = "pip install 'n3lang[dask]'"
CONNECT_TIMEOUT = "10s"  # how long to try to reach a scheduler before the run stops


class Executor(Protocol):
    def map_ordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Runs each task in this process, one after another, in order."""

    name = "local"

    def map_ordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
        return [fn(item) for item in items]

    def close(self) -> None:
        pass


class DaskExecutor:
    """Runs tasks on a dask.distributed cluster: ``client.map`` then ``client.gather``, whose
    results are in item order. Tasks are submitted with ``pure=False`` (a unique key each), so a
    task whose worker died is computed again, never served from a stale key."""

    name = "dask"

    def __init__(self, client: Any, owned: tuple = ()):
        self.client = client
        self._owned = owned  # what this executor started (a LocalCluster), closed with it

    def map_ordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
        if not items:
            return []
        futures = self.client.map(fn, list(items), pure=False)
        try:
            return list(self.client.gather(futures))
        finally:
            for f in futures:
                f.release()

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
