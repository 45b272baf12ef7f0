"""The bright-source study of [COSI-PS] on flight-like simulations, one source at a time
(docs/cosi_spectral.md, "Bright sources end to end"; ``analyses/cosi_bright_sources``).

For each source (:data:`bayesbg.cosi.spectral.tables.PAPER`): the flight-like
observation over the real 2016 day repeated for the paper's observation time with the
90-deg pointing cut of the spectral data; COSI counts of the paper's spectrum (times the
paper's COSI cross-normalisation and the atmospheric correction) over the measured
background; toy NuSTAR FPMA/FPMB, Swift-BAT (and for Cyg X-1 IBIS) spectra with the
paper's constants; then

1. the forward-folded COSI-only fit (shape parameters below COSI's band fixed);
2. the two-step route: band fluxes from template fits in all ten bands, then the same
   spectral fit of them;
3. the joint forward-folded fit of COSI and the other instruments (the paper's Table);
4. the band flux of the paper's band with the 60-deg pointing cut of the imaging data,
   the fiducial shape set to the joint fit's median, corrected for the atmosphere (divided
   by the band's correction factor), and its significance (:func:`paper_band_flux`).

:func:`run_source` returns a :class:`SourceOutcome`; :mod:`bayesbg.cosi.spectral.results`
turns outcomes into the run directory and its report.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from bayesbg.config import SamplerConfig
from bayesbg.cosi.flight import (
    FlightGeometry,
    default_background_rate,
    flight_background_response,
    flight_timeline,
)
from bayesbg.cosi.io.classic import read_classic_background, read_classic_tracer
from bayesbg.cosi.io.orientation import read_ori
from bayesbg.cosi.spectral.data import band_background_models, prepare_spectral_counts
from bayesbg.cosi.spectral.fit import ForwardFoldResult, fit_forward_folded
from bayesbg.cosi.spectral.flight import (
    atmospheric_correction,
    flight_band_edges,
    simulate_source_observation,
    source_observation,
)
from bayesbg.cosi.spectral.instruments import InstrumentData
from bayesbg.cosi.spectral.program import ForwardFoldProblem
from bayesbg.cosi.spectral.reference import reference_instrument
from bayesbg.cosi.spectral.response import DEFAULT_AREA_SCALE, EnergyResponse
from bayesbg.cosi.spectral.spectrum import PhotonSpectrum
from bayesbg.cosi.spectral.tables import PAPER, PaperSource
from bayesbg.cosi.spectral.two_step import BandFlux, band_flux_dataset, fit_band_fluxes

__all__ = ["SourceOutcome", "SourceSimulation", "StudySettings", "paper_band_flux",
           "reference_spectra", "run_source", "simulate_source", "visibility_blocks"]

log = logging.getLogger(__name__)

RMF_FILE = "RMF_matrices_COSI2016_9dets_10ebins_6deg.npz"
BACKGROUND_FILE = "flight_bg_all_v1_fine_6deg.npz"
ORIENTATION_FILE = "OP_160628_FullDay.ori"
TRACER_FILE = "tracer.npz"
# exposures of the other instruments, s ([COSI-PS] 5 where it says; else the README's)
EXPOSURES = {
    "crab": {"NuSTAR": 1.4e3, "Swift-BAT": 2.0e7},
    "cygx1": {"NuSTAR": 2.0e4, "Swift-BAT": 2.6e6, "INTEGRAL/IBIS": 1.0e5},
    "cena": {"NuSTAR": 2.25e4, "Swift-BAT": 2.0e7},
}
# shape parameters a COSI-only fit holds at the truth (below COSI's band)
COSI_ONLY_FIXED = {"crab": ("index1", "break_energy")}


@dataclass(frozen=True)
class StudySettings:
    """Settings of the study.

    Parameters
    ----------
    data_dir : `~pathlib.Path`
        The 2016 files (``classic-2016``: RMF, background response, orientation, tracer).
    seed : int
        Seed of everything (per source: ``[seed, index]``).
    time_bin : float
        s. Default 1800 ([COSI-PS] 3.2: 30 min).
    days : int or None
        Repeated days per source; None: the paper's observation time over the source's
        daily time inside the pointing cut, rounded.
    pointing_cut, imaging_cut : float
        deg: spectral data (90) and the band flux (60) of [COSI-PS] 3.1.
    area_factor : float
        The instrument's effective area relative to `DEFAULT_AREA_SCALE` (the toy's 511 keV
        area); 0.2 (README: matches the paper's Cyg X-1 and Cen A significances).
    substeps : int
        Sub-pointings per time bin of the geometry. Default 30.
    sampler, band_sampler : `bayesbg.config.SamplerConfig`
        NUTS of the spectral fits and of the band fluxes.
    exposure_scale : float
        Scales the other instruments' exposures (tests). Default 1.
    """

    data_dir: Path
    seed: int = 1
    time_bin: float = 1800.0
    days: int | None = None
    pointing_cut: float = 90.0
    imaging_cut: float = 60.0
    area_factor: float = 0.2
    substeps: int = 30
    sampler: SamplerConfig = field(default_factory=lambda: SamplerConfig(
        chains=4, iter_warmup=500, iter_sampling=500))
    band_sampler: SamplerConfig = field(default_factory=lambda: SamplerConfig(
        chains=2, iter_warmup=400, iter_sampling=400))
    exposure_scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return {"data_dir": str(self.data_dir), "seed": self.seed, "time_bin_s": self.time_bin,
                "days": self.days, "pointing_cut_deg": self.pointing_cut,
                "imaging_cut_deg": self.imaging_cut, "area_factor": self.area_factor,
                "area_scale_cm2_per_unit": DEFAULT_AREA_SCALE * self.area_factor,
                "substeps": self.substeps, "sampler": self.sampler.to_kwargs(),
                "band_sampler": self.band_sampler.to_kwargs(),
                "exposure_scale": self.exposure_scale}


@dataclass
class SourceOutcome:
    """Everything one source's part of the study produced."""

    source: PaperSource
    truth: dict[str, Any]
    observation: dict[str, Any]
    cosi_only: ForwardFoldResult
    two_step: ForwardFoldResult
    band_fluxes: list[BandFlux]
    joint: ForwardFoldResult
    report_band: BandFlux
    report_band_truth: float
    seconds: dict[str, float] = field(default_factory=dict)


def visibility_blocks(visible: np.ndarray, *, split: int = 1) -> np.ndarray:
    """Background time nodes at the edges of the kept stretches: one block per stretch
    (cut bins join the stretch before them), each split into ``split`` equal parts."""
    visible = np.asarray(visible, dtype=bool)
    starts = np.flatnonzero(visible & ~np.r_[False, visible[:-1]])
    blocks = np.zeros(visible.size, dtype=np.int64)
    block = 0
    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < starts.size else visible.size
        kept = np.flatnonzero(visible[start:stop]) + start
        pieces = np.array_split(kept, max(1, min(split, kept.size)))
        for piece in pieces:
            block += 1
            blocks[piece[0]:stop] = block
    blocks[:starts[0] if starts.size else visible.size] = 1
    return np.maximum(blocks, 1)


def _spectrum(source: PaperSource, *, flux_band: tuple[float, float],
              fixed: dict[str, float] | None = None) -> PhotonSpectrum:
    return PhotonSpectrum(source.kind, fixed=fixed or {}, flux_band=flux_band, nh=source.nh,
                          log_flux_prior=(0.0, 5.0))


def _photon_flux(spectrum: PhotonSpectrum, source: PaperSource) -> float:
    """The paper's normalisation at 1 keV as the photon flux in ``spectrum.flux_band``."""
    return source.parameters["norm"][0] / math.exp(spectrum.log_norm(1.0, source.shape()))


def reference_spectra(name: str, rng: np.random.Generator, *, exposure_scale: float = 1.0
                      ) -> tuple[PhotonSpectrum, float, list[InstrumentData]]:
    """The other instruments' simulated spectra of one source of :data:`PAPER`, as the
    joint fit sees them (step 3 of the module docstring).

    Parameters
    ----------
    name : str
        ``"crab"``, ``"cygx1"`` or ``"cena"``.
    rng : `numpy.random.Generator`
        The study draws them from the source's generator after the COSI counts
        (`SourceSimulation.rng`).
    exposure_scale : float
        Scales the paper's exposures. Default 1.

    Returns
    -------
    spectrum : `PhotonSpectrum`
        The joint fit's spectrum (photon flux in 3-79 keV, NuSTAR's band).
    photon_flux : float
        The injected photon flux in that band, ph cm-2 s-1.
    instruments : list of `InstrumentData`
        NuSTAR FPMA (the reference), FPMB, Swift-BAT (and IBIS), with the paper's
        cross-normalisations.
    """
    source = PAPER[name]
    spectrum = _spectrum(source, flux_band=(3.0, 79.0))
    flux = _photon_flux(spectrum, source)
    instruments = []
    for group, (value, _) in source.cross_norm.items():
        if group == "COSI":
            continue
        base = "NuSTAR" if group.startswith("NuSTAR") else group
        simulated = reference_instrument(base).simulate(
            rng, lambda edges: spectrum.bin_flux(edges, flux, source.shape()),
            exposure=EXPOSURES[name][base] * exposure_scale, cross_norm=value, name=group)
        low = 3.0 if base == "NuSTAR" else 0.0
        instruments.append(InstrumentData.from_ogip(simulated, energy_min=low))
    return spectrum, flux, instruments


@dataclass
class SourceSimulation:
    """One source's flight-like observation and simulated COSI counts.

    Attributes
    ----------
    source : `PaperSource`
    days : int
        Repeated days of the 2016 orientation.
    edges : ndarray
        Measured band edges, keV.
    response : `EnergyResponse`
    geometry : `bayesbg.cosi.flight.FlightGeometry`
    observation : object
        The source's observation with the spectral pointing cut (``source_observation``).
    correction : ndarray
        Atmospheric correction factor per band.
    dataset : `bayesbg.cosi.data.CosiDataset`
        Multi-band counts.
    truth : dict
        The simulation's truth (``band_photon_flux`` per band, ph cm-2 s-1; source counts).
    cosi_flux : float
        Injected photon flux over ``edges[0]``-``edges[-1]`` (times the COSI constant),
        ph cm-2 s-1.
    rng : `numpy.random.Generator`
        The source's generator, after the COSI counts (the other instruments use it next).
    seconds : float
        Wall time of the simulation, s.
    """

    source: PaperSource
    days: int
    edges: np.ndarray
    response: EnergyResponse
    geometry: FlightGeometry
    observation: Any
    correction: np.ndarray
    dataset: Any
    truth: dict[str, Any]
    cosi_flux: float
    rng: np.random.Generator
    seconds: float


def simulate_source(name: str, settings: StudySettings) -> SourceSimulation:
    """The flight-like observation of one source of :data:`PAPER` and its COSI counts
    (module docstring; the paper's observation time unless ``settings.days``)."""
    source = PAPER[name]
    index = list(PAPER).index(name)
    rng = np.random.default_rng([settings.seed, index])
    start = time.perf_counter()
    data_dir = Path(settings.data_dir)
    background = read_classic_background(data_dir / BACKGROUND_FILE)
    response = EnergyResponse.read(data_dir / RMF_FILE,
                                   area_scale=DEFAULT_AREA_SCALE * settings.area_factor)
    edges = flight_band_edges(background, response.measured_edges)
    orientation = read_ori(data_dir / ORIENTATION_FILE)
    tracer = read_classic_tracer(data_dir / TRACER_FILE)
    period = int(round(86400.0 / settings.time_bin))
    days = settings.days
    if days is None:  # the paper's T_obs over the daily time inside the cut
        probe = flight_timeline(orientation, tracer, n_time=period, time_bin=settings.time_bin)
        one_day = source_observation(
            FlightGeometry.from_timeline(probe, background, energy_edges=edges,
                                         substeps=settings.substeps, altitude=33.0),
            response, lon=source.position[0], lat=source.position[1],
            pointing_cut=settings.pointing_cut)
        days = max(1, round(source.observation_time / one_day.observation_time))
    timeline = flight_timeline(orientation, tracer, n_time=period * days,
                               time_bin=settings.time_bin)
    # [COSI-PS] keeps data above 33 km only: the observation is at 33 km throughout
    geometry = FlightGeometry.from_timeline(timeline, background, energy_edges=edges,
                                            substeps=settings.substeps, altitude=33.0)
    observation = source_observation(geometry, response, lon=source.position[0],
                                     lat=source.position[1],
                                     pointing_cut=settings.pointing_cut)
    centres = np.sqrt(edges[:-1] * edges[1:])
    correction = atmospheric_correction(centres, observation.mean_zenith)
    cosi_band = _spectrum(source, flux_band=(float(edges[0]), float(edges[-1])))
    flux = source.cross_norm["COSI"][0] * _photon_flux(cosi_band, source)
    dataset, truth = simulate_source_observation(
        rng, observation, name=name, spectrum=cosi_band, photon_flux=flux,
        shape=source.shape(), background_response=flight_background_response(background,
                                                                             geometry),
        mean_background_rate=default_background_rate(background, geometry),
        correction=correction)
    return SourceSimulation(source=source, days=days, edges=edges, response=response,
                            geometry=geometry, observation=observation,
                            correction=correction, dataset=dataset, truth=truth,
                            cosi_flux=flux, rng=rng, seconds=time.perf_counter() - start)


def paper_band_flux(simulation: SourceSimulation, settings: StudySettings,
                    fiducial: PhotonSpectrum) -> tuple[BandFlux, float, float]:
    """The band flux of the paper's band as [COSI-PS] measures it: a template fit with the
    imaging data's pointing cut (``settings.imaging_cut``) and ``fiducial`` as shape,
    divided by the band's atmospheric correction factor (the paper's fluxes are corrected
    for scattering in the atmosphere, [COSI-PS] 4.2; the templates predict the flux the
    response sees).

    Returns
    -------
    flux : `BandFlux`
        The band flux (ph cm-2 s-1) and its significance.
    truth : float
        The injected photon flux in that band (times the COSI constant), ph cm-2 s-1.
    imaging_time : float
        Live time inside the imaging cut, s.
    """
    source, geometry, dataset = simulation.source, simulation.geometry, simulation.dataset
    imaging = source_observation(geometry, simulation.response, lon=source.position[0],
                                 lat=source.position[1], pointing_cut=settings.imaging_cut)
    keep = imaging.visible
    imaging_dataset = geometry.dataset(
        sparse.coo_array(sparse.csr_array(dataset.counts).multiply(
            keep.astype(np.int64)[:, None])),
        tracers={k: v * keep for k, v in dataset.tracers.items()},
        background_response=dataset.background_response)
    imaging_models = band_background_models(imaging_dataset,
                                            blocks=visibility_blocks(keep),
                                            tracer="photo_event_rate")
    band = _report_band(simulation.edges, source.band)
    e = int(np.flatnonzero(np.isclose(simulation.edges[:-1], band[0]))[0])
    report = fit_band_fluxes(imaging_dataset, exposure=imaging.exposure,
                             patterns=imaging.pattern, background_models=imaging_models,
                             energy_true_edges=simulation.response.energy_edges,
                             seed=settings.seed, bands=[e], fiducial=fiducial,
                             config=settings.band_sampler)[0]
    factor = float(simulation.correction[e])
    report = replace(report, mean=report.mean / factor, sd=report.sd / factor,
                     q5=report.q5 / factor, q50=report.q50 / factor, q95=report.q95 / factor,
                     ml_flux=report.ml_flux / factor)
    return (report, float(simulation.truth["band_photon_flux"][e]),
            float(imaging.observation_time))


def run_source(name: str, settings: StudySettings) -> SourceOutcome:
    """The study of one source (module docstring)."""
    seconds: dict[str, float] = {}
    sim = simulate_source(name, settings)
    source, edges, response, observation = (sim.source, sim.edges, sim.response,
                                            sim.observation)
    correction, dataset, truth, rng = sim.correction, sim.dataset, sim.truth, sim.rng
    blocks = visibility_blocks(observation.visible)
    models = band_background_models(dataset, blocks=blocks, tracer="photo_event_rate")
    counts = prepare_spectral_counts(dataset, exposure=observation.exposure,
                                     patterns=observation.pattern, background_models=models,
                                     energy_true_edges=response.energy_edges,
                                     atmospheric_correction=correction)
    seconds["simulate"] = sim.seconds
    band = _report_band(edges, source.band)
    cosi_norm = source.cross_norm["COSI"][0]

    # 1. forward-folded, COSI alone
    start = time.perf_counter()
    fixed = {k: source.shape()[k] for k in COSI_ONLY_FIXED.get(name, ())}
    cosi_spectrum = _spectrum(source, flux_band=(float(edges[0]), float(edges[-1])),
                              fixed=fixed)
    cosi_truth = {"photon_flux": sim.cosi_flux, **source.shape(),
                  "norm": cosi_norm * source.parameters["norm"][0]}
    cosi_only = fit_forward_folded(
        ForwardFoldProblem(cosi_spectrum, cosi=counts, report_bands=[band]),
        seed=settings.seed, config=settings.sampler, truth=cosi_truth)
    seconds["cosi_only"] = time.perf_counter() - start

    # 2. two-step: band fluxes in every band, then the same spectral fit of them
    start = time.perf_counter()
    fluxes = fit_band_fluxes(dataset, exposure=observation.exposure,
                             patterns=observation.pattern, background_models=models,
                             energy_true_edges=response.energy_edges, seed=settings.seed,
                             config=settings.band_sampler)
    bands = band_flux_dataset(fluxes, exposure=observation.exposure,
                              energy_true_edges=response.energy_edges, energy_edges=edges,
                              atmospheric_correction=correction)
    two_step = fit_forward_folded(
        ForwardFoldProblem(cosi_spectrum, instruments=[bands], report_bands=[band]),
        seed=settings.seed, config=settings.sampler, truth=cosi_truth)
    seconds["two_step"] = time.perf_counter() - start

    # 3. joint forward-folded fit with the other instruments (NuSTAR FPMA the reference)
    start = time.perf_counter()
    joint_spectrum, joint_flux, instruments = reference_spectra(
        name, rng, exposure_scale=settings.exposure_scale)
    problem = ForwardFoldProblem(joint_spectrum, cosi=counts, instruments=instruments,
                                 report_bands=[band])
    joint_truth = {"photon_flux": joint_flux, **source.shape(),
                   "norm": source.parameters["norm"][0]}
    joint = fit_forward_folded(problem, seed=settings.seed, config=settings.sampler,
                               truth=joint_truth)
    seconds["joint"] = time.perf_counter() - start

    # 4. the paper's band flux: 60-deg cut, the joint fit's median shape as fiducial
    start = time.perf_counter()
    posterior = joint.inference_data.posterior
    shape = {n: float(posterior[n].median()) for n in joint_spectrum.free_parameters}
    report, report_truth, imaging_time = paper_band_flux(
        sim, settings, replace(joint_spectrum, fixed=shape))
    seconds["band_flux"] = time.perf_counter() - start
    return SourceOutcome(
        source=source, truth={**{k: v for k, v in joint_truth.items()},
                              **{f"cross_norm:{k}": v[0] for k, v in
                                 source.cross_norm.items()}},
        observation={"days": sim.days, "observation_time_s": observation.observation_time,
                     "imaging_time_s": imaging_time,
                     "mean_zenith_deg": observation.mean_zenith,
                     "band_edges_keV": edges.tolist(), "n_populated": counts.n_nonzero,
                     "source_counts": float(np.sum(truth["source_counts"])),
                     "background_counts": float(dataset.counts.sum()
                                                - np.sum(truth["source_counts"])),
                     "atmospheric_correction": correction.tolist(),
                     "cosi_truth": cosi_truth},
        cosi_only=cosi_only, two_step=two_step, band_fluxes=fluxes, joint=joint,
        report_band=report, report_band_truth=report_truth, seconds=seconds)


def _report_band(edges: np.ndarray, band: tuple[float, float]) -> tuple[float, float]:
    """The dataset band (background-file edges) nearest to a band of the paper."""
    lo = int(np.argmin(np.abs(edges - band[0])))
    hi = int(np.argmin(np.abs(edges - band[1])))
    return float(edges[lo]), float(edges[hi])
