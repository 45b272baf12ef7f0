"""The binding of ``stan_models/cosi_spectral_fit.stan``: its data, initial values and the
ArviZ groups of its draws (docs/cosi_spectral.md).

:class:`ForwardFoldProblem` is the fit's data container: a :class:`PhotonSpectrum`, the
COSI counts (:class:`CosiSpectralCounts`, optional) and other instruments' spectra
(:class:`InstrumentData`, optional), report bands. :meth:`ForwardFoldProblem.to_stan_data`
concatenates every instrument's true-energy bins (COSI's first) into one list with
Simpson nodes in ln E, and the channels of the other instruments into one sparse response.
Datasets: the other instruments in order, then COSI; the first is the reference
(cross-normalisation 1).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import arviz as az
import cmdstanpy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from bayesbg.cosi.spectral.data import CosiSpectralCounts
from bayesbg.cosi.spectral.instruments import InstrumentData
from bayesbg.cosi.spectral.spectrum import PhotonSpectrum, quadrature_nodes
from bayesbg.spectra.absorption import mm83_cross_section
from bayesbg.stan import compile_model, stan_model_file, to_inference_data

__all__ = [
    "MODEL_NAME",
    "ForwardFoldProblem",
    "amplitude_log_scale",
    "forward_fold_model",
    "report_band_label",
]

log = logging.getLogger(__name__)

MODEL_NAME = "cosi_spectral_fit"
"""Name of the Stan program (``stan_models/cosi_spectral_fit.stan``)."""


def forward_fold_model(*, threads: bool = False) -> cmdstanpy.CmdStanModel:
    """The compiled ``stan_models/cosi_spectral_fit.stan`` (cached); ``threads`` compiles
    with ``STAN_THREADS`` (the fused pass's chunks then run on ``threads_per_chain``)."""
    return compile_model(stan_model_file(MODEL_NAME), threads=threads)


def amplitude_log_scale(cosi: CosiSpectralCounts) -> NDArray[np.float64]:
    """The sampler's scale of each ln A (``amplitude_log_scale`` of the program):
    ``1 / sqrt(n)``, n the observed counts of the amplitude's bins (at least 1), the sd
    of ln A when the background dominates. Only the sampler's coordinates depend on it
    (``ln A / scale``), not the posterior."""
    per_segment = np.bincount(cosi.bin_segment(), weights=np.asarray(cosi.counts, float),
                              minlength=cosi.n_segment)
    per_amplitude = np.bincount(np.asarray(cosi.segment_block) - 1, weights=per_segment,
                                minlength=cosi.n_amplitude)
    return 1.0 / np.sqrt(np.maximum(per_amplitude, 1.0))


def report_band_label(band: tuple[float, float]) -> str:
    """``"325-480 keV"`` for a report band."""
    return f"{band[0]:g}-{band[1]:g} keV"


@dataclass(frozen=True, eq=False)
class ForwardFoldProblem:
    """Everything a forward-folded fit reads.

    Parameters
    ----------
    spectrum : `PhotonSpectrum`
    cosi : `CosiSpectralCounts`, optional
        The COSI counts; None for a fit of the other instruments alone.
    instruments : sequence of `InstrumentData`
        Other instruments (the first is the reference when present).
    report_bands : sequence of (float, float)
        keV, bands whose unabsorbed photon flux is reported (``report_flux``).
    cross_norm_prior_sd : float
        sd of ln C (lognormal prior centred on 1). Default 0.3 ([COSI-PS] 5.1: absolute
        normalisations of instruments differ by up to ~30 %).
    max_step : float
        Largest Simpson step in ln E of the quadrature. Default 0.02.
    """

    spectrum: PhotonSpectrum
    cosi: CosiSpectralCounts | None = None
    instruments: Sequence[InstrumentData] = ()
    report_bands: Sequence[tuple[float, float]] = ()
    cross_norm_prior_sd: float = 0.3
    max_step: float = 0.02
    _names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        instruments = tuple(self.instruments)
        if self.cosi is None and not instruments:
            raise ValueError("nothing to fit: expected COSI counts or other instruments")
        names = tuple(i.name for i in instruments) + (("COSI",) if self.cosi else ())
        if len(set(names)) != len(names):
            raise ValueError(f"instruments: dataset names must differ, found {names}")
        if not self.cross_norm_prior_sd > 0:
            raise ValueError("cross_norm_prior_sd: expected a positive number")
        bands = tuple((float(a), float(b)) for a, b in self.report_bands)
        for a, b in bands:
            if not 0 < a < b:
                raise ValueError(f"report_bands: expected 0 < min < max keV, found ({a}, {b})")
        object.__setattr__(self, "instruments", instruments)
        object.__setattr__(self, "report_bands", bands)
        object.__setattr__(self, "_names", names)

    @property
    def dataset_names(self) -> tuple[str, ...]:
        """Datasets in cross-normalisation order (the first fixed at 1)."""
        return self._names

    def true_bins(self) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                 list[NDArray[np.int64]]]:
        """All distinct true-energy bins (COSI's first; bins shared by several datasets,
        e.g. NuSTAR's two modules, once) and, per dataset (COSI first), the indices of its
        bins among them."""
        parts: list[tuple[NDArray, NDArray]] = []
        if self.cosi is not None:
            edges = self.cosi.energy_true_edges
            parts.append((edges[:-1], edges[1:]))
        parts += [(i.true_min, i.true_max) for i in self.instruments]
        index: dict[tuple[float, float], int] = {}
        columns = []
        for lo, hi in parts:
            columns.append(np.array([index.setdefault((float(a), float(b)), len(index))
                                     for a, b in zip(lo, hi, strict=True)], dtype=np.int64))
        bins = np.array(list(index), dtype=np.float64).reshape(-1, 2)
        return bins[:, 0], bins[:, 1], columns

    def to_stan_data(self, *, use_priors: bool = True, fused: bool = True,
                     grainsize: int = 0) -> dict[str, Any]:
        """The ``data`` block of ``cosi_spectral_fit.stan``.

        Parameters
        ----------
        use_priors : bool
            False: likelihood only (maximum likelihood). Default True.
        fused : bool
            The COSI term by the fused C++ pass; False: the plain Stan expression.
        grainsize : int
            Populated bins per chunk of the fused pass (0: 8,192).
        """
        spectrum = self.spectrum
        free = spectrum.free_parameters
        priors = [spectrum.prior(n) for n in free]
        lo, hi, slices = self.true_bins()
        nodes = quadrature_nodes(lo, hi, max_step=self.max_step)
        band_nodes = quadrature_nodes(*spectrum.flux_band, max_step=self.max_step)
        if self.report_bands:
            report = quadrature_nodes([b[0] for b in self.report_bands],
                                      [b[1] for b in self.report_bands],
                                      max_step=self.max_step)
        else:
            report = quadrature_nodes([1.0], [2.0])
        n_report = len(self.report_bands)
        data: dict[str, Any] = {
            "spectrum_type": spectrum.code,
            "P": len(spectrum.parameter_names),
            "shape_free_index": [free.index(n) + 1 if n in free else 0
                                 for n in spectrum.parameter_names],
            "shape_fixed": [spectrum.fixed.get(n, 0.0) for n in spectrum.parameter_names],
            "Q": len(free),
            "shape_lower": [p.lower for p in priors],
            "shape_upper": [p.upper for p in priors],
            "shape_prior": [1 if p.prior == "normal" else 2 for p in priors],
            "shape_prior_location": [p.location for p in priors],
            "shape_prior_scale": [p.scale for p in priors],
            "pivot": spectrum.pivot,
            "nh": spectrum.nh,
            "R": band_nodes.log_energy.size,
            "flux_band_log_energy": band_nodes.log_energy,
            "flux_band_log_weight": band_nodes.log_weight,
            "log_flux_prior": list(spectrum.log_flux_prior),
            "X": lo.size,
            "M": nodes.log_energy.size,
            "node_log_energy": nodes.log_energy,
            "node_log_weight": nodes.log_weight,
            "node_sigma": mm83_cross_section(np.exp(nodes.log_energy)),
            "node_start": nodes.start + 1,
            "node_count": nodes.count,
            "G": n_report,
            "M_report": int(report.count[:n_report].sum()),
            "report_log_energy": report.log_energy[:int(report.count[:n_report].sum())],
            "report_log_weight": report.log_weight[:int(report.count[:n_report].sum())],
            "report_start": (report.start[:n_report] + 1).tolist(),
            "report_count": report.count[:n_report].tolist(),
            "cross_norm_prior_sd": self.cross_norm_prior_sd,
            "use_priors": int(bool(use_priors)),
            "grainsize": int(grainsize),
            "fused_likelihood": int(bool(fused)),
        }
        data.update(self._cosi_data(slices[0] if self.cosi is not None else None))
        data.update(self._instrument_data(slices[1:] if self.cosi is not None else slices,
                                          lo.size))
        return data

    def _cosi_data(self, true_slice: NDArray[np.int64] | None) -> dict[str, Any]:
        cosi = self.cosi
        if cosi is None:
            return {"has_cosi": 0, "J": 0, "cosi_true_bin": [], "E": 0, "S": 0,
                    "segment_band": [], "segment_response": np.zeros((0, 0)),
                    "pattern_total": [], "N": 0, "counts": [], "sky_pattern": [],
                    "background": [], "segment_start": [1], "B": 0, "segment_block": [],
                    "background_total": [], "background_prior_sd": 0.1,
                    "amplitude_log_scale": [], "atmospheric_correction": []}
        assert true_slice is not None
        return {
            "has_cosi": 1,
            "J": cosi.n_true,
            "cosi_true_bin": true_slice + 1,
            "E": cosi.n_band,
            "S": cosi.n_segment,
            "segment_band": cosi.segment_band + 1,
            "segment_response": cosi.segment_response,
            "pattern_total": cosi.pattern_total,
            "N": cosi.n_nonzero,
            "counts": cosi.counts,
            "sky_pattern": cosi.sky_pattern,
            "background": cosi.background,
            "segment_start": cosi.segment_start + 1,
            "B": cosi.n_amplitude,
            "segment_block": cosi.segment_block,
            "background_total": cosi.background_total,
            "background_prior_sd": cosi.background_prior_sd,
            "amplitude_log_scale": amplitude_log_scale(cosi),
            "atmospheric_correction": cosi.atmospheric_correction,
        }

    def _instrument_data(self, slices: list[NDArray[np.int64]], n_true: int
                         ) -> dict[str, Any]:
        blocks, dataset, kinds, values, errors, backgrounds = [], [], [], [], [], []
        for d, (instrument, columns) in enumerate(zip(self.instruments, slices, strict=True)):
            full = np.zeros((instrument.n_channel, n_true))
            np.add.at(full, (slice(None), columns), instrument.response)
            blocks.append(sparse.csr_array(full))
            dataset += [d + 1] * instrument.n_channel
            kinds += [instrument.likelihood] * instrument.n_channel
            values.append(instrument.value)
            errors.append(instrument.error if instrument.error is not None
                          else np.zeros(instrument.n_channel))
            backgrounds.append(instrument.background if instrument.background is not None
                               else np.zeros(instrument.n_channel))
        n_channel = len(dataset)
        matrix = sparse.csr_array(sparse.vstack(blocks)) if blocks else \
            sparse.csr_array((0, n_true))
        kinds_array = np.asarray(kinds)
        value = np.concatenate(values) if values else np.zeros(0)
        poisson = np.flatnonzero(kinds_array == "poisson")
        gauss = np.flatnonzero(kinds_array == "gauss")
        systematic = [i.systematic for i in self.instruments] or [0.0]
        return {
            "D": len(self.instruments),
            "K": n_channel,
            "channel_dataset": dataset,
            "W": int(matrix.nnz),
            "response_value": matrix.data,
            "response_column": matrix.indices + 1,
            "response_row_start": matrix.indptr + 1,
            "K_poisson": poisson.size,
            "poisson_channel": poisson + 1,
            "poisson_count": np.round(value[poisson]).astype(np.int64),
            "poisson_background": np.concatenate(backgrounds)[poisson] if backgrounds
            else np.zeros(0),
            "K_gauss": gauss.size,
            "gauss_channel": gauss + 1,
            "gauss_value": value[gauss],
            "gauss_error": np.concatenate(errors)[gauss] if errors else np.zeros(0),
            "systematic": systematic,
        }

    def initial_values(self, *, photon_flux: float | None = None,
                       shape: Mapping[str, float] | None = None,
                       rng: np.random.Generator | None = None,
                       jitter: float = 0.0) -> dict[str, Any]:
        """Initial values: ``photon_flux`` (default e^(prior mean)), free shapes (default
        their prior location, moved inside the bounds), cross-normalisations 1, background
        amplitudes 1 (``log_background_amplitude`` 0); with ``rng`` and ``jitter`` > 0 each
        multiplied by ``exp(N(0, jitter))`` (shapes shifted by ``N(0, jitter)`` of their
        bound width x 0.1)."""
        spectrum = self.spectrum
        rng = rng if rng is not None else np.random.default_rng(0)
        flux = photon_flux if photon_flux is not None else math.exp(spectrum.log_flux_prior[0])
        values = []
        for name in spectrum.free_parameters:
            prior = spectrum.prior(name)
            start = (shape or {}).get(name)
            if start is None:
                start = prior.location if prior.prior == "normal" else math.exp(prior.location)
            width = prior.upper - prior.lower
            start = float(start) + jitter * 0.1 * width * rng.standard_normal()
            values.append(float(np.clip(start, prior.lower + 1e-3 * width,
                                        prior.upper - 1e-3 * width)))
        n_norm = len(self.dataset_names)
        n_amp = self.cosi.n_amplitude if self.cosi is not None else 0

        def scatter(n: int) -> list[float]:
            return np.exp(jitter * rng.standard_normal(n)).tolist()

        return {"photon_flux": float(flux) * scatter(1)[0], "shape_free": values,
                "cross_norm_free": scatter(n_norm - 1),
                "log_background_amplitude": (jitter * rng.standard_normal(n_amp)).tolist()}

    def inference_data(self, fit: cmdstanpy.CmdStanMCMC) -> az.InferenceData:
        """The draws as ArviZ groups, each free shape parameter as its own variable
        (``index``, ``ecut``, ...), ``cross_norm`` over ``dataset``, ``report_flux`` over
        ``report_band``, ``log_lik`` over ``observation`` (COSI bands, then channels)."""
        cosi = self.cosi
        n_band = cosi.n_band if cosi is not None else 0
        labels = [f"COSI {report_band_label((a, b))}" for a, b in
                  zip(cosi.energy_edges[:-1], cosi.energy_edges[1:], strict=True)] \
            if cosi is not None else []
        for instrument in self.instruments:
            labels += [f"{instrument.name} {a:g}-{b:g} keV" for a, b in
                       zip(instrument.channel_min, instrument.channel_max, strict=True)]
        idata = to_inference_data(
            fit, log_likelihood="log_lik",
            posterior_predictive="cosi_counts_rep" if cosi is not None else None,
            coords={"dataset": list(self.dataset_names),
                    "report_band": [report_band_label(b) for b in self.report_bands],
                    "band": list(range(n_band)), "observation": labels,
                    "amplitude": list(range(1, (cosi.n_amplitude if cosi else 0) + 1)),
                    "channel": labels[n_band:]},
            dims={"cross_norm": ["dataset"], "report_flux": ["report_band"],
                  "cosi_source_counts": ["band"], "cosi_background_counts": ["band"],
                  "cosi_counts_rep": ["band"], "log_lik": ["observation"],
                  "background_amplitude": ["amplitude"],
                  "log_background_amplitude": ["amplitude"], "channel_model": ["channel"]})
        posterior = idata.posterior
        for q, name in enumerate(self.spectrum.free_parameters):
            posterior[name] = posterior["shape_free"].isel(shape_free_dim_0=q)
        return idata
