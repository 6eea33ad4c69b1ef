"""Running sweep jobs on dask.distributed: a LocalCluster by default, or an existing cluster.

`dask_client` yields a connected ``distributed.Client``: to the scheduler at ``address`` when one
is given (its workers must have accelgen and the FPGA tools installed), otherwise to a new
``LocalCluster`` of worker *processes* (one thread each: the jobs are CPU-bound Python and
subprocesses) that is shut down on exit. `run_jobs` submits one task per item and returns the
results in item order, whatever order they finish in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from typing import Any, Callable, Iterator, Sequence

__all__ = ["ClusterError", "dask_client", "default_workers", "describe", "run_jobs"]

#: Seconds to wait for a scheduler given by address.
CONNECT_TIMEOUT = 15


class ClusterError(RuntimeError):
    """The cluster cannot be reached or started; the message is one line."""


def default_workers() -> int:
    return os.cpu_count() or 1


@contextlib.contextmanager
def dask_client(address: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for the duration of the ``with`` block.

    Parameters
    ----------
    address : str, optional
        A running scheduler (e.g. ``tcp://10.0.0.5:8786``). Without it, a LocalCluster is
        started.
    workers : int, optional
        Worker processes of the LocalCluster (default: the CPU count). Ignored with ``address``.

    Raises
    ------
    ClusterError
        When the scheduler cannot be reached or the cluster does not start.
    """
    from distributed import Client, LocalCluster

    if address is not None:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot connect to the Dask scheduler at {address!r}: "
                               f"{' '.join(str(exc).split())[:200]}") from None
        with client:
            yield client
        return
    n = workers if workers is not None else default_workers()
    try:
        # ":0": the scheduler's HTTP endpoint on a free port, not the (often busy) 8787.
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    except Exception as exc:  # whatever stops it, the user gets one line
        raise ClusterError(f"cannot start a Dask LocalCluster of {n} workers: "
                           f"{' '.join(str(exc).split())[:200]}") from None
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def describe(client: Any) -> str:
    """``"LocalCluster, 2 workers"`` or ``"scheduler tcp://..., 8 workers"``."""
    workers = len(client.scheduler_info().get("workers", {}))
    cluster = getattr(client, "cluster", None)
    where = (type(cluster).__name__ if cluster is not None
             else f"scheduler {client.scheduler.address}")
    return f"{where}, {workers} worker{'s' if workers != 1 else ''}"


def run_jobs(client: Any, function: Callable, items: Sequence, *args: Any,
             on_result: Callable[[int, Any], None] | None = None) -> list:
    """``[function(item, *args) for item in items]``, each call a task on ``client``'s cluster.

    ``on_result(index, result)`` is called as each task finishes (in finishing order). A task
    that raises (or whose worker dies) yields the exception object as its result instead of
    stopping the others.
    """
    from distributed import as_completed

    token = uuid.uuid4().hex[:12]  # keys unique on a scheduler that other sweeps share
    futures = [client.submit(function, item, *args, pure=False, key=f"sweep-{token}-{i}")
               for i, item in enumerate(items)]
    index = {future.key: i for i, future in enumerate(futures)}
    results: list = [None] * len(futures)
    for future in as_completed(futures):
        i = index[future.key]
        try:
            results[i] = future.result()
        except Exception as exc:
            results[i] = exc
        if on_result is not None:
            on_result(i, results[i])
    return results
