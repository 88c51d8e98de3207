"""PipelineRunner: edges, early close, crashes, PIPESTATUS, fds, cancellation."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from kaish_kernel.scheduler.pipe_stream import PipeReader, PipeWriter, pipe_stream_default
from kaish_kernel.scheduler.pipeline import PipelineRunner, StageSpec
from kaish_kernel.scheduler.processes import run_external
from kaish_kernel.scheduler.stage import (
    EMPTY_INPUT,
    BytesInput,
    CaptureOutput,
    FdInput,
    FdOutput,
    InputStream,
    OutputStream,
)
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink

from .helpers import open_fds, processes_in_group, run

SH = shutil.which("sh") or "/bin/sh"
ENV = {"PATH": "/usr/bin:/bin"}


def ext(
    *argv: str, err: CaptureErrorSink | None = None, pgids: list[int] | None = None
) -> StageSpec:
    sink = err if err is not None else CaptureErrorSink()

    async def stage(stdin: InputStream, stdout: OutputStream) -> int:
        return await run_external(
            list(argv),
            cwd="/",
            env=ENV,
            stdin=stdin,
            stdout=stdout,
            stderr=sink,
            kill_grace=0.5,
            on_spawn=pgids.append if pgids is not None else None,
        )

    return StageSpec(stage, external=True, label=argv[0])


def produce(data: bytes, code: int = 0) -> StageSpec:
    async def stage(stdin: InputStream, stdout: OutputStream) -> int:
        await stdout.write(data)
        return code

    return StageSpec(stage)


def upper() -> StageSpec:
    async def stage(stdin: InputStream, stdout: OutputStream) -> int:
        async for line in stdin.lines():
            await stdout.write(line.upper())
        return 0

    return StageSpec(stage)


def head_one() -> StageSpec:
    async def stage(stdin: InputStream, stdout: OutputStream) -> int:
        await stdout.write(await stdin.readline())
        return 0

    return StageSpec(stage)


def endless(seen: list[str]) -> StageSpec:
    async def stage(stdin: InputStream, stdout: OutputStream) -> int:
        try:
            while True:
                await stdout.write(b"y\n" * 1000)
        except BrokenPipeError:
            seen.append("broken pipe")
            return 0

    return StageSpec(stage)


def pipeline(
    stages: list[StageSpec], stdin: InputStream = EMPTY_INPUT
) -> tuple[list[int], bytes, str]:
    out = CaptureOutput()
    err = CaptureErrorSink()

    async def main() -> list[int]:
        return await PipelineRunner().run(stages, stdin=stdin, stdout=out, stderr=err)

    codes = run(main())
    return codes, out.getvalue(), err.text()


def test_no_stages_is_an_empty_status() -> None:
    assert pipeline([]) == ([], b"", "")


def test_single_stage_writes_to_the_pipeline_stdout() -> None:
    assert pipeline([produce(b"solo\n", code=4)]) == ([4], b"solo\n", "")


def test_in_process_stages_stream_through_a_pipe() -> None:
    codes, out, _ = pipeline([produce(b"a\nb\n"), upper(), upper()])
    assert (codes, out) == ([0, 0, 0], b"A\nB\n")


def test_first_stage_reads_the_pipeline_stdin() -> None:
    codes, out, _ = pipeline([upper(), upper()], stdin=BytesInput(b"from stdin\n"))
    assert (codes, out) == ([0, 0], b"FROM STDIN\n")


def test_pipestatus_keeps_every_code_in_order() -> None:
    codes, out, _ = pipeline([produce(b"x", code=2), produce(b"", code=1), produce(b"z")])
    assert (codes, out) == ([2, 1, 0], b"z")


def test_downstream_gets_eof_even_when_a_stage_writes_nothing() -> None:
    codes, out, _ = pipeline([produce(b"", code=0), ext("/usr/bin/wc", "-c")])
    assert codes == [0, 0]
    assert out.strip() == b"0"


def test_typed_value_crosses_an_in_process_edge() -> None:
    async def producer(stdin: InputStream, stdout: OutputStream) -> int:
        stdout.set_data([1, 2, 3])
        await stdout.write(b"1\n2\n3\n")
        return 0

    async def consumer(stdin: InputStream, stdout: OutputStream) -> int:
        text = await stdin.read_all()
        value = await stdin.data()
        await stdout.write(f"{text!r} {value!r}".encode())
        return 0

    codes, out, _ = pipeline([StageSpec(producer), StageSpec(consumer)])
    assert codes == [0, 0]
    assert out == b"b'1\\n2\\n3\\n' [1, 2, 3]"


def test_endless_in_process_producer_stops_when_head_leaves() -> None:
    seen: list[str] = []
    start = time.monotonic()
    codes, out, _ = pipeline([endless(seen), head_one()])
    assert (codes, out) == ([0, 0], b"y\n")
    assert seen == ["broken pipe"]
    assert time.monotonic() - start < 2


def test_external_yes_into_an_in_process_head_returns_quickly() -> None:
    start = time.monotonic()
    codes, out, _ = pipeline([ext("/usr/bin/yes"), head_one()])
    assert out == b"y\n"
    assert codes == [141, 0]
    assert time.monotonic() - start < 2


def test_two_externals_share_an_os_pipe() -> None:
    kinds: list[str] = []

    def spy(spec: StageSpec) -> StageSpec:
        async def stage(stdin: InputStream, stdout: OutputStream) -> int:
            kinds.append(f"{type(stdin).__name__}>{type(stdout).__name__}")
            return await spec.run(stdin, stdout)

        return StageSpec(stage, external=True)

    codes, out, _ = pipeline(
        [spy(ext("/usr/bin/seq", "1", "100000")), spy(ext("/usr/bin/wc", "-l"))]
    )
    assert codes == [0, 0]
    assert out.strip() == b"100000"
    assert sorted(kinds) == sorted(
        [f"EmptyInput>{FdOutput.__name__}", f"{FdInput.__name__}>CaptureOutput"]
    )


def test_external_head_cuts_off_an_external_producer() -> None:
    start = time.monotonic()
    codes, out, _ = pipeline([ext("/usr/bin/yes"), ext("/usr/bin/head", "-n", "2")])
    assert out == b"y\ny\n"
    assert codes == [141, 0]
    assert time.monotonic() - start < 2


def test_mixed_edges_carry_bytes_faithfully() -> None:
    payload = bytes(range(256)) * 1000
    codes, out, _ = pipeline(
        [
            produce(payload),
            ext("/bin/cat"),
            ext("/bin/cat"),
            upper_bytes_identity(),
            ext("/bin/cat"),
        ]
    )
    assert codes == [0, 0, 0, 0, 0]
    assert out == payload


def upper_bytes_identity() -> StageSpec:
    async def stage(stdin: InputStream, stdout: OutputStream) -> int:
        assert isinstance(stdin, PipeReader) and isinstance(stdout, PipeWriter)
        while chunk := await stdin.read():
            await stdout.write(chunk)
        return 0

    return StageSpec(stage)


def test_a_crashing_stage_is_code_1_and_the_others_finish() -> None:
    async def crash(stdin: InputStream, stdout: OutputStream) -> int:
        await stdout.write(b"partial\n")
        raise RuntimeError("boom")

    codes, out, err = pipeline([StageSpec(crash, label="crasher"), upper(), produce(b"end\n", 5)])
    assert codes == [1, 0, 5]
    assert out == b"end\n"
    assert err == "pipeline stage crashed: crasher: boom\n"


def test_a_crash_downstream_breaks_the_pipe_for_upstream() -> None:
    seen: list[str] = []

    async def crash(stdin: InputStream, stdout: OutputStream) -> int:
        raise ValueError("bad input")

    codes, _, err = pipeline([endless(seen), StageSpec(crash)])
    assert codes == [0, 1]
    assert seen == ["broken pipe"]
    assert "pipeline stage crashed" in err and "bad input" in err


def test_runner_leaves_the_pipeline_streams_open() -> None:
    async def main() -> tuple[list[int], bytes, bool]:
        writer, reader = pipe_stream_default()
        codes = await PipelineRunner().run(
            [produce(b"x"), upper()], stdin=EMPTY_INPUT, stdout=writer, stderr=CaptureErrorSink()
        )
        still_open = not writer.closed
        await writer.close()
        return codes, await reader.read_all(), still_open

    assert run(main()) == ([0, 0], b"X", True)


def test_no_fd_leaks_across_pipelines() -> None:
    def stages() -> list[StageSpec]:
        return [
            ext("/usr/bin/seq", "1", "1000"),
            ext("/bin/cat"),
            upper(),
            ext("/bin/cat"),
            ext("/usr/bin/wc", "-l"),
        ]

    pipeline(stages())  # warm up
    before = open_fds()
    for _ in range(3):
        codes, out, _ = pipeline(stages())
        assert codes == [0, 0, 0, 0, 0] and out.strip() == b"1000"
    assert open_fds() == before


def test_cancelling_the_runner_unwinds_every_stage() -> None:
    pgids: list[int] = []
    seen: list[str] = []

    async def main() -> float:
        stages = [
            ext(SH, "-c", "trap '' TERM; sleep 30", pgids=pgids),
            ext(SH, "-c", "sleep 30", pgids=pgids),
            endless(seen),
            upper(),
        ]
        task = asyncio.create_task(
            PipelineRunner().run(
                stages, stdin=EMPTY_INPUT, stdout=CaptureOutput(), stderr=CaptureErrorSink()
            )
        )
        await asyncio.sleep(0.3)
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    run(main())  # warm up
    before = open_fds()
    pgids.clear()
    elapsed = run(main())
    assert elapsed < 3
    assert len(pgids) == 2
    for pgid in pgids:
        assert processes_in_group(pgid) == []
    assert open_fds() == before
