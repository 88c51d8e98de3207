"""Output on its way to the notebook: coalesced, decoded, capped, to the right cell.

    Shell sinks ─ bytes ─► StreamCoalescer.write(name, data)
                             │ incremental UTF-8 decode (a character split across
                             │ writes waits for its last byte)
                             │ cap: past `limit` bytes, nothing more is shown;
                             │      everything goes to a spill file instead
                             ▼
                           pending [(stdout, "…"), (stderr, "…"), …]   order kept
                             │ flush: FIRST_DELAY after the first write, then at
                             │ most every INTERVAL, at once past MAX_PENDING
                             ▼
                           send("stream", {"name", "text"}, parent)   explicit parent

Why coalesce: one message per write would flood the iopub socket (ipykernel
drops messages beyond 1,000 queued) and the browser; one message at the end
would show nothing while the command runs. Why an explicit parent: in a
wrapper kernel only messages sent through the kernel's session reach a cell,
and a background job's output must reach the cell that started it, not the
one running now.

`JobView` is that background-job half: a status line (display_data with a
display_id, updated in place when the job ends) and a coalescer bound to the
starting cell's parent header.
"""

from __future__ import annotations

import asyncio
import codecs
import time
from collections.abc import Callable
from typing import Any, Protocol

from kaish_kernel.jupyter.display import job_status_bundle, progress_bundle
from kaish_kernel.scheduler.stage import NO_DATA, OutputStream

__all__ = [
    "DEFAULT_OUTPUT_LIMIT",
    "FIRST_DELAY",
    "INTERVAL",
    "MAX_PENDING",
    "JobView",
    "ProgressView",
    "Send",
    "SpillTarget",
    "StreamCoalescer",
    "human_size",
]

FIRST_DELAY = 0.01  # a quick cell's whole output goes out as one message
INTERVAL = 0.05  # then at most this long between flushes
MAX_PENDING = 1 << 20  # characters: flush at once beyond this
DEFAULT_OUTPUT_LIMIT = 1 << 20  # bytes shown per cell before the cap note


class Send(Protocol):
    def __call__(self, msg_type: str, content: dict[str, Any], parent: dict[str, Any]) -> None: ...


class SpillTarget(Protocol):
    """Where a capped cell's full output goes (see cellfs.CellOutputStore)."""

    def open(self, name: str) -> tuple[str, Callable[[bytes], None]]:
        """Start the file for stream `name`: (the path to tell the user, a writer)."""
        ...

    def close(self) -> None:
        """The producer has finished: close the files."""
        ...


def human_size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


class CellStdout(OutputStream):
    """A cell's stdout: text streams as it comes, except the text of a typed value.

    Once a writer attaches a value (`set_data(..., is_value=True)`) or
    announces one (`expect_value()`, jq), what it writes is held until the
    statement ends. A new top-level statement (`set_data(NO_DATA)`) or a cell
    whose result is not shown as a value releases it as ordinary output; a
    cell that ends with the value drops it, because the execute_result shows
    the value (as a table) instead. Held text is bounded: past HOLD_LIMIT it
    is released and streaming resumes.
    """

    HOLD_LIMIT = 4 * 1024 * 1024

    def __init__(self, out: StreamCoalescer) -> None:
        self._out = out
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._holding = False

    async def write(self, data: bytes) -> None:
        if not self._holding:
            self._out.write_stdout(data)
            return
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes > self.HOLD_LIMIT:
            self.release()

    def set_data(self, value: object, *, is_value: bool = False) -> None:
        super().set_data(value, is_value=is_value)
        if value is NO_DATA:
            self.release()
        elif is_value:
            self._holding = True

    def expect_value(self) -> None:
        self._holding = True

    def release(self) -> None:
        """Send what was held, and stream from now on."""
        held, self._held, self._held_bytes, self._holding = self._held, [], 0, False
        for chunk in held:
            self._out.write_stdout(chunk)

    def drop(self) -> None:
        """Forget what was held: the value is shown another way."""
        self._held, self._held_bytes, self._holding = [], 0, False


class StreamCoalescer:
    """Batches one producer's stdout/stderr into `stream` messages for one parent.

    Not thread-safe: every call happens on the kernel's event loop.
    """

    def __init__(
        self,
        send: Send,
        parent: dict[str, Any],
        *,
        limit: int = DEFAULT_OUTPUT_LIMIT,
        spill: SpillTarget | None = None,
        cap_hint: str = "",
        first_delay: float = FIRST_DELAY,
        interval: float = INTERVAL,
        max_pending: int = MAX_PENDING,
        clock: Callable[[], float] = time.monotonic,
        call_later: Callable[[float, Callable[[], None]], Any] | None = None,
    ) -> None:
        self._send = send
        self.parent = parent
        self.cell_stdout: CellStdout | None = None  # set when a cell runs through this
        self._limit = limit if limit > 0 else 0
        self._spill = spill
        self._cap_hint = cap_hint
        self._first_delay = first_delay
        self._interval = interval
        self._max_pending = max_pending
        self._clock = clock  # time and timers are injectable, so tests need not sleep
        self._call_later = call_later
        self._decoders: dict[str, codecs.IncrementalDecoder] = {}
        # (name, text pieces) runs in arrival order; pieces are joined only when
        # sent, so many small writes cost O(total), not O(total²)
        self._pending: list[tuple[str, list[str]]] = []
        self._pending_chars = 0
        self._last_flush: float | None = None
        self._timer: Any = None  # a handle with cancel()
        self._shown = 0  # bytes let through the cap
        self.received = 0  # bytes written, capped or not
        self.capped = False
        self._kept: dict[str, list[bytes]] = {}  # shown bytes, for the spill file
        self._spill_writers: dict[str, Callable[[bytes], None]] = {}
        self.spill_paths: dict[str, str] = {}
        self.closed = False

    def __repr__(self) -> str:
        return f"<StreamCoalescer received={self.received} pending={self._pending_chars} capped={self.capped}>"

    # -- input -----------------------------------------------------------------
    def write(self, name: str, data: bytes) -> None:
        """Take bytes from stream `name` ("stdout" or "stderr")."""
        if not data or self.closed:
            return
        self.received += len(data)
        if self.capped:
            self._to_spill(name, data)
            return
        if self._limit and self._shown + len(data) > self._limit:
            room = self._limit - self._shown
            self._take(name, data[:room])
            self._start_cap()
            self._to_spill(name, data[room:])
            return
        self._take(name, data)

    def write_stdout(self, data: bytes) -> None:
        self.write("stdout", data)

    def write_stderr(self, data: bytes) -> None:
        self.write("stderr", data)

    def _take(self, name: str, data: bytes) -> None:
        self._shown += len(data)
        if self._spill is not None and self._limit:
            self._kept.setdefault(name, []).append(bytes(data))
        decoder = self._decoders.get(name)
        if decoder is None:
            decoder = self._decoders[name] = codecs.getincrementaldecoder("utf-8")("replace")
        self._append(name, decoder.decode(data))

    def _append(self, name: str, text: str) -> None:
        if not text:
            return
        if self._pending and self._pending[-1][0] == name:
            self._pending[-1][1].append(text)
        else:
            self._pending.append((name, [text]))
        self._pending_chars += len(text)
        if self._pending_chars >= self._max_pending:
            self.flush()
        else:
            self._schedule()

    # -- the cap -----------------------------------------------------------------
    def _start_cap(self) -> None:
        self.capped = True
        for name in list(self._decoders):
            self._append(name, self._decoders[name].decode(b"", final=True))
        self._decoders.clear()
        where = ""
        if self._spill is not None:
            for name, chunks in self._kept.items():
                self._open_spill(name, b"".join(chunks))
            self._kept.clear()
            where = " The full output is kept while the kernel runs"
            if self.spill_paths:
                where += ": " + ", ".join(f"cat {p}" for p in self.spill_paths.values())
            where += "."
        note = f"\n[kaish] output beyond {human_size(self._limit)} is not shown.{where}"
        if self._cap_hint:
            note += f" {self._cap_hint}"
        self._append("stderr", note + "\n")

    def _open_spill(self, name: str, head: bytes) -> None:
        assert self._spill is not None
        try:
            path, writer = self._spill.open(name)
        except OSError:
            return
        self.spill_paths[name] = path
        self._spill_writers[name] = writer
        if head:
            writer(head)

    def _to_spill(self, name: str, data: bytes) -> None:
        if self._spill is None or not data:
            return
        if name not in self._spill_writers:
            self._open_spill(name, b"")
        writer = self._spill_writers.get(name)
        if writer is not None:
            try:
                writer(data)
            except OSError:
                self._spill_writers.pop(name, None)

    # -- output ----------------------------------------------------------------
    def _schedule(self) -> None:
        if self._timer is not None:
            return
        now = self._clock()
        if self._last_flush is None:
            delay = self._first_delay
        else:
            delay = max(0.0, self._last_flush + self._interval - now)
        call_later = self._call_later or asyncio.get_running_loop().call_later
        self._timer = call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        """Send everything pending now, one message per run of one stream."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        segments, self._pending, self._pending_chars = self._pending, [], 0
        self._last_flush = self._clock()
        for name, pieces in segments:
            self._send("stream", {"name": name, "text": "".join(pieces)}, self.parent)

    def settle(self) -> None:
        """Decode what the decoders still hold (the producer has finished)."""
        for name in list(self._decoders):
            self._append(name, self._decoders[name].decode(b"", final=True))
            self._decoders[name].reset()

    def drop_pending(self, name: str) -> None:
        """Forget unsent text of stream `name` (the kernel reports it another way)."""
        kept = [seg for seg in self._pending if seg[0] != name]
        self._pending = kept
        self._pending_chars = sum(len(t) for _, pieces in kept for t in pieces)

    def drop_trailing(self, name: str, candidates: list[str]) -> bool:
        """Remove a trailing unsent `candidate` (plus newline) from stream `name`.

        Used when the last command's typed value is about to be shown as an
        execute_result: its text form should not appear twice."""
        self.settle()
        if not self._pending or self._pending[-1][0] != name:
            return False
        text = self._last_text()
        for candidate in candidates:
            for tail in (candidate + "\n", candidate):
                if text.endswith(tail):
                    self._set_last_text(text[: len(text) - len(tail)])
                    return True
        return False

    def _last_text(self) -> str:
        pieces = self._pending[-1][1]
        if len(pieces) > 1:
            pieces[:] = ["".join(pieces)]
        return pieces[0]

    def _set_last_text(self, text: str) -> None:
        self._pending_chars -= len(self._pending[-1][1][0]) - len(text)
        if text:
            self._pending[-1][1][:] = [text]
        else:
            self._pending.pop()

    def take_partial_line(self) -> str:
        """Take an unfinished last line (a `read -p` prompt) out of the pending text."""
        self.settle()
        if not self._pending:
            return ""
        text = self._last_text()
        if text.endswith("\n"):
            return ""
        head, newline, line = text.rpartition("\n")
        self._set_last_text(head + newline)
        return line

    def close(self) -> None:
        """Final flush; later writes are ignored."""
        if self.closed:
            return
        self.settle()
        self.flush()
        self.closed = True
        if self._spill is not None:
            self._spill.close()


class JobView:
    """A background job as shown in the cell that started it.

    The status line is display_data with a display_id: `[1] running  cmd`,
    replaced in place by `[1] done:0 (2.01s)  cmd` when the job ends. The
    job's output streams under the starting cell's parent header.
    """

    def __init__(
        self,
        send: Send,
        parent: dict[str, Any],
        *,
        job_id: int,
        command: str,
        display_id: str,
        limit: int = DEFAULT_OUTPUT_LIMIT,
    ) -> None:
        self._send = send
        self.parent = parent
        self.job_id = job_id
        self.command = command
        self.display_id = display_id
        self.output = StreamCoalescer(
            send,
            parent,
            limit=limit,
            cap_hint=f"The job's output stays readable: cat /v/jobs/{job_id}/stdout",
        )

    def __repr__(self) -> str:
        return f"<JobView {self.job_id} {self.command!r}>"

    def show(self, status: str = "running") -> None:
        self._publish("display_data", status, None)

    def tee(self, name: str, data: bytes) -> None:
        self.output.write(name, data)

    def finish(self, status: str, seconds: float | None) -> None:
        self.output.close()
        self._publish("update_display_data", status, seconds)

    def _publish(self, msg_type: str, status: str, seconds: float | None) -> None:
        content = {
            "data": job_status_bundle(self.job_id, self.command, status, seconds),
            "metadata": {},
            "transient": {"display_id": self.display_id},
        }
        self._send(msg_type, content, self.parent)


class ProgressView:
    """A live progress line (scatter: done / failed / running / total) in one cell.

    The first `update` shows it (display_data with a display_id); later ones
    replace it in place, at most every `interval` seconds except the final
    one, so thousands of worker completions cost a handful of messages.
    """

    def __init__(
        self,
        send: Send,
        parent: dict[str, Any],
        *,
        display_id: str,
        title: str = "scatter",
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self.parent = parent
        self.display_id = display_id
        self.title = title
        self._interval = interval
        self._clock = clock
        self._shown = False
        self._last = 0.0
        self._counts = (0, 0, 0, 0)  # done, failed, running, total: the latest report
        self.finished = False

    def __repr__(self) -> str:
        return f"<ProgressView {self.title!r} {self.display_id}>"

    def update(self, done: int, failed: int, running: int, total: int, *, final: bool = False) -> None:
        if self.finished:
            return
        self._counts = (done, failed, running, total)
        now = self._clock()
        if self._shown and not final and now - self._last < self._interval:
            return
        self._last = now
        content = {
            "data": progress_bundle(self.title, done, failed, running, total, final=final),
            "metadata": {},
            "transient": {"display_id": self.display_id},
        }
        self._send("update_display_data" if self._shown else "display_data", content, self.parent)
        self._shown = True
        self.finished = final

    def finish(self, done: int, failed: int, total: int) -> None:
        self.update(done, failed, 0, total, final=True)

    def stop(self) -> None:
        """The cell ended first (interrupted): freeze the line at the last counts."""
        if self._shown and not self.finished:
            done, failed, _, total = self._counts
            self.update(done, failed, 0, total, final=True)
