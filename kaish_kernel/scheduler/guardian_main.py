"""The guardian process: ends the process groups a kaish front end leaves behind.

    python -I -S guardian_main.py OWNER_SESSION GRACE_SECONDS   (stdin: "PGID\\n" lines)

A Jupyter kernel or an IPython session may die without running its cleanup
(SIGKILL from a restart that timed out, the OOM killer). Every external
command kaish starts runs in a process group of its own, so nothing else
would stop them. The owner writes each new group's number to this
process's stdin; when stdin reaches EOF — which happens however the owner
exits — every recorded group that still belongs to the owner gets SIGTERM,
then SIGKILL after the grace period.

A group still belongs to the owner when its leader is the process recorded
(same start time), or, with the leader gone, when a member is still in the
owner's session. Standard library only, started with -I -S: no site, no
package imports, a few milliseconds of start-up.
"""

from __future__ import annotations

import os
import signal
import sys
import time

_PRUNE_AT = 1024  # recorded groups before the ones that are gone are forgotten


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(pgrp, session, start time) of a live, non-zombie process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    if fields[0] == b"Z":
        return None
    return int(fields[2]), int(fields[3]), int(fields[19])


def _members(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except OSError:
        return False
    return True


def _belongs(pgid: int, start: int | None, session: int) -> bool:
    leader = _stat(pgid)
    if leader is not None:
        return leader[0] == pgid and (start is None or leader[2] == start)
    for name in os.listdir("/proc"):
        if name.isdigit():
            member = _stat(int(name))
            if member is not None and member[0] == pgid:
                return member[1] == session
    return False


def _record(groups: dict[int, int | None], pgid: int) -> None:
    leader = _stat(pgid)
    groups[pgid] = leader[2] if leader is not None and leader[0] == pgid else None
    if len(groups) >= _PRUNE_AT:
        for gone in [pg for pg in groups if not _members(pg)]:
            del groups[gone]


def _end(groups: list[int], grace: float) -> None:
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_members(pg) for pg in groups):
        time.sleep(0.05)
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass


def main() -> int:
    session, grace = int(sys.argv[1]), float(sys.argv[2])
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    groups: dict[int, int | None] = {}
    for line in sys.stdin.buffer:
        text = line.strip()
        if text.isdigit():
            _record(groups, int(text))
    _end([pg for pg, start in groups.items() if _belongs(pg, start, session)], grace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
