"""Sharded training on dask.distributed (issue 16): for a given shard count, model.bin and
metadata.json are the same bytes in this process, on a LocalCluster with one worker, with two
worker processes, and when a worker is killed mid-run and its task retried."""

from __future__ import annotations

import os

import pytest

from n3lang.diagnostics import DiagnosticError
from n3lang.training import executors, shards
from tests.training.test_sharded import project, train

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed: pip install 'n3lang[dask]'")


@pytest.fixture(scope="module")
def clusters():
    """{workers: scheduler address}: one LocalCluster with 1 worker process, one with 2."""
    made = {n: distributed.LocalCluster(n_workers=n, processes=True, threads_per_worker=1, dashboard_address=":0")
            for n in (1, 2)}
    try:
        yield {n: c.scheduler_address for n, c in made.items()}
    finally:
        for c in made.values():
            c.close()


def test_same_bytes_in_process_on_one_worker_and_on_two(tmp_path, clusters):
    proj = project(tmp_path)
    local = train(proj, shards=3, epochs=3)[:2]
    assert train(proj, shards=3, epochs=3, executor="dask", scheduler=clusters[1])[:2] == local
    assert train(proj, shards=3, epochs=3, executor="dask", scheduler=clusters[2])[:2] == local


def test_tasks_carrying_weight_rows_print_no_large_graph_warning(tmp_path, clusters):
    """Every task carries its shard's weight rows: dask's warning about large graphs (here made
    to fire at one byte) would print once per task."""
    import warnings

    import dask

    proj = project(tmp_path)
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1B"}), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(proj, shards=2, epochs=1, executor="dask", scheduler=clusters[1])
    assert not [w for w in caught if "large graph" in str(w.message)]


def test_search_and_refit_on_two_workers_are_the_local_bytes(tmp_path, clusters):
    proj = project(tmp_path)
    assert train(proj, shards=2, executor="dask", scheduler=clusters[2])[:2] == train(proj, shards=2)[:2]


def test_without_shards_dask_trains_the_unsharded_model(tmp_path, clusters):
    """executor: dask alone runs one shard on the cluster: the bytes of a plain local run."""
    proj = project(tmp_path)
    assert train(proj, epochs=2, executor="dask", scheduler=clusters[2])[:2] == train(proj, epochs=2)[:2]


def test_a_killed_worker_is_retried_with_the_same_bytes(tmp_path, clusters):
    proj = project(tmp_path)
    local = train(proj, shards=2, epochs=3)[:2]
    marker = tmp_path / "killed"
    with distributed.Client(clusters[2]) as client:
        pids = set(client.run(os.getpid).values())
        # a lambda travels by value (a bound method of os.environ would carry a copy of it)
        client.run(lambda: os.environ.update({shards.TEST_KILL_ENV: str(marker)}))
        try:
            assert train(proj, shards=2, epochs=3, executor="dask", scheduler=clusters[2])[:2] == local
        finally:
            client.run(lambda: os.environ.pop(shards.TEST_KILL_ENV, None))
        assert marker.is_file()  # a task did kill its worker ...
        assert int(marker.read_text()) in pids  # ... one of the cluster's processes, which the nanny restarted
        client.wait_for_workers(2, timeout=30)
        assert int(marker.read_text()) not in set(client.run(os.getpid).values())


def test_scheduler_local_starts_a_cluster_of_its_own(tmp_path):
    proj = project(tmp_path, 120)
    assert train(proj, shards=2, epochs=2, executor="dask", scheduler="local")[:2] == train(proj, shards=2, epochs=2)[:2]


def test_an_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "0.5s")
    with pytest.raises(DiagnosticError) as e:
        executors.connect("tcp://127.0.0.1:9")
    d = e.value.diagnostics[0]
    assert d.code == "training-failed"
    assert d.message.startswith("cannot reach the dask scheduler at tcp://127.0.0.1:9: ")
