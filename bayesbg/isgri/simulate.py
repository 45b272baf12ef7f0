"""Simulated ISGRI pointing tables with known Galactic background (docs/equations.md section 3).

What is simulated, per pointing (all vectorised):

- **orbits** 70-2740 (1.5 % of them with no pointings at all), ~56 raw pointings per
  orbit, of which ~88 % pass the screening (phases drawn in [0.17, 0.83], 2 % short
  exposures, 1.5 % in modes 41/43), ~131,000 screened pointings at full size;
- **programmes** per orbit: Galactic only (30 %), high latitude only (26 %), mixed
  (40 %; the BKG pointings either interleaved or one contiguous block), Crab visits
  (4 %, dithered around the Crab up to 6 deg);
- **sky**: Galactic pointings concentrated on the centre and the plane (with a deeper
  L-20 programme), BKG pointings at high latitude (10 % in the 3C 273/Coma field) and in
  the outer plane;
- **detector background** per band: a level times the solar-cycle two-humped modulation
  (maxima at the solar minima of 2009 and 2020), an orbit-to-orbit jitter of 0.3 %, and a
  linear in-orbit trend (slope ~ N(-2e-4, 2e-4) cts s-1 pix-1 in 25-60 keV, scaled to
  the band level); 1.5 % of the high-latitude orbits have steep "outburst" slopes beyond
  the slope filter;
- **Crab**: on-axis rate per band times a slowly declining efficiency
  ``1 - 0.05 x - 0.12 x**4`` (``x`` the fraction of the mission), times the collimator
  response at the offset, with a per-orbit calibration scatter of 3.7 / 4.7 / 4.4 %
  (25-60 / 60-80 / 80-200 keV);
- **Galactic background**: ``a_band * bulge + d_band * disk`` (mCrab per FOV), the
  stellar-mass maps seen through the collimator (`bayesbg.isgri.model.skymodel`), with
  ``a_band``, ``d_band`` solved so that the GB region and the mean of L+20 and L-20 have
  the fluxes of [ISGRI] Table 1;
- **residual noise** (mCrab): a Gaussian core whose width grows with the stellar mass in
  the FOV (source confusion; 50 / 145 / 245 mCrab at high latitude, ~5 times more in
  the bulge), plus, for Galactic pointings (imperfect source cleaning), asymmetric flat
  wings: 4 % shifted down by up to 12 core widths, 8 % up by up to 20;
- **transients**: 1.5 % of the orbits with Galactic pointings have a badly cleaned
  bright source adding 400-3000 mCrab to their Galactic pointings (removed by the
  168-185 keV clipping).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.config import random_generator
from bayesbg.isgri.model.collimator import CollimatorResponse
from bayesbg.isgri.model.skymodel import stellar_fov_maps
from bayesbg.isgri.pointings import BANDS, PointingTable
from bayesbg.isgri.sky import (
    CRAB_LB,
    PAPER_REGIONS,
    SkyRegion,
    angular_distance,
    wrap_longitude,
)

__all__ = ["IsgriTruth", "TABLE1_FLUX", "simulate_isgri"]

log = logging.getLogger(__name__)

TABLE1_FLUX = {
    "GB": (154.9, 96.5, 102.2),
    "L+20": (69.1, 23.0, 56.7),
    "L-20": (67.9, 33.3, 29.3),
    "3C 273/Coma": (-1.0, 1.6, 5.6),
}
"""[ISGRI] Table 1 fluxes, mCrab per FOV, in 25-60 / 60-80 / 80-200 keV."""

# per band (25-60, 60-80, 80-200, 168-185 keV)
_BACKGROUND_LEVEL = np.array([0.055, 0.020, 0.070, 0.010])  # cts s-1 pix-1
_CRAB_RATE = np.array([1.0e-2, 1.4e-3, 1.6e-3, 1.0e-4])  # cts s-1 pix-1, on axis
_CRAB_SCATTER = np.array([0.037, 0.047, 0.044, 0.05])  # per-orbit calibration scatter
_SIGMA_HIGH_LATITUDE = np.array([50.0, 145.0, 245.0, 1500.0])  # mCrab
_CONFUSION = np.array([4.0, 4.1, 3.4, 1.0])  # core width growth towards the bulge
_TRANSIENT = np.array([400.0, 400.0, 500.0, 3000.0])  # mCrab
_ORBIT_DAYS = 2.83
_MJD_ORBIT_70 = 52_790.0


@dataclass(frozen=True, eq=False)
class IsgriTruth:
    """True values behind a simulated table (rows aligned with the table).

    Attributes
    ----------
    scw_id : `numpy.ndarray` of str
        Identifiers, increasing (look rows up with ``numpy.searchsorted``).
    gxb_flux : `numpy.ndarray`, shape (n, n_band)
        Galactic background flux per FOV, mCrab.
    background : `numpy.ndarray`, shape (n, n_band)
        Detector background rate, cts s-1 pix-1.
    crab_rate : `numpy.ndarray`, shape (n, n_band)
        True on-axis Crab rate at the pointing's orbit, cts s-1 pix-1.
    bulge_scale, disk_scale : `numpy.ndarray`, shape (n_band,)
        ``a_band``, ``d_band``: mCrab per Msun in the FOV.
    transient_orbits, outburst_orbits, crab_orbits, empty_orbits : `numpy.ndarray`
        Orbits with a transient, with a steep background slope, with Crab visits, and
        with no pointings.
    """

    scw_id: NDArray[np.str_]
    gxb_flux: NDArray[np.float64]
    background: NDArray[np.float64]
    crab_rate: NDArray[np.float64]
    bulge_scale: NDArray[np.float64]
    disk_scale: NDArray[np.float64]
    transient_orbits: NDArray[np.int64]
    outburst_orbits: NDArray[np.int64]
    crab_orbits: NDArray[np.int64]
    empty_orbits: NDArray[np.int64]

    def rows(self, scw_id: ArrayLike) -> NDArray[np.int64]:
        """Row indices of given identifiers.

        Parameters
        ----------
        scw_id : array_like of str

        Returns
        -------
        rows : `numpy.ndarray` of int
        """
        ids = np.asarray(scw_id).astype(str)
        rows = np.searchsorted(self.scw_id, ids)
        rows = np.minimum(rows, self.scw_id.size - 1)
        if not np.all(self.scw_id[rows] == ids):
            raise ValueError("scw_id: identifiers not in the simulated table")
        return rows

    def injected_flux(self, region_ids: ArrayLike, background_ids: ArrayLike
                      ) -> NDArray[np.float64]:
        """The flux the method measures: region mean minus the BKG-pointing mean.

        The background model is calibrated on BKG pointings, so their (small) Galactic
        flux is subtracted from every measurement; the injected value of a region is
        the mean true flux of its pointings minus the mean over the BKG pointings used.

        Parameters
        ----------
        region_ids : array_like of str
            Pointings of the region in the measurement.
        background_ids : array_like of str
            BKG pointings of the background model.

        Returns
        -------
        flux : `numpy.ndarray`, shape (n_band,)
            mCrab per FOV.
        """
        region = self.gxb_flux[self.rows(region_ids)].mean(axis=0)
        return region - self.gxb_flux[self.rows(background_ids)].mean(axis=0)


def _solar_modulation(year: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two-humped background modulation: maxima at the solar minima 2009.0, 2019.9."""
    return 1.0 + 0.15 * np.exp(-(((year - 2009.0) / 2.2) ** 2)) + 0.13 * np.exp(
        -(((year - 2019.9) / 2.0) ** 2))


def _gxb_scales(response: CollimatorResponse) -> tuple[NDArray[np.float64], ...]:
    """Bulge and disk scales per band matching Table 1 (GB and the L+-20 mean)."""
    maps = stellar_fov_maps(response)
    grid = np.random.default_rng(20240101)
    averages = {}
    for region in PAPER_REGIONS[:3]:
        l = region.l_center + (grid.random(4000) - 0.5) * region.width  # noqa: E741
        b = region.b_center + (grid.random(4000) - 0.5) * region.height
        averages[region.name] = (maps(l, b, component="bulge").mean(),
                                 maps(l, b, component="disk").mean())
    arms = 0.5 * (np.array(averages["L+20"]) + np.array(averages["L-20"]))
    matrix = np.array([averages["GB"], arms])
    bulge, disk = np.zeros(len(BANDS)), np.zeros(len(BANDS))
    for k in range(3):
        target = [TABLE1_FLUX["GB"][k], 0.5 * (TABLE1_FLUX["L+20"][k] + TABLE1_FLUX["L-20"][k])]
        bulge[k], disk[k] = np.linalg.solve(matrix, target)
    bulge[3], disk[3] = 0.5 * bulge[2], 0.5 * disk[2]
    return bulge, disk


def simulate_isgri(
    rng: np.random.Generator | int,
    *,
    n_pointing: int = 148_400,
    orbit_min: int = 70,
    orbit_max: int = 2740,
    response: CollimatorResponse | None = None,
) -> tuple[PointingTable, IsgriTruth]:
    """Simulate a raw (unscreened) ISGRI pointing table (module docstring).

    Parameters
    ----------
    rng : `numpy.random.Generator` or int
        Random generator or seed.
    n_pointing : int
        Expected raw pointings; about 88 % pass the screening. Default is 148,400
        (~131,000 screened, the paper's data set).
    orbit_min, orbit_max : int
        First and last orbit. Default is 70 and 2740.
    response : `CollimatorResponse`, optional
        Collimator response; default ``CollimatorResponse()``.

    Returns
    -------
    table : `PointingTable`
        Bands 25-60, 60-80, 80-200 and 168-185 keV.
    truth : `IsgriTruth`
    """
    generator = random_generator(rng)
    if not isinstance(n_pointing, int) or n_pointing < 100:
        raise ValueError(f"n_pointing: expected an integer >= 100, found {n_pointing!r}")
    if not 0 <= orbit_min < orbit_max:
        raise ValueError(f"orbit_min, orbit_max: expected 0 <= orbit_min < orbit_max, found "
                         f"{orbit_min}, {orbit_max}")
    response = response if response is not None else CollimatorResponse()
    n_band = len(BANDS)

    # orbits and their programmes
    orbits = np.arange(orbit_min, orbit_max + 1)
    n_orbit = orbits.size
    empty = generator.random(n_orbit) < 0.015
    programme = generator.choice(4, size=n_orbit, p=[0.30, 0.26, 0.40, 0.04])  # GAL BKG MIX CRAB
    mean_count = n_pointing / max(np.count_nonzero(~empty), 1)
    counts = np.where(empty, 0, generator.poisson(mean_count, n_orbit))
    n = int(counts.sum())
    index = np.repeat(np.arange(n_orbit), counts)
    orbit = orbits[index]
    rank = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    position = (rank + generator.random(n)) / np.repeat(np.maximum(counts, 1), counts)
    phase = 0.17 + 0.66 * position  # increasing within an orbit
    # pointing classes: 0 GAL, 1 BKG, 2 Crab
    fraction = generator.uniform(0.05, 0.6, n_orbit)
    start = generator.random(n_orbit)
    block = generator.random(n_orbit) < 0.5
    in_block = ((position - start[index]) % 1.0) < fraction[index]
    interleaved = generator.random(n) < fraction[index]
    mixed_bkg = np.where(block[index], in_block, interleaved)
    kind = np.select(
        [programme[index] == 0, programme[index] == 1, programme[index] == 2],
        [np.zeros(n, int), np.ones(n, int), mixed_bkg.astype(int)],
        default=np.where(generator.random(n) < 0.7, 2, 1),
    )

    l, b = _positions(generator, kind)  # noqa: E741
    offset = angular_distance(l, b, *CRAB_LB)
    year = 2003.4 + (orbit - 70) * _ORBIT_DAYS / 365.25
    mission = (orbit - orbit_min) / (orbit_max - orbit_min)

    # detector background per band
    jitter = 1 + 0.003 * generator.standard_normal(n_orbit)
    slope25 = generator.normal(-2e-4, 2e-4, n_orbit)
    outburst = (programme == 1) & (generator.random(n_orbit) < 0.015)
    steep = generator.uniform(2.5e-3, 4e-3, n_orbit) * np.where(generator.random(n_orbit) < 0.5,
                                                                -1.0, 1.0)
    slope25 = np.where(outburst, np.where(steep < 0, steep - 1e-3, steep), slope25)
    level = _BACKGROUND_LEVEL[None, :] * (_solar_modulation(year) * jitter[index])[:, None]
    slope = slope25[index][:, None] * (_BACKGROUND_LEVEL / _BACKGROUND_LEVEL[0])[None, :]
    background = level + slope * (phase - 0.5)[:, None]

    # Crab efficiency and rates
    efficiency = 1 - 0.05 * mission - 0.12 * mission**4
    crab_rate = _CRAB_RATE[None, :] * efficiency[:, None]
    crab_scatter = 1 + _CRAB_SCATTER[None, :] * generator.standard_normal((n_orbit, n_band))
    crab_signal = np.where((kind == 2)[:, None],
                           crab_rate * response(offset)[:, None] * crab_scatter[index], 0.0)

    # Galactic background
    bulge_scale, disk_scale = _gxb_scales(response)
    maps = stellar_fov_maps(response)
    bulge = maps(l, b, component="bulge")
    disk = maps(l, b, component="disk")
    gxb = bulge[:, None] * bulge_scale[None, :] + disk[:, None] * disk_scale[None, :]
    gxb = np.where((kind == 2)[:, None], 0.0, gxb)  # Crab pointings carry the Crab instead

    # residual noise in mCrab: Gaussian core plus asymmetric flat wings
    centre_mass = maps(0.0, 0.0)[0]
    confusion = (bulge + disk) / centre_mass
    core = _SIGMA_HIGH_LATITUDE[None, :] * (1 + _CONFUSION[None, :] * confusion[:, None])
    core = np.where((kind == 2)[:, None], 20.0, core)
    noise = core * generator.standard_normal((n, n_band))
    wing = generator.random(n)
    galactic = kind == 0  # wings from imperfect source cleaning in the plane
    low, high = galactic & (wing < 0.04), galactic & (wing >= 0.04) & (wing < 0.12)
    width = generator.random((n, n_band))
    noise[low] -= 12 * core[low] * width[low]
    noise[high] += 20 * core[high] * width[high]
    has_gal = np.bincount(index, weights=(kind == 0), minlength=n_orbit) > 0
    transient = has_gal & (generator.random(n_orbit) < 0.015)
    hit = transient[index] & (kind == 0)
    noise[hit] += _TRANSIENT[None, :] * generator.uniform(1.0, 1.5, (int(hit.sum()), 1))

    rate = background + crab_signal + (gxb + noise) * crab_rate / 1e3
    rate_error = 0.6 * core * crab_rate / 1e3

    exposure = np.clip(generator.normal(2200.0, 500.0, n), 300.0, 3600.0)
    exposure[generator.random(n) < 0.02] = generator.uniform(200.0, 690.0)
    mode = np.where(generator.random(n) < 0.015, generator.choice([41, 43], n), 1)
    scw_id = np.char.add(np.char.zfill(orbit.astype(str), 4),
                         np.char.add(np.char.zfill(rank.astype(str), 4), "0010"))
    # a few phases outside the screening window
    table = PointingTable(
        scw_id=scw_id, orbit=orbit, phase=phase,
        time=_MJD_ORBIT_70 + (orbit - 70 + phase) * _ORBIT_DAYS, l=l, b=b,
        exposure=exposure, mode=mode, rate=rate, rate_error=rate_error, bands=BANDS,
        crab_offset=offset,
    )
    truth = IsgriTruth(
        scw_id=table.scw_id, gxb_flux=gxb, background=background, crab_rate=crab_rate,
        bulge_scale=bulge_scale, disk_scale=disk_scale,
        transient_orbits=orbits[transient], outburst_orbits=orbits[outburst],
        crab_orbits=orbits[programme == 3], empty_orbits=orbits[empty],
    )
    log.info("simulated %d pointings over orbits %d-%d", n, orbit_min, orbit_max)
    return table, truth


def _positions(generator: np.random.Generator, kind: NDArray[np.int64]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sky positions (deg) of GAL (0), BKG (1) and Crab (2) pointings."""
    n = kind.size
    l, b = np.zeros(n), np.zeros(n)  # noqa: E741
    # GAL: centre, plane, a deep L-20 programme, the wide GAL sky
    gal = kind == 0
    component = generator.choice(4, size=n, p=[0.28, 0.45, 0.07, 0.20])
    candidates_l = np.select(
        [component == 0, component == 1, component == 2],
        [generator.normal(0, 4, n), generator.uniform(-90, 90, n), generator.normal(-25, 6, n)],
        default=generator.uniform(-90, 90, n))
    candidates_b = np.select(
        [component == 0, component == 1, component == 2],
        [generator.normal(0, 3, n), generator.normal(0, 5, n), generator.normal(0, 3, n)],
        default=generator.uniform(-30, 30, n))
    l[gal] = np.clip(candidates_l[gal], -89.9, 89.9)
    b[gal] = np.clip(candidates_b[gal], -29.9, 29.9)
    # BKG: 3C 273/Coma field, high latitude, outer plane
    bkg = kind == 1
    component = generator.choice(3, size=n, p=[0.10, 0.60, 0.30])
    coma: SkyRegion = PAPER_REGIONS[3]
    sign = np.where(generator.random(n) < 0.5, -1.0, 1.0)
    high_b = sign * np.degrees(np.arcsin(generator.uniform(np.sin(np.radians(30)), 1.0, n)))
    candidates_l = np.select(
        [component == 0, component == 1],
        [coma.l_center + (generator.random(n) - 0.5) * coma.width,
         generator.uniform(-180, 180, n)],
        default=generator.uniform(90, 270, n))
    candidates_b = np.select(
        [component == 0, component == 1],
        [coma.b_center + (generator.random(n) - 0.5) * coma.height, high_b],
        default=np.clip(generator.normal(0, 8, n), -29.9, 29.9))
    l[bkg] = candidates_l[bkg]
    b[bkg] = np.clip(candidates_b[bkg], -90, 90)
    # Crab: dithered around the Crab up to 6 deg
    crab = kind == 2
    radius = 6.0 * np.sqrt(generator.random(n)) * np.where(generator.random(n) < 0.8, 0.6, 1.0)
    angle = generator.uniform(0, 2 * np.pi, n)
    l[crab] = (CRAB_LB[0] + radius * np.cos(angle) / np.cos(np.radians(CRAB_LB[1])))[crab]
    b[crab] = (CRAB_LB[1] + radius * np.sin(angle))[crab]
    return wrap_longitude(l), b
