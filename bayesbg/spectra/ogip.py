"""OGIP spectra and responses: PHA type I, RMF and ARF files in and out (astropy FITS).

The formats of the HEASARC's OGIP memos (CAL/GEN/92-002 for RMF and ARF, OGIP/92-007 for
PHA), the files X-ray instruments deliver (NuSTAR, Swift-BAT, INTEGRAL/IBIS) and XSPEC
reads:

- PHA, extension ``SPECTRUM``: ``CHANNEL`` and ``COUNTS`` (Poisson, ``POISSERR = T``) or
  ``RATE`` and ``STAT_ERR`` (counts s-1, Gaussian errors); keywords ``EXPOSURE`` (s),
  ``BACKSCAL``, ``RESPFILE``, ``ANCRFILE``, ``BACKFILE`` (paths relative to the PHA file);
  optional ``QUALITY`` (non-zero: channel ignored) and ``SYS_ERR`` (fractional);
- RMF, extension ``MATRIX`` or ``SPECRESP MATRIX``: ``ENERG_LO``, ``ENERG_HI`` (keV),
  ``N_GRP``, ``F_CHAN``, ``N_CHAN``, ``MATRIX`` (fixed or variable length); extension
  ``EBOUNDS``: ``CHANNEL``, ``E_MIN``, ``E_MAX`` (keV); first channel ``TLMIN`` of
  ``F_CHAN`` (default 1);
- ARF, extension ``SPECRESP``: ``ENERG_LO``, ``ENERG_HI``, ``SPECRESP`` (cm2).

:func:`read_ogip_spectrum` reads a PHA file with its response, ancillary response and
background into an :class:`OgipSpectrum` (the folded response ``RMF x ARF`` in cm2 per
channel and true-energy bin); :func:`write_ogip_spectrum` writes one (for simulated
spectra). Grouping and areascal are not supported (an error names them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from numpy.typing import ArrayLike, NDArray

from bayesbg.atomic import atomic_file

__all__ = ["OgipSpectrum", "read_ogip_spectrum", "write_ogip_spectrum"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class OgipSpectrum:
    """One instrument's spectrum with its folded response.

    Parameters
    ----------
    name : str
        Instrument / dataset name (e.g. ``"NuSTAR FPMA"``).
    channel_energy_min, channel_energy_max : array_like, shape (n_channel,)
        Nominal channel edges (``EBOUNDS``), keV.
    energy_true_edges : array_like, shape (n_true + 1,)
        True-energy bin edges of the response, keV, increasing.
    response : array_like, shape (n_channel, n_true)
        ``RMF x ARF``: effective area for a photon of true-energy bin j to be counted in
        channel k, cm2.
    exposure : float
        s.
    counts : array_like of int, shape (n_channel,), optional
        Observed counts (Poisson). Either ``counts`` or ``rate`` and ``rate_error``.
    rate, rate_error : array_like, shape (n_channel,), optional
        Count rate and its 1-sigma error, counts s-1 (Gaussian).
    background : array_like, shape (n_channel,), optional
        Expected background counts in the source region (Poisson spectra): the
        background spectrum's counts scaled by the ratio of exposures and ``BACKSCAL``;
        treated as known.
    quality : array_like of int, shape (n_channel,), optional
        Non-zero: the channel is ignored. Default all good.
    systematic : float
        Fractional systematic error added in quadrature to Gaussian channels. Default 0.
    """

    name: str
    channel_energy_min: NDArray[np.float64]
    channel_energy_max: NDArray[np.float64]
    energy_true_edges: NDArray[np.float64]
    response: NDArray[np.float64]
    exposure: float
    counts: NDArray[np.int64] | None = None
    rate: NDArray[np.float64] | None = None
    rate_error: NDArray[np.float64] | None = None
    background: NDArray[np.float64] | None = None
    quality: NDArray[np.int64] | None = field(default=None)
    systematic: float = 0.0

    def __post_init__(self) -> None:
        lo = np.asarray(self.channel_energy_min, dtype=float)
        hi = np.asarray(self.channel_energy_max, dtype=float)
        n = lo.size
        if lo.ndim != 1 or hi.shape != lo.shape or np.any(hi <= lo) or np.any(lo < 0):
            raise ValueError(f"{self.name}: channel_energy_min/max: expected (n,) arrays "
                             f"with 0 <= min < max keV")
        edges = np.asarray(self.energy_true_edges, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0) or edges[0] <= 0:
            raise ValueError(f"{self.name}: energy_true_edges: expected increasing positive "
                             f"keV")
        response = np.asarray(self.response, dtype=float)
        if response.shape != (n, edges.size - 1):
            raise ValueError(f"{self.name}: response: expected shape ({n}, {edges.size - 1}) "
                             f"(channels, true bins), found {response.shape}")
        if not np.all(np.isfinite(response)) or np.any(response < 0):
            raise ValueError(f"{self.name}: response: expected finite non-negative cm2")
        if not (np.isfinite(self.exposure) and self.exposure > 0):
            raise ValueError(f"{self.name}: exposure: expected positive seconds, found "
                             f"{self.exposure}")
        if (self.counts is None) == (self.rate is None):
            raise ValueError(f"{self.name}: expected either counts (Poisson) or rate with "
                             f"rate_error (Gaussian)")
        values: dict[str, NDArray] = {}
        if self.counts is not None:
            counts = np.asarray(self.counts)
            if counts.shape != (n,) or np.any(counts < 0) or np.any(counts != np.round(counts)):
                raise ValueError(f"{self.name}: counts: expected {n} non-negative integers")
            values["counts"] = counts.astype(np.int64)
        else:
            rate = np.asarray(self.rate, dtype=float)
            error = np.asarray(self.rate_error, dtype=float) if self.rate_error is not None \
                else None
            if rate.shape != (n,) or error is None or error.shape != (n,) or \
                    not np.all(np.isfinite(rate)) or np.any(~(error > 0)):
                raise ValueError(f"{self.name}: rate, rate_error: expected {n} finite rates "
                                 f"and positive errors")
            values["rate"], values["rate_error"] = rate, error
        if self.background is not None:
            background = np.asarray(self.background, dtype=float)
            if background.shape != (n,) or np.any(background < 0) or \
                    not np.all(np.isfinite(background)):
                raise ValueError(f"{self.name}: background: expected {n} non-negative counts")
            values["background"] = background
        quality = np.zeros(n, dtype=np.int64) if self.quality is None else \
            np.asarray(self.quality, dtype=np.int64)
        if quality.shape != (n,):
            raise ValueError(f"{self.name}: quality: expected {n} flags")
        if not (np.isfinite(self.systematic) and self.systematic >= 0):
            raise ValueError(f"{self.name}: systematic: expected a fraction >= 0")
        for key, value in dict(channel_energy_min=lo, channel_energy_max=hi,
                               energy_true_edges=edges, response=response, quality=quality,
                               **values).items():
            object.__setattr__(self, key, value)

    @property
    def n_channel(self) -> int:
        """Number of channels."""
        return int(self.channel_energy_min.size)

    @property
    def poisson(self) -> bool:
        """True for counts (Poisson), False for rates with errors (Gaussian)."""
        return self.counts is not None

    def good_channels(self, energy_min: float = 0.0,
                      energy_max: float = np.inf) -> NDArray[np.int64]:
        """Indices of channels with good quality lying inside ``[energy_min, energy_max]`` keV
        (XSPEC's ``ignore`` outside it)."""
        keep = (self.quality == 0) & (self.channel_energy_min >= energy_min) & \
            (self.channel_energy_max <= energy_max)
        return np.flatnonzero(keep)


def _table(hdul: fits.HDUList, names: tuple[str, ...], path: Path) -> fits.BinTableHDU:
    for name in names:
        if name in hdul:
            return hdul[name]
    raise ValueError(f"{path}: no {' or '.join(names)} extension")


def _column(table: fits.BinTableHDU, name: str, path: Path) -> NDArray:
    if name not in table.columns.names:
        raise ValueError(f"{path}: extension {table.name} has no column {name}")
    return table.data[name]


def read_rmf(path: str | Path) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                        NDArray[np.float64], NDArray[np.float64]]:
    """Read an OGIP RMF: ``(matrix (n_channel, n_true), true edges, E_MIN, E_MAX)``."""
    path = Path(path)
    with fits.open(path) as hdul:
        matrix_hdu = _table(hdul, ("MATRIX", "SPECRESP MATRIX"), path)
        ebounds = _table(hdul, ("EBOUNDS",), path)
        e_min = np.asarray(_column(ebounds, "E_MIN", path), dtype=float)
        e_max = np.asarray(_column(ebounds, "E_MAX", path), dtype=float)
        lo = np.asarray(_column(matrix_hdu, "ENERG_LO", path), dtype=float)
        hi = np.asarray(_column(matrix_hdu, "ENERG_HI", path), dtype=float)
        n_grp = np.asarray(_column(matrix_hdu, "N_GRP", path), dtype=int)
        f_chan = _column(matrix_hdu, "F_CHAN", path)
        n_chan = _column(matrix_hdu, "N_CHAN", path)
        values = _column(matrix_hdu, "MATRIX", path)
        index = matrix_hdu.columns.names.index("F_CHAN") + 1
        first = int(matrix_hdu.header.get(f"TLMIN{index}", 1))
        n_channel = e_min.size
        matrix = np.zeros((n_channel, lo.size))
        for j in range(lo.size):
            starts = np.atleast_1d(f_chan[j]).astype(int)
            widths = np.atleast_1d(n_chan[j]).astype(int)
            row = np.atleast_1d(values[j]).astype(float)
            position = 0
            for g in range(n_grp[j]):
                c0, width = starts[g] - first, widths[g]
                if c0 < 0 or c0 + width > n_channel or position + width > row.size:
                    raise ValueError(f"{path}: MATRIX row {j}: channels outside EBOUNDS")
                matrix[c0:c0 + width, j] = row[position:position + width]
                position += width
    if np.any(np.abs(lo[1:] - hi[:-1]) > 1e-6 * hi[:-1]):
        raise ValueError(f"{path}: ENERG_LO/ENERG_HI: expected contiguous true-energy bins")
    return matrix, np.append(lo, hi[-1]), e_min, e_max


def read_arf(path: str | Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Read an OGIP ARF: ``(effective area (n_true,) cm2, true edges)``."""
    path = Path(path)
    with fits.open(path) as hdul:
        table = _table(hdul, ("SPECRESP",), path)
        lo = np.asarray(_column(table, "ENERG_LO", path), dtype=float)
        hi = np.asarray(_column(table, "ENERG_HI", path), dtype=float)
        area = np.asarray(_column(table, "SPECRESP", path), dtype=float)
    return area, np.append(lo, hi[-1])


def read_ogip_spectrum(path: str | Path, *, name: str | None = None,
                       systematic: float | None = None) -> OgipSpectrum:
    """Read a PHA type I file with the RMF, ARF and background it names.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The PHA file; ``RESPFILE``, ``ANCRFILE`` and ``BACKFILE`` are resolved relative to
        its directory (``NONE`` or missing: no ARF / background; the RMF is required).
    name : str, optional
        Dataset name; default the ``INSTRUME`` keyword (with ``DETNAM``) or the file name.
    systematic : float, optional
        Fractional systematic error; default the ``SYS_ERR`` column's maximum or 0.

    Raises
    ------
    ValueError
        Naming the file and the extension, column or keyword at fault.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"PHA file {path} does not exist")
    with fits.open(path) as hdul:
        table = _table(hdul, ("SPECTRUM",), path)
        header = table.header
        for unsupported in ("GROUPING", "AREASCAL"):
            if unsupported in table.columns.names and \
                    np.any(np.asarray(table.data[unsupported]) != (1 if unsupported ==
                                                                    "AREASCAL" else 0)):
                raise ValueError(f"{path}: column {unsupported} is not supported")
        exposure = float(header.get("EXPOSURE", 0.0))
        columns = table.columns.names
        counts = rate = error = None
        if "COUNTS" in columns:
            counts = np.asarray(table.data["COUNTS"])
        elif "RATE" in columns:
            rate = np.asarray(table.data["RATE"], dtype=float)
            if "STAT_ERR" not in columns:
                raise ValueError(f"{path}: RATE without STAT_ERR")
            error = np.asarray(table.data["STAT_ERR"], dtype=float)
        else:
            raise ValueError(f"{path}: SPECTRUM has neither COUNTS nor RATE")
        quality = np.asarray(table.data["QUALITY"]) if "QUALITY" in columns else None
        sys_err = float(np.max(table.data["SYS_ERR"])) if "SYS_ERR" in columns else 0.0
        backscal = float(header.get("BACKSCAL", 1.0))
        instrument = str(header.get("INSTRUME", "")).strip()
        detector = str(header.get("DETNAM", "")).strip()
        files = {key: str(header.get(key, "NONE")).strip() for key in
                 ("RESPFILE", "ANCRFILE", "BACKFILE")}
    if files["RESPFILE"].upper() in ("", "NONE"):
        raise ValueError(f"{path}: RESPFILE: expected a response file")
    matrix, edges, e_min, e_max = read_rmf(path.parent / files["RESPFILE"])
    if files["ANCRFILE"].upper() not in ("", "NONE"):
        area, arf_edges = read_arf(path.parent / files["ANCRFILE"])
        if arf_edges.shape != edges.shape or not np.allclose(arf_edges, edges, rtol=1e-6):
            raise ValueError(f"{path}: ANCRFILE and RESPFILE have different true-energy bins")
        matrix = matrix * area[None, :]
    background = None
    if files["BACKFILE"].upper() not in ("", "NONE"):
        with fits.open(path.parent / files["BACKFILE"]) as hdul:
            table = _table(hdul, ("SPECTRUM",), path.parent / files["BACKFILE"])
            back_exposure = float(table.header.get("EXPOSURE", 0.0))
            back_scale = float(table.header.get("BACKSCAL", 1.0))
            back_counts = np.asarray(table.data["COUNTS"], dtype=float)
        if counts is None:
            raise ValueError(f"{path}: BACKFILE with a RATE spectrum is not supported")
        background = back_counts * (exposure / back_exposure) * (backscal / back_scale)
    if matrix.shape[0] != (counts if counts is not None else rate).size:
        raise ValueError(f"{path}: {matrix.shape[0]} response channels but "
                         f"{(counts if counts is not None else rate).size} spectrum channels")
    label = name or " ".join(part for part in (instrument, detector) if part) or path.stem
    return OgipSpectrum(
        name=label, channel_energy_min=e_min, channel_energy_max=e_max,
        energy_true_edges=edges, response=matrix, exposure=exposure, counts=counts,
        rate=rate, rate_error=error, background=background, quality=quality,
        systematic=sys_err if systematic is None else systematic)


def _write_fits(hdus: list[fits.hdu.base.ExtensionHDU], path: Path, overwrite: bool) -> None:
    with atomic_file(path, overwrite=overwrite) as partial:
        fits.HDUList([fits.PrimaryHDU(), *hdus]).writeto(partial)


def write_ogip_spectrum(spectrum: OgipSpectrum, path: str | Path, *,
                        overwrite: bool = False) -> Path:
    """Write ``spectrum`` as a PHA file beside its RMF (``<stem>.rmf``, holding ``RMF x ARF``,
    so no ARF) and, with a background, ``<stem>_bkg.pha`` (same exposure and BACKSCAL).

    Parameters
    ----------
    spectrum : `OgipSpectrum`
    path : str or `~pathlib.Path`
        The PHA file.
    overwrite : bool
        Replace existing files. Default is False.

    Returns
    -------
    path : `~pathlib.Path`
    """
    path = Path(path)
    n = spectrum.n_channel
    edges = spectrum.energy_true_edges
    channel = np.arange(1, n + 1, dtype=np.int32)
    rmf_name = path.stem + ".rmf"
    header = {"EXTNAME": "SPECTRUM", "HDUCLASS": "OGIP", "HDUCLAS1": "SPECTRUM",
              "EXPOSURE": spectrum.exposure, "BACKSCAL": 1.0, "AREASCAL": 1.0,
              "INSTRUME": spectrum.name, "RESPFILE": rmf_name, "ANCRFILE": "NONE",
              "BACKFILE": "NONE", "POISSERR": spectrum.poisson, "CHANTYPE": "PI",
              "DETCHANS": n}
    columns = [fits.Column("CHANNEL", "J", array=channel)]
    if spectrum.poisson:
        columns.append(fits.Column("COUNTS", "J", array=spectrum.counts.astype(np.int32)))
    else:
        columns += [fits.Column("RATE", "D", array=spectrum.rate, unit="counts/s"),
                    fits.Column("STAT_ERR", "D", array=spectrum.rate_error, unit="counts/s")]
    columns.append(fits.Column("QUALITY", "I", array=spectrum.quality.astype(np.int16)))
    if spectrum.systematic:
        columns.append(fits.Column("SYS_ERR", "D", array=np.full(n, spectrum.systematic)))
    hdus = []
    if spectrum.background is not None:
        header["BACKFILE"] = path.stem + "_bkg.pha"
        back = fits.BinTableHDU.from_columns([
            fits.Column("CHANNEL", "J", array=channel),
            fits.Column("COUNTS", "D", array=spectrum.background)])
        back.header.update({"EXTNAME": "SPECTRUM", "EXPOSURE": spectrum.exposure,
                            "BACKSCAL": 1.0, "POISSERR": True})
        hdus.append((path.parent / header["BACKFILE"], [back]))
    spectrum_hdu = fits.BinTableHDU.from_columns(columns)
    spectrum_hdu.header.update(header)
    matrix = spectrum.response
    rows_f, rows_n, rows_m = [], [], []
    for j in range(edges.size - 1):
        nonzero = np.flatnonzero(matrix[:, j] > 0)
        if nonzero.size == 0:
            rows_f.append([1]), rows_n.append([0]), rows_m.append(np.zeros(0))
            continue
        start, stop = nonzero[0], nonzero[-1] + 1
        rows_f.append([start + 1]), rows_n.append([stop - start])
        rows_m.append(matrix[start:stop, j])
    matrix_hdu = fits.BinTableHDU.from_columns([
        fits.Column("ENERG_LO", "D", array=edges[:-1], unit="keV"),
        fits.Column("ENERG_HI", "D", array=edges[1:], unit="keV"),
        fits.Column("N_GRP", "J", array=np.ones(edges.size - 1, dtype=np.int32)),
        fits.Column("F_CHAN", "J", array=np.array(rows_f, dtype=np.int32)),
        fits.Column("N_CHAN", "J", array=np.array(rows_n, dtype=np.int32)),
        fits.Column("MATRIX", "PD()", array=np.array(rows_m, dtype=object)),
    ])
    matrix_hdu.header.update({"EXTNAME": "MATRIX", "HDUCLASS": "OGIP", "HDUCLAS1": "RESPONSE",
                              "HDUCLAS2": "RSP_MATRIX", "DETCHANS": n, "TLMIN4": 1})
    ebounds = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "J", array=channel),
        fits.Column("E_MIN", "D", array=spectrum.channel_energy_min, unit="keV"),
        fits.Column("E_MAX", "D", array=spectrum.channel_energy_max, unit="keV")])
    ebounds.header.update({"EXTNAME": "EBOUNDS", "DETCHANS": n})
    _write_fits([matrix_hdu, ebounds], path.parent / rmf_name, overwrite)
    for back_path, back_hdus in hdus:
        _write_fits(back_hdus, back_path, overwrite)
    _write_fits([spectrum_hdu], path, overwrite)
    return path


def folded_response(rmf: ArrayLike, arf: ArrayLike) -> NDArray[np.float64]:
    """``RMF x ARF``: an RMF (n_channel, n_true) times an ARF (n_true,) cm2."""
    return np.asarray(rmf, dtype=float) * np.asarray(arf, dtype=float)[None, :]
