"""The one reader of bayesbg's TOML configuration files, with one error format.

Every configuration (the sampler, a COSI fit and its scans, deconvolution, binning,
an ISGRI run, a spectral fit) is a small frozen dataclass built from a
:class:`TomlTable`. The table checks the keys it is allowed to hold (an unknown key is an
error, as gammapy's ``extra="forbid"``), converts values with typed getters and names
every problem the same way::

    <file>: <table>.<key>: <what was expected>, found <what was there>

for example ``cosi.toml: background.n_blocks: expected an integer >= 1, found 0``.
Errors are :class:`ConfigError`, a `ValueError`. A validation error raised by a config
dataclass itself (``n_blocks: expected ...``) is given the file's name by
:meth:`TomlTable.build`.

Examples
--------
>>> table = TomlTable.from_text('seed = 3\\n[data]\\ndataset = "d.nc"\\n', source="fit.toml")
>>> table.check_keys({"seed", "data"})
>>> table.integer("seed", default=1)
3
>>> table.table("data", {"dataset"}).string("dataset")
'd.nc'
>>> table.integer("chains", default=4)
4
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar

__all__ = ["MISSING", "ConfigError", "TomlConfig", "TomlTable", "read_toml", "toml_value"]

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Default of the getters: the key is required."""


class ConfigError(ValueError):
    """A configuration value that is missing, unknown or of the wrong kind."""


def read_toml(path: str | Path) -> TomlTable:
    """Read a TOML file into its top-level :class:`TomlTable`.

    Relative paths in it are taken relative to the file's directory.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The configuration file.

    Returns
    -------
    table : `TomlTable`

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ConfigError
        If ``path`` is a directory, cannot be read as UTF-8 text, or is not valid TOML.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; expected a TOML configuration file")
    if not path.exists():
        raise FileNotFoundError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not a UTF-8 text file ({err.reason})") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.strerror})") from None
    return TomlTable.from_text(text, source=str(path), base=path.parent)


@dataclass(frozen=True)
class TomlTable:
    """One table of a parsed TOML document, with typed, checked access to its keys.

    Parameters
    ----------
    values : mapping
        The table's keys and values, as `tomllib` returns them.
    source : str
        The file (or ``"config"`` for text), first in every message.
    name : str
        Dotted name of the table (``""`` for the top level).
    base : `~pathlib.Path`
        Directory that relative paths are taken from.
    """

    values: Mapping[str, Any]
    source: str = "config"
    name: str = ""
    base: Path = field(default_factory=Path)

    @classmethod
    def from_text(cls, text: str, *, source: str = "config",
                  base: str | Path = ".") -> TomlTable:
        """Parse TOML text.

        Raises
        ------
        ConfigError
            On invalid TOML, with the parser's line and column.
        """
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{source}: invalid TOML ({err})") from None
        return cls(document, source=source, name="", base=Path(base))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "config",
                     name: str = "", base: str | Path = ".") -> TomlTable:
        """Wrap an already parsed mapping (e.g. keyword arguments in Python)."""
        if not isinstance(values, Mapping):
            where = name or "config"
            raise ConfigError(f"{source}: {where}: expected a table, found "
                              f"{type(values).__name__}")
        return cls(dict(values), source=source, name=name, base=Path(base))

    # -- naming and errors ------------------------------------------------------------
    def where(self, key: str | None = None) -> str:
        """Dotted name of ``key`` in this table (or of the table)."""
        if key is None:
            return self.name or "config"
        return f"{self.name}.{key}" if self.name else key

    def error(self, key: str | None, problem: str) -> ConfigError:
        """A `ConfigError` in the one format: ``<file>: <table>.<key>: <problem>``."""
        return ConfigError(f"{self.source}: {self.where(key)}: {problem}")

    def _wrong(self, key: str, expected: str, value: Any) -> ConfigError:
        return self.error(key, f"expected {expected}, found {value!r}")

    # -- structure --------------------------------------------------------------------
    def __contains__(self, key: object) -> bool:
        return key in self.values

    def keys(self) -> list[str]:
        """The keys present."""
        return list(self.values)

    def check_keys(self, allowed: Iterable[str]) -> None:
        """Raise on a key outside ``allowed`` (the first unknown key is named)."""
        allowed = set(allowed)
        unknown = sorted(set(self.values) - allowed)
        if unknown:
            raise self.error(unknown[0], f"unknown key; expected one of {sorted(allowed)}")

    def table(self, key: str, allowed: Iterable[str] | None = None) -> TomlTable:
        """The sub-table ``key`` (empty if absent), its keys checked against ``allowed``."""
        value = self.values.get(key, {})
        if not isinstance(value, Mapping):
            raise self._wrong(key, "a table", value)
        sub = TomlTable(dict(value), source=self.source, name=self.where(key), base=self.base)
        if allowed is not None:
            sub.check_keys(allowed)
        return sub

    def has_table(self, key: str) -> bool:
        """Whether ``key`` is present (and so a table is given)."""
        return key in self.values

    # -- scalar getters ---------------------------------------------------------------
    def raw(self, key: str, default: Any = MISSING) -> Any:
        """The value as parsed, or ``default``; a missing required key is an error."""
        if key in self.values:
            return self.values[key]
        if default is MISSING:
            raise self.error(key, "missing")
        return default

    def string(self, key: str, default: Any = MISSING, *,
               choices: Iterable[str] | None = None) -> Any:
        """A string, optionally one of ``choices``."""
        if key not in self.values:
            return self.raw(key, default)
        value = self.values[key]
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        if choices is not None:
            choices = list(choices)
            if value not in choices:
                raise self._wrong(key, f"one of {choices}", value)
        return value

    def boolean(self, key: str, default: Any = MISSING) -> Any:
        """``true`` or ``false``."""
        if key not in self.values:
            return self.raw(key, default)
        value = self.values[key]
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def integer(self, key: str, default: Any = MISSING, *, minimum: int | None = None) -> Any:
        """An integer, optionally ``>= minimum``."""
        if key not in self.values:
            return self.raw(key, default)
        return self._integer(key, self.values[key], minimum)

    def number(self, key: str, default: Any = MISSING, *, positive: bool = False,
               minimum: float | None = None) -> Any:
        """A finite number (integer or float), as float; optionally positive or ``>= minimum``."""
        if key not in self.values:
            return self.raw(key, default)
        return self._number(key, self.values[key], positive, minimum)

    def path(self, key: str, default: Any = MISSING) -> Any:
        """A path string; relative paths are taken from the file's directory."""
        if key not in self.values:
            return self.raw(key, default)
        value = self.values[key]
        if not isinstance(value, str) or not value:
            raise self._wrong(key, "a path string", value)
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else (self.base / candidate).absolute()

    # -- lists ------------------------------------------------------------------------
    def _list(self, key: str, default: Any, scalar_ok: bool) -> list[Any] | Any:
        if key not in self.values:
            return self.raw(key, default)
        value = self.values[key]
        if isinstance(value, list):
            if not value:
                raise self._wrong(key, "a non-empty list", value)
            return value
        if scalar_ok:
            return [value]
        raise self._wrong(key, "a list", value)

    def strings(self, key: str, default: Any = MISSING, *, scalar_ok: bool = False) -> Any:
        """A non-empty list of strings, as a tuple (``scalar_ok``: one string allowed)."""
        values = self._list(key, default, scalar_ok)
        if values is default and key not in self.values:
            return default
        for value in values:
            if not isinstance(value, str):
                raise self._wrong(key, "a list of strings", self.values[key])
        return tuple(values)

    def numbers(self, key: str, default: Any = MISSING, *, scalar_ok: bool = False,
                positive: bool = False, length: int | None = None) -> Any:
        """A non-empty list of finite numbers, as a tuple of float."""
        values = self._list(key, default, scalar_ok)
        if values is default and key not in self.values:
            return default
        out = tuple(self._number(key, v, positive, None) for v in values)
        if length is not None and len(out) != length:
            raise self._wrong(key, f"a list of {length} numbers", self.values[key])
        return out

    def integers(self, key: str, default: Any = MISSING, *, scalar_ok: bool = False,
                 minimum: int | None = None) -> Any:
        """A non-empty list of integers, as a tuple."""
        values = self._list(key, default, scalar_ok)
        if values is default and key not in self.values:
            return default
        return tuple(self._integer(key, v, minimum) for v in values)

    def number_or_numbers(self, key: str, default: Any = MISSING, *,
                          positive: bool = False) -> Any:
        """One number (float) or a list of them (tuple of float)."""
        if key in self.values and isinstance(self.values[key], list):
            return self.numbers(key, positive=positive)
        return self.number(key, default, positive=positive)

    def mapping(self, key: str, default: Any = MISSING) -> Any:
        """An inline table or sub-table as a plain dict (keys not checked)."""
        if key not in self.values:
            return self.raw(key, default)
        value = self.values[key]
        if not isinstance(value, Mapping):
            raise self._wrong(key, "a table", value)
        return dict(value)

    # -- building a config dataclass --------------------------------------------------
    def build(self, factory: Callable[..., T], values: Mapping[str, Any]) -> T:
        """Call ``factory(**values)``, giving any `ValueError` the file's name.

        Config dataclasses validate in ``__post_init__`` and name the field; this puts
        the source in front, so every configuration error reads the same.
        """
        try:
            return factory(**values)
        except ConfigError:
            raise
        except ValueError as err:
            raise ConfigError(f"{self.source}: {err}") from None

    # -- helpers ----------------------------------------------------------------------
    def _integer(self, key: str, value: Any, minimum: int | None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer", value)
        if minimum is not None and value < minimum:
            raise self._wrong(key, f"an integer >= {minimum}", value)
        return value

    def _number(self, key: str, value: Any, positive: bool, minimum: float | None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise self._wrong(key, "a finite number", value)
        if positive and value <= 0:
            raise self._wrong(key, "a positive number", value)
        if minimum is not None and value < minimum:
            raise self._wrong(key, f"a number >= {minimum}", value)
        return float(value)


def toml_value(value: Any) -> str:
    """Render a scalar or a list of scalars as TOML (for writing configs back).

    Raises
    ------
    TypeError
        For a value TOML cannot hold this way (e.g. None, a dict).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str | Path):
        escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} value {value!r} as TOML")


class TomlConfig:
    """Mixin: ``from_toml`` and ``read`` for a configuration dataclass with ``from_table``.

    Every configuration of bayesbg (COSI fit, scans, deconvolution, binning, ISGRI run,
    spectral fit) is a frozen dataclass that builds itself from a `TomlTable`; this gives
    each the same way in from text and from a file.
    """

    @classmethod
    def from_table(cls, document: TomlTable) -> Self:  # pragma: no cover - overridden
        """Build from the top-level table of a configuration file."""
        raise NotImplementedError

    @classmethod
    def from_toml(cls, text: str, *, base: str | Path = ".", source: str = "config") -> Self:
        """Parse TOML text; relative paths are taken relative to ``base``.

        Raises
        ------
        bayesbg.config.ConfigError
            On invalid TOML, an unknown table or key (named), or an invalid value.
        """
        return cls.from_table(TomlTable.from_text(text, source=source, base=base))

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """Read a TOML file; relative paths in it are relative to the file.

        Returns
        -------
        config
            With ``run_dir`` (where the class has one) defaulting to
            ``runs/<file stem>``.
        """
        config = cls.from_table(read_toml(path))
        if getattr(config, "run_dir", "") is None:
            object.__setattr__(config, "run_dir", Path("runs") / Path(path).stem)
        return config
