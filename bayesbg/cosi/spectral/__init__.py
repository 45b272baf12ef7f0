"""Energy-resolved COSI: forward-folded spectral fits through the 2016 energy response,
alone or jointly with other instruments, and the paper's two-step route
(docs/cosi_spectral.md; [COSI-PS]).

- :mod:`~bayesbg.cosi.spectral.response`: :class:`EnergyResponse`, the 2016 redistribution
  matrices as effective areas, applied along a source's path (``R[t, e, j]``);
- :mod:`~bayesbg.cosi.spectral.spectrum`: :class:`PhotonSpectrum` (powerlaw, cutoffpl,
  bknpower, Band; amplitude as a photon flux in a band; absorption) and its numpy twin;
- :mod:`~bayesbg.cosi.spectral.data`: :class:`CosiSpectralCounts`, the multi-band counts
  by (band, time) segment, per-band background models;
- :mod:`~bayesbg.cosi.spectral.instruments`: :class:`InstrumentData`, other instruments'
  OGIP or ECSV spectra;
- :mod:`~bayesbg.cosi.spectral.program`: :class:`ForwardFoldProblem` and
  ``stan_models/cosi_spectral_fit.stan``;
- :mod:`~bayesbg.cosi.spectral.fit`: maximum likelihood and NUTS;
- :mod:`~bayesbg.cosi.spectral.two_step`: the paper's route, band fluxes from template
  fits (:func:`fit_band_fluxes`), then a spectral fit of them (:func:`band_flux_dataset`);
- :mod:`~bayesbg.cosi.spectral.simulate`: multi-band counts of a point source.
"""

from bayesbg.cosi.spectral.data import (
    CosiSpectralCounts,
    band_background_models,
    band_tracer_name,
    normalised_patterns,
    prepare_spectral_counts,
)
from bayesbg.cosi.spectral.fit import (
    ForwardFoldResult,
    fit_forward_folded,
    laplace_inverse_metric,
    maximum_likelihood_forward_folded,
)
from bayesbg.cosi.spectral.instruments import InstrumentData
from bayesbg.cosi.spectral.program import (
    MODEL_NAME,
    ForwardFoldProblem,
    amplitude_log_scale,
    forward_fold_model,
    report_band_label,
)
from bayesbg.cosi.spectral.response import DEFAULT_AREA_SCALE, EnergyResponse, source_direction
from bayesbg.cosi.spectral.simulate import (
    simulate_band_counts,
    simulate_point_source_bands,
    toy_patterns,
)
from bayesbg.cosi.spectral.spectrum import (
    SPECTRUM_TYPES,
    PhotonSpectrum,
    ShapePrior,
    log_photon_shape,
    quadrature_nodes,
)
from bayesbg.cosi.spectral.two_step import (
    FIDUCIAL,
    BandFlux,
    band_flux_dataset,
    band_templates,
    fit_band_fluxes,
)

__all__ = [
    "DEFAULT_AREA_SCALE",
    "FIDUCIAL",
    "MODEL_NAME",
    "SPECTRUM_TYPES",
    "BandFlux",
    "CosiSpectralCounts",
    "EnergyResponse",
    "ForwardFoldProblem",
    "ForwardFoldResult",
    "InstrumentData",
    "PhotonSpectrum",
    "ShapePrior",
    "amplitude_log_scale",
    "band_background_models",
    "band_flux_dataset",
    "band_templates",
    "band_tracer_name",
    "fit_band_fluxes",
    "fit_forward_folded",
    "forward_fold_model",
    "laplace_inverse_metric",
    "log_photon_shape",
    "maximum_likelihood_forward_folded",
    "normalised_patterns",
    "prepare_spectral_counts",
    "quadrature_nodes",
    "report_band_label",
    "simulate_band_counts",
    "simulate_point_source_bands",
    "source_direction",
    "toy_patterns",
]
