"""Streaming helpers shared by the text builtins (cat, head, grep, sort, ...).

The text tools all have the same shape: read operands (or stdin) in large
chunks, work on whole lines at the byte level where they can, decode strictly
where they need text, and write output in ~64 KiB batches so per-write
overhead stays small.

    InputStream ── read(256 KiB) ──► line_blocks ──► tool logic ──► Output ──► OutputStream
                   (files: vfs)      (whole lines)   (bytes/str)     (64 KiB batches,
                                                                      or collected for --json)

Invariants:
- Bytes are never silently replaced: a tool that needs text raises `NotText`
  (naming where and at which byte offset the bad UTF-8 sits) instead.
- A reader that leaves (`BrokenPipeError` from stdout) ends the tool quietly
  with status 0; `TextTool.run` handles that once for every tool.
- Every file goes through `ctx.shell.vfs`, so virtual files behave like real ones.
"""

from __future__ import annotations

import abc
import errno
from collections.abc import AsyncIterator
from typing import ClassVar, Final

from kaish_kernel.scheduler.stage import InputStream, OutputStream
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.schema import UsageError
from kaish_kernel.values import Value, ValueError_, display

__all__ = [
    "FILE_CHUNK",
    "STDIN_NAME",
    "WRITE_BATCH",
    "NotText",
    "OperandError",
    "Output",
    "TextTool",
    "chunks",
    "close_input",
    "decode_text",
    "describe_os_error",
    "emit_text_value",
    "ensure_text",
    "line_blocks",
    "open_operand",
    "open_or_report",
    "operand_names",
    "source_name",
    "split_lines",
]

FILE_CHUNK: Final = 256 * 1024
WRITE_BATCH: Final = 64 * 1024
STDIN_NAME: Final = "stdin"

_ERRNO_TEXT: Final = {
    errno.ENOENT: "not found",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "not a directory",
    errno.EROFS: "read-only filesystem",
    errno.EEXIST: "already exists",
}


def describe_os_error(exc: OSError) -> str:
    """A short lower-case reason (`not found`, `is a directory`) for messages."""
    if exc.errno in _ERRNO_TEXT:
        return _ERRNO_TEXT[exc.errno]
    return (exc.strerror or str(exc)).lower()


class NotText(Exception):
    """Input that must be text is not valid UTF-8."""

    def __init__(self, where: str, offset: int) -> None:
        super().__init__(where, offset)
        self.where = where
        self.offset = offset

    def message(self, hint: str = "") -> str:
        text = (
            f"{self.where}: not valid UTF-8 text (invalid UTF-8 at byte {self.offset});"
            " binary data? inspect it with xxd or base64"
        )
        return f"{text}; {hint}" if hint else text


def decode_text(data: bytes, where: str, offset: int = 0) -> str:
    """Strict UTF-8 decode; `offset` is where `data` starts in its stream."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotText(where, offset + exc.start) from None


def ensure_text(data: bytes, where: str, offset: int = 0) -> None:
    """Check `data` is UTF-8 without keeping the decoded copy (ASCII is instant)."""
    if not data.isascii():
        decode_text(data, where, offset)


def split_lines(block: bytes) -> list[bytes]:
    """The lines of a block, without their `\\n`; a final unterminated line counts."""
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


class OperandError(ValueError_):
    """An operand that cannot name a file (a list, a record, binary data...)."""


def operand_names(values: list[Value]) -> list[str]:
    """File operands as path text. Numbers read as their text; a list, record,
    bool, null or undecodable bytes is refused loudly (OperandError) rather
    than turned into a surprising file name or a silent fallback to stdin."""
    return [_operand_name(v) for v in values]


def _operand_name(value: Value) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        raise OperandError("cannot use null as a path")
    if isinstance(value, bool):
        raise OperandError(f"cannot use a bool ({display(value)}) as a path")
    if isinstance(value, list):
        raise OperandError("cannot use a list as a path")
    if isinstance(value, dict):
        raise OperandError("cannot use a record as a path")
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise OperandError(
                f"binary data ({len(value)} bytes) cannot be used as a path;"
                " decode it (base64, xxd) or redirect it to a file"
            ) from None
    return display(value)


def open_operand(ctx: ToolContext, name: str) -> InputStream:
    """Open a file operand through the VFS (`-` is stdin). Raises OSError."""
    if name == "-":
        return ctx.stdin
    path = ctx.shell.resolve_path(name)
    vfs = ctx.shell.vfs
    if vfs.is_dir(path):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", name)
    return vfs.open_input(path)


def open_or_report(ctx: ToolContext, name: str) -> InputStream | None:
    """Open an operand, or report `tool: name: reason` and return None.

    The text tools report an unreadable operand and go on with the next one."""
    try:
        return open_operand(ctx, name)
    except OSError as exc:
        ctx.error(f"{name}: {describe_os_error(exc)}")
        return None


def source_name(name: str) -> str:
    """How messages name an operand's input: `stdin` for `-`."""
    return STDIN_NAME if name == "-" else name


def close_input(ctx: ToolContext, stream: InputStream) -> None:
    """Close a file stream we opened (never the tool's own stdin)."""
    if stream is not ctx.stdin:
        stream.close()


async def chunks(stream: InputStream, size: int = FILE_CHUNK) -> AsyncIterator[bytes]:
    """Every chunk up to EOF."""
    read = stream.read
    while chunk := await read(size):
        yield chunk


async def line_blocks(stream: InputStream, size: int = FILE_CHUNK) -> AsyncIterator[bytes]:
    """Blocks of whole lines: each ends with `\\n`, except possibly the last one.

    Lines are never split between blocks, so a block can be searched, split
    or decoded on its own (`\\n` never occurs inside a multi-byte character).
    """
    carry = b""
    read = stream.read
    while chunk := await read(size):
        cut = chunk.rfind(b"\n")
        if cut < 0:
            carry += chunk
            continue
        if carry:
            block = carry + chunk[: cut + 1]
        else:
            block = chunk if cut == len(chunk) - 1 else chunk[: cut + 1]
        carry = chunk[cut + 1 :]
        yield block
    if carry:
        yield carry


class Output:
    """Batches small writes into ~64 KiB stream writes, or collects them all.

    `collect=True` is for `--json`: nothing reaches the stream and the tool
    renders `collected()` as a value at the end.
    """

    __slots__ = ("_batch", "_collect", "_parts", "_size", "_stream")

    def __init__(self, stream: OutputStream, *, collect: bool = False, batch: int = WRITE_BATCH) -> None:
        self._stream = stream
        self._collect = collect
        self._batch = batch
        self._parts: list[bytes] = []
        self._size = 0

    async def write(self, data: bytes) -> None:
        if not data:
            return
        self._parts.append(data)
        self._size += len(data)
        if self._size >= self._batch and not self._collect:
            await self.flush()

    async def flush(self) -> None:
        if self._parts and not self._collect:
            data = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
            self._parts.clear()
            self._size = 0
            await self._stream.write(data)

    def collected(self) -> bytes:
        return b"".join(self._parts)


class TextTool(Tool):
    """A builtin that streams: handles a departed reader and binary input once.

    Subclasses implement `execute`. A `BrokenPipeError` from stdout stops the
    tool with status 0 (and lets go of its stdin so the producer stops too);
    `NotText` becomes `name: where: not valid UTF-8 ...` with `binary_status`;
    a `UsageError` (a bad count, key or pattern found while running) exits 2.
    """

    binary_hint: ClassVar[str] = ""
    binary_status: ClassVar[int] = 1

    async def run(self, ctx: ToolContext) -> int:
        try:
            return await self.execute(ctx)
        except BrokenPipeError:
            ctx.stdin.close()
            return 0
        except NotText as exc:
            return ctx.error(exc.message(self.binary_hint), self.binary_status)
        except OperandError as exc:
            return ctx.error(str(exc))
        except UsageError as exc:
            return ctx.error(str(exc), 2)

    @abc.abstractmethod
    async def execute(self, ctx: ToolContext) -> int:
        """Do the work; may raise BrokenPipeError or NotText."""


async def emit_text_value(ctx: ToolContext, data: bytes, *, empty_prints: bool = True) -> None:
    """`--json` for a tool whose output is plain text: one JSON string (bytes if binary)."""
    if not data and not empty_prints:
        return
    try:
        value: Value = data.decode("utf-8")
    except UnicodeDecodeError:
        value = data
    await ctx.emit_value(value)
