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
from collections.abc import Callable, Coroutine
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


async def run_with_deadline(
    coro: Coroutine[Any, Any, T],
    seconds: float,
    *,
    on_deadline: Callable[[], None] | None = None,
) -> tuple[bool, T | None]:
    """Run `coro` as its own task for at most `seconds`: (timed_out, result).

        start task ──► its first step runs before the timer can fire
             │          (an instant command always completes, even with 0)
             ├─ finished first ────────────► (False, result)
             └─ timer fires ─► on_deadline() ─► task.cancel() ─► wait until it
                                               has unwound ─► (True, result or None)

    `timed_out` says the deadline fired; `result` is what the work returned
    if it finished anyway (None when it ended by cancellation or an error).
    `on_deadline` runs when the timer fires, before the work is cancelled,
    so a note it writes comes before whatever the work reports as it unwinds.

    Cancellation: if the caller is cancelled, the work is cancelled and
    awaited to the end (externals get TERM, grace, KILL) before
    CancelledError propagates. Raises: the work's own exception when the
    deadline did not fire.
    """
    loop = asyncio.get_running_loop()
    task = loop.create_task(coro)
    fired = False

    def expire() -> None:
        nonlocal fired
        if not task.done():
            fired = True
            if on_deadline is not None:
                on_deadline()
            task.cancel()

    timer = loop.call_later(max(seconds, 0.0), expire)
    try:
        await asyncio.wait([task])
    except asyncio.CancelledError:
        task.cancel()
        while not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([task])
        raise
    finally:
        timer.cancel()
    if task.cancelled():
        if fired:
            return True, None
        raise asyncio.CancelledError  # cancelled by someone other than the timer
    error = task.exception()
    if error is not None:
        if fired:
            return True, None
        raise error
    return fired, task.result()
