"""Which processes the browser test started, and whether any outlived it.

A process is named by (pid, start time) so that a recycled pid is never
mistaken for one of ours. Two nets catch leftovers:

    ProcessTracker.ours()      new descendants of pytest since the tracker was
                               made, taken while everything runs: the server, its
                               kernel, Playwright's driver and every Chromium
                               process (the kernel and Chromium start their own
                               sessions, but their parents are still ours);
                               whatever other tests' fixtures keep running is in
                               the baseline and never touched
    mentioning(marker)         every process whose command line names the
                               test's private temp dir (kernel connection file,
                               Chromium --user-data-dir), even one reparented
                               to init after its parent died

Zombies count as gone: they run nothing, and an orphan's zombie is reaped by
whoever is pid 1, not by us.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field

__all__ = [
    "Process",
    "ProcessTracker",
    "alive",
    "descendants",
    "kill_all",
    "mentioning",
    "wait_gone",
]


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    started: int  # clock ticks after boot (/proc/PID/stat field 22)
    command: str = field(compare=False)  # programs may rewrite it (Chromium's zygote does)

    def __str__(self) -> str:
        return f"{self.pid} {self.command[:160]}"


def _read(pid: int) -> tuple[int, str, int, str] | None:
    """(ppid, state, start time, command line) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read()
    except OSError:
        return None
    fields = stat.rsplit(b")", 1)[1].split()
    state, ppid, started = fields[0].decode(), int(fields[1]), int(fields[19])
    return ppid, state, started, argv.replace(b"\0", b" ").decode(errors="replace").strip()


def _table() -> dict[int, tuple[int, str, int, str]]:
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            row = _read(int(name))
            if row is not None:
                table[int(name)] = row
    return table


def descendants(root: int) -> set[Process]:
    """Every live process below `root` (children, grandchildren, ...)."""
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[Process] = set()
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        _ppid, state, started, command = table[pid]
        if state != "Z":
            found.add(Process(pid, started, command))
        stack.extend(children.get(pid, []))
    return found


def mentioning(marker: str) -> set[Process]:
    """Live processes whose command line contains `marker`."""
    return {
        Process(pid, started, command)
        for pid, (_ppid, state, started, command) in _table().items()
        if marker in command and state != "Z" and pid != os.getpid()
    }


def alive(processes: set[Process]) -> set[Process]:
    """Those of `processes` still running (same pid *and* start time)."""
    left = set()
    for process in processes:
        row = _read(process.pid)
        if row is not None and row[1] != "Z" and row[2] == process.started:
            left.add(process)
    return left


def wait_gone(processes: set[Process], timeout: float) -> set[Process]:
    """Wait up to `timeout` seconds for `processes` to end; returns the survivors."""
    deadline = time.monotonic() + timeout
    left = alive(processes)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = alive(left)
    return left


def kill_all(processes: set[Process]) -> None:
    """SIGKILL whatever is left of `processes` (the fixture's last resort)."""
    for process in alive(processes):
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class ProcessTracker:
    """The processes started below this one since the tracker was made."""

    def __init__(self) -> None:
        self.baseline = descendants(os.getpid())
        self.seen: set[Process] = set()

    def __repr__(self) -> str:
        return f"<ProcessTracker baseline={len(self.baseline)} seen={len(self.seen)}>"

    def ours(self) -> set[Process]:
        """New descendants, running now (also remembered for `kill_leftovers`)."""
        now = descendants(os.getpid()) - self.baseline
        self.seen |= now
        return now

    def kill_leftovers(self) -> None:
        kill_all(self.seen | self.ours())
