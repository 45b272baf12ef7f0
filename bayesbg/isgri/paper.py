"""The published values of [ISGRI] (Krivonos, Shtykovskaya and Sazonov), for comparison.

- `TABLE1`: flux per FOV and error, mCrab, per region and broad band (Table 1);
- `TABLE2`, `TABLE3`: the spectral fits of GB, L+20 and L-20 with cutoffpl (index 0) +
  powerlaw (index 1.55) and IPM + powerlaw (index 1.55); fluxes in 1e-10 erg s-1 cm-2
  FOV-1 in 30-80 keV, as ``(value, lower error, upper error)``; ``chi2_red`` and ``dof``;
- `SCO_X1_FIT`: Appendix C, cutoffpl (index 0, Ecut free) + powerlaw (index free);
- `CRAB_SCATTER`: the Crab-rate scatter about the cubic, mCrab (Appendix B).

The keys of the spectral tables are the labels of `bayesbg.spectra.SpectralModel`
(``cutoffpl.ecut``, ``cutoffpl.flux``, ``powerlaw.flux``, ``ipm.mass``, ...) plus
``flux_total`` and the fractions ``fraction.<component>``.
"""

from __future__ import annotations

__all__ = [
    "CRAB_SCATTER",
    "PAPER_MODELS",
    "SCO_X1_FIT",
    "TABLE1",
    "TABLE2",
    "TABLE3",
    "paper_value",
]

TABLE1: dict[str, dict[str, tuple[float, float]]] = {
    "GB": {"25-60": (154.9, 3.1), "60-80": (96.5, 9.2), "80-200": (102.2, 13.3)},
    "L+20": {"25-60": (69.1, 2.3), "60-80": (23.0, 5.2), "80-200": (56.7, 9.8)},
    "L-20": {"25-60": (67.9, 1.7), "60-80": (33.3, 5.3), "80-200": (29.3, 9.8)},
    "3C 273/Coma": {"25-60": (-1.0, 0.7), "60-80": (1.6, 2.0), "80-200": (5.6, 3.4)},
}
"""[ISGRI] Table 1: (flux, error), mCrab per FOV."""

Value = tuple[float, float, float]

TABLE2: dict[str, dict[str, Value]] = {
    "GB": {"cutoffpl.ecut": (11.2, 0.9, 0.9), "cutoffpl.flux": (9.7, 1.4, 1.4),
           "powerlaw.flux": (4.9, 1.4, 1.4), "flux_total": (14.6, 0.2, 0.2),
           "fraction.cutoffpl": (0.66, 0.10, 0.10), "fraction.powerlaw": (0.33, 0.10, 0.10),
           "chi2_red": (0.89, 0.0, 0.0), "dof": (18.0, 0.0, 0.0)},
    "L+20": {"cutoffpl.ecut": (11.2, 1.5, 1.5), "cutoffpl.flux": (4.3, 1.0, 1.2),
             "powerlaw.flux": (1.7, 1.3, 1.3), "flux_total": (6.1, 0.1, 0.1),
             "fraction.cutoffpl": (0.70, 0.57, 0.57), "fraction.powerlaw": (0.27, 0.20, 0.20),
             "chi2_red": (1.47, 0.0, 0.0), "dof": (18.0, 0.0, 0.0)},
    "L-20": {"cutoffpl.ecut": (11.2, 1.7, 1.7), "cutoffpl.flux": (4.3, 0.9, 1.1),
             "powerlaw.flux": (2.2, 1.1, 1.0), "flux_total": (6.5, 0.1, 0.1),
             "fraction.cutoffpl": (0.66, 0.37, 0.37), "fraction.powerlaw": (0.34, 0.14, 0.14),
             "chi2_red": (1.13, 0.0, 0.0), "dof": (18.0, 0.0, 0.0)},
}
"""[ISGRI] Table 2, cutoffpl (index 0) + powerlaw (index 1.55): (value, -err, +err)."""

TABLE3: dict[str, dict[str, Value]] = {
    "GB": {"ipm.mass": (0.70, 0.09, 0.09), "ipm.flux": (10.7, 1.7, 1.9),
           "powerlaw.flux": (4.0, 1.7, 1.7), "flux_total": (14.7, 0.2, 0.2),
           "fraction.ipm": (0.73, 0.13, 0.13), "fraction.powerlaw": (0.27, 0.11, 0.11),
           "chi2_red": (0.76, 0.0, 0.0), "dof": (18.0, 0.0, 0.0)},
    "L+20": {"ipm.mass": (0.73, 0.14, 0.14), "ipm.flux": (5.1, 1.4, 1.4),
             "powerlaw.flux": (1.1, 1.1, 1.4), "flux_total": (6.2, 0.1, 0.1),
             "fraction.ipm": (0.82, 0.23, 0.23), "fraction.powerlaw": (0.17, 0.22, 0.22),
             "chi2_red": (1.27, 0.0, 0.0), "dof": (18.0, 0.0, 0.0)},
    "L-20": {"ipm.mass": (0.80, 0.15, 0.15), "ipm.flux": (5.6, 1.5, 1.5),
             "powerlaw.flux": (1.1, 1.1, 1.4), "flux_total": (6.7, 0.1, 0.1),
             "fraction.ipm": (0.83, 0.22, 0.22), "fraction.powerlaw": (0.16, 0.20, 0.20),
             "chi2_red": (0.83, 0.0, 0.0), "dof": (18.0, 0.0, 0.0)},
}
"""[ISGRI] Table 3, IPM + powerlaw (index 1.55): (value, -err, +err)."""

SCO_X1_FIT: dict[str, Value] = {
    "expcutoff.ecut": (3.93, 0.22, 0.22), "powerlaw.index": (2.48, 0.65, 0.79),
    "chi2_red": (1.62, 0.0, 0.0), "dof": (17.0, 0.0, 0.0),
}
"""[ISGRI] Appendix C (without the 5 % systematic; with it chi2_red = 0.98)."""

CRAB_SCATTER = {"25-60": 37.0, "60-80": 47.0, "80-200": 44.0}
"""Scatter of the Crab rate about the cubic P(orbit), mCrab ([ISGRI] Appendix B)."""

PAPER_MODELS: dict[str, tuple[str, dict[str, float], dict[str, dict[str, float | str]]]] = {
    "table2": ("cutoffpl+powerlaw", {"cutoffpl.index": 0.0, "powerlaw.index": 1.55}, {}),
    "table3": ("ipm+powerlaw", {"powerlaw.index": 1.55}, {}),
    "point_source": ("expcutoff+powerlaw", {},
                     {"expcutoff.ecut": {"prior": "lognormal", "location": 1.386,
                                         "scale": 0.5, "lower": 1.0, "upper": 15.0,
                                         "typical": 4.0}}),
}
"""The spectral models of Tables 2, 3 and Appendix C: expression, fixed parameters and
priors changed from `bayesbg.spectra`'s defaults. Appendix C: above 25 keV an
``exp(-E/E_cut)`` with a high ``E_cut`` and a steep power law describe the same curved
spectrum as the boundary layer (``E_cut`` of a few keV) and a hard tail, so the
posterior has two modes with the components' roles swapped; the boundary layer's
temperature is known to be a few keV (Revnivtsev et al. 2014: 3.70 +- 0.03 keV), so
``E_cut`` has a lognormal prior around 4 keV (sd of ln 0.5) within 1-15 keV, which keeps
the components in their roles and leaves ``E_cut`` to the data within that range."""

_TABLES = {"table2": TABLE2, "table3": TABLE3}


def paper_value(table: str, region: str, quantity: str) -> Value | None:
    """A value of Table 2 or 3 (or of Appendix C with ``table="point_source"``).

    Parameters
    ----------
    table : {"table2", "table3", "point_source"}
    region : str
        ``"GB"``, ``"L+20"``, ``"L-20"`` (ignored for the point source).
    quantity : str
        A key of the table (module docstring).

    Returns
    -------
    value : tuple of float or None
        ``(value, lower error, upper error)``; None where the paper gives none.
    """
    if table == "point_source":
        return SCO_X1_FIT.get(quantity)
    if table not in _TABLES:
        raise ValueError(f"table: expected one of {sorted(_TABLES)} or 'point_source', found "
                         f"{table!r}")
    return _TABLES[table].get(region, {}).get(quantity)
