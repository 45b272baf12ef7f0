"""Model specifications: which components, which shape parameters are fixed, which priors.

A model is written as component names joined by ``+`` (``"cutoffpl+powerlaw"``); a
repeated type gets a suffix (``"powerlaw+powerlaw"`` -> ``powerlaw``, ``powerlaw_2``).
Parameters are addressed as ``<component>.<parameter>`` (``cutoffpl.index``,
``powerlaw.index``, ``cutoffpl.ecut``); ``<component>.flux`` is the component's energy
flux in the flux band (default 30-80 keV) in 1e-10 erg s-1 cm-2.

Example: the [ISGRI] Table 2 model::

    SpectralModel.parse("cutoffpl+powerlaw",
                        fixed={"cutoffpl.index": 0.0, "powerlaw.index": 1.55})
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bayesbg.spectra.models import COMPONENT_TYPES, PRIOR_KINDS, ComponentType, ShapeParameter

__all__ = ["Component", "SpectralModel"]

log = logging.getLogger(__name__)

DEFAULT_FLUX_PRIOR_SCALE = 1000.0
"""Default half-normal scale of component fluxes, 1e-10 erg s-1 cm-2 (about 10 Crab in
30-80 keV)."""
DEFAULT_CROSS_NORM_PRIOR_SD = 0.3
"""Default sd of ln C of non-reference datasets (instruments differ by up to ~30 %,
Churazov et al. 2007, quoted by [COSI-PS])."""


@dataclass(frozen=True)
class Component:
    """One component of a spectral model.

    Parameters
    ----------
    name : str
        Unique label, e.g. ``"cutoffpl"`` or ``"powerlaw_2"``.
    kind : str
        Registry name (`bayesbg.spectra.models.COMPONENT_TYPES`).
    fixed : mapping of str to float
        Fixed shape parameters by parameter name (e.g. ``{"index": 0.0}``).
    parameters : tuple of `ShapeParameter`
        Bounds and priors of every shape parameter (defaults from the registry).
    flux_prior_scale : float
        Half-normal prior scale of the flux, 1e-10 erg s-1 cm-2.
    """

    name: str
    kind: str
    fixed: Mapping[str, float] = field(default_factory=dict)
    parameters: tuple[ShapeParameter, ...] = ()
    flux_prior_scale: float = DEFAULT_FLUX_PRIOR_SCALE

    def __post_init__(self) -> None:
        if self.kind not in COMPONENT_TYPES:
            raise ValueError(f"kind: expected one of {sorted(COMPONENT_TYPES)}, found "
                             f"{self.kind!r}")
        if not self.name or "." in self.name:
            raise ValueError(f"name: expected a non-empty name without '.', found {self.name!r}")
        registry = COMPONENT_TYPES[self.kind]
        parameters = self.parameters or registry.parameters
        if tuple(p.name for p in parameters) != registry.parameter_names:
            raise ValueError(f"parameters: expected {registry.parameter_names}, found "
                             f"{tuple(p.name for p in parameters)}")
        fixed = {str(k): float(v) for k, v in dict(self.fixed).items()}
        for key, value in fixed.items():
            if key not in registry.parameter_names:
                raise ValueError(f"fixed: {self.name} has no parameter {key!r}; expected one "
                                 f"of {registry.parameter_names}")
            if not math.isfinite(value):
                raise ValueError(f"fixed: {self.name}.{key} must be finite, found {value}")
        if not (math.isfinite(self.flux_prior_scale) and self.flux_prior_scale > 0):
            raise ValueError(f"flux_prior_scale: expected a positive number, found "
                             f"{self.flux_prior_scale}")
        object.__setattr__(self, "fixed", fixed)
        object.__setattr__(self, "parameters", tuple(parameters))

    @property
    def type(self) -> ComponentType:
        """The registry entry."""
        return COMPONENT_TYPES[self.kind]

    @property
    def free_parameters(self) -> tuple[ShapeParameter, ...]:
        """Shape parameters that are not fixed."""
        return tuple(p for p in self.parameters if p.name not in self.fixed)


@dataclass(frozen=True)
class SpectralModel:
    """A sum of components, each normalised by its energy flux in ``flux_band``.

    Parameters
    ----------
    components : tuple of `Component`
        The components (at least one, distinct names).
    flux_band : tuple of float
        Band of the component energy fluxes, keV. Default is (30, 80) ([ISGRI] cflux).
    cross_norm_prior_sd : float
        sd of the lognormal prior of the cross-normalisation constants. Default 0.3.
    """

    components: tuple[Component, ...]
    flux_band: tuple[float, float] = (30.0, 80.0)
    cross_norm_prior_sd: float = DEFAULT_CROSS_NORM_PRIOR_SD

    def __post_init__(self) -> None:
        components = tuple(self.components)
        if not components:
            raise ValueError("components: expected at least one component, found none")
        names = [c.name for c in components]
        if len(set(names)) != len(names):
            raise ValueError(f"components: expected distinct names, found {names}")
        lo, hi = (float(x) for x in self.flux_band)
        if not 0 < lo < hi:
            raise ValueError(f"flux_band: expected 0 < low < high keV, found {self.flux_band}")
        if not (math.isfinite(self.cross_norm_prior_sd) and self.cross_norm_prior_sd > 0):
            raise ValueError("cross_norm_prior_sd: expected a positive number, found "
                             f"{self.cross_norm_prior_sd}")
        object.__setattr__(self, "components", components)
        object.__setattr__(self, "flux_band", (lo, hi))

    @classmethod
    def parse(
        cls,
        expression: str,
        *,
        fixed: Mapping[str, float] | None = None,
        priors: Mapping[str, Mapping[str, Any]] | None = None,
        flux_prior_scale: float | Mapping[str, float] = DEFAULT_FLUX_PRIOR_SCALE,
        flux_band: tuple[float, float] = (30.0, 80.0),
        cross_norm_prior_sd: float = DEFAULT_CROSS_NORM_PRIOR_SD,
    ) -> SpectralModel:
        """Build a model from ``"cutoffpl+powerlaw"`` and per-parameter settings.

        Parameters
        ----------
        expression : str
            Component types joined by ``+``.
        fixed : mapping, optional
            ``{"cutoffpl.index": 0.0, ...}``: fixed shape parameters.
        priors : mapping, optional
            ``{"cutoffpl.ecut": {"prior": "lognormal", "location": 2.4, "scale": 1.0,
            "lower": 1, "upper": 300}}``: any `ShapeParameter` fields to change.
        flux_prior_scale : float or mapping
            Half-normal flux prior scale(s), 1e-10 erg s-1 cm-2, one for all or by
            component name.
        flux_band : tuple of float
            Flux band, keV. Default (30, 80).
        cross_norm_prior_sd : float
            Prior sd of ln C. Default 0.3.

        Returns
        -------
        model : `SpectralModel`
        """
        kinds = [part.strip() for part in expression.split("+")]
        if not expression.strip() or any(not k for k in kinds):
            raise ValueError(f"model: expected component names joined by '+', found "
                             f"{expression!r}")
        names: list[str] = []
        for kind in kinds:
            if kind not in COMPONENT_TYPES:
                raise ValueError(f"model: unknown component {kind!r}; expected one of "
                                 f"{sorted(COMPONENT_TYPES)}")
            count = sum(1 for k in kinds[: len(names)] if k == kind)
            names.append(kind if count == 0 else f"{kind}_{count + 1}")
        fixed = dict(fixed or {})
        priors = dict(priors or {})
        for label in list(fixed) + list(priors):
            component = label.split(".")[0]
            if component not in names or "." not in label:
                raise ValueError(f"fixed/priors: {label!r} does not name a parameter "
                                 f"<component>.<parameter> of {names}")
        components = []
        for name, kind in zip(names, kinds, strict=True):
            parameters = []
            for parameter in COMPONENT_TYPES[kind].parameters:
                changes = dict(priors.get(f"{name}.{parameter.name}", {}))
                unknown = sorted(set(changes) - {"prior", "location", "scale", "lower",
                                                  "upper", "typical"})
                if unknown:
                    raise ValueError(f"priors: unknown field {unknown[0]!r} for "
                                     f"{name}.{parameter.name}")
                values = {**parameter.__dict__, **changes}
                if "typical" not in changes:
                    values["typical"] = min(max(values["typical"], values["lower"]),
                                            values["upper"])
                parameters.append(ShapeParameter(**values))
            own_fixed = {label.split(".", 1)[1]: value for label, value in fixed.items()
                         if label.split(".")[0] == name}
            scale = (flux_prior_scale.get(name, DEFAULT_FLUX_PRIOR_SCALE)
                     if isinstance(flux_prior_scale, Mapping) else flux_prior_scale)
            components.append(Component(name=name, kind=kind, fixed=own_fixed,
                                        parameters=tuple(parameters),
                                        flux_prior_scale=float(scale)))
        return cls(components=tuple(components), flux_band=flux_band,
                   cross_norm_prior_sd=cross_norm_prior_sd)

    @property
    def expression(self) -> str:
        """The component kinds joined by ``+``."""
        return "+".join(c.kind for c in self.components)

    @property
    def component_names(self) -> tuple[str, ...]:
        """Component labels."""
        return tuple(c.name for c in self.components)

    @property
    def free_shape_names(self) -> tuple[str, ...]:
        """``<component>.<parameter>`` of the free shape parameters, in Stan order."""
        return tuple(f"{c.name}.{p.name}" for c in self.components for p in c.free_parameters)

    @property
    def shape_names(self) -> tuple[str, ...]:
        """``<component>.<parameter>`` of all shape parameters."""
        return tuple(f"{c.name}.{p.name}" for c in self.components for p in c.parameters)

    @property
    def uses_ipm(self) -> bool:
        """Whether a component is the IPM."""
        return any(c.kind == "ipm" for c in self.components)

    def stan_components(self) -> dict[str, Any]:
        """The component part of the Stan data (``K`` ... ``flux_prior_scale``).

        Returns
        -------
        data : dict
        """
        shape_free = np.zeros((len(self.components), 3), dtype=np.int64)
        shape_fixed = np.zeros((len(self.components), 3))
        lower, upper, kind, location, scale = [], [], [], [], []
        for k, component in enumerate(self.components):
            for i, parameter in enumerate(component.parameters):
                if parameter.name in component.fixed:
                    shape_fixed[k, i] = component.fixed[parameter.name]
                else:
                    lower.append(parameter.lower)
                    upper.append(parameter.upper)
                    kind.append(PRIOR_KINDS[parameter.prior])
                    location.append(parameter.location)
                    scale.append(parameter.scale)
                    shape_free[k, i] = len(lower)
        return {
            "K": len(self.components),
            "component_type": [c.type.code for c in self.components],
            "shape_free": shape_free,
            "shape_fixed": shape_fixed,
            "P": len(lower),
            "shape_lower": np.array(lower, dtype=float),
            "shape_upper": np.array(upper, dtype=float),
            "shape_prior": np.array(kind, dtype=np.int64),
            "shape_prior_location": np.array(location, dtype=float),
            "shape_prior_scale": np.array(scale, dtype=float),
            "flux_prior_scale": np.array([c.flux_prior_scale for c in self.components]),
            "cross_norm_prior_sd": self.cross_norm_prior_sd,
            "flux_band": np.array(self.flux_band),
        }

    def shapes(self, values: Mapping[str, float]) -> list[list[float]]:
        """Shape parameters of every component, fixed ones from the model.

        Parameters
        ----------
        values : mapping
            ``{"<component>.<parameter>": value}`` for (at least) the free ones.

        Returns
        -------
        shapes : list of list of float
            Per component, its shape parameters in Stan order.
        """
        out = []
        for component in self.components:
            row = []
            for parameter in component.parameters:
                label = f"{component.name}.{parameter.name}"
                if parameter.name in component.fixed:
                    row.append(component.fixed[parameter.name])
                elif label in values:
                    row.append(float(values[label]))
                else:
                    raise ValueError(f"values: missing free parameter {label!r}")
            out.append(row)
        return out
