"""Interrupt (signal and message modes), restart and shutdown of the real kernel.

Process checks look for commands with unusual arguments (`sleep 4711`) in
/proc, so they cannot confuse another test's processes for ours.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.jupyter.harness import MESSAGE_KERNEL_NAME, KernelHarness

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not os.path.isdir("/proc"), reason="process checks read /proc"),
]


def processes_with(marker: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
            with open(f"/proc/{name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in argv and state != b"Z":
            found.append(int(name))
    return found


def wait_until_gone(marker: str, timeout: float = 5) -> list[int]:
    deadline = time.monotonic() + timeout
    while (alive := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def interrupt_after(kernel: KernelHarness, code: str, delay: float = 0.5) -> tuple[float, dict]:
    cell = kernel.submit(code)
    kernel.pump_for(delay)
    sent = time.monotonic()
    kernel.km.interrupt_kernel()
    kernel.wait(cell, timeout=10)
    assert cell.reply is not None
    return time.monotonic() - sent, cell.reply


@pytest.fixture(scope="module")
def message_kernel() -> Iterator[KernelHarness]:
    harness = KernelHarness(MESSAGE_KERNEL_NAME)
    try:
        yield harness
    finally:
        harness.shutdown()


@pytest.mark.parametrize("mode", ["signal", "message"])
@pytest.mark.parametrize("command", ["sleep 100", "/bin/sleep 4711"])
def test_interrupt_stops_the_cell_quickly_and_the_kernel_lives_on(
    mode: str, command: str, kernel: KernelHarness, message_kernel: KernelHarness
) -> None:
    target = kernel if mode == "signal" else message_kernel
    took, reply = interrupt_after(target, command)
    assert took < 2, f"interrupt took {took:.2f}s"
    assert reply["status"] == "error"
    assert reply["ename"] == "KeyboardInterrupt"
    assert wait_until_gone("4711") == []
    after = target.run("echo still here")
    assert after.stream_text() == "still here\n"


def test_interrupt_reaches_a_command_that_ignores_sigterm(kernel: KernelHarness) -> None:
    took, reply = interrupt_after(kernel, """sh -c 'trap "" TERM; /bin/sleep 4718'""")
    assert reply["ename"] == "KeyboardInterrupt"
    assert took < 2, f"interrupt took {took:.2f}s"
    assert wait_until_gone("4718") == []


def test_interrupt_while_waiting_for_input(kernel: KernelHarness) -> None:
    cell = kernel.submit("read NAME", allow_stdin=True)
    assert kernel.kc.get_stdin_msg(timeout=30)["msg_type"] == "input_request"
    kernel.km.interrupt_kernel()
    kernel.wait(cell, timeout=10)
    assert cell.reply is not None and cell.reply["ename"] == "KeyboardInterrupt"
    assert kernel.run("echo next").stream_text() == "next\n"


def test_background_jobs_survive_an_interrupt(kernel: KernelHarness) -> None:
    kernel.run("/bin/sleep 4712 &")
    took, reply = interrupt_after(kernel, "/bin/sleep 4711")
    assert reply["ename"] == "KeyboardInterrupt" and took < 2
    assert processes_with("4712"), "the background job died with the foreground cell"
    listing = kernel.run("jobs")
    assert "Running" in listing.stream_text() and "4712" in listing.stream_text()
    kernel.run("kill %1")
    assert wait_until_gone("4712") == []


def test_restart_kills_every_job(kernel: KernelHarness) -> None:
    kernel.run("/bin/sleep 4715 &")
    kernel.run("sh -c '/bin/sleep 4716; true' &")
    assert processes_with("4715") and processes_with("4716")
    kernel.km.restart_kernel(now=False)
    kernel.kc.wait_for_ready(timeout=60)
    assert wait_until_gone("4715") == [] and wait_until_gone("4716") == []
    cell = kernel.run("echo fresh; jobs")
    assert cell.stream_text() == "fresh\n(no jobs)\n"


def test_no_process_survives_shutdown(message_kernel: KernelHarness) -> None:
    message_kernel.run("/bin/sleep 4713 &")
    message_kernel.run("sh -c '/bin/sleep 4714; true' &")
    message_kernel.run("sleep 4717 &")  # a builtin job: nothing to kill but its task
    assert processes_with("4713") and processes_with("4714")
    message_kernel.km.shutdown_kernel(now=False)
    assert not message_kernel.km.is_alive()
    assert wait_until_gone("4713") == [] and wait_until_gone("4714") == []


def test_no_process_survives_a_killed_kernel() -> None:
    """SIGKILL runs none of the kernel's cleanup: the guardian process ends
    what it started — background jobs, their children, and the foreground."""
    harness = KernelHarness()
    try:
        harness.run("/bin/sleep 4718 &")
        harness.run("sh -c '/bin/sleep 4719; true' &")
        harness.submit("/bin/sleep 4720")  # still running in the foreground
        deadline = time.monotonic() + 10
        while not processes_with("4720") and time.monotonic() < deadline:
            harness.pump_for(0.05)
        assert processes_with("4718") and processes_with("4719") and processes_with("4720")
        harness.km.provisioner.process.kill()  # type: ignore[union-attr]
        harness.km.provisioner.process.wait(10)  # type: ignore[union-attr]
        for marker in ("4718", "4719", "4720"):
            assert wait_until_gone(marker, timeout=10) == [], f"sleep {marker} outlived the kernel"
    finally:
        harness.kc.stop_channels()
        harness.km.cleanup_resources()
