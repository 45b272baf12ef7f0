"""Screening: the cuts of [ISGRI] section 2 and their report."""

from __future__ import annotations

import numpy as np

from bayesbg.isgri.screening import screen


def test_screening_reports_each_cut(small_table):
    result = screen(small_table)
    assert [r.cut.split()[0] for r in result.report] == ["phase", "exposure", "mode"]
    assert sum(r.removed for r in result.report) == small_table.n_pointing - result.table.n_pointing
    assert np.all((result.table.phase >= 0.2) & (result.table.phase <= 0.8))
    assert np.all(result.table.exposure >= 700)
    assert not np.isin(result.table.mode, [41, 43]).any()
    assert all(r.removed > 0 for r in result.report)
