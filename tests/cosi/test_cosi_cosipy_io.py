"""cosipy HDF5 readers, point-source response and Band folding on cosipy's test files.

Known values come from the files themselves (read once with plain h5py) and from
cosipy's published spectral-fit test (tests/spectral_fits/test_spectral_fitting.py in
cositools/cosipy): its log-likelihood at its best-fit parameters.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.time import Time

from bayesbg.cosi.io.histpy_files import read_detector_response, read_histogram
from bayesbg.cosi.io.orientation import Orientation, read_ori
from bayesbg.cosi.io.sample_data import sample_data_dir
from bayesbg.cosi.pointsource import (
    band,
    band_bin_integrals,
    band_bin_integrals_quad,
    dwell_time_map,
    point_source_response,
)
from bayesbg.cosi.pointsource_fit import (
    SpectrumFitData,
    cosipy_log_like,
    load_cosipy_fit_data,
)

DATA_DIR = sample_data_dir() / "cosipy-test"
pytestmark = pytest.mark.skipif(not (DATA_DIR / "test_spectral_fit_data.h5").is_file(),
                                reason=f"cosipy test files not found in {DATA_DIR}")

ENERGY_EDGES = [150, 220, 325, 480, 520, 765, 1120, 1650, 2350, 3450, 5000]
# cosipy's test (older version): best fit and its log-likelihood
COSIPY_BEST = {"K": 1.0761685423819567, "alpha": -1.0986905318048805,
               "beta": -2.2992600319562753, "xp": 449.8988239195967, "bkg_norm": 1.0}
COSIPY_BEST_LOG_LIKE = 337.17196587486285
# cosipy's test (newer version, a local maximum): values and log-likelihood
COSIPY_LOCAL = {"K": 1.0522695866399103, "alpha": 2.6276132958523926,
                "beta": -2.909795888815157, "xp": 18.19702619330248, "bkg_norm": 2.3908438191547012}
COSIPY_LOCAL_LOG_LIKE = 213.14242014103897


@pytest.fixture(scope="module")
def fit_data() -> SpectrumFitData:
    return load_cosipy_fit_data(
        DATA_DIR / "test_spectral_fit_data.h5", DATA_DIR / "test_spectral_fit_background.h5",
        DATA_DIR / "test_full_detector_response.h5", DATA_DIR / "20280301_2s.ori",
        lon=50.0, lat=-45.0)


def test_histogram_axes_and_known_values() -> None:
    data = read_histogram(DATA_DIR / "test_spectral_fit_data.h5")
    assert data.labels == ("Ei", "Em", "Phi", "PsiChi", "SigmaTau", "Dist")
    assert data.contents.shape == (10, 10, 30, 12, 12, 1)
    np.testing.assert_array_equal(data.axis("Em").edges, ENERGY_EDGES)
    np.testing.assert_array_equal(data.axis("Phi").edges, np.arange(0, 181, 6))
    assert data.axis("Em").unit == "keV" and data.axis("Phi").unit == "deg"
    psi = data.axis("PsiChi")
    assert (psi.nside, psi.scheme, psi.coordsys) == (1, "ring", "spacecraftframe")
    assert data.contents.sum() == pytest.approx(1611.7874174482213, rel=1e-12)
    assert data.contents[0, 0, 5, 0, 0, 0] == pytest.approx(0.0031892623636465274, rel=1e-12)
    assert data.contents[2, 2, 6, 2, 0, 0] == pytest.approx(6.202371508284642, rel=1e-12)
    assert np.count_nonzero(data.contents) == 5775
    background = read_histogram(DATA_DIR / "test_spectral_fit_background.h5")
    assert background.contents.sum() == pytest.approx(674.2297734183134, rel=1e-12)
    assert background.contents[6, 6, 2, 11, 0, 0] == pytest.approx(1.973517409845014)


def test_projection_keeps_the_requested_order() -> None:
    data = read_histogram(DATA_DIR / "test_spectral_fit_data.h5")
    projected = data.project("PsiChi", "Em")
    assert projected.labels == ("PsiChi", "Em")
    np.testing.assert_allclose(projected.contents, data.contents.sum(axis=(0, 2, 4, 5)).T)


def test_sparse_response_equals_the_dense_file() -> None:
    sparse = read_detector_response(DATA_DIR / "test_full_detector_response.h5")
    dense = read_detector_response(DATA_DIR / "test_full_detector_response_dense.h5")
    assert sparse.area.shape == (12, 10, 10, 30, 12)
    assert sparse.nside == 1 and sparse.scheme == "ring"
    np.testing.assert_array_equal(sparse.axis("Ei").edges, ENERGY_EDGES)
    assert sparse.area.sum() == pytest.approx(113.71598238147917, rel=1e-12)
    assert sparse.area[0, 6, 6, 2, 0] == pytest.approx(0.03996911487108435, rel=1e-12)
    np.testing.assert_allclose(sparse.area, dense.area, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["test_spectral_fit_data.h5",
                                  "test_full_detector_response.h5"])
def test_truncated_file_names_the_file(tmp_path: Path, name: str) -> None:
    source = DATA_DIR / name
    broken = tmp_path / f"truncated_{name}"
    broken.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    reader = read_histogram if "fit_data" in name else read_detector_response
    with pytest.raises(ValueError, match=f"truncated_{name}"):
        reader(broken)


def test_corrupted_and_foreign_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 40)
    with pytest.raises(ValueError, match="garbage.h5"):
        read_histogram(garbage)
    # a valid HDF5 file of the other kind: the error names the file and what is missing
    copy = tmp_path / "response_as_histogram.h5"
    shutil.copy(DATA_DIR / "test_full_detector_response_dense.h5", copy)
    with pytest.raises(ValueError, match="response_as_histogram.h5.*histpy"):
        read_histogram(copy)
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        read_detector_response(tmp_path / "missing.h5")


def test_dwell_time_map_known_values() -> None:
    orientation = read_ori(DATA_DIR / "20280301_2s.ori")
    dwell = dwell_time_map(orientation, 50.0, -45.0, nside=1)
    assert dwell.sum() == pytest.approx(2.0)
    np.testing.assert_allclose(dwell[:4], [0.25276933, 0.64357206, 0.85088928, 0.25276933],
                               atol=1e-7)
    assert np.all(dwell[4:] == 0)


def test_dwell_time_at_a_pixel_centre_is_all_in_that_pixel() -> None:
    # instrument axes = Galactic axes; ring pixels 4 and 1 of nside 1 are centred at
    # (0, 0) and (135, 41.81) deg
    orientation = Orientation(Time([0.0, 10.0], format="unix"), np.zeros(2), np.zeros(2),
                              np.full(2, 90.0), np.zeros(2))
    for pixel, (lon, lat) in [(4, (0.0, 0.0)), (1, (135.0, 41.8103149))]:
        dwell = dwell_time_map(orientation, lon, lat, nside=1)
        assert dwell[pixel] == pytest.approx(10.0, rel=1e-6)
        assert dwell.sum() == pytest.approx(10.0)


def test_galactic_psichi_equals_local_for_the_identity_attitude() -> None:
    response = read_detector_response(DATA_DIR / "test_full_detector_response.h5")
    orientation = Orientation(Time([0.0, 1.0, 3.0], format="unix"), np.zeros(3),
                              np.zeros(3), np.full(3, 90.0), np.zeros(3))
    local = point_source_response(response, orientation, 120.0, 30.0)
    galactic = point_source_response(response, orientation, 120.0, 30.0, coordsys="galactic")
    np.testing.assert_allclose(galactic.exposure, local.exposure, rtol=1e-12)
    assert local.duration == pytest.approx(3.0)


def test_band_function_and_bin_integrals() -> None:
    # continuity at the break and the E^2 f(E) peak at xp
    alpha, beta, xp = -1.1, -2.3, 450.0
    e_break = (alpha - beta) * xp / (2 + alpha)
    below, above = band([e_break * (1 - 1e-9), e_break * (1 + 1e-9)], 1.0, alpha, beta, xp,
                        500.0)
    assert below == pytest.approx(above, rel=1e-6)
    grid = np.geomspace(100, 2000, 20001)
    assert grid[np.argmax(grid**2 * band(grid, 1.0, alpha, beta, xp))] == pytest.approx(xp,
                                                                                    rel=1e-3)
    assert band(500.0, 2.0, alpha, beta, xp, 500.0) == pytest.approx(2.0 * np.exp(-500 / 500))
    for shape in [(-1.1, -2.3, 450.0), (2.6, -2.9, 18.2), (-1.9, -4.9, 10.0), (2.9, -2.01, 9e3)]:
        simpson = band_bin_integrals(ENERGY_EDGES, 1.0, *shape, 500.0, n_sub=32)
        reference = band_bin_integrals_quad(ENERGY_EDGES, 1.0, *shape, 500.0)
        np.testing.assert_allclose(simpson, reference, rtol=1e-6)
    with pytest.raises(ValueError, match="alpha > -2"):
        band(100.0, 1.0, -2.5, -3.0, 300.0)


def test_log_likelihood_matches_cosipy_published_values(fit_data: SpectrumFitData) -> None:
    """Our response and folding give cosipy's own ln L at its two published fits."""
    assert cosipy_log_like(fit_data, COSIPY_BEST) == pytest.approx(COSIPY_BEST_LOG_LIKE,
                                                                   abs=1e-3)
    assert cosipy_log_like(fit_data, COSIPY_LOCAL) == pytest.approx(COSIPY_LOCAL_LOG_LIKE,
                                                                    abs=1e-3)


def test_fit_data_layout_and_validation(fit_data: SpectrumFitData) -> None:
    stan = fit_data.to_stan_data()
    assert (stan["E"], stan["M"]) == (10, 10)
    assert stan["N"] == np.count_nonzero(fit_data.counts)
    assert np.sum(stan["counts"]) == pytest.approx(1611.7874174482213)
    assert np.asarray(stan["response_total"]).shape == (10, 10)
    assert fit_data.response.duration == pytest.approx(2.0)
    with pytest.raises(ValueError, match="counts: expected shape"):
        SpectrumFitData(fit_data.counts[:5], fit_data.background, fit_data.response)
    with pytest.raises(ValueError, match="n_sub"):
        SpectrumFitData(fit_data.counts, fit_data.background, fit_data.response, n_sub=3)
    with pytest.raises(ValueError, match="beta_bounds"):
        SpectrumFitData(fit_data.counts, fit_data.background, fit_data.response,
                        beta_bounds=(-5.0, -1.0))
