"""Tests of our CmdStan-compatible ``bin/stansummary`` and ``bin/diagnose``.

The two C++ programs in ``bayesbg/toolchain/cmdstan_files/src`` are compiled
once (cached under ``~/.cache/bayesbg/test-tools`` keyed on a hash of source
and compiler flags), placed in a minimal fake CmdStan directory and exercised
through cmdstanpy (``CmdStanMCMC.summary()`` / ``.diagnose()``) on synthetic
Stan CSV files written in CmdStan 2.35's layout, and directly on the command
line.  Statistics are checked against numpy / ArviZ reference values.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import arviz as az
import cmdstanpy
import httpstan
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.stan

REPO = Path(__file__).resolve().parents[2]
SRC_DIR = REPO / "bayesbg" / "toolchain" / "cmdstan_files" / "src"
HTTPSTAN = Path(httpstan.__file__).resolve().parent
CACHE_DIR = Path(
    os.environ.get("BAYESBG_TEST_TOOLS_CACHE", Path.home() / ".cache" / "bayesbg" / "test-tools")
)
CXXFLAGS = [
    "-std=c++17",
    "-O2",
    "-DBOOST_DISABLE_ASSERTS",
    "-D_REENTRANT",
    "-Wno-ignored-attributes",
    "-Wno-deprecated-declarations",
]
SAMPLER_COLUMNS = (
    "lp__",
    "accept_stat__",
    "stepsize__",
    "treedepth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
)
SUMMARY_COLUMNS = ["Mean", "MCSE", "StdDev", "5%", "50%", "95%", "N_Eff", "N_Eff/s", "R_hat"]
N_CHAINS = 4
N_DRAWS = 1000
SAMPLING_TIME = 0.02  # seconds per chain, written to the timing block


# ---------------------------------------------------------------------------
# Building the programs and the fake CmdStan directory
# ---------------------------------------------------------------------------


def compile_tool(name: str) -> Path:
    """Compile ``src/<name>.cpp`` against the httpstan Stan headers, cached.

    Parameters
    ----------
    name : str
        Program name, ``"stansummary"`` or ``"diagnose"``.

    Returns
    -------
    pathlib.Path
        Path of the executable, ``<cache>/<name>-<hash>``, where the hash covers
        the source text (with the shared header), the compiler command, the
        httpstan version and its location (the executable's rpath).
    """
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        pytest.skip(f"C++ compiler {cxx!r} not found")
    source = SRC_DIR / f"{name}.cpp"
    key = hashlib.sha256()
    key.update(source.read_bytes())
    key.update((SRC_DIR / "stan_csv_files.hpp").read_bytes())  # shared CSV reading
    # the rpath names this httpstan's lib directory: a tool cached from another
    # environment (since removed) would fail to load libtbb (exit 127)
    key.update(" ".join([cxx, *CXXFLAGS, httpstan.__version__, str(HTTPSTAN)]).encode())
    exe = CACHE_DIR / f"{name}-{key.hexdigest()[:16]}"
    if exe.exists():
        return exe
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=CACHE_DIR, prefix=f".{name}-")
    os.close(fd)
    cmd = [
        cxx,
        *CXXFLAGS,
        "-I",
        str(HTTPSTAN / "include"),
        str(source),
        "-o",
        tmp,
        "-L",
        str(HTTPSTAN / "lib"),
        "-ltbb",
        f"-Wl,-rpath,{HTTPSTAN / 'lib'}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        os.unlink(tmp)
        pytest.fail(f"compiling {source.name} failed:\n{proc.stderr[-4000:]}")
    os.replace(tmp, exe)  # atomic: concurrent sessions never see a partial file
    return exe


@pytest.fixture(scope="session")
def tools() -> dict[str, Path]:
    """Compiled ``stansummary`` and ``diagnose`` executables."""
    return {name: compile_tool(name) for name in ("stansummary", "diagnose")}


@pytest.fixture(scope="session")
def cmdstan_dir(tmp_path_factory: pytest.TempPathFactory, tools: dict[str, Path]) -> Iterator[Path]:
    """A minimal CmdStan 2.35 directory holding our tools, set as cmdstanpy's path."""
    root = tmp_path_factory.mktemp("cmdstan-2.35.0")
    (root / "makefile").write_text("CMDSTAN_VERSION := 2.35.0\n")
    (root / "bin").mkdir()
    (root / "bin" / "stanc").symlink_to(HTTPSTAN / "stanc")
    for name, exe in tools.items():
        shutil.copy2(exe, root / "bin" / name)
    previous = os.environ.get("CMDSTAN")
    cmdstanpy.set_cmdstan_path(str(root))
    yield root
    if previous is None:
        os.environ.pop("CMDSTAN", None)
    else:
        os.environ["CMDSTAN"] = previous


# ---------------------------------------------------------------------------
# Synthetic Stan CSV files (CmdStan 2.35 layout)
# ---------------------------------------------------------------------------


def stan_csv_name(name: str) -> str:
    """Convert ``theta[1,2]`` to the Stan CSV header form ``theta.1.2``."""
    return name.replace("[", ".").replace(",", ".").replace("]", "")


def write_stan_csv(
    path: Path,
    columns: Mapping[str, np.ndarray],
    *,
    chain_id: int = 1,
    warmup_rows: int = 0,
    num_warmup: int = 1000,
    max_depth: int = 10,
    sampling_time: float = SAMPLING_TIME,
) -> Path:
    """Write one chain as a Stan CSV file laid out like CmdStan 2.35 output.

    Parameters
    ----------
    path : pathlib.Path
        Output file.
    columns : Mapping[str, numpy.ndarray]
        Column name (``theta[1]`` style, written as ``theta.1``) to values; must
        start with the seven sampler columns ``lp__ ... energy__``.  Each array
        holds ``warmup_rows`` warmup draws followed by the sampling draws.
    chain_id : int, optional
        Written as ``id``.
    warmup_rows : int, optional
        Number of saved warmup draws; nonzero means ``save_warmup = true``
        (``num_warmup`` is then set to this number).
    num_warmup : int, optional
        Configured number of warmup iterations.
    max_depth : int, optional
        NUTS ``max_depth`` written to the config block.
    sampling_time : float, optional
        Seconds reported as ``(Sampling)`` in the timing block.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    names = list(columns)
    assert tuple(names[:7]) == SAMPLER_COLUMNS
    data = np.column_stack([np.asarray(columns[n], dtype=float) for n in names])
    num_samples = data.shape[0] - warmup_rows
    save_warmup = warmup_rows > 0
    if save_warmup:
        num_warmup = warmup_rows
    n_unconstrained = len(names) - 7
    default = " (Default)"
    config = f"""\
# stan_version_major = 2
# stan_version_minor = 35
# stan_version_patch = 0
# model = m_model
# start_datetime = 2024-06-01 12:00:00 UTC
# method = sample (Default)
#   sample
#     num_samples = {num_samples}{default if num_samples == 1000 else ""}
#     num_warmup = {num_warmup}{default if num_warmup == 1000 else ""}
#     save_warmup = {"true" if save_warmup else "false (Default)"}
#     thin = 1 (Default)
#     adapt
#       engaged = true (Default)
#       gamma = 0.05 (Default)
#       delta = 0.8 (Default)
#       kappa = 0.75 (Default)
#       t0 = 10 (Default)
#       init_buffer = 75 (Default)
#       term_buffer = 50 (Default)
#       window = 25 (Default)
#       save_metric = false (Default)
#     algorithm = hmc (Default)
#       hmc
#         engine = nuts (Default)
#           nuts
#             max_depth = {max_depth}{default if max_depth == 10 else ""}
#         metric = diag_e (Default)
#         metric_file =  (Default)
#         stepsize = 1 (Default)
#         stepsize_jitter = 0 (Default)
#     num_chains = 1 (Default)
# id = {chain_id}{default if chain_id == 1 else ""}
# data
#   file =  (Default)
# init = 2 (Default)
# random
#   seed = 1234
# output
#   file = output.csv (Default)
#   diagnostic_file =  (Default)
#   refresh = 100 (Default)
#   sig_figs = -1 (Default)
#   profile_file = profile.csv (Default)
#   save_cmdstan_config = false (Default)
# num_threads = 1 (Default)
# stanc_version = stanc3 v2.35.0
"""
    config += "# stancflags = \n"  # CmdStan leaves the trailing blank

    def rows(block: np.ndarray) -> str:
        return "".join(",".join(f"{v:.6g}" for v in row) + "\n" for row in block)

    metric = ", ".join(["0.52"] * max(n_unconstrained, 1))
    text = (
        config
        + ",".join(stan_csv_name(n) for n in names)
        + "\n"
        + rows(data[:warmup_rows])
        + "# Adaptation terminated\n# Step size = 0.93\n"
        + f"# Diagonal elements of inverse mass matrix:\n# {metric}\n"
        + rows(data[warmup_rows:])
        + "# \n"
        + "#  Elapsed Time: 0.01 seconds (Warm-up)\n"
        + f"#                {sampling_time:g} seconds (Sampling)\n"
        + f"#                {0.01 + sampling_time:g} seconds (Total)\n"
        + "# \n"
    )
    path.write_text(text)
    return path


def ar1(
    rng: np.random.Generator, n: int, phi: float, loc: float = 0.0, scale: float = 1.0
) -> np.ndarray:
    """Stationary Gaussian AR(1) series.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    n : int
        Length.
    phi : float
        Lag-1 autocorrelation, ``|phi| < 1``.
    loc, scale : float, optional
        Marginal mean and standard deviation.

    Returns
    -------
    numpy.ndarray
        Series of shape ``(n,)``.
    """
    eps = rng.normal(size=n) * np.sqrt(1.0 - phi**2)
    x = np.empty(n)
    x[0] = rng.normal()
    for i in range(1, n):
        x[i] = phi * x[i - 1] + eps[i]
    return loc + scale * x


def sampler_columns(
    rng: np.random.Generator, theta: np.ndarray, *, energy: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Plausible NUTS sampler columns for draws ``theta`` (shape ``(n, k)``).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    theta : numpy.ndarray
        Model parameter draws, one row per draw.
    energy : numpy.ndarray, optional
        Hamiltonian energy per draw; by default ``-lp__`` plus independent
        chi-square noise (good E-BFMI).

    Returns
    -------
    dict[str, numpy.ndarray]
        The seven sampler columns, ``lp__`` first.
    """
    n, k = theta.shape
    lp = -0.5 * np.sum(theta**2, axis=1)
    depth = rng.integers(1, 4, size=n).astype(float)
    if energy is None:
        energy = -lp + 0.5 * rng.chisquare(k, size=n)
    return {
        "lp__": lp,
        "accept_stat__": rng.uniform(0.6, 1.0, size=n),
        "stepsize__": np.full(n, 0.93),
        "treedepth__": depth,
        "n_leapfrog__": 2.0**depth - 1,
        "divergent__": np.zeros(n),
        "energy__": energy,
    }


def make_chain(
    rng: np.random.Generator, n: int = N_DRAWS, mu_loc: float = 3.0
) -> dict[str, np.ndarray]:
    """Columns of one well-behaved chain: sampler columns plus model parameters.

    Parameters are ``mu`` (AR(1), phi = 0.6, mean ``mu_loc``, sd 2), ``theta[1..3]``
    (independent standard normal), a 2x3 matrix ``m`` written in Stan's
    column-major order, and a constant ``c`` (= 1.5).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    n : int, optional
        Number of draws.
    mu_loc : float, optional
        Mean of ``mu`` in this chain (vary it across chains for non-mixing).

    Returns
    -------
    dict[str, numpy.ndarray]
        Column name to draws, in Stan CSV column order.
    """
    params = {"mu": ar1(rng, n, 0.6, loc=mu_loc, scale=2.0)}
    for i in range(1, 4):
        params[f"theta[{i}]"] = rng.normal(size=n)
    for j in range(1, 4):  # column-major, as Stan writes matrices
        for i in range(1, 3):
            params[f"m[{i},{j}]"] = rng.normal(loc=10 * i + j, size=n)
    params["c"] = np.full(n, 1.5)
    theta = np.column_stack([params["mu"] - mu_loc, params["theta[1]"]])
    return {**sampler_columns(rng, theta), **params}


def write_chains(directory: Path, chains: list[dict[str, np.ndarray]], **kwargs) -> list[str]:
    """Write one Stan CSV file per chain; returns the paths as strings.

    Parameters
    ----------
    directory : pathlib.Path
        Output directory.
    chains : list of dict
        Columns of each chain (see :func:`write_stan_csv`).
    **kwargs
        Passed on to :func:`write_stan_csv`.

    Returns
    -------
    list[str]
        File paths ``m_model-<k>.csv``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    return [
        str(write_stan_csv(directory / f"m_model-{k + 1}.csv", c, chain_id=k + 1, **kwargs))
        for k, c in enumerate(chains)
    ]


def stacked(chains: list[dict[str, np.ndarray]], name: str, warmup_rows: int = 0) -> np.ndarray:
    """Draws of column ``name`` as ``(chain, draw)`` array, rounded like the CSV."""
    arr = np.array([c[name][warmup_rows:] for c in chains], dtype=float)
    return np.vectorize(lambda v: float(f"{v:.6g}"))(arr)


def split_rhat(draws: np.ndarray) -> float:
    """Classic (non-rank-normalised) split R-hat, as in BDA3 / CmdStan 2.35.

    Parameters
    ----------
    draws : numpy.ndarray
        Shape ``(chain, draw)``.

    Returns
    -------
    float
        sqrt(((n - 1) / n * W + B / n) / W) over the split half-chains.
    """
    half = draws.shape[1] // 2
    parts = np.concatenate([draws[:, :half], draws[:, draws.shape[1] - half :]])
    n = parts.shape[1]
    w = parts.var(axis=1, ddof=1).mean()
    b = n * parts.mean(axis=1).var(ddof=1)
    return float(np.sqrt(((n - 1) / n * w + b / n) / w))


@pytest.fixture(scope="module")
def good_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[str], list[dict[str, np.ndarray]]]:
    """Four well-mixed chains of 1000 draws: (CSV paths, column dicts)."""
    rng = np.random.default_rng(20240601)
    chains = [make_chain(rng) for _ in range(N_CHAINS)]
    return write_chains(tmp_path_factory.mktemp("good"), chains), chains


def run_tool(exe: Path, *args: str) -> subprocess.CompletedProcess:
    """Run a compiled tool, capturing text output."""
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)


# ---------------------------------------------------------------------------
# stansummary through cmdstanpy
# ---------------------------------------------------------------------------


def test_summary_rows_columns_and_values(cmdstan_dir, good_run):
    paths, chains = good_run
    fit = cmdstanpy.from_csv(paths)
    summary = fit.summary()

    expected_rows = ["lp__", "mu", "theta[1]", "theta[2]", "theta[3]"]
    expected_rows += [f"m[{i},{j}]" for i in (1, 2) for j in (1, 2, 3)]  # row-major
    expected_rows += ["c"]
    assert list(summary.index) == expected_rows
    assert list(summary.columns) == SUMMARY_COLUMNS

    for name in expected_rows:
        draws = stacked(chains, name)
        flat = draws.ravel()
        row = summary.loc[name]
        np.testing.assert_allclose(row["Mean"], flat.mean(), rtol=1e-5, atol=1e-12)
        np.testing.assert_allclose(row["StdDev"], flat.std(ddof=1), rtol=1e-5, atol=1e-12)
        if name == "c":
            continue
        # Quantiles are order statistics (Boost tail_quantile, as in CmdStan):
        # sorted[ceil(pN) - 1] for p < 0.5, sorted[floor(pN)] otherwise; both lie
        # between numpy's "lower" and "higher" quantiles.
        for pct in (5, 50, 95):
            lo = np.quantile(flat, pct / 100, method="lower")
            hi = np.quantile(flat, pct / 100, method="higher")
            assert lo - 1e-5 * abs(lo) <= row[f"{pct}%"] <= hi + 1e-5 * abs(hi)
        np.testing.assert_allclose(row["R_hat"], split_rhat(draws), rtol=1e-5)
        np.testing.assert_allclose(row["MCSE"], row["StdDev"] / np.sqrt(row["N_Eff"]), rtol=1e-4)
        np.testing.assert_allclose(
            row["N_Eff/s"], row["N_Eff"] / (N_CHAINS * SAMPLING_TIME), rtol=1e-4
        )
        # N_Eff is CmdStan 2.35's multi-chain Geyer ESS (no splitting, no rank
        # normalisation).  On these stationary chains it agrees with ArviZ's
        # split ESS to ~2 %; with the rank-normalised bulk ESS only where the
        # marginal is normal (lp__ is skewed: bulk ESS differs by up to ~20 %).
        ess_mean = float(az.ess(draws, method="mean"))
        assert row["N_Eff"] == pytest.approx(ess_mean, rel=0.05), name
        if name != "lp__":
            ess_bulk = float(az.ess(draws, method="bulk"))
            assert row["N_Eff"] == pytest.approx(ess_bulk, rel=0.05), name
        # R_hat is the classic split R-hat = ArviZ's method="split".
        assert row["R_hat"] == pytest.approx(float(az.rhat(draws, method="split")), rel=1e-5)

    # AR(1) with phi = 0.6 has ESS = N (1 - phi) / (1 + phi) = 1000 here.
    assert summary.loc["mu", "N_Eff"] == pytest.approx(1000, rel=0.25)
    assert 1.0 <= summary.loc["mu", "R_hat"] < 1.01
    # A constant column has no ESS / R-hat but must not break the summary.
    const = summary.loc["c"]
    assert const["Mean"] == 1.5 and const["StdDev"] < 1e-12  # round-off, as CmdStan
    assert np.isnan(const["N_Eff"]) and np.isnan(const["R_hat"]) and np.isnan(const["MCSE"])


def test_summary_sig_figs_and_custom_percentiles(cmdstan_dir, good_run):
    paths, chains = good_run
    fit = cmdstanpy.from_csv(paths)
    summary = fit.summary(percentiles=(10, 25, 75, 90), sig_figs=3)
    expected = SUMMARY_COLUMNS[:3] + ["10%", "25%", "75%", "90%"] + SUMMARY_COLUMNS[-3:]
    assert list(summary.columns) == expected
    values = summary.drop(index="c").to_numpy().ravel()
    assert np.all(np.isfinite(values))
    # Every value carries at most 3 significant digits ...
    np.testing.assert_array_equal(values, [float(f"{v:.3g}") for v in values])
    # ... and is the 3-digit rounding of the full-precision value.
    full = fit.summary(percentiles=(10, 25, 75, 90), sig_figs=6)
    np.testing.assert_allclose(summary.to_numpy(), full.to_numpy(), rtol=5e-3)
    flat = stacked(chains, "mu").ravel()
    assert summary.loc["mu", "25%"] == pytest.approx(np.quantile(flat, 0.25), rel=5e-3)


def test_summary_excludes_saved_warmup(cmdstan_dir, tmp_path):
    rng = np.random.default_rng(7)
    n_warmup = 200
    chains = []
    for _ in range(2):
        warm = make_chain(rng, n_warmup, mu_loc=500.0)  # far away from the posterior
        post = make_chain(rng, N_DRAWS)
        chains.append({k: np.concatenate([warm[k], post[k]]) for k in post})
    paths = write_chains(tmp_path, chains, warmup_rows=n_warmup)
    fit = cmdstanpy.from_csv(paths)
    assert fit.num_draws_warmup == n_warmup
    summary = fit.summary()
    mu = stacked(chains, "mu", warmup_rows=n_warmup)
    assert summary.loc["mu", "Mean"] == pytest.approx(mu.mean(), rel=1e-5)
    assert summary.loc["mu", "R_hat"] < 1.05


def test_summary_single_chain_and_short_chains(cmdstan_dir, tmp_path):
    rng = np.random.default_rng(11)
    one = write_chains(tmp_path / "one", [make_chain(rng)])
    summary = cmdstanpy.from_csv(one).summary()
    assert np.isfinite(summary.loc["mu", "N_Eff"]) and np.isfinite(summary.loc["mu", "R_hat"])
    # Fewer than 4 draws per chain: ESS undefined (NaN), the rest still computed.
    short = write_chains(tmp_path / "short", [make_chain(rng, 3) for _ in range(2)])
    proc = run_tool(
        cmdstan_dir / "bin" / "stansummary", "--csv_filename", str(tmp_path / "s.csv"), *short
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "s.csv", index_col=0, comment="#")
    assert np.isnan(table.loc["mu", "N_Eff"]) and np.isfinite(table.loc["mu", "Mean"])


# ---------------------------------------------------------------------------
# stansummary on the command line
# ---------------------------------------------------------------------------


def test_stansummary_console_report(tools, good_run, tmp_path):
    paths, _ = good_run
    csv_out = tmp_path / "summary.csv"
    # Exactly the argument forms cmdstanpy 1.3.2 passes (note the blank).
    args = ["--percentiles= 5,50,95", "--sig_figs=6", f"--csv_filename={csv_out}"]
    proc = run_tool(tools["stansummary"], *args, *paths)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("Inference for Stan model: m_model\n")
    assert (
        "4 chains: each with iter=(1000,1000,1000,1000); warmup=(0,0,0,0); "
        "thin=(1,1,1,1); 4000 iterations saved." in out
    )
    assert "Sampling took (0.020, 0.020, 0.020, 0.020) seconds, 0.080 seconds total" in out
    lines = out.splitlines()
    header = next(line for line in lines if "Mean" in line)
    assert header.split() == SUMMARY_COLUMNS
    names = [line.split()[0] for line in lines if line and line.split()[0].endswith("__")]
    assert names == list(SAMPLER_COLUMNS)
    assert "Samples were drawn using hmc with nuts." in out
    # The CSV file: header, quoted names, '#' comment trailer.
    text = csv_out.read_text().splitlines()
    assert text[0] == "name," + ",".join(SUMMARY_COLUMNS)
    assert text[1].startswith('"lp__",')
    assert any(line.startswith("# Inference for Stan model: m_model") for line in text)
    # Default console precision (2 significant digits) and --autocorr.
    proc = run_tool(tools["stansummary"], "-a", "2", paths[0], paths[1])
    assert proc.returncode == 0, proc.stderr
    assert "Displaying the autocorrelations for chain 2:" in proc.stdout


def test_stansummary_errors(tools, good_run, tmp_path):
    paths, _ = good_run
    missing = str(tmp_path / "no-such-file.csv")
    proc = run_tool(tools["stansummary"], paths[0], missing)
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and missing in proc.stderr
    for bad in (["--percentiles=50,5"], ["--sig_figs=0"], ["--bogus"]):
        proc = run_tool(tools["stansummary"], *bad, paths[0])
        assert proc.returncode != 0 and proc.stderr.count("\n") == 1, bad
    proc = run_tool(tools["stansummary"], "--help")
    assert proc.returncode == 0 and "--percentiles" in proc.stdout
    # A truncated draw row is an error, not a silently shortened chain.
    broken = tmp_path / "broken.csv"
    lines = Path(paths[0]).read_text().splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line[0].isdigit() or line[0] == "-")
    lines[row + 5] = ",".join(lines[row + 5].split(",")[:-2]) + "\n"
    broken.write_text("".join(lines))
    proc = run_tool(tools["stansummary"], str(broken))
    assert proc.returncode != 0 and "broken.csv" in proc.stderr
    # Chains with different columns cannot be combined.
    rng = np.random.default_rng(3)
    other = make_chain(rng)
    other["extra"] = other.pop("c")
    odd = write_chains(tmp_path / "odd", [other])
    proc = run_tool(tools["stansummary"], paths[0], *odd)
    assert proc.returncode != 0 and "do not match" in proc.stderr


def test_summary_error_surfaces_in_cmdstanpy(cmdstan_dir, good_run, tmp_path):
    paths, _ = good_run
    copies = [shutil.copy(p, tmp_path / Path(p).name) for p in paths]
    fit = cmdstanpy.from_csv([str(c) for c in copies])
    os.unlink(copies[-1])
    with pytest.raises(RuntimeError):
        fit.summary()


# ---------------------------------------------------------------------------
# diagnose
# ---------------------------------------------------------------------------

GOOD_DIAGNOSE_LINES = [
    "Checking sampler transitions treedepth.",
    "Treedepth satisfactory for all transitions.",
    "Checking sampler transitions for divergences.",
    "No divergent transitions found.",
    "Checking E-BFMI - sampler transitions HMC potential energy.",
    "E-BFMI satisfactory.",
    "Effective sample size satisfactory.",
    "Split R-hat values satisfactory all parameters.",
    "Processing complete, no problems detected.",
]


def test_diagnose_good_chains(cmdstan_dir, good_run):
    paths, _ = good_run
    text = cmdstanpy.from_csv(paths).diagnose()
    assert text.startswith("Processing csv files: " + ", ".join(paths) + "\n\n")
    lines = [line for line in text.splitlines()[1:] if line]
    assert lines == GOOD_DIAGNOSE_LINES


def test_diagnose_divergences_and_treedepth(cmdstan_dir, tmp_path):
    rng = np.random.default_rng(5)
    chains = [make_chain(rng) for _ in range(N_CHAINS)]
    chains[1]["divergent__"][:40] = 1  # 40 of 4000 = 1%
    chains[2]["treedepth__"][100:110] = 10  # 10 of 4000 = 0.25%
    paths = write_chains(tmp_path, chains)
    text = cmdstanpy.from_csv(paths).diagnose()
    assert "40 of 4000 (1%) transitions ended with a divergence." in text
    assert (
        "10 of 4000 (0.25%) transitions hit the maximum treedepth limit of 10, "
        "or 2^10 leapfrog steps." in text
    )
    assert "No divergent transitions found." not in text
    assert "Treedepth satisfactory" not in text
    assert text.rstrip().endswith("\nProcessing complete.")
    # With max_depth = 12 in the config, depth 10 is not a hit.
    paths12 = write_chains(tmp_path / "depth12", chains, max_depth=12)
    text12 = run_tool(cmdstan_dir / "bin" / "diagnose", *paths12).stdout
    assert "Treedepth satisfactory for all transitions." in text12


def test_diagnose_non_mixing_chains(cmdstan_dir, tmp_path):
    rng = np.random.default_rng(9)
    chains = [make_chain(rng, mu_loc=loc) for loc in (0.0, 0.0, 4.0, 4.0)]
    paths = write_chains(tmp_path, chains)
    text = cmdstanpy.from_csv(paths).diagnose()
    assert "The following parameters had split R-hat greater than 1.05:\n  mu\n" in text
    assert "Split R-hat values satisfactory" not in text
    assert text.rstrip().endswith("\nProcessing complete.")
    assert cmdstanpy.from_csv(paths).summary().loc["mu", "R_hat"] == pytest.approx(
        split_rhat(stacked(chains, "mu")), rel=1e-5
    )


def test_diagnose_low_ebfmi_and_low_ess(cmdstan_dir, tmp_path):
    rng = np.random.default_rng(13)
    chains = [make_chain(rng) for _ in range(N_CHAINS)]
    chains[1]["energy__"] = 50 + np.cumsum(rng.normal(size=N_DRAWS))  # random walk
    drift = np.linspace(0.0, 1.0, N_DRAWS)
    for k, c in enumerate(chains):  # each chain drifts in its own region: ESS ~ 2
        c["stuck"] = drift + k
    paths = write_chains(tmp_path, chains)
    text = run_tool(cmdstan_dir / "bin" / "diagnose", *paths).stdout
    assert "Chain 2: The E-BFMI, " in text
    assert text.count("is below the nominal threshold of 0.3") == 1
    assert (
        "The following parameters had fewer than 0.001 effective draws per transition:\n"
        "  stuck\n" in text
    )
    assert "E-BFMI satisfactory." not in text
    assert "had split R-hat greater than 1.05:\n  stuck\n" in text


def test_diagnose_missing_file(tools, good_run, tmp_path):
    paths, _ = good_run
    missing = str(tmp_path / "gone.csv")
    proc = run_tool(tools["diagnose"], paths[0], missing)
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and missing in proc.stderr
