"""A toy but geometrically honest Compton-telescope imaging response (see ``docs/cosi.md``).

Pieces, each a pure function:

- :func:`psi_chi_grid`: an equal-area grid of scattered-photon directions (psi, chi);
- :func:`compton_response`: the probability that a photon from instrument direction ``s``
  lands in data-space bin ``(phi, psi_chi)``: a cone of opening ``phi`` around ``s``
  weighted with the Klein-Nishina cross-section, an absorption efficiency of the
  scattered photon, and a Gaussian scatter-angle (ARM) resolution;
- :func:`effective_area`: zenith-dependent geometric area times the altitude-dependent
  atmospheric transmission;
- :func:`convolve_sky`: the convolved sky model ``S[t, c] = sum_s R[c, s] W[s, t]`` for any
  response ``R`` (dense or `scipy.sparse`, e.g. read from a file) and exposure ``W``.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, special

__all__ = [
    "AIR_ATTENUATION_511",
    "compton_response",
    "convolve_sky",
    "effective_area",
    "klein_nishina",
    "psi_chi_grid",
    "unit_vectors",
]

log = logging.getLogger(__name__)

AIR_ATTENUATION_511 = 0.0865
"""Mass attenuation coefficient of air at 511 keV, cm2 g-1 (NIST XCOM, total with coherent)."""
_SEA_LEVEL_DEPTH = 1030.0  # atmospheric column depth at sea level, g cm-2
_SCALE_HEIGHT = 6.9  # km, isothermal approximation of the stratosphere
_ELECTRON_MASS = 510.999  # keV


def unit_vectors(polar_deg: ArrayLike, azimuth_deg: ArrayLike) -> NDArray[np.float64]:
    """Cartesian unit vectors from a polar angle (from +z) and an azimuth, deg.

    Returns
    -------
    vectors : `numpy.ndarray`, shape (..., 3)
    """
    theta = np.radians(np.asarray(polar_deg, dtype=float))
    phi = np.radians(np.asarray(azimuth_deg, dtype=float))
    return np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi),
                     np.cos(theta)], axis=-1)


def psi_chi_grid(bin_size: float = 6.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Equal-area grid of directions on the sphere with bins of about ``bin_size`` deg.

    Rings of constant polar angle psi, about ``bin_size`` wide, each cut into azimuth (chi)
    bins; ring edges are then moved so that every bin has exactly the solid angle
    ``4 pi / n`` (like the 1,650-bin grid of [COSI-511] for 5 deg).

    Parameters
    ----------
    bin_size : float
        Approximate bin size, deg. Default is 6 (1,146 bins); 5 gives 1,650.

    Returns
    -------
    centres : `numpy.ndarray`, shape (n, 2)
        (psi, chi) of each bin centre, deg.
    edges : `numpy.ndarray`, shape (n, 4)
        (psi_min, psi_max, chi_min, chi_max) of each bin, deg.

    Examples
    --------
    >>> centres, _ = psi_chi_grid(6.0)
    >>> len(centres)
    1144
    """
    if not 0 < bin_size <= 90:
        raise ValueError(f"bin_size: expected a value in (0, 90] deg, found {bin_size}")
    width = np.radians(bin_size)
    n_ring = max(1, round(np.pi / width))
    nominal = np.linspace(0, np.pi, n_ring + 1)
    ring_area = 2 * np.pi * (np.cos(nominal[:-1]) - np.cos(nominal[1:]))
    per_ring = np.maximum(1, np.round(ring_area / width**2)).astype(int)
    total = per_ring.sum()
    cos_edges = 1 - 2 * np.concatenate([[0], np.cumsum(per_ring)]) / total
    psi_edges = np.degrees(np.arccos(np.clip(cos_edges, -1, 1)))
    centres, edges = [], []
    for ring, count in enumerate(per_ring):
        chi_edges = np.linspace(0, 360, count + 1)
        psi_mid = np.degrees(np.arccos(0.5 * (cos_edges[ring] + cos_edges[ring + 1])))
        for m in range(count):
            centres.append((psi_mid, 0.5 * (chi_edges[m] + chi_edges[m + 1])))
            edges.append((psi_edges[ring], psi_edges[ring + 1], chi_edges[m], chi_edges[m + 1]))
    return np.array(centres), np.array(edges)


def klein_nishina(phi_deg: ArrayLike, energy: float = 511.0) -> NDArray[np.float64]:
    """Klein-Nishina differential cross-section per solid angle, in units of r_e^2 / 2.

    ``dsigma/dOmega = P^2 (P + 1/P - sin^2 phi)`` with ``P = E'/E = 1 / (1 + (E / m_e c^2)
    (1 - cos phi))``.

    Parameters
    ----------
    phi_deg : array_like
        Compton scatter angle, deg.
    energy : float
        Photon energy, keV. Default is 511.
    """
    phi = np.radians(np.asarray(phi_deg, dtype=float))
    ratio = 1.0 / (1.0 + energy / _ELECTRON_MASS * (1 - np.cos(phi)))
    return ratio**2 * (ratio + 1 / ratio - np.sin(phi) ** 2)


def compton_response(
    phi_edges: ArrayLike,
    psi_chi_centres: ArrayLike,
    source_vectors: ArrayLike,
    *,
    resolution: float = 2.5,
    energy: float = 511.0,
) -> sparse.csr_array:
    """Imaging response ``R[c, s]``: probability of data-space bin ``c`` for a photon from ``s``.

    A photon from instrument direction ``s`` that Compton-scatters by ``phi`` leaves a
    scattered-photon direction ``d`` (the (psi, chi) of the data space, pointing back
    from the second interaction to the first) at angle ``phi`` from ``s``, uniformly in
    azimuth around ``s``: in the (phi, psi, chi) data space the events lie on a cone with
    its apex at the source. The density of ``d`` per solid angle is the Klein-Nishina
    cross-section at ``phi = angle(d, s)``, times a toy absorption efficiency of the
    scattered photon ``0.4 + 0.6 |cos psi|`` (more detector depth along the stack axis);
    the measured ``phi`` scatters about the geometric one with a Gaussian of width
    ``resolution`` (the angular resolution measure). Each column is normalised to 1: the
    zenith dependence of the detection probability is in :func:`effective_area`.

    Parameters
    ----------
    phi_edges : array_like, shape (n_phi + 1,)
        Scatter-angle bin edges, deg.
    psi_chi_centres : array_like, shape (n_psi_chi, 2)
        (psi, chi) bin centres, deg, of an equal-area grid (:func:`psi_chi_grid`).
    source_vectors : array_like, shape (n_source, 3)
        Unit vectors of the source directions in instrument coordinates.
    resolution : float
        Gaussian sigma of the measured scatter angle, deg. Default is 2.5.
    energy : float
        Photon energy, keV. Default is 511.

    Returns
    -------
    response : `scipy.sparse.csr_array`, shape (n_phi * n_psi_chi, n_source)
        Rows in data-space order ``c = j * n_psi_chi + q``; every column sums to 1.
    """
    edges = np.asarray(phi_edges, dtype=float)
    centres = np.asarray(psi_chi_centres, dtype=float)
    sources = np.asarray(source_vectors, dtype=float)
    n_phi, n_psi_chi, n_source = edges.size - 1, centres.shape[0], sources.shape[0]
    directions = unit_vectors(centres[:, 0], centres[:, 1])
    cosine = np.clip(directions @ sources.T, -1.0, 1.0)  # (n_psi_chi, n_source)
    angle = np.degrees(np.arccos(cosine))
    density = klein_nishina(angle, energy) * (0.4 + 0.6 * np.abs(directions[:, 2]))[:, None]
    rows, cols, values = [], [], []
    q_index, s_index = np.indices(angle.shape)
    home = np.clip(np.searchsorted(edges, angle, side="right") - 1, 0, n_phi - 1)
    reach = int(np.ceil(4 * resolution / np.min(np.diff(edges)))) + 1
    for offset in range(-reach, reach + 1):
        j = home + offset
        valid = (j >= 0) & (j < n_phi)
        jj = np.where(valid, j, 0)
        upper = (edges[jj + 1] - angle) / (np.sqrt(2) * resolution)
        lower = (edges[jj] - angle) / (np.sqrt(2) * resolution)
        probability = 0.5 * (special.erf(upper) - special.erf(lower))
        keep = valid & (probability > 1e-4)
        weight = probability * density
        rows.append((jj[keep] * n_psi_chi + q_index[keep]).astype(np.int64))
        cols.append(s_index[keep].astype(np.int64))
        values.append(weight[keep])
    response = sparse.csr_array(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_phi * n_psi_chi, n_source),
    )
    column_sum = np.asarray(response.sum(axis=0)).ravel()
    column_sum[column_sum <= 0] = 1.0
    return sparse.csr_array(response @ sparse.diags_array(1.0 / column_sum))


def effective_area(
    zenith: ArrayLike, altitude: ArrayLike, *, area: float = 50.0,
) -> NDArray[np.float64]:
    """Effective area at 511 keV: projected detector area times atmospheric transmission.

    ``A(z, h) = area (cos z + 0.4 sin z) exp(-mu X(h) / cos z)`` for zenith ``z < 90`` deg
    and 0 below the horizon; ``X(h) = 1030 exp(-h / 6.9 km)`` g cm-2 is the column depth
    above altitude ``h`` of an isothermal atmosphere, ``mu`` = `AIR_ATTENUATION_511` and the
    slant path is that of a flat atmosphere (``cos z`` floored at 0.05).

    Parameters
    ----------
    zenith : array_like
        Zenith angle, deg.
    altitude : array_like
        Altitude, km (broadcast against ``zenith``).
    area : float
        Geometric on-axis area, cm2. Default is 50.

    Returns
    -------
    area : `numpy.ndarray`
        cm2.

    Examples
    --------
    >>> round(float(effective_area(0.0, 33.0)), 1)
    23.7
    """
    z = np.radians(np.asarray(zenith, dtype=float))
    depth = _SEA_LEVEL_DEPTH * np.exp(-np.asarray(altitude, dtype=float) / _SCALE_HEIGHT)
    cos_z = np.cos(z)
    transmission = np.exp(-AIR_ATTENUATION_511 * depth / np.maximum(cos_z, 0.05))
    geometric = area * (cos_z + 0.4 * np.sin(z))
    return np.where(cos_z > 0, geometric * transmission, 0.0)


def convolve_sky(
    response: NDArray[np.floating] | sparse.sparray | sparse.spmatrix,
    exposure: ArrayLike,
) -> NDArray[np.float32]:
    """Convolved sky model ``S[t, c] = sum_s R[c, s] W[s, t]``.

    Parameters
    ----------
    response : array or `scipy.sparse` array, shape (n_data_bin, n_source)
        Imaging response (probability per photon; from :func:`compton_response` or a file).
    exposure : array_like, shape (n_source, n_time)
        Sky flux fraction times effective area times live time per source direction and
        time bin, cm2 s per ph cm-2 s-1 of the template.

    Returns
    -------
    template : `numpy.ndarray` of float32, shape (n_time, n_data_bin)
        Expected counts per ph cm-2 s-1.
    """
    weights = np.asarray(exposure, dtype=np.float64)
    if response.shape[1] != weights.shape[0]:
        raise ValueError(
            f"exposure: expected {response.shape[1]} source directions (rows) to match the "
            f"response, found {weights.shape[0]}"
        )
    product = response @ weights
    return np.ascontiguousarray(np.asarray(product).T, dtype=np.float32)
