"""Run independent scan points through `dask.distributed`, resumably.

Every point of a scan (a background variant, a template width) is one independent fit.
:func:`run_points` sends the points that are not finished yet to a Dask cluster (a
`~dask.distributed.LocalCluster` by default, or a scheduler address), collects the results
as they complete (`~dask.distributed.as_completed`) and stores each as its own small JSON
file in a working directory, written atomically (temporary file + `os.replace`). A re-run
with the same working directory loads the finished points and fits only the others; a
point file written for different inputs (another dataset, other fit settings: a different
``fingerprint``) is ignored and the point fitted again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bayesbg.atomic import write_text_atomic
from bayesbg.parallel import dask_client

__all__ = ["PointRun", "fingerprint", "run_points"]

log = logging.getLogger(__name__)

POINT_SUFFIX = ".json"


@dataclass(frozen=True)
class PointRun:
    """Results of :func:`run_points`.

    Attributes
    ----------
    results : dict of str to dict
        Per point key, the JSON-ready result of the point function (in the order of the
        points given); a failed point holds ``{"error": message}``.
    fitted : tuple of str
        Keys of the points computed in this call (the others were loaded from files).
    """

    results: dict[str, dict[str, Any]]
    fitted: tuple[str, ...]


def fingerprint(*parts: Any) -> str:
    """SHA-256 over arrays (their bytes, dtype and shape) and JSON-ready values.

    Parameters
    ----------
    *parts
        `numpy.ndarray` objects or JSON-serialisable values.

    Returns
    -------
    digest : str
        Hexadecimal SHA-256.
    """
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            array = np.ascontiguousarray(part)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def run_points(
    function: Callable[[Any, Mapping[str, Any]], dict[str, Any]],
    points: Mapping[str, Mapping[str, Any]],
    *,
    shared: Any,
    work_dir: str | Path | None = None,
    fingerprint: str = "",
    overwrite: bool = False,
    scheduler: Any = None,
    workers: int = 2,
    processes: bool = True,
    show_progress: bool | None = None,
    description: str = "scan",
) -> PointRun:
    """Evaluate ``function(shared, point)`` for every point not finished yet, on Dask.

    Parameters
    ----------
    function : callable
        Module-level function (picklable) ``(shared, point) -> dict`` returning a
        JSON-ready result.
    points : mapping of str to mapping
        Point key (used as the file name, ``[A-Za-z0-9._-]`` only) to its JSON-ready
        parameters.
    shared : object
        Inputs common to all points (dataset, background model, ...); scattered to the
        workers once.
    work_dir : str or `~pathlib.Path`, optional
        Working directory for the finished points (``<key>.json`` each). Default: none
        (nothing stored, nothing resumed).
    fingerprint : str
        Identity of the inputs (see :func:`fingerprint`); stored with each point, and a
        point file with another fingerprint is not reused.
    overwrite : bool
        Delete the finished points of ``work_dir`` first. Default is False.
    scheduler : str or `dask.distributed.Client`, optional
        Address of a running Dask scheduler, or a client to use. Default: a local
        cluster of ``workers`` single-threaded workers.
    workers : int
        Workers of the local cluster. Default is 2.
    processes : bool
        Local workers as processes (True, the default) or threads of this process.
    show_progress : bool or None
        tqdm progress bar over finished points; None (default) shows it only when
        stderr is a terminal.
    description : str
        Label of the progress bar.

    Returns
    -------
    run : `PointRun`

    Raises
    ------
    ValueError
        On an invalid point key or number of workers.
    """
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    for key in points:
        if not key or any(not (c.isalnum() or c in "._-") for c in key):
            raise ValueError(f"points: key {key!r} must be non-empty, letters, digits, '._-'")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: expected a positive integer, found {workers!r}")
    directory = Path(work_dir) if work_dir is not None else None
    if directory is not None:
        if overwrite and directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True, exist_ok=True)
    done = {key: result for key, result in
            ((key, _load_point(directory, key, points[key], fingerprint)) for key in points)
            if result is not None}
    todo = [key for key in points if key not in done]
    log.info("%s: %d points, %d finished before, %d to fit", description, len(points),
             len(done), len(todo))
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    if todo:
        with dask_client(scheduler, workers=workers, processes=processes) as client:
            # a list, not the object: scatter treats a dict as {key: data}
            [shared_future] = client.scatter([shared], broadcast=True, hash=False)
            futures = {
                client.submit(_guarded, function, shared_future, dict(points[key]),
                              key=f"{description}-{key}-{secrets.token_hex(4)}",
                              pure=False): key
                for key in todo
            }
            with tqdm(total=len(points), initial=len(done), desc=description,
                      disable=not show_progress, unit="fit") as bar:
                for future in as_completed(futures):
                    key = futures[future]
                    result = future.result()
                    done[key] = result
                    if directory is not None and "error" not in result:
                        _store_point(directory, key, points[key], fingerprint, result)
                    elif "error" in result:
                        log.warning("%s: point %s failed: %s", description, key,
                                    result["error"])
                    bar.update(1)
    return PointRun(results={key: done[key] for key in points}, fitted=tuple(todo))


def _guarded(function: Callable[[Any, Mapping[str, Any]], dict[str, Any]], shared: Any,
             point: Mapping[str, Any]) -> dict[str, Any]:
    """Run one point; an exception becomes ``{"error": ...}`` so the scan goes on."""
    try:
        return function(shared, point)
    except Exception as err:  # noqa: BLE001 - reported per point, the scan continues
        return {"error": f"{type(err).__name__}: {err}"}


def _point_file(directory: Path, key: str) -> Path:
    return directory / f"{key}{POINT_SUFFIX}"


def _load_point(directory: Path | None, key: str, point: Mapping[str, Any],
                digest: str) -> dict[str, Any] | None:
    if directory is None:
        return None
    path = _point_file(directory, key)
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        log.warning("ignoring unreadable point file %s", path)
        return None
    if stored.get("fingerprint") != digest or stored.get("point") != _jsonable(point):
        log.info("point file %s was written for other inputs; fitting again", path)
        return None
    return dict(stored["result"])


def _store_point(directory: Path, key: str, point: Mapping[str, Any], digest: str,
                 result: Mapping[str, Any]) -> None:
    text = json.dumps({"fingerprint": digest, "point": _jsonable(point),
                       "result": _jsonable(result)}, indent=1)
    write_text_atomic(_point_file(directory, key), text + "\n")


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON, so stored and fresh points compare equal."""
    return json.loads(json.dumps(value, default=float))
