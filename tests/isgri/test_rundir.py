"""The run directory: every table as ECSV, the spectra readable by `bayesbg.spectra`, the
comparison with [ISGRI], and the results page rendered in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from astropy.table import Table

from bayesbg.isgri.rundir import write_isgri_run_dir
from bayesbg.report import write_report
from bayesbg.spectra import read_spectrum

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, pipeline_run, paper_fits):
    _, result, truth = pipeline_run
    root = tmp_path_factory.mktemp("isgri-run")
    config = root / "paper.toml"
    config.write_text('simulate_seed = 5\npoint_sources = ["Sco X-1"]\nspectral_fits = true\n')
    return write_isgri_run_dir(result, root / "run", config={"simulate_seed": 5},
                               inputs={"config": config}, seed=5, truth=truth,
                               fits=paper_fits)


@pytest.mark.stan
def test_run_directory_holds_every_table_and_spectrum(run_dir, pipeline_run):
    _, result, _ = pipeline_run
    for name in ("table1", "table2", "table3", "appendix_c", "profile", "profile_fit", "orbits",
                 "crab_calibration", "crab_scatter", "point_sources"):
        table = Table.read(run_dir / f"{name}.ecsv", format="ascii.ecsv")
        assert len(table) > 0, name
    table1 = Table.read(run_dir / "table1.ecsv", format="ascii.ecsv")
    assert {"paper_flux", "flux", "error_statistical", "error_collimator", "injected",
            "pull"} <= set(table1.colnames)
    profile = Table.read(run_dir / "profile.ecsv", format="ascii.ecsv")
    assert {"bin", "band", "flux", "error", "n", "model", "injected"} <= set(profile.colnames)
    orbits = Table.read(run_dir / "orbits.ecsv", format="ascii.ecsv")
    assert orbits["slope_rejected"].sum() == result.background.slope_rejected.size
    for name in ("GB", "L+20", "L-20", "3C_273_Coma", "Sco_X-1"):
        assert read_spectrum(run_dir / "spectra" / f"{name}.ecsv").n_band == 21
    assert len(list((run_dir / "spectral_fits").glob("*.nc"))) == 7
    summary = json.loads((run_dir / "summary.json").read_text())
    titles = [t["title"] for t in summary["tables"]]
    assert titles[0].startswith("[ISGRI] Table 1") and titles[1].startswith("[ISGRI] Table 2")
    assert any(t.startswith("[ISGRI] Appendix C") for t in titles)
    assert any(t.startswith("Longitude profile") for t in titles)
    statuses = {c["name"]: c["status"] for c in summary["checks"]}
    assert statuses["simulation: longitude profile recovered"] == "pass"
    assert statuses["simulation: Sco X-1 flux recovered"] == "pass"
    assert all(statuses[f"spectral fit {r}, cutoffpl+powerlaw"] == "pass"
               for r in ("GB", "L+20", "L-20"))
    pulls = np.asarray(table1["pull"], dtype=float)
    assert abs(pulls.mean()) < 0.5 and np.all(np.abs(pulls) < 2.5)


@pytest.mark.stan
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
def test_results_page_shows_the_three_tables_in_chromium(run_dir, tmp_path):
    page = write_report(run_dir)
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
         "--v=0", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert not re.search(r"CONSOLE.*(Uncaught|Error)", dom.stderr), dom.stderr[-2000:]
    text = dom.stdout
    for title in ("[ISGRI] Table 1: flux per field of view, paper and bayesbg",
                  "[ISGRI] Table 2: cutoffpl (index 0) + powerlaw (index 1.55), paper and "
                  "bayesbg", "[ISGRI] Table 3: IPM + powerlaw (index 1.55), paper and bayesbg",
                  "[ISGRI] Appendix C", "Longitude profile ([ISGRI] Fig. 1)",
                  "Crab calibration ([ISGRI] Appendix B)"):
        assert title in text, title
    for cell in ("154.9 ± 3.1", "0.89/18", "0.76/18", "collimator (syst.)", "injected", "pull"):
        assert cell in text, cell
    assert text.count("<img") >= 8
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                    "--window-size=1200,1600", f"--screenshot={shot}", page.resolve().as_uri()],
                   capture_output=True, text=True, timeout=180, check=True)
    assert shot.stat().st_size > 20_000
