"""No orphans, even when the owner is killed: the owner side of the guardian.

A long-lived front end (the Jupyter kernel, the IPython magics) calls
`enable()` once. From then on every external command's process group is
reported to a small guardian process (`guardian_main.py`) over a pipe; if
this process dies without its own cleanup — SIGKILL included — the pipe
closes and the guardian ends those groups (TERM, grace, KILL). A normal
shutdown kills the jobs first, so the guardian finds nothing left to end.

The CLI does not enable it: a terminal user's Ctrl-C and exit paths already
clean up, and a script should not pay for a second process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

__all__ = ["enable", "enabled", "track"]

_MAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guardian_main.py")
_GRACE_SECONDS = 2.0

_lock = threading.Lock()
_proc: subprocess.Popen[bytes] | None = None
_fd: int | None = None  # the write end of the guardian's stdin


def enable() -> None:
    """Start the guardian for this process (once; later calls do nothing)."""
    global _proc, _fd
    with _lock:
        if _proc is not None and _proc.poll() is None:
            return
        _proc = subprocess.Popen(
            [sys.executable, "-I", "-S", _MAIN, str(os.getsid(0)), str(_GRACE_SECONDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,  # interrupts aimed at our group never reach it
        )
        assert _proc.stdin is not None
        _fd = _proc.stdin.fileno()
        os.set_blocking(_fd, False)  # a stalled guardian must never stall the shell


def enabled() -> bool:
    return _fd is not None


def track(pgid: int) -> None:
    """Report a new process group to the guardian (no-op when not enabled)."""
    global _fd
    fd = _fd
    if fd is None:
        return
    try:
        os.write(fd, b"%d\n" % pgid)  # one short write: atomic on a pipe
    except BlockingIOError:  # its pipe is full: this group goes unguarded
        pass
    except OSError:  # the guardian is gone; carry on without it
        _fd = None
