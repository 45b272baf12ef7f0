"""What bayesbg refuses, and why: the bad-input corpus.

Each case is one mistake a user can make, the command or call that makes it, and the
message that must come back. Every message names the field, option or file at fault and
what was expected; none is a traceback, none a library's text without the file's name,
and no bad input passes silently. Command-line cases go through ``bayesbg.cli.main``
(exit status 1 for an error, 2 for a usage error); library cases call the public API.

More specific refusals are tested beside their modules (e.g. the COSI dataset container
in ``tests/cosi/test_data.py``, the ISGRI pointing table in ``tests/isgri/``, the TOML
reader in ``tests/config/``); this module is the list a newcomer reads first.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bayesbg.cli import main

# -- files the cases use -----------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Good files, and broken copies of them, in one directory."""
    from bayesbg.cosi import simulate_cosi
    from bayesbg.isgri import simulate_isgri, write_pointings
    from bayesbg.spectra import REFERENCE_FITS, SpectralModel, simulate_spectrum, write_spectrum

    root = tmp_path_factory.mktemp("bad")
    reference = REFERENCE_FITS["GB"]
    model = SpectralModel.parse(reference["model"], fixed=reference["fixed"])
    spectrum = write_spectrum(simulate_spectrum(1, spectral_model=model,
                                                truth=reference["truth"]), root / "gb.ecsv")
    text = spectrum.read_text()
    (root / "truncated.ecsv").write_text(text[: len(text) // 2])
    header = [line for line in text.splitlines() if line.startswith("#")]
    columns = next(line for line in text.splitlines() if not line.startswith("#"))
    (root / "empty.ecsv").write_text("\n".join([*header, columns]) + "\n")

    dataset, _ = simulate_cosi(1, n_time=24, bin_size=15.0, n_change_points=1)
    good = dataset.write(root / "cosi.nc")
    (root / "truncated.nc").write_bytes(good.read_bytes()[:20000])

    table, _ = simulate_isgri(1)
    pointings = write_pointings(table, root / "scw.csv")
    lines = pointings.read_text().splitlines()
    (root / "empty_scw.csv").write_text(lines[0] + "\n")
    (root / "folder").mkdir()
    return {"root": root, "spectrum": spectrum, "cosi": good, "pointings": pointings}


def _cosi_config(root: Path, dataset: str, extra: str = "") -> Path:
    path = root / f"cosi-{abs(hash((dataset, extra)))}.toml"
    path.write_text(f'[data]\ndataset = "{dataset}"\n{extra}')
    return path


def _isgri_config(root: Path, table: str) -> Path:
    path = root / f"isgri-{Path(table).stem}.toml"
    path.write_text(f'input = "{table}"\noutput = "runs/{Path(table).stem}"\n')
    return path


# -- command line: (why it is refused, arguments, text that must be in the message) ------

CommandCase = tuple[str, Callable[[dict[str, Path]], list[str]], str]

COMMAND_CASES: list[CommandCase] = [
    ("a negative seed",
     lambda f: ["demo", "--seed", "-1"],
     "argument --seed: expected an integer in [0, 4294967295], found '-1'"),
    ("a seed that is not an integer",
     lambda f: ["spectrum", "simulate", "--seed", "1.5", "--output", str(f["root"] / "x")],
     "argument --seed: expected an integer"),
    ("too few time bins for the change points",
     lambda f: ["cosi", "simulate", "--output", str(f["root"] / "few.nc"), "--n-time", "4"],
     "n_time: 4 time bins leave room for at most 0 change point(s)"),
    ("a directory where a spectrum file is expected",
     lambda f: ["spectrum", "fit", "--model", "powerlaw", "--data", str(f["root"] / "folder")],
     "folder: is a directory; expected a spectrum (ECSV"),
    ("a truncated spectrum file",
     lambda f: ["spectrum", "fit", "--model", "powerlaw", "--data",
                str(f["root"] / "truncated.ecsv")],
     "truncated.ecsv: cannot be read as a spectrum (ECSV"),
    ("a spectrum without bands",
     lambda f: ["spectrum", "fit", "--model", "powerlaw", "--data",
                str(f["root"] / "empty.ecsv")],
     "empty.ecsv: spectrum: the table has no rows; expected at least one band"),
    ("a model name that does not exist",
     lambda f: ["spectrum", "fit", "--model", "cutofpl", "--data", str(f["spectrum"])],
     "model: unknown component 'cutofpl'"),
    ("a malformed --fix",
     lambda f: ["spectrum", "simulate", "--model", "powerlaw", "--set", "powerlaw.flux",
                "--output", str(f["root"] / "y.ecsv")],
     "--set: expected NAME=NUMBER, found 'powerlaw.flux'"),
    ("a directory where a COSI dataset is expected",
     lambda f: ["cosi", "fit", str(_cosi_config(f["root"], str(f["root"] / "folder")))],
     "folder: is a directory; expected a COSI dataset file"),
    ("a truncated COSI dataset",
     lambda f: ["cosi", "fit", str(_cosi_config(f["root"], str(f["root"] / "truncated.nc")))],
     "truncated.nc: cannot be read as a COSI dataset file"),
    ("a COSI dataset that does not exist",
     lambda f: ["cosi", "fit", str(_cosi_config(f["root"], str(f["root"] / "none.nc")))],
     "none.nc does not exist; expected a COSI dataset file"),
    ("an unknown key in a configuration",
     lambda f: ["cosi", "fit", str(_cosi_config(f["root"], str(f["cosi"]),
                                                "[background]\nn_block = 3\n"))],
     "background.n_block: unknown key; expected one of"),
    ("a value of the wrong type in a configuration",
     lambda f: ["cosi", "fit", str(_cosi_config(f["root"], str(f["cosi"]),
                                                "[background]\nn_blocks = \"three\"\n"))],
     "background.n_blocks: expected an integer, found 'three'"),
    ("a background scan that was not run",
     lambda f: ["cosi", "fit", str(_cosi_config(f["root"], str(f["cosi"]),
                                                "[background]\nfrom_scan = \"no-scan\"\n"))],
     "no-scan holds no finished scan (no summary.json); run `bayesbg cosi scan-background`"),
    ("sky models without their table",
     lambda f: ["cosi", "sky-models", str(_cosi_config(f["root"], str(f["cosi"])))],
     "sky_models: missing: the table of the sky models"),
    ("a configuration that is not TOML",
     lambda f: ["cosi", "fit", str(_cosi_config(f["root"], str(f["cosi"]), "[[[\n"))],
     "invalid TOML"),
    ("a directory given as the configuration",
     lambda f: ["isgri", "run", str(f["root"] / "folder")],
     "folder: is a directory; expected a TOML configuration file"),
    ("a configuration file that does not exist",
     lambda f: ["isgri", "run", str(f["root"] / "none.toml")],
     "none.toml does not exist"),
    ("an ISGRI table without rows",
     lambda f: ["isgri", "run", str(_isgri_config(f["root"], str(f["root"] / "empty_scw.csv")))],
     "empty_scw.csv: table: no pointings (the table has no rows)"),
    ("an ISGRI method that was renamed",
     lambda f: ["isgri", "run", str(_write(f["root"] / "m.toml",
                                           'simulate_seed = 1\nmethod = "gaussian"\n'))],
     "method: expected one of ['mixture-ml', 'mixture-nuts'], found 'gaussian' ('gaussian' "
     "was renamed 'mixture-ml')"),
    ("a Stan program directory that does not exist",
     lambda f: ["compile", "template_fit"],
     "BAYESBG_STAN_MODELS="),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(("why", "arguments", "message"), COMMAND_CASES,
                         ids=[case[0] for case in COMMAND_CASES])
def test_command_line_refuses(why, arguments, message, files, capsys, monkeypatch):
    monkeypatch.chdir(files["root"])
    if "BAYESBG_STAN_MODELS=" in message:
        monkeypatch.setenv("BAYESBG_STAN_MODELS", str(files["root"] / "no-programs"))
    with pytest.raises(SystemExit) if message.startswith("argument ") else _no_exit() as exit_:
        status = main(arguments(files))
    captured = capsys.readouterr()
    err = captured.err
    assert message in err, f"{why}: expected {message!r} in:\n{err}"
    assert "Traceback" not in err
    if message.startswith("argument "):  # argparse: usage lines, then the error
        assert exit_.value.code == 2
    else:
        assert status == 1, captured.out
        assert err.count("\n") <= 3, f"{why}: expected a short message, found:\n{err}"


class _no_exit:  # noqa: N801 - a context manager named for how it reads
    value = None

    def __enter__(self) -> _no_exit:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False


# -- library calls: (why it is refused, the call, the error's text) ----------------------

def _big_counts() -> None:
    from bayesbg.template_fit import BinnedCounts

    BinnedCounts(counts=np.array([3_000_000_000, 5]), sky_response=np.ones((1, 2)),
                 background=np.ones(2), background_blocks=np.array([1, 1]),
                 flux_prior_mean=np.array([1e-3]), flux_prior_sd=np.array([1e-3]))


def _big_cosi_counts() -> None:
    from scipy import sparse

    from bayesbg.cosi import CosiDataset

    CosiDataset(counts=sparse.coo_array(np.array([[3_000_000_000, 1]])),
                time_edges=np.array([0.0, 3600.0]), phi_edges=np.array([0.0, 180.0]),
                n_psi_chi=2, tracers={"photo_event_rate": np.ones(1)})


def _fit_without_seed() -> None:
    from bayesbg.template_fit import fit_templates, simulate_template_data

    fit_templates(simulate_template_data(1)[0], seed=None)


def _simulate_negative_seed() -> None:
    from bayesbg.cosi import simulate_cosi

    simulate_cosi(-1, n_time=24)


def _simulate_without_seed() -> None:
    from bayesbg.template_fit import simulate_template_data

    simulate_template_data(None)


LIBRARY_CASES = [
    ("counts too large for a Stan int", _big_counts, ValueError,
     "counts: expected values <= 2147483647 (a Stan int), found 3000000000"),
    ("COSI counts too large for a Stan int", _big_cosi_counts, ValueError,
     "counts: expected values <= 2147483647 (a Stan int)"),
    ("a fit without a seed", _fit_without_seed, ValueError,
     "seed: an explicit integer seed is required, found None"),
    ("a simulation with a negative seed", _simulate_negative_seed, ValueError,
     "rng: expected an integer in [0, 4294967295], found -1"),
    ("a simulation without a seed", _simulate_without_seed, ValueError,
     "rng: an explicit integer seed is required, found None"),
]


@pytest.mark.parametrize(("why", "call", "error", "message"), LIBRARY_CASES,
                         ids=[case[0] for case in LIBRARY_CASES])
def test_library_refuses(why, call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value), f"{why}: {raised.value}"


def test_a_read_only_directory_names_the_target_not_a_temporary(tmp_path, monkeypatch):
    """A run directory on a read-only file system: the message names what was to be
    written, never a hidden ``.partial-*`` path."""
    from bayesbg.atomic import staging_directory

    target = tmp_path / "runs" / "fit"
    original = Path.mkdir

    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        if tmp_path in self.parents:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(OSError) as raised, staging_directory(target):
        pass
    text = str(raised.value)
    assert "runs" in text and "Read-only file system" in text
    assert ".partial" not in text
