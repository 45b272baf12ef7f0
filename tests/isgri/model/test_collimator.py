"""The IBIS collimator response."""

from __future__ import annotations

import pytest

from bayesbg.isgri.model.collimator import CollimatorResponse


def test_effective_solid_angle_within_two_percent_of_286():
    response = CollimatorResponse()
    omega = response.solid_angle()
    print(f"effective solid angle {omega:.1f} deg2 (grid {response.solid_angle_on_grid():.1f})")
    assert abs(omega / 286.0 - 1) < 0.02
    assert response.solid_angle_on_grid() == pytest.approx(omega, rel=2e-3)
    assert response(0.0) == 1.0
    assert response(4.5) == pytest.approx(0.92)
    assert response(20.0) == 0.0
