"""Small helpers shared by the scheduler tests (no pytest-asyncio needed)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


def run(awaitable: Awaitable[T], timeout: float = 10.0) -> T:
    """Run `awaitable` on a fresh event loop, failing if it takes over `timeout`."""

    async def main() -> T:
        return await asyncio.wait_for(awaitable, timeout)

    return asyncio.run(main())


def open_fds() -> set[int]:
    """The fds this process has open (the listing's own fd appears every time)."""
    return {int(name) for name in os.listdir("/proc/self/fd")}


def processes_in_group(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes whose process group is `pgid`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # Fields after the ")" that ends the command name: state ppid pgrp ...
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            found.append(int(name))
    return found
