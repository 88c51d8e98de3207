"""Drive a real kaish kernel through jupyter_client, as a notebook would.

`install_test_kernelspecs()` puts two kernelspecs into a private prefix and
points JUPYTER_PATH at it (so a fresh clone needs no `kaish install`):

    kaish           interrupt_mode signal (jupyter_client sends SIGINT to the group)
    kaish-message   interrupt_mode message (interrupt_request on the control channel)

`KernelHarness` keeps every iopub message, grouped by the request that caused
it, so a test can ask "what reached cell 1 while cell 2 ran".
"""

from __future__ import annotations

import os
import queue
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import KernelManager, start_new_kernel

KERNEL_NAME = "kaish"
MESSAGE_KERNEL_NAME = "kaish-message"
_installed: str | None = None


def install_test_kernelspecs() -> str:
    """Install both specs once per process; returns the JUPYTER_PATH entry."""
    global _installed
    if _installed is None:
        from kaish_kernel.jupyter.install import install_kernelspec

        prefix = tempfile.mkdtemp(prefix="kaish-test-jupyter-")
        install_kernelspec(prefix=prefix, kernel_name=KERNEL_NAME)
        install_kernelspec(prefix=prefix, kernel_name=MESSAGE_KERNEL_NAME, interrupt_mode="message")
        _installed = os.path.join(prefix, "share", "jupyter")
        previous = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = _installed + (os.pathsep + previous if previous else "")
    return _installed


@dataclass
class Cell:
    msg_id: str
    sent_at: float
    reply: dict[str, Any] | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)  # iopub, in arrival order
    arrival: list[float] = field(default_factory=list)  # seconds after sent_at
    idle: bool = False

    def outputs(self, *types: str) -> list[dict[str, Any]]:
        skip = {"status", "execute_input"}
        return [m for m in self.messages if m["msg_type"] not in skip and (not types or m["msg_type"] in types)]

    def stream_text(self, name: str = "stdout") -> str:
        return "".join(
            m["content"]["text"] for m in self.messages if m["msg_type"] == "stream" and m["content"]["name"] == name
        )

    def first_stream_delay(self) -> float | None:
        for msg, at in zip(self.messages, self.arrival, strict=True):
            if msg["msg_type"] == "stream":
                return at
        return None


class KernelHarness:
    """One kernel plus a client; iopub is pumped into per-request buckets."""

    def __init__(self, kernel_name: str = KERNEL_NAME, *, startup_timeout: float = 60) -> None:
        install_test_kernelspecs()
        self.km: KernelManager
        self.km, self.kc = start_new_kernel(kernel_name=kernel_name, startup_timeout=startup_timeout)
        self.cells: dict[str, Cell] = {}
        self.by_parent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._replies: dict[str, dict[str, Any]] = {}

    # -- plumbing ------------------------------------------------------------------
    def pump(self, timeout: float = 0.05) -> int:
        """Move every available iopub message into its bucket; returns how many."""
        moved = 0
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=timeout if moved == 0 else 0.001)
            except queue.Empty:
                return moved
            moved += 1
            parent_id = msg["parent_header"].get("msg_id", "")
            self.by_parent[parent_id].append(msg)
            cell = self.cells.get(parent_id)
            if cell is not None:
                cell.messages.append(msg)
                cell.arrival.append(time.monotonic() - cell.sent_at)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    cell.idle = True

    def _pump_shell(self) -> None:
        while True:
            try:
                msg = self.kc.get_shell_msg(timeout=0.001)
            except queue.Empty:
                return
            self._replies[msg["parent_header"].get("msg_id", "")] = msg

    def shell_reply(self, msg_id: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while msg_id not in self._replies:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no shell reply to {msg_id}")
            try:
                msg = self.kc.get_shell_msg(timeout=0.05)
            except queue.Empty:
                continue
            self._replies[msg["parent_header"].get("msg_id", "")] = msg
        return self._replies.pop(msg_id)

    # -- requests ------------------------------------------------------------------
    def submit(self, code: str, **kwargs: Any) -> Cell:
        cell = Cell(msg_id="", sent_at=time.monotonic())
        cell.msg_id = self.kc.execute(code, **kwargs)
        self.cells[cell.msg_id] = cell
        return cell

    def wait(self, cell: Cell, timeout: float = 30) -> Cell:
        deadline = time.monotonic() + timeout
        while not (cell.idle and cell.reply is not None):
            if time.monotonic() > deadline:
                raise TimeoutError(f"cell {cell.msg_id} did not finish in {timeout}s")
            self.pump()
            self._pump_shell()
            if cell.reply is None and cell.msg_id in self._replies:
                cell.reply = self._replies.pop(cell.msg_id)["content"]
        return cell

    def run(self, code: str, timeout: float = 30, **kwargs: Any) -> Cell:
        return self.wait(self.submit(code, **kwargs), timeout)

    def pump_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(timeout=min(0.05, max(0.001, deadline - time.monotonic())))

    def request(self, method: str, *args: Any, timeout: float = 30, **kwargs: Any) -> dict[str, Any]:
        msg_id = getattr(self.kc, method)(*args, **kwargs)
        return self.shell_reply(msg_id, timeout)["content"]

    def shutdown(self) -> None:
        self.kc.stop_channels()
        if self.km.has_kernel and self.km.is_alive():
            self.km.shutdown_kernel(now=False)
