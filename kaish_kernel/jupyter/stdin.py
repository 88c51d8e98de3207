"""A cell's stdin: the notebook user, asked one line at a time.

    read NAME ──► FrontendInput.readline() ──► input_request (stdin channel) ──► the user types
                                           ◄── input_reply {"value": "..."} ◄──┘

Both kinds derive from EmptyInput on purpose: an external command in a cell
gets /dev/null as stdin (a stray `cat` or `ssh` must not pop up input boxes
or hang), while builtins that read stdin (`read`, `write PATH`) reach the user.

- `FrontendInput` (the request had allow_stdin): each readline() asks for one
  line. A bulk read() also asks, and an empty answer ends the input there (a
  notebook has no Ctrl-D; "\\x04", ipykernel's EOF spelling, works too).
- `NoFrontendInput` (allow_stdin false: nbconvert, papermill, many tests):
  reading fails with a message that says why and what to do instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.scheduler.stage import READ_CHUNK, EmptyInput

__all__ = ["EOF_ANSWER", "FrontendInput", "NoFrontendInput"]

EOF_ANSWER = "\x04"

# ask(bulk) -> the user's line without its newline, or None at end of input
Ask = Callable[[bool], Awaitable[str | None]]


class FrontendInput(EmptyInput):
    """Lines typed by the notebook user, requested as the cell reads them."""

    def __init__(self, ask: Ask) -> None:
        self._ask = ask
        self._eof = False
        self.requests = 0

    def __repr__(self) -> str:
        return f"<FrontendInput requests={self.requests} eof={self._eof}>"

    async def _line(self, bulk: bool) -> bytes:
        if self._eof:
            return b""
        self.requests += 1
        answer = await self._ask(bulk)
        if answer is None or answer == EOF_ANSWER or (bulk and answer == ""):
            self._eof = True
            return b""
        return (answer + "\n").encode("utf-8")

    async def read(self, n: int = READ_CHUNK) -> bytes:
        if self._pushback:
            out = bytes(self._pushback[:n])
            del self._pushback[:n]
            return out
        data = await self._line(bulk=True)
        if len(data) > n:
            self._unread(data[n:])
            data = data[:n]
        return data

    async def readline(self) -> bytes:
        if self._pushback:
            return await super().readline()
        return await self._line(bulk=False)

    def has_buffered(self) -> bool:
        return bool(self._pushback)


class NoFrontendInput(EmptyInput):
    """stdin when the front end said it cannot answer input requests."""

    MESSAGE = (
        "stdin: this front end does not accept input (the execute request had"
        " allow_stdin=false); give the text on stdin instead, e.g. `echo text | read NAME`"
    )

    async def read(self, n: int = READ_CHUNK) -> bytes:
        if self._pushback:
            return await super().read(n)
        raise KaishRuntimeError(self.MESSAGE)
