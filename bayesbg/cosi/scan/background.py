"""Background-model scan of the COSI template fit: maximum likelihood per variant, AIC.

[COSI-511] 3.3.4 chooses the background model by the Akaike information criterion,
``AIC = 2 k - 2 ln L`` ([COSI-511] eq. 5), over time-node schemes: equidistant nodes
(``n`` blocks), nodes at whole-kilometre altitude crossings (``step`` km), and Bayesian
blocks of the counts over the tracer's prediction (a sigma level), each with a choice of
tracer. :func:`scan_background` fits every variant by maximum likelihood
(:func:`bayesbg.cosi.maximum_likelihood`, priors off) on a Dask cluster
(:func:`bayesbg.cosi.scan.runner.run_points`, resumable) and selects the variant of
minimum AIC. The template-width scan is in :mod:`bayesbg.cosi.scan.template`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from bayesbg.cosi.data import CosiDataset
from bayesbg.cosi.model.background import SCHEMES, build_background_model, scheme_blocks
from bayesbg.cosi.scan.points import (
    dataset_fingerprint,
    maximum_likelihood_point,
    result_columns,
)
from bayesbg.cosi.scan.runner import fingerprint, run_points

__all__ = [
    "BackgroundScanResult",
    "BackgroundVariant",
    "background_variants",
    "distinct_variants",
    "fit_background_point",
    "scan_background",
]

log = logging.getLogger(__name__)

_SETTING = {"equidistant": "n_blocks", "altitude": "altitude_step", "bayesian_blocks": "sigma"}


@dataclass(frozen=True)
class BackgroundVariant:
    """One background model of a scan: time-node scheme, its setting, tracer.

    Parameters
    ----------
    scheme : str
        ``"equidistant"``, ``"altitude"`` or ``"bayesian_blocks"``.
    setting : float
        Number of blocks (equidistant), altitude step in km (altitude), or sigma level
        (Bayesian blocks, ``p0 = norm.sf(sigma)``).
    tracer : str
        Name of one of the dataset's tracers.
    detrend : bool
        Bayesian blocks on the counts over the tracer's prediction (the changes the tracer
        misses). Default is True.
    """

    scheme: str
    setting: float
    tracer: str
    detrend: bool = True

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme: expected one of {SCHEMES}, found {self.scheme!r}")
        if isinstance(self.setting, bool) or not np.isfinite(self.setting) or self.setting <= 0:
            raise ValueError(f"{_SETTING[self.scheme]}: expected a positive number, found "
                             f"{self.setting!r}")
        if self.scheme == "equidistant" and float(self.setting) != int(self.setting):
            raise ValueError(f"n_blocks: expected an integer, found {self.setting!r}")

    @property
    def key(self) -> str:
        """File-name-safe identifier, e.g. ``"equidistant-8-photo_event_rate"``."""
        return f"{self.scheme}-{self.setting:g}-{self.tracer}"

    @property
    def setting_name(self) -> str:
        """Name of the setting: ``n_blocks``, ``altitude_step`` or ``sigma``."""
        return _SETTING[self.scheme]

    def blocks(self, dataset: CosiDataset) -> NDArray[np.int64]:
        """Block of each time bin (1-based) of this variant for ``dataset``."""
        tracer = self._tracer(dataset) if self.scheme == "bayesian_blocks" and self.detrend \
            else None
        return scheme_blocks(dataset, self.scheme, self.setting, tracer=tracer)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"scheme": self.scheme, "setting": float(self.setting), "tracer": self.tracer,
                "detrend": bool(self.detrend)}

    def _tracer(self, dataset: CosiDataset) -> NDArray[np.float64]:
        if self.tracer not in dataset.tracers:
            raise ValueError(f"tracer: {self.tracer!r} is not one of the dataset's tracers "
                             f"{sorted(dataset.tracers)}")
        return dataset.tracers[self.tracer]


def background_variants(
    *,
    tracers: Sequence[str],
    n_blocks: Iterable[int] = (),
    altitude_step: Iterable[float] = (),
    sigma: Iterable[float] = (),
    detrend: bool = True,
) -> list[BackgroundVariant]:
    """All combinations of node scheme x setting x tracer.

    Parameters
    ----------
    tracers : sequence of str
        Tracer names.
    n_blocks : iterable of int
        Equidistant block counts. Default: no equidistant variants.
    altitude_step : iterable of float
        Altitude steps, km. Default: no altitude variants.
    sigma : iterable of float
        Bayesian-block sigma levels. Default: no Bayesian-block variants.
    detrend : bool
        Bayesian blocks on counts over the tracer's prediction. Default is True.

    Returns
    -------
    variants : list of `BackgroundVariant`
    """
    settings = [("equidistant", list(n_blocks)), ("altitude", list(altitude_step)),
                ("bayesian_blocks", list(sigma))]
    variants = [BackgroundVariant(scheme, value, tracer, detrend)
                for tracer, (scheme, values) in itertools.product(tracers, settings)
                for value in values]
    if not variants:
        raise ValueError("n_blocks, altitude_step, sigma: expected at least one setting")
    return variants


@dataclass(frozen=True)
class BackgroundScanResult:
    """Outcome of :func:`scan_background`.

    Attributes
    ----------
    table : `pandas.DataFrame`
        One row per variant: ``key``, ``scheme``, ``setting``, ``tracer``, ``n_block``,
        ``n_parameters``, ``log_likelihood``, ``aic``, ``bic``, ``delta_aic`` (to the
        minimum), ``flux_<template>`` and ``flux_error_<template>`` (ph cm-2 s-1, the
        1-sigma error from the Fisher information at the maximum), ``same_nodes_as``
        (the keys of variants that gave the same time nodes and were not fitted again)
        and ``error`` (empty unless the variant failed).
    variants : tuple of `BackgroundVariant`
        The distinct variants, in the order of the table.
    selected : `BackgroundVariant`
        The variant of minimum AIC.
    fitted : tuple of str
        Keys of the variants fitted in this call (the others were resumed).
    template_names : tuple of str
    """

    table: pd.DataFrame
    variants: tuple[BackgroundVariant, ...]
    selected: BackgroundVariant
    fitted: tuple[str, ...]
    template_names: tuple[str, ...]

    @property
    def selected_row(self) -> pd.Series:
        """The table row of the selected variant."""
        return self.table.loc[self.table["key"] == self.selected.key].iloc[0]


def scan_background(
    dataset: CosiDataset,
    variants: Sequence[BackgroundVariant],
    *,
    seed: int,
    templates: Sequence[str] | None = None,
    response: NDArray[np.float64] | None = None,
    work_dir: str | Path | None = None,
    overwrite: bool = False,
    scheduler: Any = None,
    workers: int = 2,
    processes: bool = True,
    show_progress: bool | None = None,
) -> BackgroundScanResult:
    """Fit every background variant by maximum likelihood and select the minimum AIC.

    Parameters
    ----------
    dataset : `CosiDataset`
    variants : sequence of `BackgroundVariant`
        From :func:`background_variants`; keys must be distinct.
    seed : int
        Seed of the optimiser runs.
    templates : sequence of str, optional
        Sky templates to fit. Default: all of the dataset's.
    response : `numpy.ndarray`, shape (n_data_bin,), optional
        Background response; default the dataset's, else from the counts.
    work_dir : str or `~pathlib.Path`, optional
        Where each finished variant is stored (``<key>.json``); a re-run resumes.
    overwrite : bool
        Forget finished variants in ``work_dir``. Default is False.
    scheduler : str or `dask.distributed.Client`, optional
        Dask scheduler address or client; default a local cluster of ``workers``.
    workers : int
        Local workers. Default is 2.
    processes : bool
        Local workers as processes (default) or threads.
    show_progress : bool or None
        Progress bar; None (default) only on a terminal.

    Returns
    -------
    result : `BackgroundScanResult`

    Raises
    ------
    ValueError
        On no variants, duplicate variants, or every variant failing.
    """
    variants = tuple(variants)
    if not variants:
        raise ValueError("variants: expected at least one background variant")
    keys = [variant.key for variant in variants]
    if len(set(keys)) != len(keys):
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"variants: duplicate variants {repeated}")
    variants, equivalent = distinct_variants(dataset, variants)
    names = tuple(templates) if templates is not None else dataset.template_names
    shared = {"dataset": dataset, "templates": names, "response": response}
    digest = fingerprint(dataset_fingerprint(dataset), list(names), int(seed),
                         response if response is not None else "default")
    points = {variant.key: {**variant.to_dict(), "seed": int(seed)} for variant in variants}
    run = run_points(fit_background_point, points, shared=shared, work_dir=work_dir,
                     fingerprint=digest, overwrite=overwrite, scheduler=scheduler,
                     workers=workers, processes=processes, show_progress=show_progress,
                     description="background scan")
    rows = []
    for variant in variants:
        result = run.results[variant.key]
        row: dict[str, Any] = {"key": variant.key, "scheme": variant.scheme,
                               "setting": float(variant.setting), "tracer": variant.tracer}
        row.update(result_columns(result, names))
        row["same_nodes_as"] = ", ".join(equivalent[variant.key])
        rows.append(row)
    table = pd.DataFrame(rows)
    if table["aic"].isna().all():
        raise ValueError(f"variants: every variant failed, e.g. {table['error'].iloc[0]}")
    table["delta_aic"] = table["aic"] - table["aic"].min()
    best = int(table["aic"].idxmin())
    return BackgroundScanResult(table=table, variants=variants, selected=variants[best],
                                fitted=run.fitted, template_names=names)


def distinct_variants(dataset: CosiDataset, variants: Sequence[BackgroundVariant]
                      ) -> tuple[tuple[BackgroundVariant, ...], dict[str, list[str]]]:
    """Drop variants whose time nodes and tracer equal an earlier variant's.

    Two Bayesian-block sigma levels, or an equidistant and an altitude setting, can give
    the same blocks; fitting both would list one model twice.

    Returns
    -------
    distinct : tuple of `BackgroundVariant`
        The first variant of each group, in the given order.
    equivalent : dict of str to list of str
        For each kept key, the keys of the variants it stands for.
    """
    seen: dict[tuple[str, bytes], str] = {}
    distinct: list[BackgroundVariant] = []
    equivalent: dict[str, list[str]] = {}
    for variant in variants:
        identity = (variant.tracer, np.asarray(variant.blocks(dataset), np.int64).tobytes())
        if identity in seen:
            equivalent[seen[identity]].append(variant.key)
            continue
        seen[identity] = variant.key
        equivalent[variant.key] = []
        distinct.append(variant)
    return tuple(distinct), equivalent


def fit_background_point(shared: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """One background variant (runs on a Dask worker): its model, maximum likelihood.

    Parameters
    ----------
    shared : dict
        ``dataset``, ``templates`` and ``response`` (or None).
    point : dict
        The variant's fields (:meth:`BackgroundVariant.to_dict`) and ``seed``.

    Returns
    -------
    result : dict
        See :func:`bayesbg.cosi.scan.points.maximum_likelihood_point`.
    """
    dataset: CosiDataset = shared["dataset"]
    variant = BackgroundVariant(point["scheme"], point["setting"], point["tracer"],
                                point["detrend"])
    background = build_background_model(dataset, blocks=variant.blocks(dataset),
                                        tracer=variant.tracer, response=shared["response"])
    return maximum_likelihood_point(dataset, background, templates=shared["templates"],
                                    seed=point["seed"])
