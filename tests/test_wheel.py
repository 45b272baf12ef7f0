"""The release: an sdist and a wheel that run outside the repository.

Builds both with ``python -m build``, installs the wheel (not editable) into a fresh
virtual environment, and from an empty temporary directory runs what a new user runs
first: ``bayesbg setup``, ``bayesbg doctor``, ``bayesbg demo``, and a spectral, an ISGRI
and a COSI fit. Needs the package index (the venv installs bayesbg's dependencies; pip's
cache makes later runs quick) and the CmdStan build of ``bayesbg setup`` (found in the
cache, as the wheel carries the same driver sources).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ("template_fit", "cosi_template_fit", "cosi_point_source_spectrum",
            "isgri_flux_mixture", "spectral_fit")

pytestmark = pytest.mark.stan

COSI_CONFIG = """
seed = 1
[data]
dataset = "sim.nc"
[background]
scheme = "equidistant"
n_blocks = 2
[sampler]
chains = 2
iter_warmup = 150
iter_sampling = 150
"""

SPECTRUM_CONFIG = """
[sampler]
chains = 2
iter_warmup = 200
iter_sampling = 200
"""


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 900
         ) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (f"{' '.join(command)} exited {result.returncode}\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build``: the sdist and the wheel, built from a copy of the sources."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out,
         env=dict(os.environ))
    return out


def test_sdist_and_wheel_carry_the_stan_programs(dist: Path) -> None:
    wheel = next(dist.glob("bayesbg-*.whl"))
    sdist = next(dist.glob("bayesbg-*.tar.gz"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for program in PROGRAMS:
        assert f"bayesbg/stan_models/{program}.stan" in names
    assert "bayesbg/stan_models/functions/populated_bins_loglik.hpp" in names
    assert "bayesbg/toolchain/cmdstan_files/src/driver.cpp" in names
    with tarfile.open(sdist) as archive:
        members = {Path(m).relative_to(Path(m).parts[0]).as_posix()
                   for m in archive.getnames() if len(Path(m).parts) > 1}
    assert "stan_models/template_fit.stan" in members
    assert "setup.py" in members


def test_installed_wheel_runs_from_anywhere(dist: Path, tmp_path: Path) -> None:
    wheel = next(dist.glob("bayesbg-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=dict(os.environ))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "BAYESBG_STAN_MODELS")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path, env=env,
         timeout=1800)
    work = tmp_path / "elsewhere"
    work.mkdir()
    bayesbg = str(venv / "bin" / "bayesbg")
    located = _run([python, "-c", "import bayesbg.stan as s; print(s.stan_models_dir())"],
                   cwd=work, env=env)
    assert "site-packages/bayesbg/stan_models" in located.stdout
    _run([bayesbg, "setup"], cwd=work, env=env, timeout=1800)
    doctor = _run([bayesbg, "doctor"], cwd=work, env=env, timeout=1800)
    for program in PROGRAMS:
        assert f"{program}.stan: compiles" in doctor.stdout
    demo = _run([bayesbg, "demo", "--run-dir", "demo"], cwd=work, env=env)
    assert "Run directory" in demo.stdout and (work / "demo" / "summary.json").is_file()

    (work / "spectrum.toml").write_text(SPECTRUM_CONFIG)
    _run([bayesbg, "spectrum", "simulate", "--region", "GB", "--output", "gb.ecsv"],
         cwd=work, env=env)
    _run([bayesbg, "spectrum", "fit", "--model", "cutoffpl+powerlaw", "--data", "gb.ecsv",
          "--fix", "cutoffpl.index=0", "--fix", "powerlaw.index=1.55", "--config",
          "spectrum.toml", "--run-dir", "spectrum"], cwd=work, env=env)
    assert (work / "spectrum" / "report.html").is_file()

    (work / "isgri.toml").write_text('simulate_seed = 1\noutput = "isgri"\n')
    _run([bayesbg, "isgri", "run", "isgri.toml"], cwd=work, env=env)
    assert (work / "isgri" / "summary.json").is_file()

    (work / "cosi.toml").write_text(COSI_CONFIG)
    _run([bayesbg, "cosi", "simulate", "--output", "sim.nc", "--n-time", "24",
          "--bin-size", "15", "--change-points", "1"], cwd=work, env=env)
    _run([bayesbg, "cosi", "fit", "cosi.toml", "--run-dir", "cosi"], cwd=work, env=env)
    assert (work / "cosi" / "posterior.nc").is_file()
    shutil.rmtree(venv, ignore_errors=True)
