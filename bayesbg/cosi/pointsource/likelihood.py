"""The Band point-source model in numpy: expected counts and cosipy's log-likelihood.

The twin of ``stan_models/cosi_point_source_spectrum.stan`` for checks and comparisons
with cosipy (:func:`cosipy_log_like`, cosipy's ``COSILike.get_log_like`` convention).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from bayesbg.cosi.pointsource.data import SpectrumFitData
from bayesbg.cosi.pointsource.spectrum import band_bin_integrals

__all__ = ["cosipy_log_like", "expected_counts"]


def expected_counts(data: SpectrumFitData, params: Mapping[str, float]
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Source and background expected counts (Em, Phi, PsiChi) for parameter values.

    ``params`` holds ``K, alpha, beta, xp, bkg_norm`` (see
    :data:`bayesbg.cosi.pointsource.program.PARAMETERS`).
    """
    flux = band_bin_integrals(data.energy_true_edges, float(params["K"]),
                              float(params["alpha"]), float(params["beta"]),
                              float(params["xp"]), data.pivot, n_sub=data.n_sub)
    return (data.response.expected_counts(flux),
            float(params["bkg_norm"]) * data.background)


def cosipy_log_like(data: SpectrumFitData, params: Mapping[str, float]) -> float:
    """cosipy's ``COSILike.get_log_like``: ``sum d log(m + 1e-12) - (m + 1e-12)``.

    No ``log d!`` term, and 1e-12 added to every bin's expectation, as cosipy does;
    compare it with cosipy's published values.
    """
    source, background = expected_counts(data, params)
    m = source + background + 1e-12
    return float(np.nansum(data.counts * np.log(m) - m))
