"""Band spectral fit of a COSI point source on cosipy files (docs/cosi_io.md).

- :mod:`~bayesbg.cosi.pointsource.response`: the point-source response from a cosipy
  detector response and an orientation history (dwell-time map);
- :mod:`~bayesbg.cosi.pointsource.spectrum`: the Band spectrum and its bin integrals;
- :mod:`~bayesbg.cosi.pointsource.data`: :class:`SpectrumFitData` (counts, background,
  response, priors) and :func:`load_cosipy_fit_data`;
- :mod:`~bayesbg.cosi.pointsource.likelihood`: expected counts and cosipy's ln L in numpy;
- :mod:`~bayesbg.cosi.pointsource.program`: ``stan_models/cosi_point_source_spectrum.stan``;
- :mod:`~bayesbg.cosi.pointsource.fit`: maximum likelihood and NUTS;
- :mod:`~bayesbg.cosi.pointsource.cli`: ``bayesbg cosi spectrum``.
"""

from bayesbg.cosi.pointsource.data import (
    DATA_AXES,
    SpectrumFitData,
    load_cosipy_fit_data,
    spectrum_fit_data,
    with_options,
)
from bayesbg.cosi.pointsource.fit import (
    DEFAULT_ADAPT_DELTA,
    PointSourceFitResult,
    fit_point_source_spectrum,
    maximum_likelihood_spectrum,
)
from bayesbg.cosi.pointsource.likelihood import cosipy_log_like, expected_counts
from bayesbg.cosi.pointsource.program import (
    BAND_PARAMETERS,
    MODEL_NAME,
    PARAMETERS,
    point_source_spectrum_model,
)
from bayesbg.cosi.pointsource.response import (
    COORDSYS,
    PointSourceResponse,
    dwell_time_map,
    point_source_response,
)
from bayesbg.cosi.pointsource.spectrum import (
    band,
    band_bin_integrals,
    band_bin_integrals_quad,
    simpson_log_nodes,
)

__all__ = [
    "BAND_PARAMETERS",
    "COORDSYS",
    "DATA_AXES",
    "DEFAULT_ADAPT_DELTA",
    "MODEL_NAME",
    "PARAMETERS",
    "PointSourceFitResult",
    "PointSourceResponse",
    "SpectrumFitData",
    "band",
    "band_bin_integrals",
    "band_bin_integrals_quad",
    "cosipy_log_like",
    "dwell_time_map",
    "expected_counts",
    "fit_point_source_spectrum",
    "load_cosipy_fit_data",
    "maximum_likelihood_spectrum",
    "point_source_response",
    "point_source_spectrum_model",
    "simpson_log_nodes",
    "spectrum_fit_data",
    "with_options",
]
