"""Simulated ISGRI pointing tables with known Galactic background (docs/equations.md section 3).

What is simulated, per pointing and per band (all vectorised; the per-band instrument,
the spectra and the point source are in `bayesbg.isgri.simulate_sky`):

- **bands**: the 24 of the pipeline (`bayesbg.isgri.bands.PIPELINE_BANDS`: 25-60,
  60-80, 80-200 keV and the 21 logarithmic bands of 25-185 keV);
- **orbits** 70-2740 (1.5 % of them with no pointings at all), ~56 raw pointings per
  orbit, of which ~88 % pass the screening (phases drawn in [0.17, 0.83], 2 % short
  exposures, 1.5 % in modes 41/43), ~131,000 screened pointings at full size;
- **programmes** per orbit: Galactic only (30 %), high latitude only (26 %), mixed
  (39 %; the BKG pointings either interleaved or one contiguous block), Crab visits
  (4 %, dithered around the Crab up to 6 deg) and visits of the point source (1 %,
  Sco X-1, dithered up to 6 deg and kept at ``|b| < 29.5`` deg);
- **sky**: Galactic pointings concentrated on the centre and the plane (with a deeper
  L-20 programme), BKG pointings at high latitude (10 % in the 3C 273/Coma field) and in
  the outer plane;
- **detector background** per band: a level times the solar-cycle two-humped modulation
  (maxima at the solar minima of 2009 and 2020), an orbit-to-orbit jitter of 0.3 %, and a
  linear in-orbit trend (slope ~ N(-2e-4, 2e-4) cts s-1 pix-1 in 25-60 keV, scaled to
  the band level); 1.5 % of the high-latitude orbits have steep "outburst" slopes beyond
  the slope filter;
- **collimator**: the response ``R`` of the simulation (default the ``"flat"`` shape of
  [ISGRI]: a fully coded source is fully seen);
- **Crab**: on-axis rate per band times a slowly declining efficiency
  ``1 - 0.05 x - 0.12 x**4`` (``x`` the fraction of the mission), times ``R`` at the
  offset, with a per-orbit scatter of the measured Crab rate (3.7 / 4.7 / 4.4 % by broad
  band); no pointing within 15 deg of the Crab is cleaned of it;
- **Galactic background** (mCrab per FOV): the bulge and disk stellar mass seen through
  ``R`` (`bayesbg.isgri.model.skymodel`) times a spectrum per unit mass, two spectral
  components solved so that GB and the mean of L+20 and L-20 have the component fluxes
  of [ISGRI] Table 2 (``galactic_spectrum="cutoffpl"``) or Table 3 (``"ipm"``);
- **point source** (``point_source``, default Sco X-1 as in [ISGRI] Appendix C): its
  spectrum times ``R`` at the offset in every pointing within 4.5 deg of it (the
  rates the collimator-mode extraction uses, not cleaned of the source; every other
  pointing is cleaned of it, as in the paper's data set);
- **residual noise** (mCrab): a Gaussian core whose width grows with the stellar mass in
  the FOV (source confusion; 50 / 145 / 245 mCrab at high latitude in the broad bands,
  ``sqrt(L / l)`` times more in a narrow band, ~5 times more in the bulge), plus, for
  Galactic and point-source pointings (imperfect source cleaning), asymmetric flat
  wings: 4 % shifted down by up to 12 core widths, 8 % up by up to 20;
- **transients**: 1.5 % of the orbits with Galactic pointings have a badly cleaned
  bright source adding ``(1-1.5) x 400 (E / 40 keV)`` mCrab to their Galactic pointings
  (removed by the 168.2-185 keV clipping).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bayesbg.config import random_generator
from bayesbg.isgri.bands import PIPELINE_BANDS, Band
from bayesbg.isgri.model.collimator import CollimatorResponse
from bayesbg.isgri.model.skymodel import stellar_fov_maps
from bayesbg.isgri.pointings import PointingTable
from bayesbg.isgri.simulate_sky import (
    GALACTIC_SPECTRA,
    POINT_SOURCE,
    GalacticSpectrum,
    InjectedSource,
    InstrumentBands,
)
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

_ORBIT_DAYS = 2.83
_MJD_ORBIT_70 = 52_790.0
_GAL, _BKG, _CRAB, _SOURCE = 0, 1, 2, 3  # pointing kinds


@dataclass(frozen=True, eq=False)
class IsgriTruth:
    """True values behind a simulated table (rows aligned with the table).

    Attributes
    ----------
    scw_id : `numpy.ndarray` of str
        Identifiers, increasing (look rows up with ``numpy.searchsorted``).
    bands : tuple of `Band`
    gxb_flux : `numpy.ndarray`, shape (n, n_band)
        Galactic background flux per FOV, mCrab.
    source_flux : `numpy.ndarray`, shape (n, n_band)
        Flux of the injected point source seen through the collimator (pointings within
        4.5 deg of it, else 0), mCrab.
    background : `numpy.ndarray`, shape (n, n_band)
        Detector background rate, cts s-1 pix-1.
    crab_rate : `numpy.ndarray`, shape (n, n_band)
        True on-axis Crab rate at the pointing's orbit, cts s-1 pix-1.
    bulge_mass, disk_mass : `numpy.ndarray`, shape (n,)
        Stellar mass in the FOV (weighted by the response) behind ``gxb_flux``, Msun (0
        for Crab pointings, which carry no Galactic background).
    bulge_scale, disk_scale : `numpy.ndarray`, shape (n_band,)
        mCrab per Msun in the FOV, by band.
    spectrum : `bayesbg.isgri.simulate_sky.GalacticSpectrum`
        The injected Galactic spectrum.
    bulge_component, disk_component : dict of str to float
        Component flux per Msun in the FOV, ``{"cutoffpl.flux": ...}``, 1e-10 erg s-1
        cm-2 (30-80 keV) per Msun.
    point_source : `bayesbg.isgri.simulate_sky.InjectedSource` or None
    transient_orbits, outburst_orbits, crab_orbits, source_orbits, empty_orbits :
    `numpy.ndarray`
        Orbits with a transient, with a steep background slope, with Crab visits, with
        visits of the point source, and with no pointings.
    """

    scw_id: NDArray[np.str_]
    bands: tuple[Band, ...]
    gxb_flux: NDArray[np.float64]
    source_flux: NDArray[np.float64]
    background: NDArray[np.float64]
    crab_rate: NDArray[np.float64]
    bulge_mass: NDArray[np.float64]
    disk_mass: NDArray[np.float64]
    bulge_scale: NDArray[np.float64]
    disk_scale: NDArray[np.float64]
    spectrum: GalacticSpectrum
    bulge_component: dict[str, float]
    disk_component: dict[str, float]
    point_source: InjectedSource | None
    transient_orbits: NDArray[np.int64]
    outburst_orbits: NDArray[np.int64]
    crab_orbits: NDArray[np.int64]
    source_orbits: NDArray[np.int64]
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

    def band_columns(self, bands: Sequence[Band] | None) -> list[int]:
        """Columns of ``bands`` (default all) in the truth arrays."""
        if bands is None:
            return list(range(len(self.bands)))
        return [self.bands.index(band) for band in bands]

    def injected_flux(self, region_ids: ArrayLike, background_ids: ArrayLike, *,
                      bands: Sequence[Band] | None = None) -> NDArray[np.float64]:
        """The flux the method measures: region mean minus the BKG-pointing mean.

        The background model is calibrated on BKG pointings, so their (small) Galactic
        flux is subtracted from every measurement; the injected value of a region is
        the mean true sky flux (Galactic background plus, near the point source, the
        source) of its pointings minus the mean over the BKG pointings used.

        Parameters
        ----------
        region_ids : array_like of str
            Pointings of the region in the measurement.
        background_ids : array_like of str
            BKG pointings of the background model.
        bands : sequence of `Band`, optional
            Default all bands of the simulation.

        Returns
        -------
        flux : `numpy.ndarray`, shape (n_band,)
            mCrab per FOV.
        """
        columns = self.band_columns(bands)
        sky = self.gxb_flux[:, columns] + self.source_flux[:, columns]
        return sky[self.rows(region_ids)].mean(axis=0) - sky[self.rows(background_ids)].mean(
            axis=0)

    def injected_spectrum(self, region_ids: ArrayLike, background_ids: ArrayLike
                          ) -> dict[str, float]:
        """The Galactic spectrum the method measures in a region, as fitted parameters.

        ``a_k (B_r - B_bkg) + d_k (D_r - D_bkg)`` per component ``k`` (``B``, ``D`` the
        mean bulge and disk mass in the FOV of the region's and of the BKG pointings,
        ``a_k``, ``d_k`` the component fluxes per unit mass), and the injected shape.

        Parameters
        ----------
        region_ids, background_ids : array_like of str

        Returns
        -------
        truth : dict
            ``{"<component>.flux": 1e-10 erg s-1 cm-2 (30-80 keV), <shape>: value}``.
        """
        region, bkg = self.rows(region_ids), self.rows(background_ids)
        bulge = self.bulge_mass[region].mean() - self.bulge_mass[bkg].mean()
        disk = self.disk_mass[region].mean() - self.disk_mass[bkg].mean()
        out = {name: float(self.bulge_component[name] * bulge + self.disk_component[name]
                           * disk) for name in self.bulge_component}
        return {**out, **{k: float(v) for k, v in self.spectrum.shape.items()}}


def _solar_modulation(year: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two-humped background modulation: maxima at the solar minima 2009.0, 2019.9."""
    return 1.0 + 0.15 * np.exp(-(((year - 2009.0) / 2.2) ** 2)) + 0.13 * np.exp(
        -(((year - 2019.9) / 2.0) ** 2))


def _component_scales(response: CollimatorResponse, spectrum: GalacticSpectrum
                      ) -> tuple[dict[str, float], dict[str, float]]:
    """Component flux per Msun of the bulge and the disk matching GB and the arms."""
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
    bulge, disk = {}, {}
    for name in spectrum.bulge_region:
        target = [spectrum.bulge_region[name], spectrum.arm_region[name]]
        bulge[name], disk[name] = (float(x) for x in np.linalg.solve(matrix, target))
    return bulge, disk


def simulate_isgri(
    rng: np.random.Generator | int,
    *,
    n_pointing: int = 148_400,
    orbit_min: int = 70,
    orbit_max: int = 2740,
    response: CollimatorResponse | None = None,
    bands: Sequence[Band] = PIPELINE_BANDS,
    galactic_spectrum: str | GalacticSpectrum = "cutoffpl",
    point_source: InjectedSource | None = POINT_SOURCE,
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
        Collimator response of the simulated instrument; default ``CollimatorResponse()``
        (the ``"flat"`` shape of [ISGRI]).
    bands : sequence of `Band`
        Default the 24 of the pipeline. Must include the clipping band 168.2-185 keV for
        the pipeline's default settings.
    galactic_spectrum : str or `GalacticSpectrum`
        ``"cutoffpl"`` ([ISGRI] Table 2, default) or ``"ipm"`` (Table 3), or a spectrum.
    point_source : `InjectedSource` or None
        Bright source with its own visits; default Sco X-1. None: no such visits.

    Returns
    -------
    table : `PointingTable`
    truth : `IsgriTruth`
    """
    generator = random_generator(rng)
    if not isinstance(n_pointing, int) or n_pointing < 100:
        raise ValueError(f"n_pointing: expected an integer >= 100, found {n_pointing!r}")
    if not 0 <= orbit_min < orbit_max:
        raise ValueError(f"orbit_min, orbit_max: expected 0 <= orbit_min < orbit_max, found "
                         f"{orbit_min}, {orbit_max}")
    if isinstance(galactic_spectrum, str):
        if galactic_spectrum not in GALACTIC_SPECTRA:
            raise ValueError(f"galactic_spectrum: expected one of {sorted(GALACTIC_SPECTRA)}, "
                             f"found {galactic_spectrum!r}")
        galactic_spectrum = GALACTIC_SPECTRA[galactic_spectrum]
    response = response if response is not None else CollimatorResponse()
    bands = tuple(bands)
    instrument = InstrumentBands(bands)
    n_band = len(bands)

    # orbits and their programmes
    orbits = np.arange(orbit_min, orbit_max + 1)
    n_orbit = orbits.size
    empty = generator.random(n_orbit) < 0.015
    source_share = 0.01 if point_source is not None else 0.0
    programme = generator.choice(5, size=n_orbit,  # GAL BKG MIX CRAB SOURCE
                                 p=[0.30, 0.26, 0.40 - source_share, 0.04, source_share])
    mean_count = n_pointing / max(np.count_nonzero(~empty), 1)
    counts = np.where(empty, 0, generator.poisson(mean_count, n_orbit))
    n = int(counts.sum())
    index = np.repeat(np.arange(n_orbit), counts)
    orbit = orbits[index]
    rank = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    position = (rank + generator.random(n)) / np.repeat(np.maximum(counts, 1), counts)
    phase = 0.17 + 0.66 * position  # increasing within an orbit
    fraction = generator.uniform(0.05, 0.6, n_orbit)
    start = generator.random(n_orbit)
    block = generator.random(n_orbit) < 0.5
    in_block = ((position - start[index]) % 1.0) < fraction[index]
    interleaved = generator.random(n) < fraction[index]
    mixed_bkg = np.where(block[index], in_block, interleaved)
    visit = generator.random(n) < 0.7
    kind = np.select(
        [programme[index] == 0, programme[index] == 1, programme[index] == 2,
         programme[index] == 3],
        [np.full(n, _GAL), np.full(n, _BKG), np.where(mixed_bkg, _BKG, _GAL),
         np.where(visit, _CRAB, _BKG)],
        default=np.where(visit, _SOURCE, _BKG),
    )

    l, b = _positions(generator, kind, point_source)  # noqa: E741
    offset = angular_distance(l, b, *CRAB_LB)
    year = 2003.4 + (orbit - 70) * _ORBIT_DAYS / 365.25
    mission = (orbit - orbit_min) / (orbit_max - orbit_min)

    # detector background per band
    level0 = instrument.background_level
    jitter = 1 + 0.003 * generator.standard_normal(n_orbit)
    slope25 = generator.normal(-2e-4, 2e-4, n_orbit)
    outburst = (programme == 1) & (generator.random(n_orbit) < 0.015)
    steep = generator.uniform(2.5e-3, 4e-3, n_orbit) * np.where(generator.random(n_orbit) < 0.5,
                                                                -1.0, 1.0)
    slope25 = np.where(outburst, np.where(steep < 0, steep - 1e-3, steep), slope25)
    level = level0[None, :] * (_solar_modulation(year) * jitter[index])[:, None]
    slope = slope25[index][:, None] * (level0 / level0[0])[None, :]
    background = level + slope * (phase - 0.5)[:, None]

    # Crab efficiency and rates
    efficiency = 1 - 0.05 * mission - 0.12 * mission**4
    crab_rate = instrument.crab_rate[None, :] * efficiency[:, None]
    crab_scatter = 1 + instrument.crab_scatter[None, :] * generator.standard_normal(
        (n_orbit, n_band))
    # the Crab is not cleaned from pointings within 15 deg of it (any programme)
    crab_signal = np.where((offset < 15.0)[:, None],
                           crab_rate * response(offset)[:, None] * crab_scatter[index], 0.0)

    # Galactic background: bulge and disk mass in the FOV times a spectrum per Msun
    bulge_component, disk_component = _component_scales(response, galactic_spectrum)
    unit = galactic_spectrum.unit_mcrab(bands)  # (n_component, n_band)
    names = list(galactic_spectrum.bulge_region)
    bulge_scale = np.array([bulge_component[k] for k in names]) @ unit
    disk_scale = np.array([disk_component[k] for k in names]) @ unit
    maps = stellar_fov_maps(response)
    no_sky = kind == _CRAB  # Crab pointings carry the Crab instead
    bulge = np.where(no_sky, 0.0, maps(l, b, component="bulge"))
    disk = np.where(no_sky, 0.0, maps(l, b, component="disk"))
    gxb = bulge[:, None] * bulge_scale[None, :] + disk[:, None] * disk_scale[None, :]

    # the point source, not cleaned from the pointings within max_offset (4.5 deg)
    source = np.zeros((n, n_band))
    if point_source is not None:
        source_offset = point_source.source.offset(l, b)
        near = source_offset < point_source.source.max_offset
        seen = response(source_offset[near])
        source[near] = seen[:, None] * point_source.mcrab(bands)[None, :]

    # residual noise in mCrab: Gaussian core plus asymmetric flat wings
    centre_mass = maps(0.0, 0.0)[0]
    confusion = (maps(l, b, component="bulge") + maps(l, b, component="disk")) / centre_mass
    core = instrument.noise[None, :] * (1 + instrument.confusion[None, :] * confusion[:, None])
    core = np.where((kind == _CRAB)[:, None], 20.0, core)
    noise = core * generator.standard_normal((n, n_band))
    wing = generator.random(n)
    cleaned = (kind == _GAL) | (kind == _SOURCE)  # wings from imperfect source cleaning
    low, high = cleaned & (wing < 0.04), cleaned & (wing >= 0.04) & (wing < 0.12)
    width = generator.random((n, n_band))
    noise[low] -= 12 * core[low] * width[low]
    noise[high] += 20 * core[high] * width[high]
    has_gal = np.bincount(index, weights=(kind == _GAL), minlength=n_orbit) > 0
    transient = has_gal & (generator.random(n_orbit) < 0.015)
    hit = transient[index] & (kind == _GAL)
    noise[hit] += instrument.transient[None, :] * generator.uniform(1.0, 1.5,
                                                                    (int(hit.sum()), 1))

    rate = background + crab_signal + (gxb + source + noise) * crab_rate / 1e3
    rate_error = 0.6 * core * crab_rate / 1e3

    exposure = np.clip(generator.normal(2200.0, 500.0, n), 300.0, 3600.0)
    exposure[generator.random(n) < 0.02] = generator.uniform(200.0, 690.0)
    mode = np.where(generator.random(n) < 0.015, generator.choice([41, 43], n), 1)
    scw_id = np.char.add(np.char.zfill(orbit.astype(str), 4),
                         np.char.add(np.char.zfill(rank.astype(str), 4), "0010"))
    table = PointingTable(
        scw_id=scw_id, orbit=orbit, phase=phase,
        time=_MJD_ORBIT_70 + (orbit - 70 + phase) * _ORBIT_DAYS, l=l, b=b,
        exposure=exposure, mode=mode, rate=rate, rate_error=rate_error, bands=bands,
        crab_offset=offset,
    )
    truth = IsgriTruth(
        scw_id=table.scw_id, bands=bands, gxb_flux=gxb, source_flux=source,
        background=background, crab_rate=crab_rate, bulge_mass=bulge, disk_mass=disk,
        bulge_scale=bulge_scale, disk_scale=disk_scale, spectrum=galactic_spectrum,
        bulge_component=bulge_component, disk_component=disk_component,
        point_source=point_source, transient_orbits=orbits[transient],
        outburst_orbits=orbits[outburst], crab_orbits=orbits[programme == 3],
        source_orbits=orbits[programme == 4], empty_orbits=orbits[empty],
    )
    log.info("simulated %d pointings over orbits %d-%d in %d bands", n, orbit_min, orbit_max,
             n_band)
    return table, truth


def orbit_times(orbit: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Start and end (MJD) of simulated revolutions (phase 0 and 1).

    Parameters
    ----------
    orbit : array_like of int

    Returns
    -------
    start, end : `numpy.ndarray`
        MJD, d.
    """
    orbit = np.asarray(orbit, dtype=float)
    start = _MJD_ORBIT_70 + (orbit - 70) * _ORBIT_DAYS
    return start, start + _ORBIT_DAYS


def _positions(generator: np.random.Generator, kind: NDArray[np.int64],
               point_source: InjectedSource | None
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sky positions (deg) of GAL, BKG, Crab and point-source pointings."""
    n = kind.size
    l, b = np.zeros(n), np.zeros(n)  # noqa: E741
    # GAL: centre, plane, a deep L-20 programme, the wide GAL sky
    gal = kind == _GAL
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
    bkg = kind == _BKG
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
    # Crab and point source: dithered around the source up to 6 deg
    radius = 6.0 * np.sqrt(generator.random(n)) * np.where(generator.random(n) < 0.8, 0.6, 1.0)
    angle = generator.uniform(0, 2 * np.pi, n)
    crab = kind == _CRAB
    l[crab] = (CRAB_LB[0] + radius * np.cos(angle) / np.cos(np.radians(CRAB_LB[1])))[crab]
    b[crab] = (CRAB_LB[1] + radius * np.sin(angle))[crab]
    if point_source is not None:
        own = kind == _SOURCE
        centre = point_source.source
        l[own] = (centre.l + radius * np.cos(angle) / np.cos(np.radians(centre.b)))[own]
        b[own] = np.clip(centre.b + radius * np.sin(angle), -89.9, 89.9)[own]
        if abs(centre.b) < 30:  # keep the visits in the GAL sky, off the background model
            b[own] = np.clip(b[own], -29.5, 29.5)
    return wrap_longitude(l), b
