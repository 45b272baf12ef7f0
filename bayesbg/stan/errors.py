"""Exceptions and warnings of the Stan run layer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

__all__ = ["SamplerWarning", "StanRunError"]

_TAIL_LINES = 20


class SamplerWarning(UserWarning):
    """A sampler diagnostic failed its threshold (see `bayesbg.stan.Diagnostics`)."""


class StanRunError(RuntimeError):
    """A CmdStan compile or run failed.

    Parameters
    ----------
    action : str
        What was being done, e.g. ``"sampling"`` or ``"compiling template_fit.stan"``.
    command : str
        The command line that failed.
    console_tail : str
        The last lines of its console output.

    Attributes
    ----------
    action, command, console_tail : str
        As given.
    """

    def __init__(self, action: str, *, command: str, console_tail: str) -> None:
        self.action = action
        self.command = command
        self.console_tail = console_tail
        message = f"{action} failed\ncommand: {command}\nconsole (last lines):\n{console_tail}"
        super().__init__(message)

    @classmethod
    def from_cmdstanpy(cls, action: str, error: BaseException) -> StanRunError:
        """Wrap a cmdstanpy ``RuntimeError``/``ValueError``, pulling out command and console.

        cmdstanpy puts the command (``cmd (chain 1):`` or ``Command '...' failed``) and the
        path of the console file (``console_msgs (if any):``) into its message; the tail of
        that file is read when it still exists, else the tail of the message is kept.

        Parameters
        ----------
        action : str
            What was being done.
        error : BaseException
            The exception cmdstanpy raised.

        Returns
        -------
        error : `StanRunError`
        """
        text = str(error)
        command = _find_command(text)
        console_tail = ""
        match = re.search(r"console_msgs \(if any\):\s*\n\s*(\S+)", text)
        if match and Path(match.group(1)).is_file():
            console_tail = tail(Path(match.group(1)).read_text(errors="replace"))
        if not console_tail.strip():
            console_tail = tail(text)
        return cls(action, command=command, console_tail=console_tail)


def tail(text: str, lines: int = _TAIL_LINES) -> str:
    """Last ``lines`` non-empty-trailing lines of a console text.

    Parameters
    ----------
    text : str
        Console output.
    lines : int
        How many lines to keep. Default is 20.

    Returns
    -------
    tail : str
    """
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _find_command(text: str) -> str:
    match = re.search(r"cmd \(chain 1\):\s*\n\s*(\[.*\])", text)
    if match:
        try:
            return " ".join(str(part) for part in ast.literal_eval(match.group(1)))
        except (ValueError, SyntaxError):
            return match.group(1)
    match = re.search(r"Command '(.*?)' failed", text)
    if match:
        return match.group(1)
    match = re.search(r"Command:?\s*\n?\s*(\[.*\])", text)
    if match:
        return match.group(1)
    return "(not reported by cmdstanpy)"
