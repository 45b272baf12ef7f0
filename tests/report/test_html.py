"""HTML reports render in a browser with their key tables and figures."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from bayesbg.config import SamplerConfig
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
    spectrum = simulate_spectrum(11, model=model, truth=dict(reference["truth"]), region="GB")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplerWarning)
        spectral = fit_spectrum(
            spectrum, model, seed=11, run_dir=root / "spectrum",
            stan_model=spectral_fit_model(),
            config=SamplerConfig(chains=4, iter_warmup=500, iter_sampling=500,
                                 metric="dense_e", adapt_delta=0.95),
        )
    return {"template": good.run_dir, "poor": poor.run_dir, "spectrum": spectral.run_dir}


def test_template_report_has_tables_and_figures(runs):
    text = render_report(runs["template"])
    assert "All sampler checks passed." in text
    assert "flux[" in text and ">truth<" in text
    assert text.count("data:image/png;base64,") >= 3  # trace, rank, pair
    assert "http://" not in text.replace("http://www.w3.org", "")  # self-contained


def test_poor_run_shows_failures_in_red_with_advice(runs):
    text = render_report(runs["poor"])
    assert "Sampler checks FAILED" in text
    assert text.count("class='fail'>FAIL<") >= 2
    assert "Raise" in text or "Run longer" in text


def test_spectral_report_embeds_the_spectrum(runs):
    text = render_report(runs["spectrum"])
    assert "Figures of this run" in text and "spectrum" in text
    assert "chi_square" in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
@pytest.mark.parametrize("kind", ["template", "poor", "spectrum"])
def test_report_renders_in_headless_chromium(runs, kind, tmp_path):
    page = write_report(runs[kind])
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
         "--v=0", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert not re.search(r"CONSOLE.*(Uncaught|Error)", dom.stderr), dom.stderr[-2000:]
    assert "id=\"diagnostics\"" in dom.stdout and "<table>" in dom.stdout
    assert dom.stdout.count("<img") >= 3
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
