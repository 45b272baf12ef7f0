"""COSI imaging by modified Richardson-Lucy deconvolution (docs/equations.md section 2).

The response is an operator (:func:`build_imaging_response`: detector response times
pointing history, matrix-free, or as a sparse/dense matrix), the algorithm
:func:`richardson_lucy` (acceleration, smoothing on the sphere, background re-fit), the
iteration is chosen from the TS curve (:func:`choose_iteration`), and
:func:`run_deconvolve_config` writes maps, the TS curve, region fluxes and a HEALPix FITS
cube into a run directory. See ``docs/imaging.md``.

The pointing history is a :class:`bayesbg.cosi.pointing.Pointing`, the instrument
:class:`bayesbg.cosi.exposure.InstrumentSettings`, the same as the simulator's.

Examples
--------
>>> from bayesbg.cosi import (InstrumentSettings, balloon_pointing, build_background_model,
...                           equidistant_blocks, simulate_cosi)
>>> from bayesbg.cosi.imaging import (build_imaging_response, richardson_lucy,
...                                   DeconvolutionSettings)
>>> instrument = InstrumentSettings(instrument_nside=8)
>>> dataset, truth = simulate_cosi(7, n_time=24, bin_size=15.0, instrument=instrument,
...                                sky="point", flux=4.5e-3, source_lon=184.56,
...                                source_lat=-5.78)
>>> response = build_imaging_response(dataset, balloon_pointing(7, n_time=24), nside=8,
...                                   instrument=instrument)
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
    "RegionFlux",
    "build_imaging_response",
    "choose_iteration",
    "classic_settings",
    "gaussian_kernel",
    "healpix_fits_bytes",
    "map_figure",
    "pixel_vectors",
    "read_healpix_fits",
    "region_flux",
    "richardson_lucy",
    "run_deconvolve_config",
    "ts_curve_figure",
    "write_deconvolution_run",
]
