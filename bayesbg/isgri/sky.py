"""Sky geometry of the ISGRI analysis: Galactic longitudes, angles, the BKG/GAL split, regions.

Directions are Galactic ``(l, b)`` in deg, longitudes wrapped into [-180, 180). The BKG
sky of [ISGRI] Appendix A is ``|l| >= 90`` or ``|b| >= 30`` deg (`is_background_sky`),
GAL the rest. A pointing belongs to a region (`SkyRegion`) when its axis lies in the
rectangle ([ISGRI] Table 1, note a): ``|wrap(l - l_center)| <= width / 2`` and
``|b - b_center| <= height / 2``, so a rectangle may straddle l = 180 deg.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CRAB",
    "CRAB_LB",
    "PAPER_REGIONS",
    "POINT_SOURCES",
    "SCO_X1",
    "PointSource",
    "SkyRegion",
    "angular_distance",
    "is_background_sky",
    "longitude_bins",
    "paper_regions",
    "wrap_longitude",
]

log = logging.getLogger(__name__)

CRAB_LB = (184.5575, -5.7843)
"""Galactic longitude and latitude of the Crab, deg."""


def wrap_longitude(longitude: ArrayLike) -> NDArray[np.float64]:
    """Galactic longitude wrapped into [-180, 180) deg.

    Parameters
    ----------
    longitude : array_like
        Longitude, deg.

    Returns
    -------
    wrapped : `numpy.ndarray`
        deg.
    """
    return (np.asarray(longitude, dtype=float) + 180.0) % 360.0 - 180.0


def angular_distance(
    l1: ArrayLike, b1: ArrayLike, l2: ArrayLike, b2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distance between directions (haversine formula).

    Parameters
    ----------
    l1, b1, l2, b2 : array_like
        Galactic coordinates, deg; broadcast together.

    Returns
    -------
    distance : `numpy.ndarray`
        deg.
    """
    l1, b1, l2, b2 = (np.radians(np.asarray(x, dtype=float)) for x in (l1, b1, l2, b2))
    h = np.sin((b2 - b1) / 2) ** 2 + np.cos(b1) * np.cos(b2) * np.sin((l2 - l1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def is_background_sky(l: ArrayLike, b: ArrayLike) -> NDArray[np.bool_]:  # noqa: E741
    """The BKG sky of Appendix A: ``|l| >= 90`` or ``|b| >= 30`` deg (GAL is the rest).

    Parameters
    ----------
    l, b : array_like
        Galactic coordinates, deg.

    Returns
    -------
    mask : `numpy.ndarray` of bool
    """
    return (np.abs(wrap_longitude(l)) >= 90.0) | (np.abs(np.asarray(b, dtype=float)) >= 30.0)


@dataclass(frozen=True)
class SkyRegion:
    """A rectangle in Galactic coordinates.

    Parameters
    ----------
    name : str
        Label, e.g. ``"GB"``.
    l_center, b_center : float
        Centre, deg (``l`` any value, wrapped; ``|b| <= 90``).
    width, height : float
        Full extent in l and in b, deg (``0 < width <= 360``, ``0 < height <= 180``).
    """

    name: str
    l_center: float
    b_center: float
    width: float
    height: float

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name: expected a non-empty region name")
        for field_name in ("l_center", "b_center", "width", "height"):
            if not np.isfinite(getattr(self, field_name)):
                raise ValueError(f"{field_name}: expected a finite number of deg")
        if abs(self.b_center) > 90:
            raise ValueError(f"b_center: expected |b| <= 90 deg, found {self.b_center}")
        if not 0 < self.width <= 360:
            raise ValueError(f"width: expected 0 < width <= 360 deg, found {self.width}")
        if not 0 < self.height <= 180:
            raise ValueError(f"height: expected 0 < height <= 180 deg, found {self.height}")
        object.__setattr__(self, "l_center", float(wrap_longitude(self.l_center)))

    def contains(self, l: ArrayLike, b: ArrayLike) -> NDArray[np.bool_]:  # noqa: E741
        """Whether directions lie in the rectangle (edges included).

        Parameters
        ----------
        l, b : array_like
            Galactic coordinates, deg.

        Returns
        -------
        mask : `numpy.ndarray` of bool
        """
        dl = np.abs(wrap_longitude(np.asarray(l, dtype=float) - self.l_center))
        db = np.abs(np.asarray(b, dtype=float) - self.b_center)
        return (dl <= self.width / 2) & (db <= self.height / 2)


@dataclass(frozen=True)
class PointSource:
    """A bright point source whose rates are not cleaned of it within the field of view.

    Like the Crab, such a source's pointings (axis within ``exclusion`` deg) are kept
    out of the background model and the diffuse fluxes; those within ``max_offset`` deg
    give its collimator-mode spectrum ([ISGRI] Appendix C).

    Parameters
    ----------
    name : str
        Label, e.g. ``"Sco X-1"``.
    l, b : float
        Galactic coordinates, deg.
    max_offset : float
        Pointings within this angle give the source's flux, deg. Default is 4.5 (the
        fully coded field).
    exclusion : float
        Pointings within this angle are not used for the diffuse emission, deg. Default
        is 15 (the partially coded field).
    """

    name: str
    l: float  # noqa: E741
    b: float
    max_offset: float = 4.5
    exclusion: float = 15.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name: expected a non-empty source name")
        if not (np.isfinite(self.l) and np.isfinite(self.b) and abs(self.b) <= 90):
            raise ValueError(f"l, b: expected finite deg with |b| <= 90, found {self.l}, "
                             f"{self.b}")
        if not 0 < self.max_offset <= self.exclusion:
            raise ValueError(f"max_offset, exclusion: expected 0 < max_offset <= exclusion "
                             f"deg, found {self.max_offset}, {self.exclusion}")
        object.__setattr__(self, "l", float(wrap_longitude(self.l)))

    def offset(self, l: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:  # noqa: E741
        """Angle from the source of directions (l, b), deg."""
        return angular_distance(l, b, self.l, self.b)


CRAB = PointSource("Crab", *CRAB_LB)
"""The Crab: the calibration source ([ISGRI] Appendix B)."""
SCO_X1 = PointSource("Sco X-1", 359.0942, 23.7844)
"""Sco X-1 (ICRS 244.9795, -15.6403 deg), the test source of [ISGRI] Appendix C."""
POINT_SOURCES = {source.name: source for source in (CRAB, SCO_X1)}
"""Point sources known by name (configuration key ``point_sources``)."""


PAPER_REGIONS = (
    SkyRegion("GB", 0.0, 0.0, 6.0, 6.0),
    SkyRegion("L+20", 20.0, 0.0, 20.0, 10.0),
    SkyRegion("L-20", -20.0, 0.0, 20.0, 10.0),
    SkyRegion("3C 273/Coma", -70.0, 70.0, 40.0, 40.0),
)
"""The regions of [ISGRI] Table 1."""


def paper_regions() -> tuple[SkyRegion, ...]:
    """The four regions of [ISGRI] Table 1 (GB, L+20, L-20, 3C 273/Coma).

    Returns
    -------
    regions : tuple of `SkyRegion`
    """
    return PAPER_REGIONS


def longitude_bins(
    *, width: float = 15.0, b_max: float = 10.0, l_min: float = -82.5, l_max: float = 82.5
) -> tuple[SkyRegion, ...]:
    """Longitude bins of the profiles ([ISGRI] 4.2): ``width``-deg bins, ``|b| < b_max``.

    Parameters
    ----------
    width : float
        Bin width, deg. Default is 15.
    b_max : float
        Half height in latitude, deg. Default is 10.
    l_min, l_max : float
        Range covered, deg; default -82.5 to 82.5 (11 bins centred on 0, +-15, ...).

    Returns
    -------
    bins : tuple of `SkyRegion`
        Named ``"l=<centre>"``.
    """
    if not width > 0 or not l_max > l_min:
        raise ValueError(f"width, l_min, l_max: expected width > 0 and l_max > l_min, found "
                         f"{width}, {l_min}, {l_max}")
    n = int(round((l_max - l_min) / width))
    centres = l_min + width * (np.arange(n) + 0.5)
    return tuple(SkyRegion(f"l={c:+g}", float(c), 0.0, width, 2 * b_max) for c in centres)
