"""Parity with cosipy: the Band point-source fit on cosipy's spectral-fit test files,
cosipy and bayesbg side by side in one run.

Files (``--data-dir``, default ``cosipy-test`` in
`bayesbg.cosi.io.sample_data_dir`): ``test_spectral_fit_data.h5``,
``test_spectral_fit_background.h5``, ``test_full_detector_response.h5``,
``20280301_2s.ori``, ``test_spectral_fit.yaml``; source at (l, b) = (50, -45) deg, Band
spectrum with K at a 500 keV pivot, free background normalisation.

Measured in one run:

- **cosipy** 0.3.4 (``COSILike`` + threeML ``JointLikelihood``, MINUIT) in its own virtual
  environment, run as a child process: the fit (``fit_s``, the minimiser alone), its
  covariance-based errors (threeML samples the parameters from the covariance matrix:
  ``errors`` per parameter, and the propagated photon flux in 150-5000 keV with 68 % and
  90 % bounds from ``results.get_flux``) and the child's total time. cosipy pins old
  numpy, pandas, healpy and scipy, so it cannot share bayesbg's environment: the
  benchmark creates ``--cosipy-venv`` (default ``$BAYESBG_COSIPY_VENV`` or
  ``/tmp/bayesbg-cosipy-venv``) from the package index on first use (``pip install
  cosipy==0.3.4 'numpy<2' 'pandas<2.3' 'healpy<1.18' scipy==1.13.0 future``, a few
  minutes) and reuses it afterwards. Nothing of cosipy is vendored here;
  ``--cosipy-python PATH`` uses an existing interpreter, ``--no-cosipy`` skips it.
- **bayesbg**'s maximum likelihood (``cosi_point_source_spectrum.stan``, L-BFGS from four
  starts; ``fit_s`` its wall time, the model compiled beforehand), the same likelihood
  maximised by scipy (Nelder-Mead on the numpy model) as an independent reference, and,
  unless ``--quick``, the NUTS posterior (4 chains x (1000 + 2000); the Band shape has a
  long prior-dominated tail in xp on these 2-s files, which 1,000 draws per chain sample
  with R-hat just above 1.01) with its quantiles: the photon
  flux in 150-5000 keV (the sampled amplitude), f(500 keV), alpha, beta, xp, bkg_norm, and
  K's quantiles (K is heavy tailed where xp falls below 150 keV: not summarised by mean
  and sd).
- Ratios: each best-fit value bayesbg / cosipy; time of cosipy's first fit (which
  computes its point-source response at the first likelihood call) over bayesbg's
  loading (with the response, ``load_s``) plus maximum likelihood (``time_ratio_fit``),
  and cosipy's fit + covariance-based error propagation over bayesbg's NUTS run
  (``time_ratio_errors``).

``log_like`` is in cosipy's convention (``COSILike.get_log_like``: ``sum d ln(m + 1e-12)
- (m + 1e-12)``, no ``ln d!``). Without a cosipy run, cosipy's published values (its
spectral-fit test) are the reference. Writes ``benchmarks/results/cosipy_parity.json``
(``--quick``: ``cosipy_parity_quick.json``) or the file given with ``--json``.

Usage::

    .venv/bin/python benchmarks/cosipy_parity.py [--quick] [--json FILE]
        [--cosipy-venv DIR | --cosipy-python PATH | --no-cosipy] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from bayesbg.atomic import atomic_file
from bayesbg.config import SamplerConfig
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.pointsource import (
    BAND_PARAMETERS,
    PARAMETERS,
    cosipy_log_like,
    fit_point_source_spectrum,
    load_cosipy_fit_data,
    maximum_likelihood_spectrum,
    point_source_spectrum_model,
)

RESULTS = Path(__file__).resolve().parent / "results"
DATA_DIR = sample_data_dir() / "cosipy-test"
LON, LAT = 50.0, -45.0
FLUX_BAND = (150.0, 5000.0)  # keV, the true-energy range of the test response
COSIPY_REQUIREMENTS = ("cosipy==0.3.4", "numpy<2", "pandas<2.3", "healpy<1.18",
                       "scipy==1.13.0", "future")
# cositools/cosipy tests/spectral_fits/test_spectral_fitting.py (COSILike, older version)
COSIPY_PUBLISHED = {"K": 1.0761685423819567, "alpha": -1.0986905318048805,
                    "beta": -2.2992600319562753, "xp": 449.8988239195967,
                    "bkg_norm": 1.0, "log_like": 337.17196587486285}
# the newer version of the same test expects a local maximum (ln L = 213.14):
COSIPY_PUBLISHED_LOCAL = {"K": 1.0522695866399103, "alpha": 2.6276132958523926,
                          "beta": -2.909795888815157, "xp": 18.19702619330248,
                          "bkg_norm": 2.3908438191547012, "log_like": 213.14242014103897}

# Run in the cosipy environment: cosipy's own point-source fit (its test's setup) with
# threeML's covariance-based errors and propagated flux.
COSIPY_SCRIPT = r'''
import json, sys, time, warnings
warnings.simplefilter("ignore")
start_all = time.perf_counter()
import astropy.units as u
import cosipy
from cosipy import COSILike, BinnedData
from cosipy.spacecraftfile import SpacecraftFile
from threeML import Band, PointSource, Model, JointLikelihood, DataList
from astromodels import Parameter
d, lon, lat, e_lo, e_hi = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), \
    float(sys.argv[4]), float(sys.argv[5])
ori = SpacecraftFile.parse_from_file(d + "/20280301_2s.ori")
data = BinnedData(d + "/test_spectral_fit.yaml")
bkg = BinnedData(d + "/test_spectral_fit.yaml")
data.load_binned_data_from_hdf5(binned_data=d + "/test_spectral_fit_data.h5")
bkg.load_binned_data_from_hdf5(binned_data=d + "/test_spectral_fit_background.h5")
par = Parameter("background_cosi", 1, min_value=0, max_value=5, delta=0.05)
spectrum = Band()
spectrum.alpha.value, spectrum.beta.value = -1, -2
spectrum.xp.value, spectrum.K.value, spectrum.piv.value = 500., 1., 500.
spectrum.xp.unit, spectrum.piv.unit = u.keV, u.keV
spectrum.K.unit = 1 / u.cm / u.cm / u.s / u.keV
source = PointSource("source", l=lon, b=lat, spectral_shape=spectrum)
cosi = COSILike("cosi", dr=d + "/test_full_detector_response.h5",
                data=data.binned_data.project("Em", "Phi", "PsiChi"),
                bkg=bkg.binned_data.project("Em", "Phi", "PsiChi"),
                sc_orientation=ori, nuisance_param=par)
like = JointLikelihood(Model(source), DataList(cosi), verbose=False)
start = time.perf_counter()
like.fit(quiet=True, compute_covariance=False)
fit_s = time.perf_counter() - start
log_like = float(cosi.get_log_like())
start = time.perf_counter()
like.fit(quiet=True, compute_covariance=True)
errors_s = time.perf_counter() - start
frame = like.results.get_data_frame()
names = {"source.spectrum.main.Band.K": "K", "source.spectrum.main.Band.alpha": "alpha",
         "source.spectrum.main.Band.beta": "beta", "source.spectrum.main.Band.xp": "xp",
         "background_cosi": "bkg_norm"}
errors = {names[row]: {"value": float(frame.loc[row, "value"]),
                       "negative_error": float(frame.loc[row, "negative_error"]),
                       "positive_error": float(frame.loc[row, "positive_error"]),
                       "error": float(frame.loc[row, "error"])} for row in names}
flux = {}
for level in (0.68, 0.90):
    table = like.results.get_flux(e_lo * u.keV, e_hi * u.keV, confidence_level=level,
                                  flux_unit="1/(cm2 s)")
    flux[str(level)] = [float(table.iloc[0][key].value)
                        for key in ("flux", "low bound", "hi bound")]
sp = source.spectrum.main.Band
print("COSIPY_RESULT " + json.dumps({
    "version": cosipy.__version__,
    "K": float(sp.K.value), "alpha": float(sp.alpha.value), "beta": float(sp.beta.value),
    "xp": float(sp.xp.value), "bkg_norm": float(par.value), "log_like": log_like,
    "fit_s": fit_s, "errors_s": errors_s, "errors": errors,
    "photon_flux_band_keV": [e_lo, e_hi], "photon_flux": flux,
    "total_s": time.perf_counter() - start_all}))
'''


def _scipy_reference(data) -> dict[str, float]:
    """Nelder-Mead on ln K, alpha, beta, ln xp, bkg_norm with cosipy's ln L."""
    def negative(q: np.ndarray) -> float:
        alpha, beta, bkg = q[1], q[2], q[4]
        if not (data.alpha_bounds[0] < alpha < data.alpha_bounds[1]
                and data.beta_bounds[0] < beta < data.beta_bounds[1] and bkg > 0
                and data.xp_bounds[0] < math.exp(q[3]) < data.xp_bounds[1]):
            return 1e300
        return -cosipy_log_like(data, {"K": math.exp(q[0]), "alpha": alpha, "beta": beta,
                                       "xp": math.exp(q[3]), "bkg_norm": bkg})

    start = time.perf_counter()
    best = None
    for x0 in ([0.0, -1.0, -2.5, math.log(300.0), 1.0], [0.0, 0.5, -3.0, math.log(150.0), 0.5]):
        res = minimize(negative, x0, method="Nelder-Mead",
                       options={"maxiter": 20000, "maxfev": 20000, "xatol": 1e-8,
                                "fatol": 1e-10})
        if best is None or res.fun < best.fun:
            best = res
    seconds = time.perf_counter() - start
    q = best.x
    return {"K": math.exp(q[0]), "alpha": q[1], "beta": q[2], "xp": math.exp(q[3]),
            "bkg_norm": q[4], "log_like": -best.fun, "fit_s": round(seconds, 3)}


def _cosipy_python(venv: Path) -> Path:
    """The python of a virtual environment with cosipy, created from PyPI if missing."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import cosipy, threeML"]
    if python.is_file() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating the cosipy environment {venv} (pip install "
          f"{' '.join(COSIPY_REQUIREMENTS)}; a few minutes)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *COSIPY_REQUIREMENTS],
                   check=True)
    subprocess.run(check, check=True)
    return python


def _run_cosipy(python: Path, data_dir: Path) -> dict | None:
    start = time.perf_counter()
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"}
    proc = subprocess.run([str(python), "-c", COSIPY_SCRIPT, str(data_dir), str(LON),
                           str(LAT), *map(str, FLUX_BAND)],
                          capture_output=True, text=True, timeout=3600, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("COSIPY_RESULT "):
            result = json.loads(line.split(" ", 1)[1])
            result["child_wall_s"] = round(time.perf_counter() - start, 2)
            result["python"] = str(python)
            return result
    print(f"cosipy run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}",
          file=sys.stderr)
    return None


def _posterior(result) -> dict:
    """Quantiles of the summarised quantities, K's quantiles, diagnostics."""
    posterior = result.inference_data.posterior
    out: dict = {}
    for name in (*PARAMETERS, "K"):
        draws = posterior[name].values.ravel()
        q = np.quantile(draws, [0.05, 0.16, 0.5, 0.84, 0.95])
        entry = {"q5": q[0], "q16": q[1], "q50": q[2], "q84": q[3], "q95": q[4]}
        if name != "K":
            entry.update(mean=float(draws.mean()), sd=float(draws.std(ddof=1)),
                         r_hat=float(result.summary.loc[name, "r_hat"]),
                         ess_bulk=float(result.summary.loc[name, "ess_bulk"]))
        out[name] = {key: float(value) for key, value in entry.items()}
    return out


def _side_by_side(ours: dict, reference: dict, name: str) -> dict[str, float]:
    print(f"{'':10s} {'bayesbg':>14s} {name:>14s} {'ratio':>12s}")
    ratios = {}
    for key in (*BAND_PARAMETERS, "log_like", "fit_s"):
        if key in ours and key in reference:
            a, b = ours[key], reference[key]
            ratios[key] = a / b if b else float("nan")
            print(f"{key:10s} {a:14.9g} {b:14.9g} {ratios[key]:12.7f}")
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="maximum likelihood only (no NUTS)")
    parser.add_argument("--json", type=Path, default=None,
                        help="output (default benchmarks/results/cosipy_parity.json, "
                             "--quick: cosipy_parity_quick.json)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--cosipy-venv", type=Path,
                       default=Path(os.environ.get("BAYESBG_COSIPY_VENV",
                                                   "/tmp/bayesbg-cosipy-venv")),
                       help="virtual environment for cosipy, created from PyPI if missing "
                            "(default $BAYESBG_COSIPY_VENV or /tmp/bayesbg-cosipy-venv)")
    group.add_argument("--cosipy-python", type=Path, default=None,
                       help="python of an existing environment with cosipy 0.3.x")
    group.add_argument("--no-cosipy", action="store_true",
                       help="compare with cosipy's published test values only")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help=f"cosipy test files (default {DATA_DIR})")
    args = parser.parse_args()
    output = args.json or RESULTS / ("cosipy_parity_quick.json" if args.quick
                                     else "cosipy_parity.json")
    logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
    d = args.data_dir
    record: dict = {"machine": platform.node(), "python": platform.python_version(),
                    "quick": args.quick, "source_lon_lat_deg": [LON, LAT],
                    "photon_flux_band_keV": list(FLUX_BAND)}

    cosipy_run = None
    if not args.no_cosipy:
        python = args.cosipy_python or _cosipy_python(args.cosipy_venv)
        cosipy_run = _run_cosipy(python, d)
    record["cosipy"] = cosipy_run

    start = time.perf_counter()
    data = load_cosipy_fit_data(d / "test_spectral_fit_data.h5",
                                d / "test_spectral_fit_background.h5",
                                d / "test_full_detector_response.h5", d / "20280301_2s.ori",
                                lon=LON, lat=LAT, flux_band=FLUX_BAND)
    load_s = time.perf_counter() - start
    model = point_source_spectrum_model()
    start = time.perf_counter()
    mle = maximum_likelihood_spectrum(data, seed=1, model=model)
    fit_s = time.perf_counter() - start
    estimate = {name: float(mle.estimate[name]) for name in BAND_PARAMETERS}
    bayesbg: dict = {
        **estimate, "photon_flux": float(mle.estimate["photon_flux"]),
        "log_like": cosipy_log_like(data, estimate), "fit_s": round(fit_s, 3),
        "load_s": round(load_s, 3),
        "log_like_full_poisson": mle.log_likelihood,
    }
    record["bayesbg"] = bayesbg
    record["scipy_reference"] = _scipy_reference(data)
    record["cosipy_published"] = COSIPY_PUBLISHED
    record["cosipy_published_local_maximum"] = COSIPY_PUBLISHED_LOCAL
    record["log_like_at_cosipy_published"] = cosipy_log_like(data, COSIPY_PUBLISHED)
    record["log_like_at_cosipy_published_local"] = cosipy_log_like(data,
                                                                   COSIPY_PUBLISHED_LOCAL)
    if not args.quick:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            result = fit_point_source_spectrum(
                data, seed=1, model=model,
                config=SamplerConfig(chains=4, iter_warmup=1000, iter_sampling=2000,
                                     adapt_delta=0.95))
            nuts_s = time.perf_counter() - start
        print(result.summary.to_string())
        bayesbg["nuts"] = {
            "seconds": round(nuts_s, 2), "draws": "4 x (1000 + 2000)",
            "divergences": int(result.inference_data.sample_stats.diverging.sum()),
            "diagnostics_passed": bool(result.diagnostics.passed),
            **_posterior(result),
        }
    reference = cosipy_run or COSIPY_PUBLISHED
    print("bayesbg against " + ("cosipy (this run)" if cosipy_run else "cosipy (published)"))
    record["ratio_bayesbg_over_cosipy"] = _side_by_side(
        bayesbg, reference, "cosipy" if cosipy_run else "cosipy (pub.)")
    _side_by_side(bayesbg, record["scipy_reference"], "scipy NM")
    if cosipy_run:
        # cosipy's first fit includes its point-source response (computed at the first
        # likelihood call); bayesbg's response is built when loading the data
        record["time_ratio_fit"] = cosipy_run["fit_s"] / (bayesbg["fit_s"] + load_s)
        print(f"time: cosipy fit (with its response) {cosipy_run['fit_s']:.2f} s, bayesbg "
              f"load + response {load_s:.2f} s + ML {fit_s:.2f} s, ratio "
              f"{record['time_ratio_fit']:.2f}")
        if "nuts" in bayesbg:
            cosipy_errors = cosipy_run["fit_s"] + cosipy_run["errors_s"]
            record["time_ratio_errors"] = cosipy_errors / bayesbg["nuts"]["seconds"]
            print(f"errors: cosipy fit + covariance {cosipy_errors:.2f} s, bayesbg NUTS "
                  f"{bayesbg['nuts']['seconds']:.2f} s")
            flux = bayesbg["nuts"]["photon_flux"]
            for level, (value, low, high) in cosipy_run["photon_flux"].items():
                print(f"photon flux {FLUX_BAND[0]:g}-{FLUX_BAND[1]:g} keV, cosipy "
                      f"{value:.4g} [{low:.4g}, {high:.4g}] ({level}); bayesbg median "
                      f"{flux['q50']:.4g}, 68 % [{flux['q16']:.4g}, {flux['q84']:.4g}], "
                      f"90 % [{flux['q5']:.4g}, {flux['q95']:.4g}]")
    elif args.no_cosipy:
        print("--no-cosipy: compared with cosipy's published test values")
    with atomic_file(output, overwrite=True) as partial:
        partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
