"""Dask clients for work that outgrows one process (scans, SBC, many fits).

:func:`dask_client` gives a `dask.distributed.Client`: to a new
`~dask.distributed.LocalCluster` on this machine by default, or to a running scheduler
given by its address (a real cluster), or the client passed in. Dask's own INFO lines and
those of the libraries the workers drive (cmdstanpy) stay off the console
(`bayesbg.logs`); real problems (errors) still show.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bayesbg.logs import LIBRARY_LOGGERS, quiet_library_loggers

__all__ = ["dask_client"]

log = logging.getLogger(__name__)


def _route_to_session_log(names: tuple[str, ...]) -> None:
    """Dask configures its loggers (own console handler, no propagation) on import: raise
    those handlers to ERROR and let the records reach the session log."""
    for name in names:
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:
                handler.setLevel(max(handler.level, logging.ERROR))
        logger.propagate = True


@contextmanager
def dask_client(scheduler: Any = None, *, workers: int = 2, processes: bool = True
                ) -> Iterator[Any]:
    """Context manager yielding a Dask client; a cluster it made is closed afterwards.

    Parameters
    ----------
    scheduler : str, `dask.distributed.Client` or None
        None: a new local cluster of ``workers`` single-threaded workers; a string: the
        address of a running scheduler; a client: used as it is (not closed).
    workers : int
        Workers of a new local cluster. Default is 2.
    processes : bool
        Workers as processes (default) or threads of this process.

    Yields
    ------
    client : `dask.distributed.Client`
    """
    if hasattr(scheduler, "submit"):
        yield scheduler
        return
    from dask.distributed import Client, LocalCluster  # noqa: PLC0415 - heavy import

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    _route_to_session_log(("distributed", "bokeh", "tornado"))
    try:
        client.run(quiet_library_loggers, LIBRARY_LOGGERS)
    except Exception as err:  # noqa: BLE001 - a worker that cannot be quietened still works
        log.debug("could not quieten the workers' loggers: %s", err)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
