"""Durations as `timeout`, `scatter --timeout` and `sleep` spell them.

    30, 1.5, 0     seconds (a bare number)
    500ms          milliseconds, whole numbers only
    2s, 1.5m, 1h   seconds, minutes, hours (decimals allowed)

Negative values and anything else are invalid.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["DURATION_HINT", "parse_duration", "run_with_deadline"]

T = TypeVar("T")

DURATION_HINT = "try: 30, 5s, 500ms, 2m, 1h"

_RE = re.compile(r"(?:(\d+)ms|(\d+(?:\.\d+)?)([smh]?))\Z")
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float | None:
    """Seconds, or None when `text` is not a valid duration."""
    match = _RE.match(text.strip())
    if match is None:
        return None
    if match.group(1) is not None:
        return int(match.group(1)) / 1000.0
    return float(match.group(2)) * _UNIT[match.group(3)]


async def run_with_deadline(coro: Coroutine[Any, Any, T], seconds: float) -> tuple[bool, T | None]:
    """Run `coro` for at most `seconds`: (timed_out, result).

    On the deadline the work is cancelled and awaited (so externals get TERM,
    grace, KILL before this returns). If the caller itself is cancelled, the
    work is cancelled too and the CancelledError propagates.
    """
    task = asyncio.ensure_future(coro)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise
    if task in done:
        return False, task.result()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    return True, None
