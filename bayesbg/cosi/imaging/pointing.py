"""Pointing history of a COSI observation: attitude and altitude per sub-pointing.

The imaging response needs what the binned dataset does not hold: where the instrument
looked during each time bin. A :class:`Pointing` lists sub-pointings (rotation from
instrument to Galactic unit vectors, altitude, live time and the time bin each belongs
to). :func:`balloon_pointing` regenerates the aspect of :func:`bayesbg.cosi.simulate_cosi`
from its seed (the simulator draws the aspect first from a fresh generator), so a
simulated dataset and its imaging response agree exactly.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from bayesbg.cosi.simulate import balloon_aspect

__all__ = ["Pointing", "balloon_pointing", "load_pointing"]

log = logging.getLogger(__name__)

_FORMAT = "bayesbg-cosi-pointing"
_HOUR = 3600.0  # s


@dataclass(frozen=True, eq=False)
class Pointing:
    """Sub-pointings of an observation.

    Parameters
    ----------
    rotation : array_like, shape (n_step, 3, 3)
        Rotation taking instrument unit vectors to Galactic ones (columns: the instrument
        axes in Galactic coordinates).
    altitude : array_like, shape (n_step,)
        Altitude, km.
    live_time : array_like, shape (n_step,)
        Live time of each sub-pointing, s.
    time_bin : array_like of int, shape (n_step,)
        0-based time bin of the dataset each sub-pointing belongs to.
    """

    rotation: NDArray[np.float64]
    altitude: NDArray[np.float64]
    live_time: NDArray[np.float64]
    time_bin: NDArray[np.int64]

    def __post_init__(self) -> None:
        rotation = np.asarray(self.rotation, dtype=np.float64)
        if rotation.ndim != 3 or rotation.shape[1:] != (3, 3):
            raise ValueError(f"rotation: expected shape (n_step, 3, 3), found {rotation.shape}")
        n_step = rotation.shape[0]
        if not np.allclose(np.einsum("kji,kjl->kil", rotation, rotation), np.eye(3),
                           atol=1e-6):
            raise ValueError("rotation: expected orthonormal matrices")
        values = {}
        for name in ("altitude", "live_time"):
            array = np.asarray(getattr(self, name), dtype=np.float64)
            if array.shape != (n_step,) or not np.all(np.isfinite(array)):
                raise ValueError(f"{name}: expected {n_step} finite values, found shape "
                                 f"{array.shape}")
            values[name] = array
        if np.any(values["live_time"] < 0):
            raise ValueError("live_time: expected non-negative seconds, found negatives")
        time_bin = np.asarray(self.time_bin)
        if time_bin.shape != (n_step,) or time_bin.dtype.kind not in "iu" or (
                n_step and time_bin.min() < 0):
            raise ValueError(f"time_bin: expected {n_step} non-negative integers")
        object.__setattr__(self, "rotation", rotation)
        object.__setattr__(self, "altitude", values["altitude"])
        object.__setattr__(self, "live_time", values["live_time"])
        object.__setattr__(self, "time_bin", time_bin.astype(np.int64))

    @property
    def n_step(self) -> int:
        """Number of sub-pointings."""
        return int(self.rotation.shape[0])

    @property
    def n_time(self) -> int:
        """Number of time bins covered (largest ``time_bin`` + 1)."""
        return int(self.time_bin.max()) + 1 if self.n_step else 0

    def write(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write to a netCDF4/HDF5 file, atomically.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        target = Path(path).expanduser().absolute()
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
        target.parent.mkdir(parents=True, exist_ok=True)
        ds = xr.Dataset(
            {"rotation": (("step", "galactic", "instrument"), self.rotation),
             "altitude": (("step",), self.altitude, {"units": "km"}),
             "live_time": (("step",), self.live_time, {"units": "s"}),
             "time_bin": (("step",), self.time_bin.astype(np.int32))},
            attrs={"format": _FORMAT, "format_version": 1},
        )
        partial = target.with_name(f".{target.name}.partial-{secrets.token_hex(4)}")
        try:
            ds.to_netcdf(partial, engine="h5netcdf")
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return target


def load_pointing(path: str | Path) -> Pointing:
    """Read a file written by :meth:`Pointing.write`.

    Raises
    ------
    FileNotFoundError, ValueError
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pointing file {path} does not exist")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        if ds.attrs.get("format") != _FORMAT:
            raise ValueError(f"format: expected a {_FORMAT!r} file, found "
                             f"{ds.attrs.get('format')!r}")
        return Pointing(rotation=ds["rotation"].values, altitude=ds["altitude"].values,
                        live_time=ds["live_time"].values, time_bin=ds["time_bin"].values)


def balloon_pointing(n_time: int, seed: int | ArrayLike, *, substeps: int = 4) -> Pointing:
    """The aspect :func:`bayesbg.cosi.simulate_cosi` used for a given integer seed.

    Parameters
    ----------
    n_time : int
        One-hour time bins of the simulation.
    seed : int
        The ``rng`` seed passed to ``simulate_cosi``.
    substeps : int
        Pointings per hour (``simulate_cosi``'s ``substeps``). Default is 4.

    Returns
    -------
    pointing : `Pointing`
    """
    if isinstance(seed, np.random.Generator):
        raise TypeError("seed: expected the integer seed given to simulate_cosi, found a "
                        "Generator (its state has moved on)")
    aspect = balloon_aspect(n_time, np.random.default_rng(seed), substeps=substeps)
    n_step = n_time * substeps
    return Pointing(rotation=aspect["rotation"], altitude=aspect["altitude"],
                    live_time=np.full(n_step, _HOUR / substeps),
                    time_bin=np.arange(n_step) // substeps)
