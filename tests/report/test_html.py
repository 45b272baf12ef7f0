"""HTML reports render in a browser with their key tables and figures."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from bayesbg.config import SamplerConfig
from bayesbg.isgri import run_pipeline, simulate_isgri, write_isgri_run_dir
from bayesbg.report import render_report, write_report
from bayesbg.spectra import (
    REFERENCE_FITS,
    SpectralModel,
    fit_spectrum,
    simulate_spectrum,
    spectral_fit_model,
)
from bayesbg.stan import SamplerWarning
from bayesbg.template_fit import fit_templates, simulate_template_data

pytestmark = pytest.mark.stan

DOCS = Path(__file__).resolve().parents[2] / "docs" / "figures"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, template_model):
    root = tmp_path_factory.mktemp("reports")
    data, truth = simulate_template_data(4)
    good = fit_templates(data, seed=4, run_dir=root / "template_good", truth=truth,
                         model=template_model,
                         config=SamplerConfig(chains=4, iter_warmup=500, iter_sampling=500))
    poor_config = SamplerConfig(chains=4, parallel_chains=2, iter_warmup=5, iter_sampling=100,
                                adapt_engaged=False, step_size=1e-3, max_treedepth=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        poor = fit_templates(data, seed=4, run_dir=root / "template_poor", config=poor_config,
                             model=template_model)
    reference = REFERENCE_FITS["GB"]
    model = SpectralModel.parse(reference["model"], fixed=reference["fixed"])
    spectrum = simulate_spectrum(11, spectral_model=model, truth=dict(reference["truth"]),
                                 region="GB")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        spectral = fit_spectrum(
            spectrum, spectral_model=model, seed=11, run_dir=root / "spectrum",
            model=spectral_fit_model(),
            config=SamplerConfig(chains=4, iter_warmup=500, iter_sampling=500,
                                 metric="dense_e", adapt_delta=0.95),
        )
    return {"template": good.run_dir, "poor": poor.run_dir, "spectrum": spectral.run_dir}


@pytest.fixture(scope="module")
def isgri_pipeline():
    """The pipeline on a full-size simulation (seed 5, no Stan; ~25 s) and its truth."""
    table, truth = simulate_isgri(5)
    return run_pipeline(table), truth


@pytest.fixture(scope="module")
def isgri_run(tmp_path_factory, isgri_pipeline):
    """The run directory of `isgri_pipeline` (`bayesbg isgri run` writes the same)."""
    result, truth = isgri_pipeline
    root = tmp_path_factory.mktemp("isgri")
    config = root / "isgri.toml"
    config.write_text('simulate_seed = 5\noutput = "run"\n')
    return write_isgri_run_dir(result, root / "run", config={"simulate_seed": 5},
                               inputs={"config": config}, seed=5, truth=truth)


def test_template_report_has_tables_and_figures(runs):
    text = render_report(runs["template"])
    assert "All sampler checks passed." in text
    assert "flux[" in text and ">truth<" in text
    assert text.count("data:image/png;base64,") >= 4  # data vs model, trace, rank, pair
    assert "http://" not in text.replace("http://www.w3.org", "")  # self-contained
    assert "<th>unit</th>" in text and "ph cm-2 s-1" in text
    assert "Truth inside the 90 % interval for" in text
    assert "counts: data and posterior predictive" in text


def test_poor_run_shows_failures_in_red_with_advice(runs):
    text = render_report(runs["poor"])
    assert "Sampler checks FAILED" in text
    assert text.count("class='fail'>FAIL<") >= 2
    assert "Raise" in text or "Run longer" in text


def test_spectral_report_embeds_the_spectrum(runs):
    text = render_report(runs["spectrum"])
    assert "Figures of this run" in text and "spectrum" in text
    assert "chi_square" in text
    assert "<h3>Spectral fit: cutoffpl+powerlaw" in text and "F_total (30-80 keV)" in text
    assert "Data, total model, components and residuals" in text
    assert (runs["spectrum"] / "spectrum.png").is_file()  # written before the rename


def test_isgri_report_has_table1_screening_checks_and_figures(isgri_run):
    text = render_report(isgri_run)
    assert "<title>bayesbg run: isgri_run</title>" in text
    assert "class='key-result'" in text and "mCrab per FOV" in text
    assert "<h3>Flux per field of view ([ISGRI] Table 1)</h3>" in text
    for region in ("GB", "L+20", "L-20", "3C 273/Coma"):
        assert f"<td class='text'>{region}</td>" in text
    assert "<h3>Screening</h3>" in text and "phase in [0.2, 0.8]" in text
    assert "high-latitude field (3C 273/Coma) consistent with zero" in text
    assert "Crab calibration residual scatter" in text
    assert "simulation: injected fluxes recovered" in text
    assert text.count("data:image/png;base64,") == 6
    for name in ("background_lightcurve", "residuals", "crab_calibration", "crab_residuals",
                 "longitude_profile", "spectra"):
        assert f"({name}.png)" in text
    assert "input sha256: config" in text and "version: astropy" in text


#: What the rendered page of each report type must hold: a section id, strings, images.
EXPECTED = {
    "template": ("diagnostics", ["Posterior summary", "flux["], 3),
    "poor": ("diagnostics", ["Sampler checks FAILED"], 3),
    "spectrum": ("diagnostics", ["Spectral fit: cutoffpl+powerlaw", "spectrum.png"], 4),
    "isgri": ("checks", ["Flux per field of view", "Screening", "residuals.png",
                         "longitude_profile.png"], 4),
}


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
@pytest.mark.parametrize("kind", ["template", "poor", "spectrum", "isgri"])
def test_report_renders_in_headless_chromium(request, kind, tmp_path):
    run_dir = (request.getfixturevalue("isgri_run") if kind == "isgri"
               else request.getfixturevalue("runs")[kind])
    page = write_report(run_dir)
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
         "--v=0", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert not re.search(r"CONSOLE.*(Uncaught|Error)", dom.stderr), dom.stderr[-2000:]
    section, strings, n_images = EXPECTED[kind]
    assert f"id=\"{section}\"" in dom.stdout and "<table" in dom.stdout
    for string in strings:
        assert string in dom.stdout, string
    assert dom.stdout.count("<img") >= n_images
    shot = DOCS / f"report_{kind}.png"
    DOCS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1200,1600",
         f"--screenshot={tmp_path / 'shot.png'}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert (tmp_path / "shot.png").stat().st_size > 20_000
    if not shot.exists():  # keep one screenshot per report type in docs/
        shutil.copy2(tmp_path / "shot.png", shot)
