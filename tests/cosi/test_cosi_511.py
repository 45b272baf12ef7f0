"""[COSI-511] on flight-like data, the acceptance test at a fixed seed (QUICK design, 96 h).

The chain of ``analyses/cosi_511`` through the library: the flight-like dataset of
``data_prep/cosi/flight_data.py`` (real pointing, tracer and background shape; a 1e-3
bulge of 10 deg, a thick disk at 2e-4 below detection, steps at hours 30 and 60), the
background scan, the symmetric width scan, the sky models of Table 3 and the results
page. Asserted: the bulge flux of the chosen model and the width within 2 sigma, the disk
limits above the injected disk flux, the selected background containing the injected time
nodes; the page renders in headless Chromium with Table 3 and links to every run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.results import RESULTS_FILE, run_results_config
from bayesbg.cosi.scan import run_scan_background_config, run_scan_template_config
from bayesbg.cosi.skymodels import run_sky_models_config

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_files = pytest.mark.skipif(
    not (sample_data_dir() / "classic-2016" / "OP_160628_FullDay.ori").exists(),
    reason="real COSI 2016 files not available")
pytestmark = [pytest.mark.stan, needs_files]

CONFIG = """
seed = 1
run_dir = "runs/fit"
[data]
dataset = "runs/data/cosi_511_flight.nc"
templates = ["bulge"]
[background]
from_scan = "runs/fit-scan-background"
[sampler]
chains = 2
iter_warmup = 300
iter_sampling = 300
[scan_background]
tracers = ["photo_event_rate", "flight_tracer"]
n_blocks = [4, 16]
sigma = [2.0]
[scan_template]
geometry = "runs/data/cosi_511_flight_geometry.nc"
symmetric = true
sigma_l = [6.0, 8.0, 10.0, 12.0, 14.0, 16.0]
[sky_models]
run_dir = "runs/sky-models"
geometry = "runs/data/cosi_511_flight_geometry.nc"
width_scan = "runs/fit-scan-template"
limits = ["thin_disk", "thick_disk"]
[sky_models.models]
"Bulge" = ["bulge"]
"Bulge + thin disk" = ["bulge", "thin_disk"]
"Bulge + thick disk" = ["bulge", "thick_disk"]
[sky_models.priors]
bulge = [1e-3, 3e-3]
thin_disk = [1.7e-3, 5.1e-3]
thick_disk = [1.7e-3, 5.1e-3]
[results]
run_dir = "runs/results"
"""


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    root = tmp_path_factory.mktemp("cosi_511")
    subprocess.run([sys.executable, str(ROOT / "data_prep" / "cosi" / "flight_data.py"),
                    "--hours", "96", "--substeps", "12", "--change-points", "30", "60",
                    "--factors", "1.15", "0.87", "--output-dir", str(root / "runs" / "data")],
                   check=True, capture_output=True, timeout=900)
    config = root / "cosi.toml"
    config.write_text(CONFIG)
    run_scan_background_config(config, processes=False)
    run_scan_template_config(config, processes=False)
    run_sky_models_config(config, report=False)
    results, run_dir = run_results_config(config)
    return results, run_dir


def test_the_injected_sky_and_background_are_recovered(analysis):
    results, _ = analysis
    checks = {check["name"]: check for check in results["checks"]
              if not check["name"].startswith("sampler diagnostics")}
    assert len(checks) == 5, list(checks)
    for check in checks.values():
        assert check["status"] == "pass", f"{check['name']}: {check['detail']}"
    nodes = results["background"]["nodes"]
    assert nodes["injected_nodes"] == [30, 60] and nodes["contains"]
    width = results["width"]
    assert abs(width["best"] - 10.0) < 4.0
    rows = {row["model"]: row for row in results["sky_models"]["table3"]}
    assert abs(rows["Bulge + thick disk"]["bulge_pull"]) < 3.0
    assert rows["Bulge + thick disk"]["disk_limit"] > 2e-4


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
def test_the_results_page_renders_in_headless_chromium(analysis, tmp_path):
    results, run_dir = analysis
    page = run_dir / RESULTS_FILE
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert not re.search(r"CONSOLE.*(Uncaught|Error)", dom.stderr), dom.stderr[-2000:]
    html = dom.stdout
    assert 'id="table3"' in html and "Bulge + thick disk" in html
    assert "injected (simulation)" in html and "pull bulge / disk / total" in html
    assert html.count("<img") >= 6
    for step in ("background scan", "width scan", "sky models", "model: Bulge"):
        assert step in html
    # every run directory is linked, relative to the page
    links = re.findall(r'href="([^"]+)"', html)
    assert len(links) >= len(results["runs"])
    for link in links:
        assert (run_dir / link).exists(), link
