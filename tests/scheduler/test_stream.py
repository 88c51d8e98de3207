"""BoundedStream, StreamStats, overflow markers and the drain helpers."""

from __future__ import annotations

import asyncio
import json

from kaish_kernel.scheduler.pipe_stream import pipe_stream_default
from kaish_kernel.scheduler.stage import BytesInput
from kaish_kernel.scheduler.stream import (
    DEFAULT_STREAM_MAX_SIZE,
    BoundedStream,
    BoundedStreamOutput,
    StreamStats,
    drain_to_stream,
    drain_to_stream_teed,
)

from .helpers import run


def test_default_size_is_ten_mebibytes() -> None:
    assert DEFAULT_STREAM_MAX_SIZE == 10_485_760
    assert BoundedStream().max_size == 10_485_760


def test_filling_exactly_is_not_an_overflow() -> None:
    stream = BoundedStream(10)
    stream.write(b"12345")
    stream.write(b"67890")
    assert stream.read() == b"1234567890"
    assert len(stream) == 10
    assert stream.bytes_evicted == 0
    assert not stream.has_overflowed()


def test_oldest_bytes_are_dropped_when_full() -> None:
    stream = BoundedStream(10)
    for part in (b"12345", b"67890", b"ABCDE"):
        stream.write(part)
    assert stream.read() == b"67890ABCDE"
    assert stream.bytes_evicted == 5
    assert stream.total_written == 15
    assert stream.has_overflowed()


def test_a_write_larger_than_the_buffer_keeps_its_tail() -> None:
    stream = BoundedStream(10)
    stream.write(b"0123456789ABCDEFGHIJ")
    assert stream.read() == b"ABCDEFGHIJ"
    assert stream.bytes_evicted == 10
    assert stream.total_written == 20


def test_a_huge_write_also_evicts_what_was_held() -> None:
    stream = BoundedStream(10)
    stream.write(b"abc")
    stream.write(b"0123456789XY")
    assert stream.read() == b"23456789XY"
    assert stream.bytes_evicted == 3 + 2
    assert stream.total_written == 15


def test_read_does_not_consume() -> None:
    stream = BoundedStream(10)
    stream.write(b"abc")
    assert stream.read() == b"abc"
    assert stream.read() == b"abc"
    assert not stream.is_empty()


def test_read_string_is_lossy() -> None:
    stream = BoundedStream(100)
    stream.write(b"ok \xff\xfe end")
    assert stream.read_string() == "ok \ufffd\ufffd end"


def test_writes_after_close_are_ignored_and_not_counted() -> None:
    stream = BoundedStream(10)
    stream.write(b"abc")
    stream.close()
    stream.write(b"def")
    assert stream.read() == b"abc"
    assert stream.total_written == 3
    assert stream.is_closed()


def test_stats_serialize_with_exactly_the_spec_keys() -> None:
    stream = BoundedStream(100)
    stream.write(b"x" * 142)
    stream.close()
    stats = stream.stats()
    assert stats == StreamStats(
        current_size=100, max_size=100, total_written=142, bytes_evicted=42, closed=True
    )
    assert json.dumps(stats.to_dict()) == (
        '{"current_size": 100, "max_size": 100, "total_written": 142, '
        '"bytes_evicted": 42, "closed": true}'
    )


def test_overflow_marker_text() -> None:
    stream = BoundedStream()
    stream.write(b"a" * (DEFAULT_STREAM_MAX_SIZE + 1234))
    marker = stream.stats().overflow_marker("stdout")
    assert marker == (
        "[stdout truncated: output exceeded the 10MB capture buffer — first 1234 bytes "
        "lost (10486994 bytes total written); enable output-limit to spill to disk]\n"
    )
    assert stream.overflow_marker("stderr").startswith("[stderr truncated:")


def test_changed_since_waits_for_a_write() -> None:
    async def main() -> None:
        stream = BoundedStream(10)
        waiter = asyncio.create_task(stream.changed_since(0))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        stream.write(b"hi")
        stats = await waiter
        assert stats.total_written == 2
        # Already past what we saw: returns at once.
        stream.write(b"!")
        assert (await stream.changed_since(2)).total_written == 3
        # Nothing new: waits until the close.
        waiter = asyncio.create_task(stream.changed_since(3))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        stream.close()
        assert (await waiter).closed
        # A closed stream answers at once, every time.
        assert (await stream.changed_since(3)).closed
        assert (await stream.changed_since(3)).closed

    run(main(), timeout=2)


def test_a_cancelled_watcher_leaves_the_others_waiting() -> None:
    async def main() -> None:
        stream = BoundedStream(10)
        first = asyncio.create_task(stream.changed_since(0))
        second = asyncio.create_task(stream.changed_since(0))
        await asyncio.sleep(0)
        first.cancel()
        await asyncio.sleep(0)
        stream.write(b"x")
        assert (await second).total_written == 1

    run(main(), timeout=2)


def test_drain_to_stream_copies_and_closes() -> None:
    async def main() -> None:
        stream = BoundedStream(1000)
        await drain_to_stream(BytesInput(b"abc" * 100), stream)
        assert stream.read() == b"abc" * 100
        assert stream.is_closed()

    run(main(), timeout=2)


def test_drain_to_stream_teed_leaves_the_tee_open() -> None:
    async def main() -> None:
        writer, reader = pipe_stream_default()
        stream = BoundedStream(1000)
        tee = BoundedStream(1000)
        tee.write(b"before:")
        task = asyncio.create_task(drain_to_stream_teed(reader, stream, tee))
        await writer.write(b"live output")
        await writer.close()
        await task
        assert stream.read() == b"live output" and stream.is_closed()
        assert tee.read() == b"before:live output" and not tee.is_closed()

    run(main(), timeout=2)


def test_bounded_stream_output_feeds_the_ring() -> None:
    async def main() -> None:
        stream = BoundedStream(4)
        out = BoundedStreamOutput(stream)
        await out.write(b"abcdef")
        await out.close()
        assert stream.read() == b"cdef"
        assert stream.is_closed()

    run(main(), timeout=2)
