"""COSI imaging by modified Richardson-Lucy deconvolution (DOMAIN.md section 2).

The response is an operator (:func:`build_imaging_response`: detector response times
pointing history, matrix-free, or as a sparse/dense matrix), the algorithm
:func:`richardson_lucy` (acceleration, smoothing on the sphere, background re-fit), the
iteration is chosen from the TS curve (:func:`choose_iteration`), and
:func:`run_deconvolve_config` writes maps, the TS curve, region fluxes and a HEALPix FITS
cube into a run directory. See ``docs/imaging.md``.

Examples
--------
>>> from bayesbg.cosi import simulate_cosi, build_background_model, equidistant_blocks
>>> from bayesbg.cosi.imaging import (balloon_pointing, build_imaging_response,
...                                   richardson_lucy, DeconvolutionSettings)
>>> dataset, truth = simulate_cosi(7, n_time=24, bin_size=15.0, instrument_nside=8,
...                                sky="point", flux=4.5e-3, source_lon=184.56,
...                                source_lat=-5.78)
>>> response = build_imaging_response(dataset, balloon_pointing(24, 7), nside=8,
...                                   instrument_nside=8)
>>> background = build_background_model(dataset, blocks=equidistant_blocks(24, 2),
...                                     tracer="photo_event_rate")
>>> result = richardson_lucy(dataset, response, background,
...                          settings=DeconvolutionSettings(iterations=5))
>>> bool(result.ts[-1] > 0)
True
"""

from bayesbg.cosi.imaging.config import APPLICATIONS, DeconvolveConfig
from bayesbg.cosi.imaging.deconvolve import (
    DeconvolutionResult,
    DeconvolutionSettings,
    richardson_lucy,
)
from bayesbg.cosi.imaging.figures import map_figure, ts_curve_figure
from bayesbg.cosi.imaging.pointing import Pointing, balloon_pointing, load_pointing
from bayesbg.cosi.imaging.products import (
    RegionFlux,
    healpix_fits_bytes,
    read_healpix_fits,
    region_flux,
)
from bayesbg.cosi.imaging.projection import (
    MatrixFreeResponse,
    MatrixResponse,
    build_imaging_response,
    pixel_vectors,
    pointing_exposure,
)
from bayesbg.cosi.imaging.run import (
    DeconvolutionRun,
    classic_settings,
    run_deconvolve_config,
    write_deconvolution_run,
)
from bayesbg.cosi.imaging.selection import IterationChoice, choose_iteration
from bayesbg.cosi.imaging.smoothing import gaussian_kernel

__all__ = [
    "APPLICATIONS",
    "DeconvolutionResult",
    "DeconvolutionRun",
    "DeconvolutionSettings",
    "DeconvolveConfig",
    "IterationChoice",
    "MatrixFreeResponse",
    "MatrixResponse",
    "Pointing",
    "RegionFlux",
    "balloon_pointing",
    "build_imaging_response",
    "choose_iteration",
    "classic_settings",
    "gaussian_kernel",
    "healpix_fits_bytes",
    "load_pointing",
    "map_figure",
    "pixel_vectors",
    "pointing_exposure",
    "read_healpix_fits",
    "region_flux",
    "richardson_lucy",
    "run_deconvolve_config",
    "ts_curve_figure",
    "write_deconvolution_run",
]
