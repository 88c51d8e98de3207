"""The guardian ends an owner's process groups when the owner dies uncleanly,
and never a group that is no longer the one it was told about."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from kaish_kernel.scheduler import guardian_main

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")

OWNER = textwrap.dedent(
    """
    import os, signal, subprocess, sys
    from kaish_kernel.scheduler import guardian
    guardian.enable()
    child = subprocess.Popen(["/bin/sleep", "4731"], process_group=0)
    guardian.track(child.pid)
    print(child.pid, guardian._proc.pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat", "rb").read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


def wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_a_killed_owner_leaves_no_process_group_behind() -> None:
    owner = subprocess.run([sys.executable, "-c", OWNER], capture_output=True, text=True, timeout=60)
    assert owner.returncode == -signal.SIGKILL, owner.stderr
    sleeper, keeper = map(int, owner.stdout.split())
    try:
        assert wait_gone(sleeper), "the owner's process group outlived it"
        assert wait_gone(keeper), "the guardian did not exit after its work"
    finally:
        for pid in (sleeper, keeper):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_reused_group_number_is_left_alone() -> None:
    other = subprocess.Popen(["/bin/sleep", "30"], process_group=0)
    try:
        stat = guardian_main._stat(other.pid)
        assert stat is not None and stat[0] == other.pid
        session = os.getsid(0)
        assert guardian_main._belongs(other.pid, stat[2], session)
        assert not guardian_main._belongs(other.pid, stat[2] - 1, session)
        assert not guardian_main._belongs(999_999_999, None, session)
    finally:
        other.kill()
        other.wait()
