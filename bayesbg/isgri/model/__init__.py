"""The ISGRI model: what the pipeline fits to the pointings, one module per piece (the
public names are exported by `bayesbg.isgri`).

- :mod:`~bayesbg.isgri.model.background`: the per-orbit detector background
  (:class:`OrbitBackgroundModel`, its regimes and predictions);
  :mod:`~bayesbg.isgri.model.background_fit` builds it from the BKG pointings
  (:func:`fit_background`, the slope filter, the residual clipping).
- :mod:`~bayesbg.isgri.model.crab`: the Crab calibration ``P(orbit)``
  (:func:`fit_crab_calibration`, mCrab and energy-flux conversions).
- :mod:`~bayesbg.isgri.model.collimator`: the IBIS collimator response;
  :mod:`~bayesbg.isgri.model.skymodel`: the stellar-mass bulge and disk seen through it.
- :mod:`~bayesbg.isgri.model.flux_groups`: residual fluxes per region x band and their
  bins, the data of the flux mixture (:class:`FluxGroups`, its Stan data).
- :mod:`~bayesbg.isgri.model.mixture_likelihood`: the binned Gaussian-plus-flat-wings
  mixture and its maximum-likelihood fit (:func:`fit_mixture_ml`); the NUTS fit of the
  same model is `bayesbg.isgri.fit`.
- :mod:`~bayesbg.isgri.model.histogram_estimate`: the paper's histogram estimator.
- :mod:`~bayesbg.isgri.model.error_budget`: the background and calibration error terms a
  region's flux shares across pointings.
"""

__all__: list[str] = []  # the names are public through the package face, bayesbg.isgri
