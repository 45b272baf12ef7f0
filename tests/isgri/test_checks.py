"""Checks of a pipeline run: pass on the simulation, warn and fail on what is wrong."""

from __future__ import annotations

import dataclasses

import numpy as np

from bayesbg.isgri.checks import CRAB_SCATTER_PAPER, isgri_checks


def test_isgri_checks_pass_on_the_simulation_and_flag_what_is_wrong(pipeline_run):
    _, result, truth = pipeline_run
    checks = isgri_checks(result, truth=truth)
    status = {c["name"].split(" (")[0].split(":")[0]: c["status"] for c in checks}
    # the pull spread is reported with the random errors too (about 1), since the
    # collimator term narrows the pulls on a simulation
    recovered = next(c for c in checks if c["name"] == "simulation: injected fluxes recovered")
    assert "random errors only: sd" in recovered["detail"], recovered["detail"]
    assert status == {"high-latitude field": "pass", "Crab calibration residual scatter":
                      status["Crab calibration residual scatter"],
                      "background model coverage": "pass", "simulation": "pass"}
    high = result.table["region"] == "3C 273/Coma"
    for pull, expected in ((2.4, "warn"), (5.0, "fail")):
        table = result.table.copy()
        table.loc[high, "flux"] = pull * table.loc[high, "error"]
        checks = isgri_checks(dataclasses.replace(result, table=table), truth=truth)
        assert checks[0]["status"] == expected and checks[3]["status"] == expected
    paper = [CRAB_SCATTER_PAPER.get(band.name, 500.0) for band in result.crab.bands]
    for factor, expected in ((1.0, "pass"), (2.0, "warn"), (4.0, "fail")):
        crab = dataclasses.replace(result.crab, systematic=factor * np.array(paper))
        check = isgri_checks(dataclasses.replace(result, crab=crab))[1]
        assert check["status"] == expected, check["detail"]
