"""Where stages send their diagnostics: error sinks.

Every stage gets one error sink. Writing to it never waits, so a stage can
report from anywhere (a callback, a `finally`) without awaiting. The kinds:

    ErrorSink (anything with write(bytes | str))
    ├── StderrStream       queues chunks for a StderrReceiver, drained later
    ├── CallbackErrorSink  forwards each write at once (the notebook -> iopub)
    ├── FdErrorSink        writes straight to a real fd (the CLI -> fd 2);
    │                      fileno() lets an external inherit that fd
    └── CaptureErrorSink   collects everything (`.text()`): tests, scatter rows

    stage ─ write ─► StderrStream ─► [chunk, chunk, …] ─► StderrReceiver.drain_lossy()
                                                            joins, then decodes once

Externals look for `fileno()`: a sink that has a real fd is handed to the
child directly; any other sink is fed by a pump that reads the child's stderr.
"""

from __future__ import annotations

import errno
import os
from collections import deque
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = [
    "CallbackErrorSink",
    "CaptureErrorSink",
    "ErrorSink",
    "FdErrorSink",
    "StderrReceiver",
    "StderrSink",
    "StderrStream",
    "sink_fileno",
    "stderr_stream",
]


@runtime_checkable
class ErrorSink(Protocol):
    """Anything a stage can report to. `write` must never block for long."""

    def write(self, data: bytes | str) -> None: ...


def sink_fileno(sink: object) -> int | None:
    """The real fd behind an error sink, if it has one (else None)."""
    fileno = getattr(sink, "fileno", None)
    if fileno is None:
        return None
    try:
        fd = fileno()
    except (OSError, ValueError):
        return None
    return fd if isinstance(fd, int) else None


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8", "surrogateescape")
    return bytes(data)


class StderrSink:
    """Base for the sinks here: `write` takes bytes or text; `fileno` defaults to None."""

    def write(self, data: bytes | str) -> None:
        raise NotImplementedError

    def write_str(self, text: str) -> None:
        """Write text, encoded as UTF-8."""
        self.write(text)

    def fileno(self) -> int | None:
        return None

    def flush(self) -> None:
        """Nothing is buffered by default."""


class _Channel:
    __slots__ = ("chunks", "receiver_alive")

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.receiver_alive = True


class StderrStream(StderrSink):
    """The sending side of a stderr channel. Copies share one channel."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def __repr__(self) -> str:
        return f"<StderrStream {len(self._channel.chunks)} chunk(s) pending>"

    def write(self, data: bytes | str) -> None:
        """Queue `data`; empty data is ignored; dropped once the receiver is closed."""
        if not data:
            return
        channel = self._channel
        if channel.receiver_alive:
            channel.chunks.append(_as_bytes(data))

    def clone(self) -> StderrStream:
        """Another handle on the same channel."""
        return StderrStream(self._channel)


class StderrReceiver:
    """The receiving side of a stderr channel."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def __repr__(self) -> str:
        return f"<StderrReceiver {len(self._channel.chunks)} chunk(s) pending>"

    def drain(self) -> bytes:
        """Every pending chunk, joined, without waiting (b"" if none)."""
        chunks = self._channel.chunks
        if not chunks:
            return b""
        out = b"".join(chunks)
        chunks.clear()
        return out

    def drain_lossy(self) -> str:
        """Every pending chunk as text, joined before decoding so that a
        character split across two writes survives; invalid UTF-8 becomes U+FFFD."""
        return self.drain().decode("utf-8", "replace")

    def has_pending(self) -> bool:
        return bool(self._channel.chunks)

    def close(self) -> None:
        """Drop what is pending; later writes are discarded."""
        self._channel.receiver_alive = False
        self._channel.chunks.clear()


def stderr_stream() -> tuple[StderrStream, StderrReceiver]:
    """A new unbounded stderr channel: (sending handle, receiver)."""
    channel = _Channel()
    return StderrStream(channel), StderrReceiver(channel)


class CallbackErrorSink(StderrSink):
    """Hands every write (as bytes) to `callback` at once.

    The callback must not block; the notebook's is a coalescing iopub writer.
    """

    def __init__(self, callback: Callable[[bytes], object]) -> None:
        self._callback = callback

    def __repr__(self) -> str:
        return f"<CallbackErrorSink {self._callback!r}>"

    def write(self, data: bytes | str) -> None:
        if data:
            self._callback(_as_bytes(data))


class FdErrorSink(StderrSink):
    """Writes straight to a real fd (the CLI's fd 2). Externals inherit the fd.

    Errors writing (the fd was closed, nobody reads it) are ignored: a
    diagnostic that cannot be shown must not fail the command.
    """

    def __init__(self, fd: int = 2, *, owned: bool = False) -> None:
        self._fd = fd
        self._owned = owned
        self._closed = False

    def __repr__(self) -> str:
        return f"<FdErrorSink fd={self._fd}>"

    def write(self, data: bytes | str) -> None:
        if not data or self._closed:
            return
        view = memoryview(_as_bytes(data))
        while view:
            try:
                written = os.write(self._fd, view)
            except InterruptedError:
                continue
            except BlockingIOError:
                # A non-blocking fd that is full: wait for room rather than lose text.
                import select

                select.select([], [self._fd], [], 1.0)
                continue
            except OSError as exc:
                if exc.errno in (errno.EPIPE, errno.EBADF, errno.EIO):
                    return
                raise
            view = view[written:]

    def fileno(self) -> int | None:
        return None if self._closed else self._fd

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owned:
                os.close(self._fd)


class CaptureErrorSink(StderrSink):
    """Collects everything written; `.getvalue()` for bytes, `.text()` for text."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def __repr__(self) -> str:
        return f"<CaptureErrorSink {len(self._buf)} bytes>"

    def write(self, data: bytes | str) -> None:
        if data:
            self._buf += _as_bytes(data)

    def getvalue(self) -> bytes:
        return bytes(self._buf)

    def text(self) -> str:
        return self._buf.decode("utf-8", "replace")

    def clear(self) -> None:
        self._buf.clear()
