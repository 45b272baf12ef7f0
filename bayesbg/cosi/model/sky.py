"""Sky templates: sky models seen through the instrument, ``S[t, c]`` per unit flux.

A sky model is a set of Galactic sky points with flux fractions summing to 1: a 2D
Gaussian bulge on a HEALPix grid (:func:`gaussian_sky`, [COSI-511] eq. 13) or a point
source (:func:`point_source_sky`). A :class:`TemplateBuilder` carries it through an
instrument (:class:`bayesbg.cosi.exposure.BalloonObservation`: exposure per
instrument-frame pixel and time bin) and its detector response into the template
``S[t, c] = sum_s R[c, s] W[s, t]`` (:func:`bayesbg.cosi.response.convolve_sky`), the
same code path as the simulator's. :meth:`TemplateBuilder.simulated` rebuilds the
instrument of :func:`bayesbg.cosi.simulate_cosi` from the simulation's seed (the aspect is
the first thing its generator draws); :meth:`TemplateBuilder.for_dataset` takes a real
pointing history (:meth:`bayesbg.cosi.pointing.Pointing.from_orientation`).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import astropy.units as u
import astropy_healpix as ahp
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.exposure import BalloonObservation, InstrumentSettings, simulated_observation
from bayesbg.cosi.pointing import Pointing
from bayesbg.cosi.response import convolve_sky, unit_vectors

__all__ = ["TemplateBuilder", "gaussian_sky", "point_source_sky", "template_dataset"]

log = logging.getLogger(__name__)


def gaussian_sky(
    *, sigma_l: float = 10.0, sigma_b: float = 10.0, lon: float = 0.0, lat: float = 0.0,
    nside: int = 32,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A 2D Gaussian on a Galactic HEALPix grid, as sky points with fluxes summing to 1.

    ``I(l, b) ~ exp(-l^2 / (2 sigma_l^2) - b^2 / (2 sigma_b^2))`` about (lon, lat)
    ([COSI-511] eq. 13); pixels below 1e-4 of the peak are dropped.

    Parameters
    ----------
    sigma_l, sigma_b : float
        Widths in longitude and latitude, deg. Default is 10 each.
    lon, lat : float
        Centre, deg. Default is the Galactic centre.
    nside : int
        HEALPix resolution (ring order). Default is 32 (1.8 deg pixels).

    Returns
    -------
    vectors : `numpy.ndarray`, shape (n_point, 3)
        Galactic unit vectors of the pixel centres.
    flux : `numpy.ndarray`, shape (n_point,)
        Fraction of the flux per pixel.
    """
    grid = ahp.HEALPix(nside=nside, order="ring", frame="galactic")
    pixel_lon, pixel_lat = grid.healpix_to_lonlat(np.arange(grid.npix))
    dl = (pixel_lon.to_value(u.deg) - lon + 180.0) % 360.0 - 180.0
    db = pixel_lat.to_value(u.deg) - lat
    intensity = np.exp(-0.5 * ((dl / sigma_l) ** 2 + (db / sigma_b) ** 2))
    keep = intensity > 1e-4
    vectors = unit_vectors(90.0 - pixel_lat.to_value(u.deg)[keep], pixel_lon.to_value(u.deg)[keep])
    return vectors, intensity[keep] / intensity[keep].sum()


def point_source_sky(lon: float, lat: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A point source at Galactic (lon, lat) deg, as one sky point of flux fraction 1."""
    return unit_vectors([90.0 - lat], [lon]), np.array([1.0])


@dataclass(frozen=True, eq=False)
class TemplateBuilder:
    """The instrument that turns a sky model into a template ``S[t, c]``.

    Attributes
    ----------
    observation : `bayesbg.cosi.exposure.BalloonObservation`
        Pointing history on the time bins and the instrument settings (its
        ``sky_nside`` samples the Gaussian sky).
    response : `scipy.sparse.csr_array`, shape (n_data_bin, n_source)
        Detector response on the instrument-frame HEALPix grid (columns: pixels in view).
    lon, lat : float
        Centre of the Gaussian, Galactic deg.
    """

    observation: BalloonObservation
    response: sparse.csr_array
    lon: float = 0.0
    lat: float = 0.0

    @classmethod
    def simulated(
        cls,
        seed: int,
        *,
        n_time: int,
        bin_size: float = 6.0,
        instrument: InstrumentSettings | None = None,
        lon: float = 0.0,
        lat: float = 0.0,
    ) -> TemplateBuilder:
        """The instrument of ``simulate_cosi(seed, ...)`` with the same keywords.

        Parameters
        ----------
        seed : int
            Seed of the simulation (an integer: the aspect is redrawn from it).
        n_time, bin_size, instrument
            As in :func:`bayesbg.cosi.simulate_cosi`.
        lon, lat : float
            Centre of the Gaussian, Galactic deg. Default (0, 0).

        Returns
        -------
        builder : `TemplateBuilder`
        """
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ValueError(f"simulation_seed: expected an integer seed, found {seed!r}")
        observation = simulated_observation(seed, n_time=n_time, bin_size=bin_size,
                                            instrument=instrument)
        return cls.from_observation(observation, lon=lon, lat=lat)

    @classmethod
    def from_observation(
        cls,
        observation: BalloonObservation,
        *,
        phi_edges: NDArray[np.float64] | None = None,
        psi_chi_centres: NDArray[np.float64] | None = None,
        energy: float = 511.0,
        lon: float = 0.0,
        lat: float = 0.0,
    ) -> TemplateBuilder:
        """Templates of an instrument, on its own or a given data-space binning.

        Parameters
        ----------
        observation : `bayesbg.cosi.exposure.BalloonObservation`
        phi_edges, psi_chi_centres : `numpy.ndarray`, optional
            Data-space binning, deg; default the observation's ``bin_size`` grid.
        energy : float
            Photon energy, keV. Default 511.
        lon, lat : float
            Centre of the Gaussian, Galactic deg. Default (0, 0).

        Returns
        -------
        builder : `TemplateBuilder`
        """
        if not isinstance(observation, BalloonObservation):
            raise TypeError(f"observation: expected a BalloonObservation, found "
                            f"{type(observation).__name__} (a Pointing: use "
                            "BalloonObservation(pointing, ...) or TemplateBuilder.for_dataset)")
        response = observation.detector_response(phi_edges, psi_chi_centres, energy=energy)
        return cls(observation=observation, response=response, lon=lon, lat=lat)

    @classmethod
    def for_dataset(
        cls,
        dataset: CosiDataset,
        pointing: Pointing,
        *,
        instrument: InstrumentSettings | None = None,
        energy: float = 511.0,
        lon: float = 0.0,
        lat: float = 0.0,
    ) -> TemplateBuilder:
        """Templates on a dataset's time bins and data-space binning from a pointing history.

        Parameters
        ----------
        dataset : `CosiDataset`
            One energy bin; needs ``psi_chi_centres``.
        pointing : `bayesbg.cosi.pointing.Pointing`
            E.g. ``Pointing.from_orientation(read_ori(path), dataset.time_edges,
            altitude=33.0)`` for real data.
        instrument : `bayesbg.cosi.exposure.InstrumentSettings`, optional
            Default ``InstrumentSettings()``.
        energy, lon, lat
            As in :meth:`from_observation`.

        Returns
        -------
        builder : `TemplateBuilder`
        """
        if dataset.psi_chi_centres is None:
            raise ValueError("dataset.psi_chi_centres: needed to build the detector response")
        observation = BalloonObservation(
            pointing, n_time=dataset.n_time, bin_size=180.0 / dataset.n_phi,
            instrument=instrument if instrument is not None else InstrumentSettings())
        return cls.from_observation(observation, phi_edges=dataset.phi_edges,
                                    psi_chi_centres=dataset.psi_chi_centres, energy=energy,
                                    lon=lon, lat=lat)

    @property
    def n_time(self) -> int:
        """Time bins of the templates."""
        return self.observation.n_time

    @property
    def n_data_bin(self) -> int:
        """Data-space bins of the response."""
        return int(self.response.shape[0])

    def template(self, sigma_l: float, sigma_b: float) -> NDArray[np.float32]:
        """Template of a 2D Gaussian of widths ``(sigma_l, sigma_b)`` deg at (lon, lat).

        Returns
        -------
        template : `numpy.ndarray` of float32, shape (n_time, n_data_bin)
            Expected counts per ph cm-2 s-1.
        """
        for name, value in (("sigma_l", sigma_l), ("sigma_b", sigma_b)):
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name}: expected a positive width in deg, found {value!r}")
        points, fraction = gaussian_sky(sigma_l=sigma_l, sigma_b=sigma_b, lon=self.lon,
                                        lat=self.lat,
                                        nside=self.observation.instrument.sky_nside)
        return convolve_sky(self.response, self.observation.exposure(points, fraction))


def template_dataset(dataset: CosiDataset, builder: TemplateBuilder, sigma_l: float,
                     sigma_b: float, *, name: str = "bulge") -> CosiDataset:
    """``dataset`` with template ``name`` replaced by (or added as) a Gaussian of the widths.

    Raises
    ------
    ValueError
        If the builder's time bins or data-space bins differ from the dataset's.
    """
    if builder.n_time != dataset.n_time or builder.n_data_bin != dataset.n_data_bin:
        raise ValueError(
            f"builder: makes templates of {builder.n_time} x {builder.n_data_bin} bins, the "
            f"dataset has {dataset.n_time} x {dataset.n_data_bin} (check bin_size and the "
            "instrument settings)"
        )
    templates = dict(dataset.templates)
    templates[name] = builder.template(sigma_l, sigma_b)
    return dataclasses.replace(dataset, templates=templates)
