"""What a pipeline stage reads from and writes to.

Every command stage — a builtin, a function, an external — sees one
`InputStream` (stdin) and one `OutputStream` (stdout). The concrete kinds:

    InputStream                          OutputStream
    ├── PipeReader   (pipe_stream.py)    ├── PipeWriter    (pipe_stream.py)
    ├── FdInput      a real fd: a file,  ├── FdOutput      a real fd: a file,
    │                an external's pipe  │                 the CLI's stdout
    ├── BytesInput   here-doc, here-str  ├── CaptureOutput $(...), scatter rows
    └── EMPTY_INPUT  no stdin            ├── CallbackOutput the notebook's stream
                                         └── NullOutput    /dev/null

A stream may carry one typed value beside its bytes (`set_data` on the
writer, `data()` on the reader): `seq 1 3 | jq -c .` hands jq the list
`[1,2,3]` while `wc -l` sees only the text. The value is readable once the
writer has finished, so a consumer drains the bytes first, then asks.

`fileno()` is how externals avoid copying through Python: when both ends of
an edge are real fds (a file redirect, the CLI's stdout, an OS pipe between
two externals) the child inherits the fd directly.
"""

from __future__ import annotations

import abc
import asyncio
import os
import select
from collections.abc import AsyncIterator, Callable
from typing import Final

from kaish_kernel.values import Value

__all__ = [
    "EMPTY_INPUT",
    "NO_DATA",
    "READ_CHUNK",
    "BytesInput",
    "CallbackOutput",
    "CaptureOutput",
    "EmptyInput",
    "FdInput",
    "FdOutput",
    "ForwardingOutput",
    "InputStream",
    "LazyData",
    "NullOutput",
    "OutputStream",
]

READ_CHUNK: Final = 65536


class _NoData:
    """Sentinel: the stream carries no typed value (distinct from JSON null)."""

    _instance: _NoData | None = None

    def __new__(cls) -> _NoData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DATA"

    def __bool__(self) -> bool:
        return False


NO_DATA: Final = _NoData()


class LazyData:
    """A typed value computed only if a consumer asks for it.

    `seq 1 100000000 | head -n 1` must not build a list of 10^8 ints just in
    case the next stage wanted typed input; `seq` sets LazyData instead.
    """

    __slots__ = ("_compute",)

    def __init__(self, compute: Callable[[], Value]) -> None:
        self._compute = compute

    def resolve(self) -> Value:
        return self._compute()


def resolve_data(value: object) -> object:
    """Unwrap LazyData; everything else (NO_DATA included) is returned as is."""
    return value.resolve() if isinstance(value, LazyData) else value


class InputStream(abc.ABC):
    """A stage's stdin: bytes in order, then EOF (`b""`), then maybe a typed value."""

    @abc.abstractmethod
    async def read(self, n: int = READ_CHUNK) -> bytes:
        """Up to `n` bytes, waiting for at least one; `b""` only at EOF."""

    async def readline(self) -> bytes:
        """One line including its `\\n` (the last line may lack it); `b""` at EOF."""
        buf = self._pending()
        while True:
            nl = buf.find(b"\n")
            if nl >= 0:
                self._unread(buf[nl + 1 :])
                return bytes(buf[: nl + 1])
            chunk = await self.read()
            if not chunk:
                return bytes(buf)
            buf += chunk

    async def read_all(self) -> bytes:
        """Everything up to EOF."""
        parts = [bytes(self._pending())]
        while chunk := await self.read():
            parts.append(chunk)
        return b"".join(parts)

    async def lines(self) -> AsyncIterator[bytes]:
        """Iterate lines (each with its `\\n`, if it had one) until EOF."""
        buf = self._pending()
        while True:
            # Lines already buffered (pushback from readline) come out first.
            start = 0
            while (nl := buf.find(b"\n", start)) >= 0:
                yield bytes(buf[start : nl + 1])
                start = nl + 1
            del buf[:start]
            chunk = await self.read()
            if not chunk:
                if buf:
                    yield bytes(buf)
                return
            buf += chunk

    async def data(self) -> object:
        """The typed value that came with the bytes, or NO_DATA. Call after EOF."""
        return NO_DATA

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop reading; a writer on the other side then sees a broken pipe."""

    def fileno(self) -> int | None:
        """A real fd an external may inherit as stdin, when nothing is buffered."""
        return None

    # True on the reader of a pipe joining two pipeline stages (not on a
    # session's own stdin): a builtin that must not be fed by a previous stage
    # (`kaish-last`) checks it.
    pipeline_edge: bool = False

    # -- pushback, so readline() never loses bytes read past the newline --
    _pushback: bytearray | None = None

    def _pending(self) -> bytearray:
        buf = self._pushback or bytearray()
        self._pushback = None
        return buf

    def _unread(self, data: bytes | bytearray) -> None:
        if data:
            self._pushback = bytearray(data) + (self._pushback or b"")

    def has_buffered(self) -> bool:
        return bool(self._pushback)


class EmptyInput(InputStream):
    """No stdin at all: EOF at once."""

    async def read(self, n: int = READ_CHUNK) -> bytes:
        if self._pushback:
            out = bytes(self._pushback[:n])
            del self._pushback[:n]
            return out
        return b""


EMPTY_INPUT: Final = EmptyInput()


class BytesInput(InputStream):
    """Stdin from bytes already in hand (here-doc, here-string, a typed value)."""

    def __init__(self, data: bytes, value: object = NO_DATA) -> None:
        self._buf = memoryview(data)
        self._pos = 0
        self._value = value

    async def read(self, n: int = READ_CHUNK) -> bytes:
        if self._pushback:
            out = bytes(self._pushback[:n])
            del self._pushback[:n]
            return out
        out = bytes(self._buf[self._pos : self._pos + n])
        self._pos += len(out)
        return out

    async def data(self) -> object:
        return resolve_data(self._value)


class FdInput(InputStream):
    """Stdin from a real file descriptor (a `< file` redirect, an OS pipe).

    How a read waits depends on what the fd is:

    - a regular file: read inline (it never blocks for long);
    - a pipe or socket: wait for readability on the event loop
      (`loop.add_reader`), then read — no thread, and cancellable. The fd
      stays in blocking mode because a child process may share it;
    - anything else (a tty, a character device): read in the default executor.
    """

    def __init__(self, fd: int, *, owned: bool = True) -> None:
        import stat

        self._fd = fd
        self._owned = owned
        self._closed = False
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):
            self._kind = "file"
        elif stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            self._kind = "pollable"
        else:
            self._kind = "thread"
        self._poller: select.poll | None = None

    async def read(self, n: int = READ_CHUNK) -> bytes:
        if self._pushback:
            out = bytes(self._pushback[:n])
            del self._pushback[:n]
            return out
        if self._closed:
            return b""
        if self._kind == "file":
            return os.read(self._fd, n)
        if self._kind == "pollable":
            await self._wait_readable()
            return os.read(self._fd, n)
        return await asyncio.get_running_loop().run_in_executor(None, os.read, self._fd, n)

    async def _wait_readable(self) -> None:
        if self._poller is None:
            self._poller = select.poll()
            self._poller.register(self._fd, select.POLLIN)
        if self._poller.poll(0):
            return
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def _on_ready() -> None:
            if not ready.done():
                ready.set_result(None)

        try:
            loop.add_reader(self._fd, _on_ready)
        except (PermissionError, ValueError, NotImplementedError):
            # Not pollable after all: fall back to a thread for good.
            self._kind = "thread"
            await loop.run_in_executor(None, self._poller.poll)
            return
        try:
            await ready
        finally:
            loop.remove_reader(self._fd)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owned:
                os.close(self._fd)

    def fileno(self) -> int | None:
        return None if (self._closed or self._pushback) else self._fd


class OutputStream(abc.ABC):
    """A stage's stdout: bytes written in order, optionally one typed value.

    `write` raises BrokenPipeError when nobody reads any more; a producer
    treats that as "stop now", never as a failure.
    """

    _data: object = NO_DATA
    _is_value: bool = False

    @abc.abstractmethod
    async def write(self, data: bytes) -> None:
        """Write all of `data`, waiting for room (backpressure)."""

    def set_data(self, value: object, *, is_value: bool = False) -> None:
        """Attach a typed value (or LazyData) to this output.

        `is_value` marks output that *is* a value (fromjson, jq, gather) rather
        than a typed view of text (seq, cut); `$(...)` binds the value only then.
        """
        self._data = value
        self._is_value = is_value

    def expect_value(self) -> None:  # noqa: B027 - optional hook
        """Announce that the text about to be written is the rendering of a
        typed value that will be attached when the writer finishes (jq).

        A sink that shows values its own way (the notebook's execute_result
        table) may then hold that text back instead of streaming it twice."""

    @property
    def data(self) -> object:
        return self._data

    @property
    def is_value(self) -> bool:
        return self._is_value

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Mark end of stream. Closing twice is harmless."""

    def fileno(self) -> int | None:
        """A real fd an external may write to directly, if there is one."""
        return None

    @property
    def reader_closed(self) -> bool:
        """True once a write has shown that nobody reads any more (a caller
        running a loop into this output stops there, as SIGPIPE would stop it)."""
        return False

    def flush_pending(self) -> None:  # noqa: B027 - optional hook
        """Push out anything buffered before an external writes to `fileno()`."""


class ForwardingOutput(OutputStream):
    """Hands everything to `inner`; a wrapper overrides only what it watches."""

    def __init__(self, inner: OutputStream) -> None:
        self.inner = inner

    async def write(self, data: bytes) -> None:
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


class FdOutput(OutputStream):
    """Stdout to a real fd: a redirect target file, or the CLI's own stdout.

    Writes are blocking `os.write` calls; on a pipe whose reader left, EPIPE
    becomes BrokenPipeError as for an in-process pipe.
    """

    def __init__(self, fd: int, *, owned: bool = True) -> None:
        self._fd = fd
        self._owned = owned
        self._closed = False
        self._broken = False

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise BrokenPipeError("output closed")
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._fd, view)
            except BlockingIOError:
                await asyncio.sleep(0.001)
                continue
            except BrokenPipeError:
                self._broken = True
                raise
            view = view[written:]

    @property
    def reader_closed(self) -> bool:
        return self._broken

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owned:
                os.close(self._fd)

    def fileno(self) -> int | None:
        return None if self._closed else self._fd


class CaptureOutput(OutputStream):
    """Collects everything written: `$(...)`, a scatter worker's row, tests."""

    def __init__(self, limit: int | None = None) -> None:
        self._chunks = bytearray()
        self._limit = limit
        self.truncated = False

    async def write(self, data: bytes) -> None:
        if self._limit is not None and len(self._chunks) + len(data) > self._limit:
            room = max(0, self._limit - len(self._chunks))
            self._chunks += data[:room]
            self.truncated = True
            return
        self._chunks += data

    def getvalue(self) -> bytes:
        return bytes(self._chunks)


class CallbackOutput(OutputStream):
    """Hands each write to a callback (the Jupyter kernel's stream coalescer)."""

    def __init__(self, callback: Callable[[bytes], object]) -> None:
        self._callback = callback
        self._broken = False

    async def write(self, data: bytes) -> None:
        try:
            result = self._callback(data)
            if asyncio.iscoroutine(result):
                await result
        except BrokenPipeError:
            self._broken = True
            raise

    @property
    def reader_closed(self) -> bool:
        return self._broken


class NullOutput(OutputStream):
    """Discards everything (`/dev/null`)."""

    async def write(self, data: bytes) -> None:
        return None
