"""Gaussian smoothing on the HEALPix sphere as a sparse kernel matrix.

``K[j, k] ~ exp(-theta_jk^2 / (2 sigma^2))`` for pixel centres closer than
``radius = 3 sigma`` (found with a KD-tree on unit vectors), each row normalised to 1 so
that a flat map stays flat and fluxes are kept. healpy's spherical-harmonic smoothing is
not needed at the few-degree widths of COSI (a pixel has tens of neighbours).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.spatial import cKDTree

from bayesbg.cosi.imaging.projection import pixel_vectors

__all__ = ["FWHM_TO_SIGMA", "gaussian_kernel"]

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
"""Gaussian sigma per full width at half maximum."""


def gaussian_kernel(nside: int, fwhm: float, *, truncate: float = 3.0) -> sparse.csr_array:
    """Row-normalised Gaussian kernel on a ring-ordered HEALPix grid.

    Parameters
    ----------
    nside : int
        HEALPix resolution.
    fwhm : float
        Full width at half maximum, deg; 0 gives the identity.
    truncate : float
        Kernel radius in sigmas. Default is 3.

    Returns
    -------
    kernel : `scipy.sparse.csr_array`, shape (npix, npix)
        Rows sum to 1; ``smoothed = kernel @ image``.

    Examples
    --------
    >>> kernel = gaussian_kernel(8, 15.0)
    >>> bool(np.allclose(kernel.sum(axis=1), 1.0))
    True
    """
    if not np.isfinite(fwhm) or fwhm < 0:
        raise ValueError(f"fwhm: expected a non-negative width in deg, found {fwhm}")
    vectors = pixel_vectors(nside)
    npix = vectors.shape[0]
    if fwhm == 0:
        return sparse.csr_array(sparse.identity(npix, format="csr"))
    sigma = np.radians(fwhm) * FWHM_TO_SIGMA
    radius = min(truncate * sigma, np.pi)
    chord = 2.0 * np.sin(radius / 2.0)
    pairs = cKDTree(vectors).query_pairs(chord, output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(npix)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(npix)])
    cosine = np.clip(np.einsum("ij,ij->i", vectors[rows], vectors[cols]), -1.0, 1.0)
    weight: NDArray[np.float64] = np.exp(-0.5 * (np.arccos(cosine) / sigma) ** 2)
    kernel = sparse.csr_array((weight, (rows, cols)), shape=(npix, npix))
    norm = np.asarray(kernel.sum(axis=1)).ravel()
    return sparse.csr_array(sparse.diags_array(1.0 / norm) @ kernel)
