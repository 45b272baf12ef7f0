"""Timing helpers shared by the benchmark scripts (CPU time of child processes, wall time).

The scripts run as ``python benchmarks/NAME.py``, so this directory is on ``sys.path``.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

__all__ = ["child_cpu", "say", "timed"]


def say(message: str) -> None:
    """Print a progress line at once (benchmarks run for minutes)."""
    print(message, flush=True)


def child_cpu() -> float:
    """CPU seconds (user + sys) of the finished child processes so far (CmdStan runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``call``; return its value, the CPU seconds of the children it ran, wall s."""
    cpu, wall = child_cpu(), time.perf_counter()
    value = call()
    return value, child_cpu() - cpu, time.perf_counter() - wall
