"""Checks shared by the TOML configuration readers: unknown keys and tables are errors."""

from __future__ import annotations

import tomllib
from typing import Any

__all__ = ["check_keys", "get_table", "parse_document"]


def check_keys(where: str, table: dict[str, Any], allowed: set[str]) -> None:
    """Raise if ``table`` has a key outside ``allowed``.

    Parameters
    ----------
    where : str
        Where the table is, for the message (e.g. ``"[data]"``).
    table : dict
        The parsed TOML table.
    allowed : set of str
        Accepted keys.

    Raises
    ------
    ValueError
        Naming the first unknown key and listing the accepted ones.
    """
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(
            f"{unknown[0]}: unknown key in {where}; expected one of {sorted(allowed)}"
        )


def get_table(document: dict[str, Any], name: str, allowed: set[str] | None) -> dict[str, Any]:
    """The table ``name`` of a parsed TOML document (empty if absent), keys checked.

    Parameters
    ----------
    document : dict
        The parsed TOML document.
    name : str
        Table name.
    allowed : set of str or None
        Accepted keys; None accepts any.

    Returns
    -------
    table : dict

    Raises
    ------
    ValueError
        If ``name`` is not a table or has an unknown key.
    """
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ValueError(f"{name}: expected a table")
    if allowed is not None:
        check_keys(f"[{name}]", table, allowed)
    return table


def parse_document(text: str, allowed: set[str]) -> dict[str, Any]:
    """Parse TOML text whose top-level keys and tables must be in ``allowed``.

    Raises
    ------
    ValueError
        On invalid TOML (``config: invalid TOML (...)``) or an unknown top-level key.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"config: invalid TOML ({err})") from err
    check_keys("config", document, allowed)
    return document
