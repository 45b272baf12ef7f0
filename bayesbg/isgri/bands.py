"""Energy bands of the ISGRI analysis ([ISGRI] section 2.2, docs/equations.md section 3).

- `BROAD_BANDS`: 25-60, 60-80 and 80-200 keV, the bands of [ISGRI] Table 1 and Fig. 1;
- `NARROW_BANDS`: the 21 logarithmically spaced bands between 25 and 185 keV of the
  spectra ([ISGRI] Fig. 2-4, Tables 2-3), edges ``25 * (185 / 25) ** (k / 21)`` rounded
  to 0.1 keV (25, 27.5, 30.2, ..., 152.9, 168.2, 185);
- `PIPELINE_BANDS`: the 24 bands the pipeline measures (broad, then narrow);
- `CLIPPING_BAND`: the last narrow band, 168.2-185 keV ("168-185 keV" in [ISGRI]
  Appendix A), where the per-orbit residuals are clipped.

A band's rate columns in a pointing table are ``rate_<lo>_<hi>`` and
``rate_error_<lo>_<hi>`` with a decimal point written ``p`` (``rate_168p2_185``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BROAD_BANDS",
    "CLIPPING_BAND",
    "NARROW_BANDS",
    "PIPELINE_BANDS",
    "Band",
    "narrow_band_edges",
]


@dataclass(frozen=True)
class Band:
    """An energy band.

    Parameters
    ----------
    energy_min, energy_max : float
        Band edges, keV (``0 < energy_min < energy_max``).
    """

    energy_min: float
    energy_max: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.energy_min) and np.isfinite(self.energy_max)):
            raise ValueError(f"energy_min, energy_max: expected finite keV, found {self}")
        if not 0 < self.energy_min < self.energy_max:
            raise ValueError(
                f"energy_min, energy_max: expected 0 < energy_min < energy_max keV, found "
                f"{self.energy_min}, {self.energy_max}"
            )
        object.__setattr__(self, "energy_min", float(self.energy_min))
        object.__setattr__(self, "energy_max", float(self.energy_max))

    @property
    def name(self) -> str:
        """``"<lo>-<hi>"`` in keV, e.g. ``"25-60"``."""
        return f"{self.energy_min:g}-{self.energy_max:g}"

    @property
    def column(self) -> str:
        """Rate column name, e.g. ``"rate_25_60"``."""
        return f"rate_{self.energy_min:g}_{self.energy_max:g}".replace(".", "p")

    @property
    def error_column(self) -> str:
        """Rate error column name, e.g. ``"rate_error_25_60"``."""
        return self.column.replace("rate_", "rate_error_", 1)

    @property
    def centre(self) -> float:
        """Logarithmic centre ``sqrt(energy_min * energy_max)``, keV."""
        return float(np.sqrt(self.energy_min * self.energy_max))

    @classmethod
    def parse(cls, text: str) -> Band:
        """Band from ``"25-60"`` or a column name such as ``"rate_25_60"``.

        Parameters
        ----------
        text : str

        Returns
        -------
        band : `Band`
        """
        match = re.fullmatch(r"(?:rate_)?([0-9.p]+)[-_]([0-9.p]+)", text.strip())
        if not match:
            raise ValueError(f"band: expected '<lo>-<hi>' keV, found {text!r}")
        low, high = (float(g.replace("p", ".")) for g in match.groups())
        return cls(low, high)


def narrow_band_edges(n_band: int = 21, energy_min: float = 25.0, energy_max: float = 185.0,
                      *, decimals: int = 1) -> tuple[float, ...]:
    """Edges of ``n_band`` logarithmically spaced bands, rounded, keV.

    Parameters
    ----------
    n_band : int
        Number of bands. Default is 21 ([ISGRI] 2.2).
    energy_min, energy_max : float
        Range, keV. Default 25 to 185.
    decimals : int
        Rounding of the edges. Default is 1 (0.1 keV).

    Returns
    -------
    edges : tuple of float
        ``n_band + 1`` increasing edges.

    Examples
    --------
    >>> narrow_band_edges()[:4], narrow_band_edges()[-2:]
    ((25.0, 27.5, 30.2, 33.3), (168.2, 185.0))
    """
    if n_band < 1 or not 0 < energy_min < energy_max:
        raise ValueError(f"n_band, energy_min, energy_max: expected n_band >= 1 and "
                         f"0 < energy_min < energy_max, found {n_band}, {energy_min}, "
                         f"{energy_max}")
    edges = np.round(np.geomspace(energy_min, energy_max, n_band + 1), decimals)
    if np.any(np.diff(edges) <= 0):
        raise ValueError(f"decimals: {decimals} merges band edges")
    return tuple(float(x) for x in edges)


BROAD_BANDS = (Band(25.0, 60.0), Band(60.0, 80.0), Band(80.0, 200.0))
"""The three broad bands of [ISGRI] Table 1."""
NARROW_BANDS = tuple(Band(lo, hi) for lo, hi in zip(narrow_band_edges()[:-1],
                                                   narrow_band_edges()[1:], strict=True))
"""The 21 logarithmic bands of the [ISGRI] spectra, 25-185 keV."""
PIPELINE_BANDS = (*BROAD_BANDS, *NARROW_BANDS)
"""The 24 bands of the pipeline and of the simulated tables: broad, then narrow."""
CLIPPING_BAND = NARROW_BANDS[-1]
"""Last band of the spectral binning (168.2-185 keV), used for the residual clipping
([ISGRI] Appendix A)."""
