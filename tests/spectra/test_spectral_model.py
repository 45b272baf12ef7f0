"""Model specifications: components, fixed parameters, priors, the Stan arrays."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbg.spectra.spectral_model import SpectralModel


def test_model_parse():
    model = SpectralModel.parse("cutoffpl+powerlaw+powerlaw",
                                fixed={"cutoffpl.index": 0, "powerlaw_2.index": 1.55})
    assert model.component_names == ("cutoffpl", "powerlaw", "powerlaw_2")
    assert model.free_shape_names == ("cutoffpl.ecut", "powerlaw.index")
    stan = model.stan_components()
    assert stan["P"] == 2
    np.testing.assert_array_equal(stan["shape_free"], [[0, 1, 0], [2, 0, 0], [0, 0, 0]])
    assert stan["shape_fixed"][2, 0] == 1.55
    with pytest.raises(ValueError, match="unknown component"):
        SpectralModel.parse("cutoffpl+blackbody")
    with pytest.raises(ValueError, match="fixed"):
        SpectralModel.parse("powerlaw", fixed={"powerlaw.ecut": 1.0})
    with pytest.raises(ValueError, match="priors"):
        SpectralModel.parse("powerlaw", priors={"powerlaw.index": {"mean": 1.0}})
    with pytest.raises(ValueError, match="lower"):
        SpectralModel.parse("powerlaw", priors={"powerlaw.index": {"lower": 7.0}})
