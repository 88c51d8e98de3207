"""What `kaish-last` reads: the previous top-level statement's result.

`run_program` hands its statements a `RecordingOutput` in front of the real
stdout. Each statement's typed value (set by seq, jq, cut, ...) and the bytes
written through it are kept in a `LastResult` on the session once the
statement ends; statements inside a loop, `if` or function body writing to the
same output are recorded too, so `kaish-last` there sees the statement just
before it. Everything is passed on to the real output at once; the
recording is a copy, capped at `LIMIT` bytes.

An external command that writes straight to a real file descriptor bypasses
the copy (its output is not slowed down by a trip through Python), so only
text written in-process is remembered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kaish_kernel.scheduler.stage import NO_DATA, ForwardingOutput, OutputStream

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


class RecordingOutput(ForwardingOutput):
    """Passes everything to `inner` and keeps a copy of the current statement's bytes."""

    def __init__(self, inner: OutputStream) -> None:
        super().__init__(inner)
        self._rec = _Recording()
        self._span: tuple[int, int, object] = (0, 0, NO_DATA)

    def begin(self) -> None:
        """A new top-level statement starts: forget the previous one's bytes and value."""
        self._rec = _Recording()
        self.inner.set_data(NO_DATA)

    def finish(self) -> LastResult:
        """The top-level statement that just ended, as `kaish-last` will see it."""
        rec = self._rec
        self._rec = _Recording()
        return LastResult(self.inner.data, bytes(rec.chunks), rec.cut)

    def mark(self) -> int:
        """A statement inside a body (loop, function, if) starts: where its
        bytes begin in the enclosing top-level statement's copy."""
        self.inner.set_data(NO_DATA)
        return len(self._rec.chunks)

    def note(self, start: int) -> RecordingOutput:
        """The inner statement that began at `start` (see mark) just ended.

        Only its span is noted (a loop runs this per statement); `last()`
        makes the LastResult when `kaish-last` asks. The span stays valid
        until the next top-level statement, which replaces it by `finish()`."""
        self._span = (start, len(self._rec.chunks), self.inner.data)
        return self

    def last(self) -> LastResult:
        """The inner statement noted last, as `kaish-last` sees it."""
        start, end, data = self._span
        rec = self._rec
        return LastResult(data, bytes(rec.chunks[start:end]), rec.cut)

    async def write(self, data: bytes) -> None:
        rec = self._rec
        room = LIMIT - len(rec.chunks)
        if len(data) <= room:
            rec.chunks += data
        else:
            rec.chunks += data[: max(room, 0)]
            rec.cut = True
        await self.inner.write(data)
