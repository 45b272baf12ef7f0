"""Screening of the ISGRI pointings: the phase, exposure and mode cuts of [ISGRI] section 2.

`screen` applies the cuts in order (orbital phase in [0.2, 0.8], exposure >= 700 s,
IBIS modes 41 and 43 dropped, `ScreeningCriteria`) and reports for each how many
pointings of the input fail it and how many it removes after the earlier cuts
(`ScreeningResult.report`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from bayesbg.isgri.pointings import PointingTable

__all__ = ["CutReport", "ScreeningCriteria", "ScreeningResult", "screen"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScreeningCriteria:
    """Pointing selection of [ISGRI] section 2.

    Parameters
    ----------
    phase_min, phase_max : float
        Keep orbital phases in [phase_min, phase_max]. Default is [0.2, 0.8].
    exposure_min : float
        Keep exposures >= this, s. Default is 700.
    excluded_modes : tuple of int
        Instrument modes to drop. Default is (41, 43).
    """

    phase_min: float = 0.2
    phase_max: float = 0.8
    exposure_min: float = 700.0
    excluded_modes: tuple[int, ...] = (41, 43)

    def __post_init__(self) -> None:
        if not 0 <= self.phase_min < self.phase_max <= 1:
            raise ValueError(
                f"phase_min, phase_max: expected 0 <= phase_min < phase_max <= 1, found "
                f"{self.phase_min}, {self.phase_max}"
            )
        if not np.isfinite(self.exposure_min) or self.exposure_min < 0:
            raise ValueError(f"exposure_min: expected >= 0 s, found {self.exposure_min}")
        object.__setattr__(self, "excluded_modes", tuple(int(m) for m in self.excluded_modes))


@dataclass(frozen=True)
class CutReport:
    """Effect of one screening cut.

    Attributes
    ----------
    cut : str
        Description, e.g. ``"phase in [0.2, 0.8]"``.
    failing : int
        Pointings of the input that fail this cut.
    removed : int
        Pointings removed by this cut after the earlier cuts (cuts applied in order).
    remaining : int
        Pointings left after this cut.
    """

    cut: str
    failing: int
    removed: int
    remaining: int


@dataclass(frozen=True, eq=False)
class ScreeningResult:
    """Outcome of :func:`screen`.

    Attributes
    ----------
    table : `PointingTable`
        The pointings that pass every cut.
    report : tuple of `CutReport`
        One entry per cut, in order.
    n_input : int
        Pointings before screening.
    """

    table: PointingTable
    report: tuple[CutReport, ...]
    n_input: int

    def render(self) -> str:
        """A text table of the cuts.

        Returns
        -------
        text : str
        """
        lines = [f"screening: {self.n_input} pointings in"]
        for item in self.report:
            lines.append(f"  {item.cut:<28s} failing {item.failing:>7d}  removed "
                         f"{item.removed:>7d}  remaining {item.remaining:>7d}")
        return "\n".join(lines)


def screen(table: PointingTable, *, criteria: ScreeningCriteria | None = None
           ) -> ScreeningResult:
    """Apply the phase, exposure and mode cuts of [ISGRI] section 2.

    Parameters
    ----------
    table : `PointingTable`
    criteria : `ScreeningCriteria`, optional
        Default ``ScreeningCriteria()``: phase in [0.2, 0.8], exposure >= 700 s,
        modes 41 and 43 dropped.

    Returns
    -------
    result : `ScreeningResult`
        The screened table and how many pointings each cut removed.
    """
    criteria = criteria if criteria is not None else ScreeningCriteria()
    cuts = [
        (f"phase in [{criteria.phase_min:g}, {criteria.phase_max:g}]",
         (table.phase >= criteria.phase_min) & (table.phase <= criteria.phase_max)),
        (f"exposure >= {criteria.exposure_min:g} s", table.exposure >= criteria.exposure_min),
        (f"mode not in {list(criteria.excluded_modes)}",
         ~np.isin(table.mode, criteria.excluded_modes)),
    ]
    keep = np.ones(table.n_pointing, dtype=bool)
    report = []
    for description, passing in cuts:
        removed = int(np.count_nonzero(keep & ~passing))
        keep &= passing
        report.append(CutReport(description, int(np.count_nonzero(~passing)), removed,
                                int(np.count_nonzero(keep))))
    result = ScreeningResult(table.select(keep), tuple(report), table.n_pointing)
    log.info("%s", result.render())
    return result
