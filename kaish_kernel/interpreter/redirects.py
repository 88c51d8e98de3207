"""Redirects: turning `> f`, `2>&1`, `<<EOF` ... into the streams a command uses.

Applied left to right, like a shell: `cmd 2>&1 > f` sends stderr where stdout
pointed *before* `> f`. Files are opened through the VFS; everything opened
here is closed by `OpenRedirects.close()` once the command ends.

    kind   stdin          stdout                  stderr
    >  >>                 file (FdOutput)
    <      file
    2>                                            file
    &>                    file                    same file
    2>&1                                          → current stdout
    1>&2                  → current stderr
    <<     here-doc body
    <<<    word + "\\n"
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.lang import ast
from kaish_kernel.scheduler.stage import BytesInput, InputStream, OutputStream
from kaish_kernel.tools.base import ErrorSink
from kaish_kernel.values import is_collection

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import IO, Executor

__all__ = ["ErrorToOutput", "OpenRedirects", "OutputToError", "open_redirects"]


class ErrorToOutput:
    """An ErrorSink that writes into an OutputStream (`2>&1`, `2> file`).

    ErrorSink.write never blocks, but an in-process pipe write may wait for
    room; so bytes are queued and pushed by a task, and `drain()` waits for
    the queue before the command's stdout is closed. A real fd is written at
    once, keeping stdout and stderr interleaved in order.
    """

    def __init__(self, out: OutputStream) -> None:
        self._out = out
        self._queue = bytearray()
        self._task: asyncio.Task[None] | None = None

    def write(self, data: bytes | str) -> None:
        chunk = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if not chunk:
            return
        fd = self._out.fileno()
        if fd is not None and not self._queue:
            try:
                os.write(fd, chunk)
            except OSError:
                pass
            return
        self._queue += chunk
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        while self._queue:
            chunk = bytes(self._queue)
            self._queue.clear()
            try:
                await self._out.write(chunk)
            except (BrokenPipeError, OSError):
                self._queue.clear()
                return

    async def drain(self) -> None:
        if self._task is not None:
            await self._task

    def fileno(self) -> int | None:
        return self._out.fileno()


class OutputToError(OutputStream):
    """An OutputStream that writes into an ErrorSink (`1>&2`); typed values are dropped."""

    def __init__(self, sink: ErrorSink) -> None:
        self._sink = sink

    async def write(self, data: bytes) -> None:
        self._sink.write(data)

    def set_data(self, value: object, *, is_value: bool = False) -> None:
        return None

    def fileno(self) -> int | None:
        getter = getattr(self._sink, "fileno", None)
        return getter() if getter is not None else None


@dataclass
class OpenRedirects:
    """The streams after redirects, and what must be closed afterwards."""

    stdin: InputStream
    stdout: OutputStream
    stderr: ErrorSink
    opened_outputs: list[OutputStream] = field(default_factory=list)
    opened_inputs: list[InputStream] = field(default_factory=list)
    merged: list[ErrorToOutput] = field(default_factory=list)
    stdout_redirected: bool = False

    async def close(self) -> None:
        for sink in self.merged:
            await sink.drain()
        for out in self.opened_outputs:
            await out.close()
        for inp in self.opened_inputs:
            inp.close()


async def _target_path(ex: Executor, redirect: ast.Redirect, io: IO) -> str:
    from kaish_kernel.interpreter.expand import eval_word, text_of

    assert redirect.target is not None
    value = await eval_word(ex, redirect.target, io)
    if is_collection(value):
        kind = "list" if isinstance(value, list) else "record"
        raise KaishRuntimeError(
            f"redirect: the target is a {kind}, not a path; serialize it with tojson or pick a field"
        )
    return ex.session.resolve_path(text_of(value, "redirect target"))


async def open_redirects(
    ex: Executor, redirects: tuple[ast.Redirect, ...], io: IO
) -> OpenRedirects:
    """Open every redirect in order. An open failure raises RedirectError-like
    KaishRuntimeError with code 1 after closing what was already opened."""
    from kaish_kernel.interpreter.expand import eval_string

    state = OpenRedirects(io.stdin, io.stdout, io.stderr)
    vfs = ex.session.vfs
    try:
        for r in redirects:
            kind = r.kind
            if kind in (">", ">>", "&>", "2>"):
                path = await _target_path(ex, r, io)
                try:
                    out = vfs.open_output(path, append=(kind == ">>"))
                except OSError as exc:
                    raise KaishRuntimeError(f"redirect: {path}: {exc.strerror or exc}") from None
                state.opened_outputs.append(out)
                if kind in (">", ">>", "&>"):
                    state.stdout = out
                    state.stdout_redirected = True
                if kind in ("2>", "&>"):
                    merged = ErrorToOutput(out)
                    state.merged.append(merged)
                    state.stderr = merged
            elif kind == "<":
                path = await _target_path(ex, r, io)
                try:
                    inp = vfs.open_input(path)
                except OSError as exc:
                    raise KaishRuntimeError(f"redirect: {path}: {exc.strerror or exc}") from None
                state.opened_inputs.append(inp)
                state.stdin = inp
            elif kind == "2>&1":
                merged = ErrorToOutput(state.stdout)
                state.merged.append(merged)
                state.stderr = merged
            elif kind == "1>&2":
                state.stdout = OutputToError(state.stderr)
                state.stdout_redirected = True
            elif kind == "<<":
                assert r.heredoc is not None
                body = await eval_string(ex, r.heredoc.body, io)
                state.stdin = BytesInput(body.encode("utf-8"))
            elif kind == "<<<":
                assert r.target is not None
                word = await eval_string(ex, r.target, io)
                state.stdin = BytesInput((word + "\n").encode("utf-8"))
            else:
                raise KaishRuntimeError(f"unsupported redirect {kind}")
    except BaseException:
        await state.close()
        raise
    return state
