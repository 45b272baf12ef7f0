"""The IBIS collimator response: the named shapes and their solid angles."""

from __future__ import annotations

import pytest

from bayesbg.isgri.model.collimator import (
    COLLIMATOR_SHAPES,
    CollimatorResponse,
    collimator_response,
    edge_for_solid_angle,
)


def test_default_is_flat_in_the_fully_coded_field_and_gives_286_square_degrees():
    response = CollimatorResponse()
    assert response == collimator_response("flat") == collimator_response()
    assert response(0.0) == 1.0 and response(4.5) == 1.0 and response(3.0) == 1.0
    assert response.edge_angle == pytest.approx(13.836, abs=1e-3)
    assert response(response.edge_angle) == pytest.approx(0.0, abs=1e-12)
    assert response(9.0) == pytest.approx((13.8356 - 9.0) / (13.8356 - 4.5), abs=1e-4)
    assert response.solid_angle() == pytest.approx(286.0, abs=1e-3)
    assert response.solid_angle_on_grid() == pytest.approx(286.0, rel=2e-3)


def test_tapered_shape_stays_available_by_name():
    tapered = collimator_response("tapered")
    assert tapered(4.5) == pytest.approx(0.92) and tapered(14.5) == 0.0
    omega = tapered.solid_angle()
    print(f"tapered: {omega:.1f} deg2 (grid {tapered.solid_angle_on_grid():.1f})")
    assert abs(omega / 286.0 - 1) < 0.002
    assert set(COLLIMATOR_SHAPES) == {"flat", "tapered"}
    with pytest.raises(ValueError, match="collimator: expected one of"):
        collimator_response("square")


def test_edge_for_solid_angle_inverts_the_solid_angle():
    edge = edge_for_solid_angle(200.0, response_at_break=0.9)
    assert CollimatorResponse(4.5, edge, 0.9).solid_angle() == pytest.approx(200.0, rel=1e-8)
    with pytest.raises(ValueError, match="omega"):
        edge_for_solid_angle(10.0)
