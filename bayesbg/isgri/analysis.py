"""One ISGRI run from its configuration: input or simulation, pipeline, profile, spectral
fits, run directory (``bayesbg isgri run``; `analyses/isgri_galactic_background`).

`run_isgri` chains the public calls in the order of the paper:

1. the pointing table (`bayesbg.isgri.read_pointings`, refusing repeated ScW ids unless
   ``deduplicate``) or a full-size simulation with known truth
   (`bayesbg.isgri.simulate_isgri`);
2. screening, background model, Crab calibration with the default and the alternative
   collimator, fluxes of Table 1, spectra, longitude profile and point sources
   (`bayesbg.isgri.run_pipeline`);
3. the stellar-mass model of the profile (`bayesbg.isgri.profile.fit_longitude_profile`);
4. optionally the spectral fits of Tables 2, 3 and Appendix C
   (`bayesbg.isgri.paper_fits.fit_paper_spectra`);
5. the run directory with every table, spectrum and figure and the comparison with the
   paper (`bayesbg.isgri.rundir.write_isgri_run_dir`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from bayesbg.isgri.config import IsgriRunConfig
from bayesbg.isgri.fit import flux_mixture_model
from bayesbg.isgri.model.background import BackgroundSettings
from bayesbg.isgri.paper_fits import fit_paper_spectra
from bayesbg.isgri.pipeline import run_pipeline
from bayesbg.isgri.pointings import read_pointings
from bayesbg.isgri.profile import fit_longitude_profile
from bayesbg.isgri.rundir import write_isgri_run_dir
from bayesbg.isgri.simulate import simulate_isgri
from bayesbg.stan.rundir import check_run_dir

__all__ = ["run_isgri"]

log = logging.getLogger(__name__)


def run_isgri(config: IsgriRunConfig, *, config_file: str | Path | None = None,
              overwrite: bool = False) -> Path:
    """Run everything a configuration asks for and write its run directory.

    Parameters
    ----------
    config : `bayesbg.isgri.IsgriRunConfig`
    config_file : str or `~pathlib.Path`, optional
        The configuration's file, hashed into ``summary.json``.
    overwrite : bool
        Replace an existing run directory. Default is False.

    Returns
    -------
    run_dir : `~pathlib.Path`

    Raises
    ------
    FileExistsError
        If the output directory holds a run and ``overwrite`` is False (checked first).
    ValueError
        On invalid input (named file and column) or settings.
    """
    started = time.perf_counter()
    check_run_dir(config.output, overwrite=overwrite)
    inputs: dict[str, Path] = {} if config_file is None else {"config": Path(config_file)}
    truth = None
    if config.input is not None:
        table = read_pointings(config.input, deduplicate=config.deduplicate)
        inputs["pointings"] = config.input
        uses_stan = config.method == "mixture-nuts" or config.spectral_fits
        seed = config.seed if uses_stan else None
    else:
        seed = int(config.simulate_seed)  # type: ignore[arg-type]
        table, truth = simulate_isgri(seed, galactic_spectrum=config.simulate_spectrum)
    model = flux_mixture_model() if config.method == "mixture-nuts" else None
    result = run_pipeline(
        table, seed=config.seed, config=config.sampler, model=model,
        point_sources=config.point_sources, collimator=config.collimator,
        collimator_alternative=config.collimator_alternative,
        background_settings=BackgroundSettings(clip_band=config.clip_band))
    print(result.screening.render())
    print(result.table[["region", "band", "n", "flux", "error", "error_statistical",
                        "error_collimator"]].to_string(index=False,
                                                       float_format=lambda x: f"{x:.4g}"))
    profile = fit_longitude_profile(result, truth=truth)
    fits = (fit_paper_spectra(result, seed=config.seed, config=config.spectral_sampler,
                              truth=truth) if config.spectral_fits else None)
    return write_isgri_run_dir(
        result, config.output, config=config.to_dict(), inputs=inputs, seed=seed, truth=truth,
        profile=profile, fits=fits, overwrite=overwrite,
        wall_time_s=time.perf_counter() - started)
