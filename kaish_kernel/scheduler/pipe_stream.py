"""In-process pipes between adjacent pipeline stages.

A pipe is a bounded FIFO of bytes with backpressure, shaped like an OS pipe,
plus one slot for a typed value that travels beside the bytes:

    stage i                                               stage i+1
    PipeWriter.write(b) ──► [ chunk | chunk | chunk ] ──► PipeReader.read(n)
         │                  at most `capacity` bytes            │
         │  waits while full                   waits while empty │
         │  BrokenPipeError once the reader closed   b"" at EOF  │
    PipeWriter.set_data(v) ──────── value slot ─────► await PipeReader.data()

Invariants:

- At most `capacity` unread bytes are held. A write that does not fit is
  split: what fits goes in at once, the rest waits for the reader. One
  exception, a hand-off: when a reader is already waiting on an empty pipe
  for up to `n` bytes, a write may give it up to `n` bytes in one piece
  (they are as good as read; the next write waits for them to be taken).
- `PipeReader.read` returns `b""` only when the buffer is drained *and* the
  writer is closed; bytes written before the close are always delivered.
- Once the reader closes, every write fails with
  `BrokenPipeError("pipe reader closed")`, even when there is room, and a
  writer blocked on a full buffer is woken to see that error.
- The typed value becomes readable when the writer closes; `data()` waits
  for that, so a consumer that drains to EOF first can never race it.

Speed: the buffer is a deque of `bytes` chunks, so a chunk the writer hands
over is the very object the reader gets back (no copy for whole-chunk
reads). Waiting is a bare future per waiter, woken with `set_result`, so a
64 KiB chunk costs about two event-loop hops and no lock round-trips.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

from kaish_kernel.records import record
from kaish_kernel.scheduler.stage import (
    NO_DATA,
    READ_CHUNK,
    InputStream,
    LazyData,
    OutputStream,
)

__all__ = [
    "PIPE_BUFFER_SIZE",
    "PipeReader",
    "PipeStats",
    "PipeWriter",
    "pipe_stream",
    "pipe_stream_default",
]

PIPE_BUFFER_SIZE: Final = 65536


@record
class PipeStats:
    """A snapshot of one pipe, for debugging and tests."""

    buffered: int
    capacity: int
    writer_closed: bool
    reader_closed: bool
    has_data: bool


def _wake_all(waiters: list[asyncio.Future[None]]) -> None:
    for fut in waiters:
        if not fut.done():
            fut.set_result(None)
    waiters.clear()


async def _wait(waiters: list[asyncio.Future[None]]) -> None:
    # One future per waiter: a cancelled waiter must not cancel the others.
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.append(fut)
    try:
        await fut
    finally:
        # A woken future was already removed (the wake clears the list).
        if not fut.done() or fut.cancelled():
            fut.cancel()
            if fut in waiters:
                waiters.remove(fut)


class _PipeState:
    """What the two ends share. Only ever touched from the event loop thread."""

    __slots__ = (
        "capacity",
        "chunks",
        "closed_waiters",
        "data_is_value",
        "read_waiters",
        "reader_closed",
        "reader_wants",
        "size",
        "value",
        "write_waiters",
        "writer_closed",
    )

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.writer_closed = False
        self.reader_closed = False
        self.read_waiters: list[asyncio.Future[None]] = []
        self.reader_wants = 0  # how much a reader waiting on an empty pipe asked for
        self.write_waiters: list[asyncio.Future[None]] = []
        self.closed_waiters: list[asyncio.Future[None]] = []
        self.value: object = NO_DATA
        self.data_is_value = False

    def put(self, data: bytes | bytearray | memoryview) -> int:
        """Append what fits without waiting; the count appended (maybe 0)."""
        if self.reader_closed:
            raise BrokenPipeError("pipe reader closed")
        if self.writer_closed:
            raise BrokenPipeError("pipe writer closed")
        free = self.capacity - self.size
        if self.reader_wants > free and not self.size:
            # Hand-off: a reader is already waiting for up to this much, so
            # the bytes go straight to it rather than through the buffer.
            free = self.reader_wants
        if free <= 0:
            return 0
        n = len(data)
        if n <= free:
            # bytes are immutable, so the caller's object can be queued as is.
            chunk = data if type(data) is bytes else bytes(data)
        else:
            chunk = bytes(memoryview(data)[:free])
            n = free
        self.chunks.append(chunk)
        self.size += n
        if self.read_waiters:
            self.reader_wants = 0
            _wake_all(self.read_waiters)
        return n

    def take(self, n: int) -> bytes:
        """Remove and return up to `n` buffered bytes (the buffer is non-empty)."""
        chunks = self.chunks
        first = chunks[0]
        if len(first) > n:
            out = first[:n]
            chunks[0] = first[n:]
        elif len(first) == n or len(chunks) == 1:
            out = chunks.popleft()
        else:
            parts = [chunks.popleft()]
            room = n - len(first)
            while chunks and room:
                nxt = chunks[0]
                if len(nxt) <= room:
                    parts.append(chunks.popleft())
                    room -= len(nxt)
                else:
                    parts.append(nxt[:room])
                    chunks[0] = nxt[room:]
                    room = 0
            out = b"".join(parts)
        self.size -= len(out)
        if self.write_waiters:
            _wake_all(self.write_waiters)
        return out

    def close_writer(self) -> None:
        if self.writer_closed:
            return
        self.writer_closed = True
        _wake_all(self.read_waiters)
        _wake_all(self.closed_waiters)

    def close_reader(self) -> None:
        if self.reader_closed:
            return
        self.reader_closed = True
        self.chunks.clear()
        self.size = 0
        _wake_all(self.write_waiters)
        _wake_all(self.read_waiters)

    def stats(self) -> PipeStats:
        return PipeStats(
            buffered=self.size,
            capacity=self.capacity,
            writer_closed=self.writer_closed,
            reader_closed=self.reader_closed,
            has_data=self.value is not NO_DATA,
        )


class PipeWriter(OutputStream):
    """The writing end of an in-process pipe.

    `write` (the OutputStream API) delivers everything or raises
    BrokenPipeError; `write_some` is the partial-write primitive; `close`
    marks end-of-stream and publishes the typed value.
    """

    def __init__(self, state: _PipeState) -> None:
        self._state = state

    def __repr__(self) -> str:
        st = self._state
        flags = "closed" if st.writer_closed else "open"
        return f"<PipeWriter {flags} {st.size}/{st.capacity} buffered>"

    # -- bytes --

    def write_nowait(self, data: bytes | bytearray | memoryview) -> int:
        """Append what fits now, without waiting; returns the count (maybe 0).

        Raises BrokenPipeError once the reader is closed.
        """
        if not data:
            return 0
        return self._state.put(data)

    async def write_some(self, data: bytes | bytearray | memoryview) -> int:
        """Write at least one byte, waiting for room if the buffer is full.

        Output: how many bytes went in, which may be fewer than `len(data)`.
        Raises: BrokenPipeError when the reader is (or becomes) closed.
        """
        if not data:
            return 0
        st = self._state
        while True:
            n = st.put(data)
            if n:
                return n
            await _wait(st.write_waiters)

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Write all of `data`, waiting for room as often as needed.

        Raises: BrokenPipeError("pipe reader closed") once the reader is gone;
        bytes accepted before that stay delivered.
        Cancellation: safe; a prefix of `data` may have been written.
        """
        if not data:
            return
        st = self._state
        n = st.put(data)
        total = len(data)
        while not n:  # nothing went in: retry with the object itself, so a
            # hand-off passes the caller's bytes on without a copy
            if st.size >= st.capacity:
                await _wait(st.write_waiters)
            n = st.put(data)
        if n == total:
            return
        view = memoryview(data)
        while n < total:
            if st.size >= st.capacity:
                await _wait(st.write_waiters)
            n += st.put(view[n:])

    write_all = write

    async def flush(self) -> None:
        """Nothing is buffered on the writer's side."""

    def close_nowait(self) -> None:
        """Mark end-of-stream; wakes the reader. Closing twice is harmless."""
        self._state.close_writer()

    async def close(self) -> None:
        self._state.close_writer()

    @property
    def closed(self) -> bool:
        return self._state.writer_closed

    @property
    def reader_closed(self) -> bool:
        """True once nobody will read any more (writes would fail)."""
        return self._state.reader_closed

    # -- the typed-value slot --

    def set_data(self, value: object, *, is_value: bool = False) -> None:
        super().set_data(value, is_value=is_value)
        self._state.value = value
        self._state.data_is_value = is_value

    def statistics(self) -> PipeStats:
        return self._state.stats()


class PipeReader(InputStream):
    """The reading end of an in-process pipe."""

    def __init__(self, state: _PipeState) -> None:
        self._state = state

    def __repr__(self) -> str:
        st = self._state
        flags = "closed" if st.reader_closed else "open"
        eof = ", writer closed" if st.writer_closed else ""
        return f"<PipeReader {flags} {st.size}/{st.capacity} buffered{eof}>"

    async def read(self, n: int = READ_CHUNK) -> bytes:
        """Up to `n` bytes, oldest first, waiting while the pipe is empty.

        Output: `b""` only at EOF (drained and the writer closed) or after
        this reader was closed.
        """
        if self._pushback:
            out = bytes(self._pushback[:n])
            del self._pushback[:n]
            return out
        st = self._state
        while not st.size:
            if st.writer_closed or st.reader_closed:
                return b""
            st.reader_wants = max(st.reader_wants, n)
            try:
                await _wait(st.read_waiters)
            finally:
                st.reader_wants = 0
        return st.take(n)

    def read_nowait(self, n: int = READ_CHUNK) -> bytes | None:
        """Buffered bytes without waiting; None when a read would have to wait."""
        if self._pushback:
            out = bytes(self._pushback[:n])
            del self._pushback[:n]
            return out
        st = self._state
        if st.size:
            return st.take(n)
        if st.writer_closed or st.reader_closed:
            return b""
        return None

    def at_eof(self) -> bool:
        st = self._state
        return not self._pushback and not st.size and (st.writer_closed or st.reader_closed)

    def close(self) -> None:
        """Stop reading: buffered bytes are dropped and the writer sees a broken pipe."""
        self._pushback = None
        self._state.close_reader()

    @property
    def closed(self) -> bool:
        return self._state.reader_closed

    async def wait_writer_closed(self) -> None:
        """Wait until the writer has closed (and the typed value is final)."""
        st = self._state
        while not st.writer_closed:
            await _wait(st.closed_waiters)

    async def data(self) -> object:
        """The writer's typed value (LazyData resolved), or NO_DATA.

        Waits for the writer to close; drain the bytes first, or a writer
        blocked on a full buffer will never get there.
        """
        await self.wait_writer_closed()
        st = self._state
        if isinstance(st.value, LazyData):
            st.value = st.value.resolve()
        return st.value

    @property
    def data_is_value(self) -> bool:
        """Whether the writer marked its typed value as *the* value (see OutputStream)."""
        return self._state.data_is_value

    def statistics(self) -> PipeStats:
        return self._state.stats()


def pipe_stream(capacity: int) -> tuple[PipeWriter, PipeReader]:
    """A new pipe holding at most `capacity` unread bytes: (writer, reader)."""
    if capacity < 1:
        raise ValueError(f"pipe capacity must be positive, got {capacity}")
    state = _PipeState(capacity)
    return PipeWriter(state), PipeReader(state)


def pipe_stream_default() -> tuple[PipeWriter, PipeReader]:
    """A pipe of PIPE_BUFFER_SIZE (64 KiB), the size used between stages."""
    return pipe_stream(PIPE_BUFFER_SIZE)
