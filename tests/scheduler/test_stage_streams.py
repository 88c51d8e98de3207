"""The stage stream kinds that the scheduler changed: FdInput on pipes, lines()."""

from __future__ import annotations

import asyncio
import os

from kaish_kernel.scheduler.stage import BytesInput, FdInput

from .helpers import run


def test_lines_after_readline_splits_the_buffered_rest() -> None:
    async def main() -> tuple[bytes, list[bytes]]:
        stream = BytesInput(b"a\nb\nc\nd")
        first = await stream.readline()
        return first, [line async for line in stream.lines()]

    assert run(main()) == (b"a\n", [b"b\n", b"c\n", b"d"])


def test_fd_input_on_a_pipe_waits_without_blocking_the_loop() -> None:
    read_fd, write_fd = os.pipe()

    async def main() -> tuple[bytes, bytes, int]:
        stream = FdInput(read_fd)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, os.write, write_fd, b"late bytes")
        first = await stream.read()
        os.close(write_fd)
        rest = await stream.read()
        ticking.cancel()
        stream.close()
        return first, rest, ticks

    first, rest, ticks = run(main(), timeout=2)
    assert first == b"late bytes"
    assert rest == b""
    assert ticks >= 5  # the loop kept running while the read waited


def test_fd_input_read_on_a_pipe_can_be_cancelled() -> None:
    read_fd, write_fd = os.pipe()

    async def main() -> bytes:
        stream = FdInput(read_fd)
        task = asyncio.create_task(stream.read())
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        os.write(write_fd, b"after")
        got = await stream.read()
        stream.close()
        return got

    try:
        assert run(main(), timeout=2) == b"after"
    finally:
        os.close(write_fd)
