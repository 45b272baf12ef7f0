"""cosipy HDF5 readers (histpy histograms, detector responses) on cosipy's test files.

Known values come from the files themselves (read once with plain h5py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bayesbg.cosi.io.histpy_files import read_detector_response, read_histogram
from bayesbg.cosi.io.sample_data import sample_data_dir

DATA_DIR = sample_data_dir() / "cosipy-test"
pytestmark = pytest.mark.skipif(not (DATA_DIR / "test_spectral_fit_data.h5").is_file(),
                                reason=f"cosipy test files not found in {DATA_DIR}")

ENERGY_EDGES = [150, 220, 325, 480, 520, 765, 1120, 1650, 2350, 3450, 5000]


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
