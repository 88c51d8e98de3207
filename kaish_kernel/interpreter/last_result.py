"""What `kaish-last` reads: the previous top-level statement's result.

`run_program` hands its statements a `RecordingOutput` in front of the real
stdout. Each statement's typed value (set by seq, jq, cut, ...) and the bytes
written through it are kept in a `LastResult` on the session once the
statement ends. Everything is passed on to the real output at once; the
recording is a copy, capped at `LIMIT` bytes.

An external command that writes straight to a real file descriptor bypasses
the copy (its output is not slowed down by a trip through Python), so only
text written in-process is remembered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kaish_kernel.scheduler.stage import NO_DATA, OutputStream

__all__ = ["LIMIT", "LastResult", "RecordingOutput"]

LIMIT = 10 * 1024 * 1024


@dataclass(slots=True)
class LastResult:
    data: object = NO_DATA  # the statement's typed value (maybe LazyData), or NO_DATA
    out: bytes = b""  # what it wrote in-process (the first LIMIT bytes)
    cut: bool = False  # True when it wrote more than LIMIT bytes


@dataclass(slots=True)
class _Recording:
    chunks: bytearray = field(default_factory=bytearray)
    cut: bool = False


class RecordingOutput(OutputStream):
    """Passes everything to `inner` and keeps a copy of the current statement's bytes."""

    def __init__(self, inner: OutputStream) -> None:
        self.inner = inner
        self._rec = _Recording()

    def begin(self) -> None:
        """A new statement starts: forget the previous one's bytes and value."""
        self._rec = _Recording()
        self.inner.set_data(NO_DATA)

    def finish(self) -> LastResult:
        """The statement that just ended, as `kaish-last` will see it."""
        rec = self._rec
        self._rec = _Recording()
        return LastResult(self.inner.data, bytes(rec.chunks), rec.cut)

    async def write(self, data: bytes) -> None:
        rec = self._rec
        room = LIMIT - len(rec.chunks)
        if len(data) <= room:
            rec.chunks += data
        else:
            rec.chunks += data[: max(room, 0)]
            rec.cut = True
        await self.inner.write(data)

    def set_data(self, value: object, *, is_value: bool = False) -> None:
        self.inner.set_data(value, is_value=is_value)

    def expect_value(self) -> None:
        self.inner.expect_value()

    @property
    def data(self) -> object:
        return self.inner.data

    @property
    def is_value(self) -> bool:
        return self.inner.is_value

    async def close(self) -> None:
        await self.inner.close()

    def fileno(self) -> int | None:
        return self.inner.fileno()

    @property
    def reader_closed(self) -> bool:
        return self.inner.reader_closed

    def flush_pending(self) -> None:
        self.inner.flush_pending()
