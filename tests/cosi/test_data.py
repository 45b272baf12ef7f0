"""CosiDataset: validation errors name the field; netCDF round trip; energy selection."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from bayesbg.cosi import CosiDataset, load_dataset

N_TIME, N_PHI, N_PSI_CHI = 4, 3, 5
N_BIN = N_PHI * N_PSI_CHI


def _fields(**changes):
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.7, size=(N_TIME, N_BIN))
    response = rng.uniform(0.5, 1.5, N_BIN)
    fields = dict(
        counts=counts,
        time_edges=3600.0 * np.arange(N_TIME + 1),
        phi_edges=np.linspace(0, 180, N_PHI + 1),
        n_psi_chi=N_PSI_CHI,
        tracers={"photo_event_rate": np.array([1.0, 1.2, 0.9, 1.1])},
        templates={"bulge": rng.uniform(0, 10, size=(N_TIME, N_BIN)),
                   "disk": sparse.random(N_TIME, N_BIN, density=0.3, random_state=1,
                                         format="csr") * 5},
        background_response=response / response.sum(),
        altitude=np.array([33.0, 30.5, 28.2, 32.9]),
    )
    fields.update(changes)
    return fields


def test_valid_dataset_is_canonical_sparse():
    dataset = CosiDataset(**_fields())
    assert dataset.counts.shape == (N_TIME, N_BIN)
    assert np.all(dataset.counts.data > 0)
    order = np.lexsort((dataset.counts.col, dataset.counts.row))
    assert np.array_equal(order, np.arange(dataset.n_nonzero))
    assert dataset.templates["bulge"].dtype == np.float32
    assert sparse.issparse(dataset.templates["disk"])
    assert dataset.counts_per_time().sum() == _fields()["counts"].sum()
    assert dataset.template_names == ("bulge", "disk")


def test_negative_counts_raise():
    counts = _fields()["counts"].copy()
    counts[1, 2] = -1
    with pytest.raises(ValueError, match="counts: expected non-negative integers"):
        CosiDataset(**_fields(counts=counts))


def test_non_integer_counts_raise():
    counts = _fields()["counts"].astype(float)
    counts[0, 0] = 1.5
    with pytest.raises(ValueError, match="counts: expected integers"):
        CosiDataset(**_fields(counts=counts))


def test_mismatched_counts_shape_raises():
    with pytest.raises(ValueError, match=r"counts: expected shape \(4, 15\)"):
        CosiDataset(**_fields(counts=np.ones((N_TIME, N_BIN + 1), dtype=int)))


def test_mismatched_tracer_length_raises():
    with pytest.raises(ValueError, match=r"tracers\['photo_event_rate'\]: expected shape"):
        CosiDataset(**_fields(tracers={"photo_event_rate": np.ones(N_TIME + 1)}))


def test_nan_tracer_raises():
    with pytest.raises(ValueError, match=r"tracers\['shield'\]: expected finite values, found NaN"):
        CosiDataset(**_fields(tracers={"shield": np.array([1.0, np.nan, 1.0, 1.0])}))


def test_zero_exposure_template_raises():
    templates = {"bulge": np.zeros((N_TIME, N_BIN))}
    with pytest.raises(ValueError, match=r"templates\['bulge'\]: zero exposure"):
        CosiDataset(**_fields(templates=templates))
    empty = {"disk": sparse.csr_array((N_TIME, N_BIN))}
    with pytest.raises(ValueError, match=r"templates\['disk'\]: zero exposure"):
        CosiDataset(**_fields(templates=empty))


def test_nan_template_and_wrong_template_shape_raise():
    bad = np.ones((N_TIME, N_BIN))
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"templates\['bulge'\]: expected finite"):
        CosiDataset(**_fields(templates={"bulge": bad}))
    with pytest.raises(ValueError, match=r"templates\['bulge'\]: expected shape"):
        CosiDataset(**_fields(templates={"bulge": np.ones((N_TIME, N_BIN - 1))}))


def test_background_response_must_sum_to_one():
    with pytest.raises(ValueError, match="background_response: expected values summing to 1"):
        CosiDataset(**_fields(background_response=np.full(N_BIN, 0.1)))
    with pytest.raises(ValueError, match="background_response: expected shape"):
        CosiDataset(**_fields(background_response=np.full(N_BIN + 1, 1 / (N_BIN + 1))))


def test_time_edges_must_increase():
    with pytest.raises(ValueError, match="time_edges: expected strictly increasing"):
        CosiDataset(**_fields(time_edges=np.array([0.0, 2.0, 1.0, 3.0, 4.0])))


def test_netcdf_round_trip(tmp_path):
    dataset = CosiDataset(**_fields(psi_chi_centres=np.zeros((N_PSI_CHI, 2))))
    path = dataset.write(tmp_path / "data.nc")
    loaded = load_dataset(path)
    assert (loaded.counts != dataset.counts).nnz == 0
    assert np.array_equal(loaded.time_edges, dataset.time_edges)
    assert np.array_equal(loaded.tracers["photo_event_rate"], dataset.tracers["photo_event_rate"])
    assert np.array_equal(loaded.altitude, dataset.altitude)
    assert np.allclose(loaded.background_response, dataset.background_response)
    assert np.array_equal(loaded.templates["bulge"], dataset.templates["bulge"])
    assert sparse.issparse(loaded.templates["disk"])
    assert np.allclose(loaded.templates["disk"].toarray(), dataset.templates["disk"].toarray())
    assert loaded.template_names == ("bulge", "disk")


def test_write_refuses_to_overwrite(tmp_path):
    dataset = CosiDataset(**_fields())
    path = dataset.write(tmp_path / "data.nc")
    with pytest.raises(FileExistsError, match="overwrite"):
        dataset.write(path)
    dataset.write(path, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["data.nc"]  # no partial files left


def test_load_rejects_invalid_file_content(tmp_path):
    dataset = CosiDataset(**_fields())
    ds = dataset.to_xarray()
    ds["tracers"][0, 1] = np.nan
    ds.to_netcdf(tmp_path / "bad.nc", engine="h5netcdf")
    with pytest.raises(ValueError, match=r"tracers\['photo_event_rate'\]: expected finite"):
        load_dataset(tmp_path / "bad.nc")


def test_select_energy_sums_the_band():
    n_energy = 3
    rng = np.random.default_rng(4)
    counts = rng.poisson(1.0, size=(N_TIME, n_energy * N_BIN))
    template = rng.uniform(0, 1, size=(N_TIME, n_energy * N_BIN))
    response = np.full(n_energy * N_BIN, 1 / (n_energy * N_BIN))
    dataset = CosiDataset(**_fields(counts=counts, templates={"line": template},
                                    background_response=response,
                                    energy_edges=np.array([480.0, 506.0, 516.0, 540.0])))
    line = dataset.select_energy(506.0, 516.0)
    assert line.n_energy == 1 and line.n_data_bin == N_BIN
    assert np.array_equal(line.counts.toarray(), counts[:, N_BIN:2 * N_BIN])
    assert np.allclose(line.background_response.sum(), 1.0)
    wide = dataset.select_energy(480.0, 540.0)
    assert wide.counts.sum() == counts.sum()
    with pytest.raises(ValueError, match="no energy bin inside"):
        dataset.select_energy(600.0, 700.0)
