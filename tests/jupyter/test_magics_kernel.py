"""%kaish / %%kaish in a real Python (ipykernel) kernel, driven through
jupyter_client as a notebook would: every iopub message is kept under the
request that caused it, so "which cell did this reach" is checked on the
wire (the message's parent header), not guessed from timing."""

from __future__ import annotations

import queue
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

from jupyter_client.manager import start_new_kernel  # noqa: E402

from tests.jupyter.processes import process_gone, wait_until  # noqa: E402

WAIT = 30.0  # seconds: generous bounds for a loaded machine; passing tests never wait this long


class PythonKernel:
    """One ipykernel with the extension loaded; iopub pumped into per-request lists."""

    def __init__(self) -> None:
        self.km, self.kc = start_new_kernel(kernel_name="python3", startup_timeout=60)
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._replies: dict[str, dict[str, Any]] = {}
        self._idle: set[str] = set()
        reply = self.run("%load_ext kaish_kernel")
        assert reply["status"] == "ok", reply

    def pump(self, timeout: float = 0.05) -> None:
        try:
            msg = self.kc.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            msg = None
        while msg is not None:
            parent = msg["parent_header"].get("msg_id", "")
            self.messages[parent].append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                self._idle.add(parent)
            try:
                msg = self.kc.get_iopub_msg(timeout=0.001)
            except queue.Empty:
                msg = None
        while True:
            try:
                reply = self.kc.get_shell_msg(timeout=0.001)
            except queue.Empty:
                break
            self._replies[reply["parent_header"].get("msg_id", "")] = reply["content"]

    def submit(self, code: str) -> str:
        return self.kc.execute(code)

    def done(self, msg_id: str) -> bool:
        return msg_id in self._idle and msg_id in self._replies

    def wait(self, msg_id: str, timeout: float = WAIT) -> dict[str, Any]:
        self.pump_until(lambda: self.done(msg_id), timeout)
        return self._replies[msg_id]

    def run(self, code: str, timeout: float = WAIT) -> dict[str, Any]:
        return self.wait(self.submit(code), timeout)

    def pump_until(self, predicate: Callable[[], bool], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the kernel did not get there in time")
            self.pump()

    def stream(self, msg_id: str, name: str = "stdout") -> str:
        return "".join(
            m["content"]["text"]
            for m in self.messages[msg_id]
            if m["msg_type"] == "stream" and m["content"]["name"] == name
        )

    def shutdown(self) -> None:
        self.kc.stop_channels()
        if self.km.is_alive():
            self.km.shutdown_kernel(now=False)


class KernelHolder:
    """One kernel for the module; a test that shuts it down leaves the next
    test a fresh one (so test order does not matter)."""

    def __init__(self) -> None:
        self.current: PythonKernel | None = None

    def get(self) -> PythonKernel:
        if self.current is None:
            self.current = PythonKernel()
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.shutdown()
            self.current = None


@pytest.fixture(scope="module")
def kernels() -> Iterator[KernelHolder]:
    holder = KernelHolder()
    try:
        yield holder
    finally:
        holder.close()


@pytest.fixture
def kernel(kernels: KernelHolder) -> PythonKernel:
    return kernels.get()




def read_pid(path: Path) -> int:
    assert wait_until(lambda: path.exists() and path.read_text().strip() != "")
    return int(path.read_text())


def test_state_persists_across_cells(kernel: PythonKernel, tmp_path: Path) -> None:
    assert kernel.run(f"%kaish X=41; cd {tmp_path}")["status"] == "ok"
    assert kernel.run('%%kaish\nshow() {\n  echo "x=$X"\n}\nalias s=show')["status"] == "ok"
    msg_id = kernel.submit("%kaish s; pwd")
    assert kernel.wait(msg_id)["status"] == "ok"
    assert kernel.stream(msg_id) == f"x=41\n{tmp_path}\n"


def test_cell_streams_its_first_line_before_it_finishes(
    kernel: PythonKernel, tmp_path: Path
) -> None:
    flag = tmp_path / "seen-first"
    msg_id = kernel.submit(
        "%%kaish\necho first\ni=0\n"
        f"while ! test -f {flag}; do sleep 0.01; i=$((i+1)); if test $i -gt 2000; then echo timeout; break; fi; done\n"
        "echo second"
    )
    # the cell cannot finish until the test has seen "first" and made the flag
    kernel.pump_until(lambda: "first" in kernel.stream(msg_id))
    assert not kernel.done(msg_id)
    flag.touch()
    assert kernel.wait(msg_id)["status"] == "ok"
    assert kernel.stream(msg_id) == "first\nsecond\n"


def test_job_from_cell_one_reports_to_cell_one_while_cell_two_runs(
    kernel: PythonKernel, tmp_path: Path
) -> None:
    go, done = tmp_path / "go", tmp_path / "done"
    first = kernel.submit(
        "%%kaish --bg\necho job-start\n"
        f"while ! test -f {go}; do sleep 0.01; done\n"
        f"echo job-end; touch {done}"
    )
    assert kernel.wait(first)["status"] == "ok"
    # cell 2 releases the job and stays busy until the job has written its last line
    second = kernel.submit(
        f"open({str(go)!r}, 'w').close()\n"
        "import os, time\n"
        f"for _ in range(3000):\n    if os.path.exists({str(done)!r}): break\n    time.sleep(0.01)\n"
        "print('cell two')"
    )
    assert kernel.wait(second)["status"] == "ok"
    kernel.pump_until(lambda: "done:0" in kernel.stream(first))
    first_out = kernel.stream(first)
    assert "job-start\n" in first_out and "job-end\n" in first_out
    assert first_out.startswith("[") and "started in the background" in first_out
    assert kernel.stream(second) == "cell two\n"
    assert not any("job-" in m["content"].get("text", "") for m in kernel.messages[second])


def test_in_out_data_code_round_trip(kernel: PythonKernel) -> None:
    setup = (
        "values = [[1, -2.5, True, None, 'two words', [], {}],"
        " {'name': 'x', 'nested': {'xs': [1, 2]}, 'none': None, 'flag': False},"
        " 42, 2.5, True, False, None, 'text']\n"
        "rec = values[1]"
    )
    assert kernel.run(setup)["status"] == "ok"
    loop = (
        "same = []\n"
        "for v in values:\n"
        "    r = %kaish --in v tojson $v | fromjson\n"
        "    same.append(r.data == v and type(r.data) is type(v))\n"
        "print(same)"
    )
    msg_id = kernel.submit(loop)
    assert kernel.wait(msg_id)["status"] == "ok"
    assert kernel.stream(msg_id).splitlines()[-1] == str([True] * 8)

    reply = kernel.run("%%kaish --in rec --data d --out o --code c\ntojson $rec | fromjson")
    assert reply["status"] == "ok"
    check = kernel.submit(
        'print(d == rec, o == \'{"name":"x","nested":{"xs":[1,2]},"none":null,"flag":false}\', c)'
    )
    assert kernel.wait(check)["status"] == "ok"
    assert kernel.stream(check) == "True True 0\n"

    msg_id = kernel.submit("%kaish --code c2 exit 5\nprint(c2)")
    assert kernel.wait(msg_id)["status"] == "ok"
    assert kernel.stream(msg_id) == "5\n"


def test_failing_command_raises_with_the_code(kernel: PythonKernel) -> None:
    msg_id = kernel.submit("%kaish echo bad >&2; exit 3")
    reply = kernel.wait(msg_id)
    assert reply["status"] == "error"
    assert reply["ename"] == "KaishCommandError"
    assert reply["evalue"] == "kaish exited with status 3: bad"
    assert kernel.stream(msg_id, "stderr") == "bad\n"
    msg_id = kernel.submit(
        "try:\n    %kaish exit 7\nexcept Exception as e:\n    print(type(e).__name__, e.code, e.returncode)"
    )
    assert kernel.wait(msg_id)["status"] == "ok"
    assert kernel.stream(msg_id) == "KaishCommandError 7 7\n"


def test_interrupt_cancels_the_running_cell(kernel: PythonKernel, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    msg_id = kernel.submit(f"%%kaish\nsh -c 'echo $$ > {pidfile}; exec sleep 30'")
    pid = read_pid(pidfile)
    kernel.km.interrupt_kernel()
    reply = kernel.wait(msg_id)
    assert reply["status"] == "error"
    assert reply["ename"] == "KaishInterrupted"
    assert wait_until(lambda: process_gone(pid))
    after = kernel.submit("%kaish echo alive")
    assert kernel.wait(after)["status"] == "ok"
    assert kernel.stream(after) == "alive\n"


def test_shutting_the_kernel_down_kills_job_process_groups(
    kernels: KernelHolder, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    k = kernels.get()
    try:
        reply = k.run(f"%%kaish --bg\nsh -c 'echo $$ > {pidfile}; exec sleep 60'")
        assert reply["status"] == "ok"
        pid = read_pid(pidfile)
        jobs = k.submit("%kaish_jobs")
        assert k.wait(jobs)["status"] == "ok"
        assert "running" in k.stream(jobs) and "sh -c" in k.stream(jobs)
    finally:
        kernels.close()  # a shutdown_request, as a notebook's "shut down kernel" sends
    assert wait_until(lambda: process_gone(pid), timeout=15)


def test_killing_the_kernel_leaves_no_job_behind(kernels: KernelHolder, tmp_path: Path) -> None:
    """SIGKILL skips every cleanup: the guardian process ends the job's group."""
    pidfile = tmp_path / "pid"
    k = kernels.get()
    try:
        reply = k.run(f"%%kaish --bg\nsh -c 'echo $$ > {pidfile}; exec sleep 61'")
        assert reply["status"] == "ok"
        pid = read_pid(pidfile)
        k.km.provisioner.process.kill()  # type: ignore[union-attr]
        k.km.provisioner.process.wait(10)  # type: ignore[union-attr]
        assert wait_until(lambda: process_gone(pid), timeout=15)
    finally:
        k.kc.stop_channels()
        k.km.cleanup_resources()
        kernels.current = None
