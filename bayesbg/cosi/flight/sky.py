"""Sky components of the flight-like analysis: 2D Gaussians and point sources (Galactic).

A :class:`SkyComponent` is a sky model of unit total flux: a 2D Gaussian of widths
``(sigma_l, sigma_b)`` about ``(lon, lat)`` ([COSI-511] eq. 13; sampled on a Galactic
HEALPix grid by :func:`bayesbg.cosi.model.gaussian_sky`) or a point source
(:func:`bayesbg.cosi.model.point_source_sky`). The components of [COSI-511] 4.2:

- :func:`bulge`: a symmetric Gaussian at the Galactic centre, any width (the paper's best
  width is of order 10 deg, docs/equations.md section 1);
- :func:`thin_disk` and :func:`thick_disk`: Gaussians of longitudinal width 60 deg with
  the latitudinal extents of the disks the paper takes from Skinner et al. (2014) and
  Siegert et al. (2016a). The seed text of [COSI-511] lost both numbers. Siegert et al.
  (2016a, A&A 586, A84, abstract) fit the disk as a 2D Gaussian of ``60 (+10, -5)`` deg
  in longitude and ``10.5 (+2.5, -1.5)`` deg in latitude: :data:`THICK_DISK_SIGMA_B` is
  10.5 deg. For Skinner et al. (2014) we found no number; :data:`THIN_DISK_SIGMA_B` = 3
  deg is our choice for "a small latitudinal extent" (a few degrees, the scale height of
  the young stellar disk seen from the Sun), documented in ``docs/cosi.md``;
- :func:`point_source`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bayesbg.cosi.model.sky import gaussian_sky, point_source_sky

__all__ = [
    "DISK_SIGMA_L",
    "KINDS",
    "THICK_DISK_SIGMA_B",
    "THIN_DISK_SIGMA_B",
    "SkyComponent",
    "bulge",
    "point_source",
    "thick_disk",
    "thin_disk",
]

KINDS = ("gaussian", "point")
"""Kinds of sky component."""

DISK_SIGMA_L = 60.0
"""Longitudinal width of both disks, deg (Siegert et al. 2016a; [COSI-511] 4.2.2)."""
THICK_DISK_SIGMA_B = 10.5
"""Latitudinal width of the thick disk, deg (Siegert et al. 2016a, A&A 586, A84)."""
THIN_DISK_SIGMA_B = 3.0
"""Latitudinal width of the thin disk, deg: our choice for Skinner et al. (2014), whose
number the [COSI-511] seed lost (module docstring)."""


@dataclass(frozen=True)
class SkyComponent:
    """A sky model of unit total flux.

    Parameters
    ----------
    name : str
        Template name in datasets and fits (e.g. ``"bulge"``).
    kind : {"gaussian", "point"}
    lon, lat : float
        Centre or position, Galactic deg.
    sigma_l, sigma_b : float
        Gaussian widths, deg (ignored for a point source).
    """

    name: str
    kind: str = "gaussian"
    lon: float = 0.0
    lat: float = 0.0
    sigma_l: float = 10.0
    sigma_b: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name: expected a non-empty template name, found {self.name!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, found {self.kind!r}")
        for field in ("lon", "lat", "sigma_l", "sigma_b"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | float | np.floating) \
                    or not np.isfinite(value):
                raise ValueError(f"{field}: expected a finite number (deg), found {value!r}")
            object.__setattr__(self, field, float(value))
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"lat: expected a latitude in [-90, 90] deg, found {self.lat}")
        if self.kind == "gaussian" and (self.sigma_l <= 0 or self.sigma_b <= 0):
            raise ValueError(f"sigma_l, sigma_b: expected positive widths (deg), found "
                             f"{self.sigma_l}, {self.sigma_b}")

    def sky_points(self, *, nside: int = 32) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Galactic unit vectors and flux fractions (summing to 1) of the component.

        Parameters
        ----------
        nside : int
            HEALPix resolution of a Gaussian's sampling. Default is 32 (1.8 deg).

        Returns
        -------
        vectors : `numpy.ndarray`, shape (n_point, 3)
        fraction : `numpy.ndarray`, shape (n_point,)
        """
        if self.kind == "point":
            return point_source_sky(self.lon, self.lat)
        return gaussian_sky(sigma_l=self.sigma_l, sigma_b=self.sigma_b, lon=self.lon,
                            lat=self.lat, nside=nside)

    def with_width(self, sigma_l: float, sigma_b: float | None = None) -> SkyComponent:
        """The same Gaussian with other widths (``sigma_b`` defaults to ``sigma_l``), deg."""
        if self.kind != "gaussian":
            raise ValueError(f"{self.name}: a point source has no width")
        return SkyComponent(self.name, "gaussian", self.lon, self.lat, sigma_l,
                            sigma_l if sigma_b is None else sigma_b)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"name": self.name, "kind": self.kind, "lon": self.lon, "lat": self.lat,
                "sigma_l": self.sigma_l, "sigma_b": self.sigma_b}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SkyComponent:
        """Inverse of :meth:`to_dict`."""
        return cls(**values)


def bulge(sigma: float = 10.0, *, name: str = "bulge") -> SkyComponent:
    """Symmetric 2D Gaussian bulge of width ``sigma`` deg at the Galactic centre."""
    return SkyComponent(name, "gaussian", 0.0, 0.0, sigma, sigma)


def thin_disk(*, name: str = "thin_disk") -> SkyComponent:
    """Thin disk: ``sigma_l = 60``, ``sigma_b = 3`` deg (:data:`THIN_DISK_SIGMA_B`)."""
    return SkyComponent(name, "gaussian", 0.0, 0.0, DISK_SIGMA_L, THIN_DISK_SIGMA_B)


def thick_disk(*, name: str = "thick_disk") -> SkyComponent:
    """Thick disk: ``sigma_l = 60``, ``sigma_b = 10.5`` deg (Siegert et al. 2016a)."""
    return SkyComponent(name, "gaussian", 0.0, 0.0, DISK_SIGMA_L, THICK_DISK_SIGMA_B)


def point_source(lon: float, lat: float, *, name: str = "point_source") -> SkyComponent:
    """Point source at Galactic ``(lon, lat)`` deg."""
    return SkyComponent(name, "point", lon, lat, 0.0, 0.0)
