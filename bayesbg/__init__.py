"""bayesbg: Bayesian analysis of background-dominated hard-X-ray and soft-gamma-ray data.

Stan programs run through cmdstanpy; results are ArviZ ``InferenceData``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
