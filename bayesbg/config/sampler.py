"""Run settings as frozen, validated dataclasses with TOML in and out.

The fields of :class:`SamplerConfig` take the keyword names of
:meth:`cmdstanpy.CmdStanModel.sample`, so a configuration is applied as
``model.sample(data=..., seed=..., **config.to_kwargs())``. A TOML file holds the
settings in a ``[sampler]`` table; an unknown table or key is an error (as gammapy's
``extra="forbid"``), so a misspelt setting never passes silently.

Example file::

    # bayesbg sampler configuration; keys are cmdstanpy sample() keywords
    [sampler]
    chains = 4
    iter_warmup = 1000
    iter_sampling = 1000
    adapt_delta = 0.9
"""

from __future__ import annotations

import dataclasses
import logging
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bayesbg.atomic import write_text_atomic
from bayesbg.config.toml import TomlTable, read_toml, toml_value

__all__ = ["SamplerConfig"]

log = logging.getLogger(__name__)

_METRICS = ("diag_e", "dense_e", "unit_e", "diag", "dense")


@dataclass(frozen=True)
class SamplerConfig:
    """Settings of a NUTS run, named as :meth:`cmdstanpy.CmdStanModel.sample` names them.

    A field left at ``None`` is not passed on, so CmdStan's own default applies
    (written ``(Default)`` in the CSV header). The seed is deliberately not a field:
    every run takes an explicit ``seed`` argument.

    Parameters
    ----------
    chains : int
        Number of Markov chains. Default is 4.
    parallel_chains : int or None
        Chains run at once; ``None`` lets cmdstanpy use ``min(chains, cpu_count)``.
    threads_per_chain : int
        Threads per chain for ``reduce_sum`` (needs a model compiled with
        ``STAN_THREADS``). Default is 1.
    iter_warmup, iter_sampling : int
        Warm-up (adaptation) and kept iterations per chain. Default is 1000 each.
    thin : int
        Keep every ``thin``-th draw. Default is 1.
    max_treedepth : int
        NUTS maximum tree depth; a transition that reaches it is counted by the
        diagnostics. Default is 10 (CmdStan's default).
    adapt_delta : float or None
        Target acceptance statistic during adaptation, in (0, 1); ``None`` keeps
        CmdStan's 0.8.
    adapt_engaged : bool
        Whether warm-up adapts step size and metric. Default is True. When False, the
        ``adapt_*`` settings must be left at ``None`` (cmdstanpy rejects them).
    adapt_init_phase, adapt_metric_window, adapt_step_size : int or None
        Lengths (iterations) of the adaptation windows; ``None`` keeps CmdStan's
        75 / 25 / 50.
    metric : str
        ``"diag_e"`` (default), ``"dense_e"`` or ``"unit_e"``.
    step_size : float or None
        Initial step size; ``None`` keeps CmdStan's 1.
    save_warmup : bool
        Keep warm-up draws in the CSV files. Default is False.
    show_progress : bool or None
        Show cmdstanpy's (tqdm) progress bars. Default ``None``: only when standard
        error is a terminal, so logs and CI output stay quiet.
    refresh : int or None
        Iterations between CmdStan progress messages; ``None`` keeps 100.

    Examples
    --------
    >>> config = SamplerConfig(chains=2, iter_sampling=500)
    >>> SamplerConfig.from_toml(config.to_toml()) == config
    True
    """

    chains: int = 4
    parallel_chains: int | None = None
    threads_per_chain: int = 1
    iter_warmup: int = 1000
    iter_sampling: int = 1000
    thin: int = 1
    max_treedepth: int = 10
    adapt_delta: float | None = None
    adapt_engaged: bool = True
    adapt_init_phase: int | None = None
    adapt_metric_window: int | None = None
    adapt_step_size: int | None = None
    metric: str = "diag_e"
    step_size: float | None = None
    save_warmup: bool = False
    show_progress: bool | None = None
    refresh: int | None = None

    def __post_init__(self) -> None:
        for name in ("chains", "threads_per_chain", "iter_sampling", "thin", "max_treedepth"):
            _check_int(name, getattr(self, name), minimum=1)
        for name in ("parallel_chains",):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1)
        _check_int("iter_warmup", self.iter_warmup, minimum=0)
        for name in ("adapt_init_phase", "adapt_metric_window", "adapt_step_size", "refresh"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=0)
        for name in ("adapt_engaged", "save_warmup", "show_progress"):
            if name == "show_progress" and self.show_progress is None:
                continue
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected true or false, found {getattr(self, name)!r}")
        if self.adapt_delta is not None:
            _check_float("adapt_delta", self.adapt_delta)
            if not 0 < self.adapt_delta < 1:
                raise ValueError(
                    f"adapt_delta: expected a value in (0, 1), found {self.adapt_delta}"
                )
        if self.step_size is not None:
            _check_float("step_size", self.step_size)
            if self.step_size <= 0:
                raise ValueError(f"step_size: expected a positive number, found {self.step_size}")
        if self.metric not in _METRICS:
            raise ValueError(f"metric: expected one of {_METRICS}, found {self.metric!r}")
        if not self.adapt_engaged:
            for name in ("adapt_delta", "adapt_init_phase", "adapt_metric_window",
                         "adapt_step_size"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{name}: must be left unset when adapt_engaged = false, "
                        f"found {getattr(self, name)}"
                    )
        if self.adapt_engaged and self.iter_warmup == 0:
            raise ValueError(
                "iter_warmup: adaptation needs warm-up iterations, found 0 with "
                "adapt_engaged = true (set adapt_engaged = false to sample without warm-up)"
            )

    def to_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`cmdstanpy.CmdStanModel.sample`, ``None`` left out.

        Returns
        -------
        kwargs : dict
            ``{keyword: value}`` for every field that is not ``None``.
        """
        kwargs = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        if self.show_progress is None:
            kwargs["show_progress"] = sys.stderr.isatty()
        return kwargs

    def replace(self, **changes: Any) -> SamplerConfig:
        """Copy with some fields changed (validated again).

        Parameters
        ----------
        **changes
            Field names and their new values.

        Returns
        -------
        config : `SamplerConfig`
        """
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise ValueError(f"{unknown[0]}: not a SamplerConfig field")
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SamplerConfig:
        """Build from a mapping of field names, rejecting unknown keys.

        Parameters
        ----------
        values : mapping
            ``{field: value}``; missing fields take their defaults.

        Returns
        -------
        config : `SamplerConfig`

        Raises
        ------
        ValueError
            On an unknown key (named in the message) or an invalid value.
        """
        return cls.from_table(TomlTable.from_mapping(values, name="sampler"))

    @classmethod
    def from_table(cls, table: TomlTable) -> SamplerConfig:
        """Build from the ``[sampler]`` table of a configuration file.

        Parameters
        ----------
        table : `bayesbg.config.TomlTable`
            The table; every key must be a field name.

        Returns
        -------
        config : `SamplerConfig`

        Raises
        ------
        ConfigError
            On an unknown key or an invalid value, naming the file and key.
        """
        table.check_keys(f.name for f in fields(cls))
        return table.build(cls, dict(table.values))

    @classmethod
    def from_toml(cls, text: str, *, source: str = "config") -> SamplerConfig:
        """Parse TOML text holding a ``[sampler]`` table.

        Parameters
        ----------
        text : str
            TOML document. Only the ``[sampler]`` table is allowed; it may be absent
            (all defaults).
        source : str
            Name of the text for messages (a file name).

        Returns
        -------
        config : `SamplerConfig`

        Raises
        ------
        ConfigError
            On invalid TOML, an unknown table or key, or an invalid value.
        """
        document = TomlTable.from_text(text, source=source)
        document.check_keys({"sampler"})
        return cls.from_table(document.table("sampler"))

    @classmethod
    def read(cls, path: str | Path) -> SamplerConfig:
        """Read a TOML file (see :meth:`from_toml`).

        Parameters
        ----------
        path : str or `~pathlib.Path`
            TOML file.

        Returns
        -------
        config : `SamplerConfig`
        """
        document = read_toml(path)
        document.check_keys({"sampler"})
        return cls.from_table(document.table("sampler"))

    def to_toml(self) -> str:
        """TOML text with a ``[sampler]`` table; ``None`` fields are left out.

        Returns
        -------
        text : str
        """
        lines = [
            "# bayesbg sampler configuration; keys are cmdstanpy sample() keywords",
            "[sampler]",
        ]
        for key, value in dataclasses.asdict(self).items():
            if value is not None:
                lines.append(f"{key} = {toml_value(value)}")
        return "\n".join(lines) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_toml` to a file.

        Parameters
        ----------
        path : str or `~pathlib.Path`
            Destination; overwritten if it exists.

        Returns
        -------
        path : `~pathlib.Path`
        """
        return write_text_atomic(path, self.to_toml())


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected an integer, found {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, found {value}")


def _check_float(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, found {value!r}")
