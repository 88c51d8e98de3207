"""Pipe semantics: partial writes, backpressure, EOF, broken pipe, the typed slot."""

from __future__ import annotations

import asyncio

import pytest

from kaish_kernel.scheduler.pipe_stream import (
    PIPE_BUFFER_SIZE,
    PipeReader,
    PipeWriter,
    pipe_stream,
    pipe_stream_default,
)
from kaish_kernel.scheduler.stage import NO_DATA, LazyData

from .helpers import run


def test_default_pipe_holds_64_kib() -> None:
    writer, reader = pipe_stream_default()
    assert PIPE_BUFFER_SIZE == 65536
    assert writer.statistics().capacity == 65536
    assert isinstance(writer, PipeWriter) and isinstance(reader, PipeReader)


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        pipe_stream(0)


def test_write_some_is_partial_when_the_buffer_has_less_room() -> None:
    async def main() -> None:
        writer, reader = pipe_stream(10)
        assert await writer.write_some(b"0123456789ABCDEF") == 10
        assert writer.write_nowait(b"more") == 0
        assert writer.statistics().buffered == 10
        assert await reader.read(4) == b"0123"
        assert writer.write_nowait(b"ABCDEF") == 4
        assert await reader.read() == b"456789ABCD"

    run(main())


def test_empty_write_returns_at_once_even_when_full() -> None:
    async def main() -> None:
        writer, _reader = pipe_stream(2)
        await writer.write(b"xx")
        assert await writer.write_some(b"") == 0
        await writer.write(b"")

    run(main(), timeout=2)


def test_writer_waits_for_the_reader_when_full() -> None:
    async def main() -> None:
        writer, reader = pipe_stream(4)
        task = asyncio.create_task(writer.write(b"abcdefghij"))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not task.done()
        assert writer.statistics().buffered == 4
        got = b""
        while len(got) < 10:
            got += await reader.read(3)
            assert writer.statistics().buffered <= 4
        await task
        assert got == b"abcdefghij"

    run(main(), timeout=2)


def test_eof_only_after_the_buffer_is_drained() -> None:
    async def main() -> None:
        writer, reader = pipe_stream_default()
        await writer.write(b"abc")
        await writer.close()
        assert await reader.read(2) == b"ab"
        assert await reader.read() == b"c"
        assert await reader.read() == b""
        assert await reader.read() == b""
        assert reader.at_eof()

    run(main(), timeout=2)


def test_closing_the_writer_wakes_a_waiting_reader() -> None:
    async def main() -> None:
        writer, reader = pipe_stream_default()
        task = asyncio.create_task(reader.read())
        await asyncio.sleep(0.01)
        assert not task.done()
        writer.close_nowait()
        assert await task == b""

    run(main(), timeout=2)


def test_write_after_reader_closed_is_a_broken_pipe_even_with_room() -> None:
    async def main() -> None:
        writer, reader = pipe_stream_default()
        reader.close()
        with pytest.raises(BrokenPipeError, match="pipe reader closed"):
            await writer.write(b"x")
        with pytest.raises(BrokenPipeError, match="pipe reader closed"):
            await writer.write_some(b"x")

    run(main(), timeout=2)


def test_closing_the_reader_wakes_a_blocked_writer() -> None:
    async def main() -> None:
        writer, reader = pipe_stream(4)
        task = asyncio.create_task(writer.write(b"0123456789"))
        await asyncio.sleep(0.01)
        assert not task.done()
        reader.close()
        with pytest.raises(BrokenPipeError):
            await task

    run(main(), timeout=2)


def test_read_joins_small_chunks_and_splits_big_ones() -> None:
    async def main() -> None:
        writer, reader = pipe_stream(100)
        for part in (b"ab", b"cd", b"ef"):
            await writer.write(part)
        assert await reader.read(5) == b"abcde"
        assert await reader.read(5) == b"f"
        await writer.write(b"0123456789")
        assert await reader.read(3) == b"012"
        assert await reader.read() == b"3456789"

    run(main(), timeout=2)


def test_a_large_write_is_delivered_whole_and_in_order() -> None:
    payload = bytes(range(256)) * 2000  # 512,000 bytes, well over capacity

    async def main() -> bytes:
        writer, reader = pipe_stream_default()

        async def produce() -> None:
            await writer.write(payload)
            await writer.close()

        task = asyncio.create_task(produce())
        got = await reader.read_all()
        await task
        return got

    assert run(main(), timeout=5) == payload


def test_pipe_keeps_a_copy_of_a_mutable_buffer() -> None:
    async def main() -> None:
        writer, reader = pipe_stream_default()
        buf = bytearray(b"hello")
        await writer.write(buf)
        buf[:] = b"XXXXX"
        await writer.close()
        assert await reader.read_all() == b"hello"

    run(main(), timeout=2)


def test_lines_and_readline_work_over_a_pipe() -> None:
    async def main() -> None:
        writer, reader = pipe_stream(8)

        async def produce() -> None:
            await writer.write(b"one\ntwo\nthree\nlast")
            await writer.close()

        task = asyncio.create_task(produce())
        assert await reader.readline() == b"one\n"
        rest = [line async for line in reader.lines()]
        await task
        assert rest == [b"two\n", b"three\n", b"last"]

    run(main(), timeout=2)


def test_a_cancelled_writer_does_not_disturb_another_waiting_writer() -> None:
    async def main() -> None:
        writer, reader = pipe_stream(2)
        await writer.write(b"..")
        first = asyncio.create_task(writer.write(b"A"))
        second = asyncio.create_task(writer.write(b"B"))
        await asyncio.sleep(0.01)
        first.cancel()
        await asyncio.sleep(0)
        assert await reader.read() == b".."
        await asyncio.wait_for(second, 1)
        assert await reader.read() == b"B"
        assert first.cancelled()

    run(main(), timeout=2)


def test_typed_value_arrives_once_the_writer_closes() -> None:
    async def main() -> None:
        writer, reader = pipe_stream_default()
        writer.set_data([1, 2, 3])
        await writer.write(b"1\n2\n3\n")
        waiting = asyncio.create_task(reader.data())
        await asyncio.sleep(0.01)
        assert not waiting.done()  # the writer is still open
        await writer.close()
        assert await reader.read_all() == b"1\n2\n3\n"
        assert await waiting == [1, 2, 3]
        assert await reader.data() == [1, 2, 3]
        assert reader.data_is_value is False

    run(main(), timeout=2)


def test_typed_value_defaults_to_no_data() -> None:
    async def main() -> None:
        writer, reader = pipe_stream_default()
        await writer.write(b"text")
        await writer.close()
        await reader.read_all()
        assert await reader.data() is NO_DATA

    run(main(), timeout=2)


def test_lazy_typed_value_is_computed_only_when_asked() -> None:
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        return [1, 2]

    async def main() -> None:
        writer, reader = pipe_stream_default()
        writer.set_data(LazyData(compute), is_value=True)
        await writer.close()
        assert calls == []
        assert await reader.data() == [1, 2]
        assert await reader.data() == [1, 2]
        assert reader.data_is_value is True

    run(main(), timeout=2)
    assert calls == [1]


def test_producer_blocked_on_backpressure_finishes_when_consumer_drains_first() -> None:
    async def main() -> None:
        writer, reader = pipe_stream_default()

        async def produce() -> None:
            writer.set_data({"n": 3})
            await writer.write(b"z" * 300_000)
            await writer.close()

        task = asyncio.create_task(produce())
        assert len(await reader.read_all()) == 300_000
        assert await reader.data() == {"n": 3}
        await task

    run(main(), timeout=2)


def test_throughput_is_far_from_pathological() -> None:
    total = 64 * 1024 * 1024
    block = b"x" * 65536

    async def main() -> float:
        writer, reader = pipe_stream_default()

        async def produce() -> None:
            for _ in range(total // len(block)):
                await writer.write(block)
            await writer.close()

        loop = asyncio.get_running_loop()
        start = loop.time()
        task = asyncio.create_task(produce())
        got = 0
        while chunk := await reader.read():
            got += len(chunk)
        await task
        assert got == total
        return loop.time() - start

    elapsed = run(main(), timeout=10)
    # A loose floor (the machine may be shared); bench/pipe_micro.py measures.
    assert total / elapsed > 20 * 1024 * 1024


def test_a_waiting_reader_gets_a_big_write_in_one_piece() -> None:
    async def main() -> None:
        writer, reader = pipe_stream(4)
        waiting = asyncio.create_task(reader.read(100))
        await asyncio.sleep(0)
        assert await writer.write_some(b"x" * 60) == 60  # handed off, not buffered to 4
        assert await waiting == b"x" * 60
        # Nobody waiting now: back to the capacity bound.
        assert writer.write_nowait(b"y" * 60) == 4

    run(main(), timeout=2)
