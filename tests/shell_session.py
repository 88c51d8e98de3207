"""A Shell kept across several `execute` calls, for end-to-end job and scatter tests.

    async with ShellSession(tmp_path) as sh:
        first = await sh("sleep 30 &")          # -> Outcome(out, err, code)
        await sh.until("cat /v/jobs/1/status", "done:0\\n")

Also: helpers that look for processes in /proc (by a marker in their command
line, or by process group), so tests can prove nothing was left behind.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from kaish_kernel.scheduler.stage import CaptureOutput
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink
from kaish_kernel.shell import Shell

ENV_KEYS = ("PATH", "HOME", "LANG", "TMPDIR")


class Outcome(NamedTuple):
    """What one call printed and returned (compares equal to an (out, err, code) tuple)."""

    out: str
    err: str
    code: int


class ShellSession:
    def __init__(self, cwd: Path | str, *, kill_grace: float | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k in ENV_KEYS}
        self.shell = Shell(cwd=str(cwd), env=env)
        if kill_grace is not None:
            self.shell.session.kill_grace = kill_grace
            self.shell.jobs.kill_grace = kill_grace

    async def __aenter__(self) -> ShellSession:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shell.close()

    async def __call__(self, source: str) -> Outcome:
        out, err = CaptureOutput(), CaptureErrorSink()
        result = await self.shell.execute(source, stdout=out, stderr=err)
        return Outcome(out.getvalue().decode("utf-8", "replace"), err.text(), result.code)

    async def until(self, source: str, expected: str, timeout: float = 10.0) -> Outcome:
        """Run `source` until its stdout is `expected` (or fail after `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            outcome = await self(source)
            if outcome.out == expected:
                return outcome
            if time.monotonic() > deadline:
                raise AssertionError(f"{source!r} never printed {expected!r}; last: {outcome}")
            await asyncio.sleep(0.02)


def processes_with(marker: str) -> list[int]:
    """Pids of live (non-zombie) processes whose command line contains `marker`."""
    found = []
    needle = marker.encode()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read()
            with open(f"/proc/{name}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state != b"Z":
            found.append(int(name))
    return found


async def wait_for_processes(marker: str, count: int = 1, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(pids := processes_with(marker)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} process(es) with {marker!r}, found {pids}")
        await asyncio.sleep(0.02)
    return pids


def wait_gone(marker: str, timeout: float = 5.0) -> list[int]:
    """The processes with `marker` still alive after waiting up to `timeout` ([] is good)."""
    deadline = time.monotonic() + timeout
    while (pids := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return pids
