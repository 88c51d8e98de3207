"""%kaish / %%kaish in IPython's InteractiveShell (no kernel): what a terminal
IPython user gets. Streams are swapped per cell, so "which cell did this
output reach" is a question about which recorder holds it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

IPython = pytest.importorskip("IPython")

from IPython.core.error import UsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from kaish_kernel.errors import KaishError  # noqa: E402
from kaish_kernel.jupyter.loop_thread import LoopThread  # noqa: E402
from kaish_kernel.jupyter.magic_session import (  # noqa: E402
    KaishCommandError,
    KaishResult,
    to_kaish_value,
)
from kaish_kernel.jupyter.magics import split_options  # noqa: E402
from tests.jupyter.processes import process_gone, wait_until  # noqa: E402

WAIT = 10.0  # seconds: upper bound for anything that should happen promptly


class Recorder:
    """A text stream that remembers what reached it, and can be waited on."""

    def __init__(self, on_write: Callable[[str], None] | None = None) -> None:
        self._parts: list[str] = []
        self._changed = threading.Condition()
        self._on_write = on_write

    def write(self, text: str) -> int:
        with self._changed:
            self._parts.append(text)
            self._changed.notify_all()
        if self._on_write is not None:
            self._on_write(self.text)
        return len(text)

    def flush(self) -> None:
        pass

    @property
    def text(self) -> str:
        with self._changed:
            return "".join(self._parts)

    def wait_for(self, needle: str, timeout: float = WAIT) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: needle in "".join(self._parts), timeout)




@pytest.fixture(scope="module")
def ip() -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kaish_kernel")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "kaish_kernel")


class Cell:
    """One cell's run: its result and what reached its stdout/stderr."""

    def __init__(self, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> None:
        self._ip = ip
        self._monkeypatch = monkeypatch

    def __call__(self, code: str, out: Recorder | None = None) -> tuple[Any, Recorder, Recorder]:
        out = out or Recorder()
        err = Recorder()
        with self._monkeypatch.context() as patch:
            patch.setattr(sys, "stdout", out)
            patch.setattr(sys, "stderr", err)
            result = self._ip.run_cell(code, store_history=True)
        return result, out, err


@pytest.fixture
def cell(ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> Cell:
    return Cell(ip, monkeypatch)


# -- state and streaming ----------------------------------------------------------------


def test_state_persists_across_cells(ip: InteractiveShell, cell: Cell, tmp_path: Path) -> None:
    cell(f"%kaish GREETING=hello; cd {tmp_path}")
    cell('%%kaish\ngreet() {\n  echo "$GREETING $1"\n}\nalias hi=greet')
    result, out, _ = cell("%kaish hi world; pwd")
    assert result.success
    assert out.text == f"hello world\n{tmp_path}\n"


def test_cell_streams_its_first_line_before_it_finishes(cell: Cell, tmp_path: Path) -> None:
    # The cell waits for a file that appears only once "first" has been shown:
    # if output were held until the end, the cell would time out instead.
    flag = tmp_path / "seen-first"
    out = Recorder(lambda text: flag.touch() if "first" in text else None)
    code = (
        "%%kaish\necho first\ni=0\n"
        f"while ! test -f {flag}; do sleep 0.01; i=$((i+1)); if test $i -gt 1000; then echo timeout; break; fi; done\n"
        "echo second"
    )
    result, out, _ = cell(code, out)
    assert result.success
    assert out.text == "first\nsecond\n"


def test_dollar_and_braces_belong_to_kaish(ip: InteractiveShell, cell: Cell) -> None:
    ip.user_ns["WHO"] = "python"
    _, out, _ = cell("%kaish WHO=kaish; echo $WHO '{WHO}'")
    assert out.text == "kaish {WHO}\n"


# -- data exchange ----------------------------------------------------------------------

VALUES: dict[str, Any] = {
    "a_list": [1, -2.5, True, False, None, "s", [], {}],
    "a_dict": {"name": "x", "nested": {"xs": [1, 2]}, "none": None, "flag": False},
    "an_int": 42,
    "a_float": 2.5,
    "a_bool": True,
    "a_none": None,
    "a_str": "two words",
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_in_and_data_round_trip(ip: InteractiveShell, cell: Cell, name: str) -> None:
    ip.user_ns[name] = VALUES[name]
    ip.user_ns.pop("back", None)
    # tojson makes the kaish value's own JSON text; fromjson reads it back as the typed value
    result, _, _ = cell(f"%%kaish --in {name} --data back\ntojson ${name} | fromjson")
    assert result.success, result.error_in_exec
    assert ip.user_ns["back"] == VALUES[name]
    assert type(ip.user_ns["back"]) is type(VALUES[name])


def test_in_binds_typed_values(ip: InteractiveShell, cell: Cell) -> None:
    ip.user_ns.update(VALUES)
    types = " ".join(
        f"$(typeof ${name})" for name in ("a_list", "a_dict", "an_int", "a_bool", "a_none")
    )
    _, out, _ = cell(f"%kaish -i a_list,a_dict --in an_int -i a_bool,a_none echo {types}")
    assert out.text == "list record number bool null\n"
    _, out, _ = cell("%kaish --in a_dict echo ${a_dict[nested][xs][1]}")
    assert out.text == "2\n"


def test_out_err_code_capture_without_showing(ip: InteractiveShell, cell: Cell) -> None:
    result, out, err = cell(
        "%%kaish --out o --err e --code c\necho to-out\necho to-err >&2\nexit 4"
    )
    assert result.success  # --code: the caller handles the status
    assert (ip.user_ns["o"], ip.user_ns["e"], ip.user_ns["c"]) == ("to-out\n", "to-err\n", 4)
    assert "to-out" not in out.text and "to-err" not in err.text


def test_data_is_none_when_no_value(ip: InteractiveShell, cell: Cell) -> None:
    cell("%kaish --data d echo plain")
    assert ip.user_ns["d"] is None


def test_in_refuses_values_without_a_kaish_form(ip: InteractiveShell, cell: Cell) -> None:
    ip.user_ns["odd"] = {"ok": [1, {2, 3}]}
    result, _, err = cell("%kaish --in odd echo never")
    assert isinstance(result.error_in_exec, UsageError)
    assert "odd['ok'][1] is a builtins.set" in err.text
    result, _, err = cell("%kaish --in missing_name echo never")
    assert "no Python variable named 'missing_name'" in err.text


def test_to_kaish_value_names_the_offending_part() -> None:
    assert to_kaish_value((1, (2, "x")), "t") == [1, [2, "x"]]
    assert to_kaish_value(b"\x00") == b"\x00"
    with pytest.raises(TypeError, match=r"cfg has a int key 1"):
        to_kaish_value({1: "a"}, "cfg")
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(TypeError, match="contains itself"):
        to_kaish_value(loop, "loop")


def test_result_object(ip: InteractiveShell, cell: Cell) -> None:
    _, out, _ = cell("r = %kaish seq 3")
    r = ip.user_ns["r"]
    assert isinstance(r, KaishResult)
    assert (r.code, r.out, r.err, r.has_data) == (0, "1\n2\n3\n", "", False)
    assert list(r) == ["1", "2", "3"]
    assert repr(r) == "KaishResult('seq 3', code=0, out='1\\n2\\n3\\n')"
    assert out.text == "1\n2\n3\n"  # it also streamed
    cell("""j = %kaish fromjson '{"a": [1, null]}'""")
    assert ip.user_ns["j"].data == {"a": [1, None]}
    assert "data={'a': [1, None]}" in repr(ip.user_ns["j"])


def test_bare_line_magic_is_not_echoed(cell: Cell) -> None:
    result, out, _ = cell("%kaish echo once")
    assert result.result is None
    assert out.text == "once\n"


# -- failures ---------------------------------------------------------------------------


def test_failing_command_raises_with_code_and_stderr(ip: InteractiveShell, cell: Cell) -> None:
    result, _, err = cell("%%kaish\necho nope >&2\nexit 3")
    error = result.error_in_exec
    assert isinstance(error, KaishCommandError) and isinstance(error, KaishError)
    assert (error.code, error.returncode, error.stderr) == (3, 3, "nope\n")
    assert str(error) == "kaish exited with status 3: nope"
    assert "nope" in err.text  # shown live, and the traceback is one line, not IPython internals
    result, _, _ = cell("%kaish --no-raise exit 2")
    assert result.success


def test_syntax_error_raises(cell: Cell) -> None:
    result, _, err = cell("%%kaish\nif true")
    assert isinstance(result.error_in_exec, KaishCommandError)
    assert result.error_in_exec.result.syntax_error is not None
    assert "1:1 [parse]" in err.text


def test_options(ip: InteractiveShell, cell: Cell) -> None:
    parser = ip.find_line_magic("kaish").parser
    argv, rest = split_options(parser, ' -i a,b --out=o  --bg echo -n "a  b" | wc ')
    assert argv == ["-i", "a,b", "--out=o", "--bg"]
    assert rest == 'echo -n "a  b" | wc'
    assert split_options(parser, "-ixs -- -weird") == (["-ixs"], "-weird")
    with pytest.raises(UsageError, match="unknown option '-x'"):
        split_options(parser, "-x ls")
    result, _, _ = cell("%%kaish echo stray\necho x")
    assert isinstance(result.error_in_exec, UsageError)
    result, _, _ = cell("%%kaish --bg --out o\necho x")
    assert isinstance(result.error_in_exec, UsageError)


def test_help_comes_from_the_option_declaration(ip: InteractiveShell) -> None:
    doc = ip.find_line_magic("kaish").__doc__
    for option in (
        "--in",
        "--out",
        "--err",
        "--data",
        "--code",
        "--bg",
        "--no-raise",
        "KaishResult",
    ):
        assert option in doc


# -- background jobs --------------------------------------------------------------------


def test_background_job_output_stays_in_its_cell(
    ip: InteractiveShell, cell: Cell, tmp_path: Path
) -> None:
    go, done = tmp_path / "go", tmp_path / "done"
    code = (
        "%%kaish --bg\necho job-start\n"
        f"while ! test -f {go}; do sleep 0.01; done\n"
        f"echo job-end; touch {done}"
    )
    result, first_out, _ = cell(code)
    assert result.success
    job_id = int(first_out.text.split("]")[0].lstrip("["))
    assert first_out.wait_for("job-start")
    # cell 2 runs while the job waits, and releases it; its output is its own
    result, second_out, _ = cell(
        f"open({str(go)!r}, 'w').close()\n"
        f"import os, time\nfor _ in range(1000):\n    if os.path.exists({str(done)!r}): break\n    time.sleep(0.01)\n"
        "print('cell two')"
    )
    assert result.success
    assert first_out.wait_for(f"[{job_id}] done:0")
    assert "job-end" in first_out.text
    assert second_out.text == "cell two\n"
    _, listing, _ = cell("%kaish_jobs")
    assert f"[{job_id}] done:0" in listing.text and "echo job-start" in listing.text


def test_background_syntax_error_points_into_the_cell(cell: Cell) -> None:
    result, _, err = cell("%%kaish --bg\necho fine\nif true")
    assert isinstance(result.error_in_exec, KaishCommandError)
    assert "2:1 [parse]" in err.text


def test_interrupt_cancels_the_kaish_work(ip: InteractiveShell, cell: Cell, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"

    def interrupt_when_started() -> None:
        if wait_until(lambda: pidfile.exists() and pidfile.read_text().strip() != ""):
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    started = time.monotonic()
    result, _, _ = cell(f"%%kaish\nsh -c 'echo $$ > {pidfile}; exec sleep 30'")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert time.monotonic() - started < WAIT
    assert wait_until(lambda: process_gone(int(pidfile.read_text())))
    _, out, _ = cell("%kaish echo still here")
    assert out.text == "still here\n"


def test_closing_the_session_kills_job_process_groups(
    ip: InteractiveShell, cell: Cell, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    cell("%kaish SURVIVES=no")
    cell(f"%%kaish --bg\nsh -c 'echo $$ > {pidfile}; exec sleep 30'")
    assert wait_until(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    pid = int(pidfile.read_text())
    ip.run_line_magic("reload_ext", "kaish_kernel")  # unload closes the session
    assert wait_until(lambda: process_gone(pid))
    cell("%kaish --code c echo ${SURVIVES}")
    assert ip.user_ns["c"] != 0  # a fresh session: the old variable is gone


# -- the loop thread ----------------------------------------------------------------------


def test_loop_thread_cancel_right_after_submit_reaches_the_task() -> None:
    loop_thread = LoopThread("test-loop")
    try:
        submission = loop_thread.submit(asyncio.sleep(30))
        submission.cancel()  # queued behind the task's creation, so it finds the task
        with pytest.raises(concurrent.futures.CancelledError):
            loop_thread.wait(submission)
        assert loop_thread.run(asyncio.sleep(0, "next")) == "next"
    finally:
        loop_thread.stop()
    assert not loop_thread.is_alive()


def test_loop_thread_run_with_timeout_cancels_the_task() -> None:
    loop_thread = LoopThread("test-loop")
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    try:
        with pytest.raises(concurrent.futures.TimeoutError):
            loop_thread.run(slow(), timeout=0.05)
        assert cancelled.wait(WAIT)
    finally:
        loop_thread.stop()
