"""External commands as stages: codes, isolation, streaming, cancellation."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

import pytest

from kaish_kernel.scheduler.pipe_stream import pipe_stream_default
from kaish_kernel.scheduler.processes import (
    exit_code_from_status,
    find_executable,
    run_external,
)
from kaish_kernel.scheduler.stage import (
    EMPTY_INPUT,
    BytesInput,
    CallbackOutput,
    CaptureOutput,
    FdInput,
    FdOutput,
    InputStream,
    OutputStream,
)
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink, ErrorSink, FdErrorSink

from .helpers import open_fds, processes_in_group, run

SH = shutil.which("sh") or "/bin/sh"
CAT = shutil.which("cat") or "/bin/cat"
ENV = {"PATH": "/usr/bin:/bin"}


async def external(
    argv: list[str],
    *,
    stdin: InputStream = EMPTY_INPUT,
    stdout: OutputStream | None = None,
    stderr: ErrorSink | None = None,
    cwd: str = "/",
    env: dict[str, str] | None = None,
    **kwargs: object,
) -> tuple[int, bytes, str]:
    out = stdout if stdout is not None else CaptureOutput()
    err = stderr if stderr is not None else CaptureErrorSink()
    code = await run_external(
        argv,
        cwd=cwd,
        env=ENV if env is None else env,
        stdin=stdin,
        stdout=out,
        stderr=err,
        **kwargs,  # type: ignore[arg-type]
    )
    captured = out.getvalue() if isinstance(out, CaptureOutput) else b""
    text = err.text() if isinstance(err, CaptureErrorSink) else ""
    return code, captured, text


def sh(script: str, **kwargs: object) -> tuple[int, bytes, str]:
    return run(external([SH, "-c", script], **kwargs))  # type: ignore[arg-type]


# -- exit codes ------------------------------------------------------------


def test_exit_status_and_both_streams() -> None:
    assert sh("echo out; echo err >&2; exit 3") == (3, b"out\n", "err\n")


def test_killed_by_a_signal_is_128_plus_n() -> None:
    assert sh("kill -9 $$")[0] == 137
    assert sh("kill -TERM $$")[0] == 143
    assert exit_code_from_status(-15) == 143 and exit_code_from_status(4) == 4


def test_missing_program_is_127(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    code, out, err = run(external([missing]))
    assert (code, out) == (127, b"")
    assert err == f"{missing}: No such file or directory\n"


def test_directory_is_126(tmp_path: Path) -> None:
    code, _, err = run(external([str(tmp_path)]))
    assert code == 126
    assert err.startswith(str(tmp_path)) and "directory" in err


def test_file_without_execute_permission_is_126(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    code, _, err = run(external([str(script)]))
    assert code == 126
    assert "Permission denied" in err


def test_unrunnable_format_is_126(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00\x01\x02 not a program")
    junk.chmod(0o755)
    code, _, err = run(external([str(junk)]))
    assert code == 126
    assert err.startswith(str(junk))


def test_missing_cwd_is_127_with_a_message(tmp_path: Path) -> None:
    code, _, err = run(external([CAT], cwd=str(tmp_path / "gone")))
    assert code == 127
    assert "working directory" in err


# -- environment and cwd ---------------------------------------------------


def test_environment_is_exactly_env() -> None:
    code, out, _ = run(external(["/usr/bin/env"], env={"ONLY": "this"}))
    assert (code, out) == (0, b"ONLY=this\n")
    code, out, _ = run(external(["/usr/bin/env"], env={}))
    assert (code, out) == (0, b"")


def test_runs_in_cwd(tmp_path: Path) -> None:
    code, out, _ = run(external(["/bin/pwd"], cwd=str(tmp_path)))
    assert (code, out) == (0, f"{tmp_path}\n".encode())


def test_find_executable(tmp_path: Path) -> None:
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    plain = tmp_path / "plain"
    plain.write_text("x")
    assert find_executable("tool", f"/nonexistent:{tmp_path}") == str(tool)
    assert find_executable("plain", str(tmp_path)) is None
    assert find_executable("tool", "") is None
    assert find_executable("tool", "rel", cwd=str(tmp_path.parent)) is None
    assert find_executable("tool", tmp_path.name, cwd=str(tmp_path.parent)) == str(tool)
    assert find_executable("./x/y", "/bin", cwd="/srv") == "/srv/x/y"
    assert find_executable("/abs/prog", "/bin") == "/abs/prog"
    assert find_executable("sh", "/usr/bin:/bin") in {"/usr/bin/sh", "/bin/sh"}


# -- data in and out -------------------------------------------------------


def test_binary_round_trip_through_cat() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB, every byte value
    code, out, err = run(external([CAT], stdin=BytesInput(payload)))
    assert (code, err) == (0, "")
    assert out == payload


def test_stdin_from_an_in_process_pipe() -> None:
    async def main() -> tuple[int, bytes, str]:
        writer, reader = pipe_stream_default()

        async def produce() -> None:
            for i in range(1000):
                await writer.write(f"line {i}\n".encode())
            await writer.close()

        task = asyncio.create_task(produce())
        result = await external(["/usr/bin/wc", "-l"], stdin=reader)
        await task
        return result

    code, out, _ = run(main())
    assert code == 0 and out.strip() == b"1000"


def test_fd_streams_are_handed_to_the_child(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.write_bytes(b"through real fds\n")
    target = tmp_path / "out"

    async def main() -> int:
        stdin = FdInput(os.open(source, os.O_RDONLY))
        stdout = FdOutput(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
        try:
            assert stdin.fileno() is not None and stdout.fileno() is not None
            code, _, _ = await external([CAT], stdin=stdin, stdout=stdout)
            return code
        finally:
            stdin.close()
            await stdout.close()

    assert run(main()) == 0
    assert target.read_bytes() == b"through real fds\n"


def test_stderr_sink_with_an_fd_is_inherited() -> None:
    read_fd, write_fd = os.pipe()
    try:
        code, _, _ = sh("echo to-the-fd >&2", stderr=FdErrorSink(write_fd))
        assert code == 0
        assert os.read(read_fd, 100) == b"to-the-fd\n"
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_child_closing_stdin_early_is_not_an_error() -> None:
    code, out, err = run(external(["/usr/bin/head", "-c", "3"], stdin=BytesInput(b"x" * 5_000_000)))
    assert (code, out, err) == (0, b"xxx", "")


def test_child_exit_does_not_wait_for_a_silent_upstream() -> None:
    async def main() -> tuple[int, float]:
        _writer, reader = pipe_stream_default()  # nothing is ever written
        start = time.monotonic()
        code, _, _ = await external(["/bin/true"], stdin=reader)
        return code, time.monotonic() - start

    code, elapsed = run(main(), timeout=5)
    assert code == 0 and elapsed < 2


def test_output_streams_while_the_child_runs() -> None:
    async def main() -> tuple[int, list[tuple[float, bytes]], float]:
        arrivals: list[tuple[float, bytes]] = []
        start = time.monotonic()
        out = CallbackOutput(lambda chunk: arrivals.append((time.monotonic() - start, chunk)))
        code, _, _ = await external([SH, "-c", "echo a; sleep 1.5; echo b"], stdout=out)
        return code, arrivals, time.monotonic() - start

    code, arrivals, total = run(main())
    assert code == 0
    assert b"".join(chunk for _, chunk in arrivals) == b"a\nb\n"
    assert arrivals[0][1] == b"a\n"
    assert total >= 1.5
    assert arrivals[0][0] < 1.0, "first chunk must arrive well before the child exits"


def test_a_reader_that_stops_gives_the_child_sigpipe() -> None:
    async def main() -> tuple[int, bytes, float]:
        writer, reader = pipe_stream_default()
        start = time.monotonic()

        async def consume() -> bytes:
            line = await reader.readline()
            reader.close()
            return line

        consumer = asyncio.create_task(consume())
        code, _, _ = await external(["/usr/bin/yes"], stdout=writer)
        return code, await consumer, time.monotonic() - start

    code, line, elapsed = run(main(), timeout=5)
    assert line == b"y\n"
    assert code == 141  # 128 + SIGPIPE: the child kept the default disposition
    assert elapsed < 2


def test_on_spawn_reports_the_child_leading_its_own_group() -> None:
    seen: list[tuple[int, int]] = []

    def record(pgid: int) -> None:
        seen.append((pgid, os.getpgid(pgid)))

    code, out, _ = sh("echo $$", on_spawn=record)
    assert code == 0
    pid = int(out)
    assert seen == [(pid, pid)]
    assert pid != os.getpgid(0)


def test_no_fd_is_leaked() -> None:
    async def main() -> None:
        for _ in range(3):
            await external([SH, "-c", "cat; echo e >&2"], stdin=BytesInput(b"data"))
        await external(["/nonexistent/prog"])

    run(main())  # warm up lazily opened fds (the loop's selector and so on)
    before = open_fds()
    run(main())
    assert open_fds() == before


# -- cancellation ----------------------------------------------------------


def _cancel_after(delay: float, argv: list[str], **kwargs: object) -> tuple[float, list[int]]:
    """Start argv, cancel it after `delay`; (seconds from cancel to unwound, pgids)."""
    pgids: list[int] = []

    async def main() -> float:
        task = asyncio.create_task(external(argv, on_spawn=pgids.append, **kwargs))  # type: ignore[arg-type]
        await asyncio.sleep(delay)
        assert not task.done()
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - cancelled_at

    return run(main(), timeout=10), pgids


def test_cancel_terminates_a_cooperative_child_quickly() -> None:
    elapsed, pgids = _cancel_after(0.3, [SH, "-c", "sleep 30"], kill_grace=5.0)
    assert elapsed < 2
    assert processes_in_group(pgids[0]) == []


def test_cancel_kills_a_child_that_ignores_sigterm_after_the_grace() -> None:
    script = "trap '' TERM; echo ready; sleep 30 & wait; sleep 30"
    elapsed, pgids = _cancel_after(0.5, [SH, "-c", script], kill_grace=0.5)
    assert 0.45 <= elapsed < 3
    assert len(pgids) == 1
    assert processes_in_group(pgids[0]) == [], "no member of the group may survive"


def test_cancel_with_zero_grace_kills_at_once() -> None:
    elapsed, pgids = _cancel_after(0.3, [SH, "-c", "trap '' TERM; sleep 30"], kill_grace=0)
    assert elapsed < 1
    assert processes_in_group(pgids[0]) == []


def test_cancel_releases_every_fd() -> None:
    _cancel_after(0.2, [SH, "-c", "sleep 30"], stdin=BytesInput(b"x"), kill_grace=1)
    before = open_fds()
    _cancel_after(0.2, [SH, "-c", "sleep 30"], stdin=BytesInput(b"x"), kill_grace=1)
    assert open_fds() == before


def test_a_failing_on_spawn_still_ends_the_child() -> None:
    pgids: list[int] = []

    def explode(pgid: int) -> None:
        pgids.append(pgid)
        raise RuntimeError("job table full")

    with pytest.raises(RuntimeError, match="job table full"):
        run(external([SH, "-c", "sleep 30"], on_spawn=explode, kill_grace=0.5))
    assert processes_in_group(pgids[0]) == []


def test_a_failing_stdout_sink_is_raised_after_the_child_is_reaped() -> None:
    def refuse(chunk: bytes) -> None:
        raise ValueError("sink is full")

    with pytest.raises(ValueError, match="sink is full"):
        run(external(["/usr/bin/yes"], stdout=CallbackOutput(refuse)), timeout=5)
