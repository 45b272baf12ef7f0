"""bayesbg: Bayesian analysis of background-dominated hard-X-ray and soft-gamma-ray data.

Stan programs run through cmdstanpy; results are ArviZ ``InferenceData``.
"""

import warnings

__version__ = "0.1.0"

# ArviZ 0.23 announces its 1.x refactor with a FutureWarning at import; bayesbg uses only
# calls that exist in both, so the notice is noise for bayesbg's users.
warnings.filterwarnings("ignore", message="\nArviZ is undergoing a major refactor",
                        category=FutureWarning)

__all__ = ["__version__"]
