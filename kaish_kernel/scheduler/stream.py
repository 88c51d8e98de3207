"""Bounded capture streams: where a job's (or an external's) output lands.

A `BoundedStream` is a ring buffer of bytes. Unlike a pipe it never makes the
writer wait: once full, the oldest bytes are dropped so that a chatty job can
never exhaust memory, and the stream remembers how much it dropped.

    writer ── write(b) ──► [ oldest … newest ]  (at most max_size bytes)
                              │        └── read() / read_string(): a copy
                              └── evicted from the front when full
    watcher ── await changed_since(seen) ──► StreamStats once more was written

Invariants:

- `total_written` counts every accepted byte; `bytes_evicted` every byte
  dropped; so `total_written == len + bytes_evicted` always.
- Writes to a closed stream are ignored and not counted.
- `changed_since(n)` returns as soon as `total_written > n` or the stream is
  closed; a closed stream answers at once, every time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import Any, Final

from kaish_kernel.records import record
from kaish_kernel.scheduler.stage import READ_CHUNK, InputStream, OutputStream

__all__ = [
    "DEFAULT_STREAM_MAX_SIZE",
    "BoundedStream",
    "BoundedStreamOutput",
    "StreamStats",
    "drain_to_stream",
    "drain_to_stream_teed",
]

DEFAULT_STREAM_MAX_SIZE: Final = 10 * 1024 * 1024

_log = logging.getLogger(__name__)


@record
class StreamStats:
    """A snapshot of a BoundedStream's counters."""

    current_size: int
    max_size: int
    total_written: int
    bytes_evicted: int
    closed: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: keys current_size, max_size, total_written, bytes_evicted, closed."""
        return asdict(self)

    def overflow_marker(self, label: str) -> str:
        """One line telling the reader that the front of `label`'s output was lost.

        Meant for streams that overflowed (`bytes_evicted > 0`).
        """
        megabytes = round(self.max_size / 1048576)
        return (
            f"[{label} truncated: output exceeded the {megabytes}MB capture buffer — "
            f"first {self.bytes_evicted} bytes lost ({self.total_written} bytes total "
            f"written); enable output-limit to spill to disk]\n"
        )


class BoundedStream:
    """A ring buffer of bytes that drops its oldest bytes instead of blocking."""

    def __init__(self, max_size: int = DEFAULT_STREAM_MAX_SIZE) -> None:
        if max_size < 1:
            raise ValueError(f"stream max_size must be positive, got {max_size}")
        self._buf = bytearray()
        self._max_size = max_size
        self._total_written = 0
        self._bytes_evicted = 0
        self._closed = False
        self._waiters: list[asyncio.Future[None]] = []

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<BoundedStream {state} {len(self._buf)}/{self._max_size} bytes, "
            f"{self._total_written} written, {self._bytes_evicted} evicted>"
        )

    # -- writing --

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append `data`, evicting the oldest bytes if it does not fit. Never waits."""
        if self._closed:
            return
        n = len(data)
        if not n:
            return
        self._total_written += n
        buf = self._buf
        if n >= self._max_size:
            self._bytes_evicted += len(buf) + (n - self._max_size)
            buf[:] = memoryview(data)[n - self._max_size :]
        else:
            overflow = len(buf) + n - self._max_size
            if overflow > 0:
                del buf[:overflow]
                self._bytes_evicted += overflow
            buf += data
        self._notify()

    def close(self) -> None:
        """Ignore later writes and wake everyone waiting in `changed_since`."""
        if not self._closed:
            self._closed = True
            self._notify()

    def _notify(self) -> None:
        waiters = self._waiters
        if waiters:
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)
            waiters.clear()

    # -- reading --

    def read(self) -> bytes:
        """A copy of what is held now (the stream is unchanged)."""
        return bytes(self._buf)

    def read_string(self) -> str:
        """What is held now as text; invalid UTF-8 becomes U+FFFD."""
        return self._buf.decode("utf-8", "replace")

    def is_closed(self) -> bool:
        return self._closed

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self._buf)

    def is_empty(self) -> bool:
        return not self._buf

    @property
    def max_size(self) -> int:
        return self._max_size

    @property
    def total_written(self) -> int:
        return self._total_written

    @property
    def bytes_evicted(self) -> int:
        return self._bytes_evicted

    def has_overflowed(self) -> bool:
        """True once any byte was dropped (exactly filling the buffer is not overflow)."""
        return self._bytes_evicted > 0

    def stats(self) -> StreamStats:
        return StreamStats(
            current_size=len(self._buf),
            max_size=self._max_size,
            total_written=self._total_written,
            bytes_evicted=self._bytes_evicted,
            closed=self._closed,
        )

    def overflow_marker(self, label: str) -> str:
        """Shorthand for `self.stats().overflow_marker(label)`."""
        return self.stats().overflow_marker(label)

    async def changed_since(self, seen_total: int) -> StreamStats:
        """Wait until more than `seen_total` bytes were ever written, or the stream closed.

        Pass 0 the first time and the returned `total_written` the next time.
        Cancellation: safe; nothing is consumed.
        """
        while not (self._closed or self._total_written > seen_total):
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            finally:
                if not fut.done():
                    fut.cancel()
                try:
                    self._waiters.remove(fut)
                except ValueError:
                    pass
        return self.stats()


class BoundedStreamOutput(OutputStream):
    """An OutputStream that appends to a BoundedStream (a job's stdout).

    Writes never wait and never fail; `close` closes the stream. The typed
    value, if a stage sets one, stays on this object (`.data`).
    """

    def __init__(self, stream: BoundedStream, *, close_stream: bool = True) -> None:
        self.stream = stream
        self._close_stream = close_stream

    def __repr__(self) -> str:
        return f"<BoundedStreamOutput {self.stream!r}>"

    async def write(self, data: bytes) -> None:
        self.stream.write(data)

    async def close(self) -> None:
        if self._close_stream:
            self.stream.close()


async def drain_to_stream(reader: InputStream, stream: BoundedStream) -> None:
    """Copy `reader` into `stream` until EOF, then close the stream.

    A read error is logged and ends the copy (the stream is still closed).
    """
    await _drain(reader, stream, None)


async def drain_to_stream_teed(
    reader: InputStream, stream: BoundedStream, tee: BoundedStream
) -> None:
    """Like `drain_to_stream`, also copying every chunk to `tee`.

    `tee` is left open: it is a job's live stream, which outlives any one
    command in the job.
    """
    await _drain(reader, stream, tee)


async def _drain(reader: InputStream, stream: BoundedStream, tee: BoundedStream | None) -> None:
    try:
        while True:
            try:
                chunk = await reader.read(READ_CHUNK)
            except OSError as exc:
                _log.warning("capture stream read failed: %s", exc)
                break
            if not chunk:
                break
            stream.write(chunk)
            if tee is not None:
                tee.write(chunk)
    finally:
        stream.close()
